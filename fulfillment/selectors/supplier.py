"""What a supplier reads of the fulfilment stage: its purchase orders (never the leaders'
drafts), the pick list per delivery date and the reviews of its offers.

Everything is scoped by the supplier organisation; another supplier's purchase order, or a
draft, answers 404. Lists cost the same number of queries for 3 rows as for 300.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Avg, Count, DecimalField, F, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404

from accounts.models import SupplierOrganization
from catalog.models import Offer

from ..models import PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus, Review

# Still to be delivered: what the upcoming deliveries and the pick list show.
TO_DELIVER = (
    PurchaseOrderStatus.SENT,
    PurchaseOrderStatus.ACKNOWLEDGED,
    PurchaseOrderStatus.STOCKING,
    PurchaseOrderStatus.READY,
)

# A supplier's purchase orders: everything the leader has sent (a draft is hers).
SUPPLIER_STATUSES = tuple(
    value for value in PurchaseOrderStatus.values if value != PurchaseOrderStatus.DRAFT
)

_MONEY = DecimalField(max_digits=14, decimal_places=2)


def with_totals(purchase_orders: QuerySet[PurchaseOrder]) -> QuerySet[PurchaseOrder]:
    """Annotate ``total_amount`` (lines not declined) and ``line_count``."""
    return purchase_orders.annotate(
        total_amount=Sum(
            F("lines__unit_price") * F("lines__quantity"),
            filter=Q(lines__declined=False),
            output_field=_MONEY,
            default=Decimal("0.00"),
        ),
        line_count=Count("lines"),
    )


def _supplier_scope(supplier: SupplierOrganization) -> QuerySet[PurchaseOrder]:
    return PurchaseOrder.objects.filter(supplier=supplier).exclude(status=PurchaseOrderStatus.DRAFT)


def supplier_purchase_orders(
    supplier: SupplierOrganization, *, status: str | None = None
) -> QuerySet[PurchaseOrder]:
    """The supplier's purchase orders, newest delivery first, with their totals."""
    purchase_orders = _supplier_scope(supplier)
    if status:
        purchase_orders = purchase_orders.filter(status=status)
    return with_totals(purchase_orders.select_related("community")).order_by(
        "-delivery_date", "-id"
    )


def supplier_purchase_order_counts(supplier: SupplierOrganization) -> dict[str, int]:
    rows = _supplier_scope(supplier).values("status").annotate(n=Count("id")).order_by()
    return {row["status"]: row["n"] for row in rows}


def supplier_upcoming_deliveries(supplier: SupplierOrganization) -> list[PurchaseOrder]:
    """Purchase orders still to be delivered, by delivery date (earliest first)."""
    purchase_orders = _supplier_scope(supplier).filter(status__in=TO_DELIVER)
    return list(
        with_totals(purchase_orders.select_related("community")).order_by("delivery_date", "id")
    )


def supplier_purchase_order(
    supplier: SupplierOrganization, purchase_order_id: int
) -> PurchaseOrder:
    """One of the supplier's purchase orders (not a draft), or 404."""
    return get_object_or_404(
        _supplier_scope(supplier).select_related("community__leader", "schedule", "supplier"),
        pk=purchase_order_id,
    )


def purchase_order_lines(purchase_order: PurchaseOrder) -> list[PurchaseOrderLine]:
    return list(purchase_order.lines.select_related("item").order_by("id"))


@dataclass
class PurchaseOrderTotals:
    ordered: Decimal = Decimal("0.00")
    declined: Decimal = Decimal("0.00")
    payable: Decimal = Decimal("0.00")
    shipped: Decimal | None = None
    units: int = 0
    cases: int = 0


def purchase_order_totals(lines: list[PurchaseOrderLine]) -> PurchaseOrderTotals:
    """Totals of the lines: all, declined, what the supplier is paid for (not declined),
    and, once shipped quantities are known, the value shipped."""
    totals = PurchaseOrderTotals()
    shipped_known = any(line.shipped_quantity is not None for line in lines)
    if shipped_known:
        totals.shipped = Decimal("0.00")
    for line in lines:
        totals.ordered += line.amount
        if line.declined:
            totals.declined += line.amount
            continue
        totals.payable += line.amount
        totals.units += line.quantity
        totals.cases += line.cases
        if shipped_known and line.shipped_quantity is not None:
            totals.shipped += line.unit_price * line.shipped_quantity
    return totals


