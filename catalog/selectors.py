"""Every read of the catalog, scoped by who is asking."""

from datetime import date

from django.db.models import Avg, Count, Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import ReviewStatus, SupplierOrganization

from .models import (
    ContractStatus,
    Offer,
    OfferStatus,
    Product,
    ProductImage,
    SupplierContract,
)

_IMAGES = Prefetch("images", queryset=ProductImage.objects.order_by("position", "id"))


# Supplier


def products_for_supplier(supplier: SupplierOrganization, *, query: str = "") -> QuerySet[Product]:
    products = Product.objects.filter(supplier=supplier)
    if query:
        products = products.filter(
            Q(name__icontains=query)
            | Q(name_en__icontains=query)
            | Q(brand__icontains=query)
            | Q(barcode__icontains=query)
        )
    return (
        products.select_related("category")
        .prefetch_related(_IMAGES)
        .annotate(offer_count=Count("offers", distinct=True))
        .order_by("-created_at", "-id")
    )


def offer_status_counts_for_supplier(supplier: SupplierOrganization) -> dict[str, int]:
    return dict(
        Offer.objects.filter(supplier=supplier)
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
    )


def product_for_supplier(supplier: SupplierOrganization, product_id: int) -> Product:
    return get_object_or_404(
        Product.objects.select_related("category").prefetch_related(_IMAGES),
        pk=product_id,
        supplier=supplier,
    )


def offers_for_supplier(
    supplier: SupplierOrganization, *, status: str | None = None
) -> QuerySet[Offer]:
    offers = Offer.objects.filter(supplier=supplier).select_related("product", "product__category")
    if status in OfferStatus.values:
        offers = offers.filter(status=status)
    return offers.order_by("-updated_at", "-id")


def offer_for_supplier(supplier: SupplierOrganization, offer_id: int) -> Offer:
    return get_object_or_404(
        Offer.objects.select_related("product", "product__category", "revision_of"),
        pk=offer_id,
        supplier=supplier,
    )


def contracts_for_supplier(supplier: SupplierOrganization) -> QuerySet[SupplierContract]:
    return SupplierContract.objects.filter(supplier=supplier).order_by("-created_at", "-id")


def contract_for_supplier(supplier: SupplierOrganization, contract_id: int) -> SupplierContract:
    return get_object_or_404(
        SupplierContract.objects.select_related("signed_by"), pk=contract_id, supplier=supplier
    )


def open_contract_for_supplier(supplier: SupplierOrganization) -> SupplierContract | None:
    return (
        SupplierContract.objects.filter(
            supplier=supplier,
            status__in=[ContractStatus.PENDING_SIGNATURE, ContractStatus.ACTIVE],
        )
        .order_by("-created_at")
        .first()
    )


# Platform staff


def review_queue(
    *, supplier_id: int | None = None, category_id: int | None = None
) -> QuerySet[Offer]:
    """Submitted offers, oldest first."""
    offers = Offer.objects.filter(status=OfferStatus.SUBMITTED).select_related(
        "product", "product__category", "supplier", "revision_of"
    )
    if supplier_id:
        offers = offers.filter(supplier_id=supplier_id)
    if category_id:
        offers = offers.filter(product__category_id=category_id)
    return offers.order_by("submitted_at", "id")


def offers_for_staff(*, status: str | None = None) -> QuerySet[Offer]:
    offers = Offer.objects.select_related("product", "product__category", "supplier")
    if status in OfferStatus.values:
        offers = offers.filter(status=status)
    return offers.order_by("-updated_at", "-id")


def offer_for_staff(offer_id: int) -> Offer:
    return get_object_or_404(
        Offer.objects.select_related(
            "product", "product__category", "supplier", "revision_of"
        ).prefetch_related(Prefetch("product__images", queryset=ProductImage.objects.all())),
        pk=offer_id,
    )