# Pick list


@dataclass
class PickCommunity:
    community_name: str
    purchase_order_id: int
    purchase_order_number: str
    status: str
    quantity: int
    cases: int


@dataclass
class PickProduct:
    product_id: int
    name: str
    spec: str
    unit: str
    case_size: int
    quantity: int = 0
    cases: int = 0
    communities: list[PickCommunity] = field(default_factory=list)


@dataclass
class PickDay:
    delivery_date: date
    products: list[PickProduct] = field(default_factory=list)
    purchase_order_count: int = 0

    @property
    def cases(self) -> int:
        return sum(product.cases for product in self.products)


def supplier_pick_list(
    supplier: SupplierOrganization, *, delivery_date: date | None = None
) -> list[PickDay]:
    """What to prepare per delivery date across all leaders: per product the total
    quantity and cases, and the part of each community. One query."""
    lines = PurchaseOrderLine.objects.filter(
        purchase_order__supplier=supplier,
        purchase_order__status__in=TO_DELIVER,
        declined=False,
    )
    if delivery_date is not None:
        lines = lines.filter(purchase_order__delivery_date=delivery_date)
    rows = lines.values(
        "purchase_order__delivery_date",
        "purchase_order_id",
        "purchase_order__number",
        "purchase_order__status",
        "purchase_order__community__name",
        "item__offer__product_id",
        "product_name",
        "spec",
        "unit",
        "case_size",
        "quantity",
    ).order_by(
        "purchase_order__delivery_date",
        "product_name",
        "item__offer__product_id",
        "case_size",
        "purchase_order__community__name",
        "purchase_order_id",
    )
    days: dict[date, PickDay] = {}
    products: dict[tuple, PickProduct] = {}
    orders_per_day: dict[date, set[int]] = {}
    for row in rows:
        day_key = row["purchase_order__delivery_date"]
        day = days.get(day_key)
        if day is None:
            day = days[day_key] = PickDay(delivery_date=day_key)
        # A product delivered in different case sizes is prepared as separate rows.
        key = (day_key, row["item__offer__product_id"], row["case_size"])
        product = products.get(key)
        if product is None:
            product = products[key] = PickProduct(
                product_id=row["item__offer__product_id"],
                name=row["product_name"],
                spec=row["spec"],
                unit=row["unit"],
                case_size=row["case_size"],
            )
            day.products.append(product)
        cases = row["quantity"] // max(row["case_size"], 1)
        product.quantity += row["quantity"]
        product.cases += cases
        product.communities.append(
            PickCommunity(
                community_name=row["purchase_order__community__name"],
                purchase_order_id=row["purchase_order_id"],
                purchase_order_number=row["purchase_order__number"],
                status=row["purchase_order__status"],
                quantity=row["quantity"],
                cases=cases,
            )
        )
        orders_per_day.setdefault(day_key, set()).add(row["purchase_order_id"])
    for day_key, day in days.items():
        day.purchase_order_count = len(orders_per_day[day_key])
    return list(days.values())


def supplier_pick_dates(supplier: SupplierOrganization) -> list[date]:
    """Delivery dates with goods still to prepare (for the date filter)."""
    return list(
        _supplier_scope(supplier)
        .filter(status__in=TO_DELIVER)
        .order_by("delivery_date")
        .values_list("delivery_date", flat=True)
        .distinct()
    )


# Reviews


def supplier_reviews(supplier: SupplierOrganization) -> QuerySet[Review]:
    """Reviews of the supplier's offers, newest first, with photos and the community."""
    return (
        Review.objects.filter(offer__supplier=supplier)
        .select_related("offer__product", "order_line__order__community")
        .prefetch_related("photos")
        .order_by("-created_at", "-id")
    )


def supplier_offer_ratings(supplier: SupplierOrganization) -> QuerySet[Offer]:
    """The supplier's reviewed offers with ``average`` rating and review ``count``."""
    return (
        Offer.objects.filter(supplier=supplier, reviews__isnull=False)
        .select_related("product")
        .annotate(average=Avg("reviews__rating"), count=Count("reviews"))
        .order_by("-average", "-count", "id")
    )