def offer_diff(offer: Offer) -> list[dict]:
    """The terms side by side with the approved revision this one replaces (if any)."""
    previous = offer.revision_of
    rows = []
    for name in Offer.TERM_FIELDS:
        field = Offer._meta.get_field(name)
        new = getattr(offer, name)
        old = getattr(previous, name) if previous else None
        rows.append(
            {
                "name": name,
                "label": field.verbose_name,
                "old": old,
                "new": new,
                "changed": previous is not None and old != new,
            }
        )
    return rows


def contracts_for_staff(*, status: str | None = None) -> QuerySet[SupplierContract]:
    contracts = SupplierContract.objects.select_related("supplier", "signed_by")
    if status in ContractStatus.values:
        contracts = contracts.filter(status=status)
    return contracts.order_by("-created_at", "-id")


def contract_for_staff(contract_id: int) -> SupplierContract:
    return get_object_or_404(
        SupplierContract.objects.select_related("supplier", "signed_by"), pk=contract_id
    )


# Leaders


def listed_offers(today: date | None = None) -> QuerySet[Offer]:
    """Offers leaders may use: approved, within validity, supplier approved and under an
    active contract that covers today. Time rules are checked here, not only by beat."""
    today = today or timezone.localdate()
    active_contract = SupplierContract.objects.filter(
        supplier=OuterRef("supplier"),
        status=ContractStatus.ACTIVE,
        valid_from__lte=today,
        valid_until__gte=today,
    )
    return Offer.objects.filter(
        Exists(active_contract),
        status=OfferStatus.APPROVED,
        valid_from__lte=today,
        valid_until__gte=today,
        supplier__status=ReviewStatus.APPROVED,
    )


def _with_rating(offers: QuerySet[Offer]) -> QuerySet[Offer]:
    """Members' average rating and number of reviews (fulfilment's Review, by name)."""
    return offers.annotate(
        rating_average=Avg("reviews__rating"), rating_count=Count("reviews", distinct=True)
    )


CATALOG_SORTS = {
    "newest": ("-decided_at", "-id"),
    "price": ("supply_price", "id"),
    "-price": ("-supply_price", "id"),
    "margin": ("-margin", "id"),
}


def catalog_search(
    *,
    query: str = "",
    category_id: int | None = None,
    supplier_id: int | None = None,
    storage: str = "",
    price_min=None,
    price_max=None,
    weekday: int | None = None,
    sort: str = "newest",
) -> QuerySet[Offer]:
    # alias, not annotate: Offer.margin is a read-only property, so an annotation of that
    # name could not be set on the instances; the alias still serves order_by("-margin").
    offers = listed_offers().alias(margin=F("retail_price") - F("supply_price"))
    if query:
        offers = offers.filter(
            Q(product__name__icontains=query)
            | Q(product__name_en__icontains=query)
            | Q(product__brand__icontains=query)
        )
    if category_id:
        offers = offers.filter(product__category_id=category_id)
    if supplier_id:
        offers = offers.filter(supplier_id=supplier_id)
    if storage:
        offers = offers.filter(product__storage=storage)
    if price_min is not None:
        offers = offers.filter(supply_price__gte=price_min)
    if price_max is not None:
        offers = offers.filter(supply_price__lte=price_max)
    if weekday is not None:
        offers = offers.filter(delivery_weekdays__contains=str(weekday))
    return (
        _with_rating(offers)
        .select_related("product", "product__category", "supplier")
        .prefetch_related(Prefetch("product__images", queryset=ProductImage.objects.all()))
        .order_by(*CATALOG_SORTS.get(sort, CATALOG_SORTS["newest"]))
    )


def listed_offer_for_leader(offer_id: int) -> Offer:
    return get_object_or_404(
        _with_rating(listed_offers())
        .select_related("product", "product__category", "supplier")
        .prefetch_related(Prefetch("product__images", queryset=ProductImage.objects.all())),
        pk=offer_id,
    )


def catalog_suppliers() -> QuerySet[SupplierOrganization]:
    """Suppliers with at least one listed offer, for the catalog's supplier filter."""
    return SupplierOrganization.objects.filter(
        pk__in=listed_offers().values("supplier_id")
    ).order_by("name")
