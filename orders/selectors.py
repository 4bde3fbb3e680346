"""Every read of the orders stage, scoped to the user asking (another party's order: 404)."""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.db.models import (
    Avg,
    Count,
    DecimalField,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from groupbuy.selectors import state_changes_for
from scheduling.models import Schedule, ScheduleItem

from .models import (
    ACTIVE_ORDER_STATUSES,
    LineStatus,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentMethod,
    Refund,
)
from .services.ordering import order_lines_price, ordered_quantities

# A line this many times the member's usual line quantity (and at least USUAL_MARGIN more)
# is flagged for the leader.
UNUSUAL_FACTOR = 3
USUAL_MARGIN = 3
NEAR_CUTOFF = timedelta(hours=1)


class PaymentFilter:
    PAID = "paid"
    UNPAID = "unpaid"
    AT_PICKUP = "at_pickup"
    REFUNDED = "refunded"

    choices = (
        (PAID, _("Paid online")),
        (UNPAID, _("Not paid yet")),
        (AT_PICKUP, _("Pay at pickup")),
        (REFUNDED, _("Refunded (in part or whole)")),
    )


# Member


def member_orders(user: User) -> QuerySet[Order]:
    return (
        Order.objects.filter(member=user)
        .select_related("schedule", "community", "pickup_point")
        .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("id")))
        .order_by("-created_at", "-id")
    )


def member_order(user: User, number: str) -> Order:
    return get_object_or_404(
        Order.objects.filter(member=user).select_related(
            "schedule", "community__leader", "pickup_point"
        ),
        number=number,
    )


def order_lines(order: Order) -> QuerySet[OrderLine]:
    return order.lines.select_related("item__offer__product").order_by("id")


def order_latest_payment(order: Order):
    return order.payments.order_by("-created_at", "-id").first()


def order_refunds(order: Order) -> QuerySet[Refund]:
    return order.refunds.order_by("created_at", "id")


def order_payments(order: Order) -> QuerySet[Payment]:
    return order.payments.order_by("created_at", "id")


def order_timeline(order: Order):
    return state_changes_for(order)


def member_item_allowances(*, member: User, schedule: Schedule) -> dict[int, int]:
    """How many more of each item the member may add (limit and stock both)."""
    had = ordered_quantities(member=member, schedule=schedule)
    return {
        item.pk: max(0, min(item.per_member_limit - had.get(item.pk, 0), item.remaining))
        for item in schedule.items.all()
    }


def cart_preview(*, member: User, schedule: Schedule, quantities: dict):
    """(lines, goods total) as the server prices them; raises DomainError."""
    return order_lines_price(schedule=schedule, quantities=quantities, member=member)


# Leader


def leader_schedule(user: User, schedule_id: int) -> Schedule:
    schedules = Schedule.objects.select_related("community")
    if not user.is_staff:
        schedules = schedules.filter(community__leader=user)
    return get_object_or_404(schedules, pk=schedule_id)


def leader_order(user: User, order_id: int) -> Order:
    orders = Order.objects.select_related("schedule", "community", "pickup_point", "member")
    if not user.is_staff:
        orders = orders.filter(community__leader=user)
    return get_object_or_404(orders, pk=order_id)


@dataclass
class OrderFilters:
    status: str = ""
    item: int | None = None
    payment: str = ""
    pickup_point: int | None = None
    search: str = ""
    flagged: bool = False
    extra: dict = field(default_factory=dict)


def _with_flags(orders: QuerySet[Order], schedule: Schedule) -> QuerySet[Order]:
    member_orders_here = (
        Order.objects.filter(
            schedule_id=schedule.pk,
            member_id=OuterRef("member_id"),
            status__in=ACTIVE_ORDER_STATUSES,
        )
        .values("member_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    usual_quantity = (
        OrderLine.objects.filter(
            order__member_id=OuterRef("member_id"),
            order__community_id=schedule.community_id,
            order__status__in=ACTIVE_ORDER_STATUSES,
        )
        .exclude(order__schedule_id=schedule.pk)
        .values("order__member_id")
        .annotate(avg=Avg("quantity"))
        .values("avg")
    )
    # A subquery, not an aggregate over a join: an item filter joined on lines before
    # would otherwise narrow the maximum to that item's line.
    largest_line = (
        OrderLine.objects.filter(order_id=OuterRef("pk"), status=LineStatus.ACTIVE)
        .values("order_id")
        .annotate(largest=Max("quantity"))
        .values("largest")
    )
    return orders.annotate(
        orders_by_member=Coalesce(Subquery(member_orders_here, output_field=IntegerField()), 0),
        usual_quantity=Subquery(usual_quantity, output_field=DecimalField()),
        largest_line=Coalesce(Subquery(largest_line, output_field=IntegerField()), 0),
    )


def _flagged(schedule: Schedule, now) -> Q:
    """The conditions of ``order_flags`` as a filter on ``_with_flags`` annotations."""
    usual = F("usual_quantity")
    flagged = (
        (Q(largest_line__gte=usual * UNUSUAL_FACTOR) & Q(largest_line__gte=usual + USUAL_MARGIN))
        | Q(orders_by_member__gt=1)
        | Q(payment_method=PaymentMethod.AT_PICKUP)
    )
    if schedule.cutoff - now <= NEAR_CUTOFF:
        flagged |= Q(status=OrderStatus.PENDING_PAYMENT)
    return flagged


def order_flags(order: Order, *, schedule: Schedule, now=None) -> list[tuple[str, str]]:
    """(code, label) of what the leader should look at; needs ``_with_flags`` annotations."""
    now = now or timezone.now()
    flags = []
    usual = order.usual_quantity
    if usual and order.largest_line >= max(
        Decimal(UNUSUAL_FACTOR) * Decimal(usual), Decimal(usual) + USUAL_MARGIN
    ):
        flags.append(("unusual_quantity", _("Far more than this member usually buys")))
    if order.orders_by_member > 1:
        flags.append(("several_orders", _("Several orders from this member")))
    if order.payment_method == PaymentMethod.AT_PICKUP:
        flags.append(("pay_at_pickup", _("Pays at pickup")))
    if order.status == OrderStatus.PENDING_PAYMENT and schedule.cutoff - now <= NEAR_CUTOFF:
        flags.append(("unpaid_near_cutoff", _("Unpaid, close to the cut-off")))
    return flags


def leader_schedule_orders(
    *, user: User, schedule: Schedule, filters: OrderFilters | None = None
) -> QuerySet[Order]:
    """The schedule's orders with flag annotations, filtered; the schedule must already be
    the leader's (``leader_schedule``)."""
    if not (user.is_staff or schedule.community.leader_id == user.pk):
        raise Http404
    filters = filters or OrderFilters()
    orders = Order.objects.filter(schedule=schedule).select_related("member", "pickup_point")
    if filters.status:
        orders = orders.filter(status=filters.status)
    if filters.item:
        orders = orders.filter(
            Exists(
                OrderLine.objects.filter(
                    order_id=OuterRef("pk"), item_id=filters.item, status=LineStatus.ACTIVE
                )
            )
        )
    if filters.payment == PaymentFilter.PAID:
        orders = orders.filter(paid_at__isnull=False)
    elif filters.payment == PaymentFilter.UNPAID:
        orders = orders.filter(status=OrderStatus.PENDING_PAYMENT)
    elif filters.payment == PaymentFilter.AT_PICKUP:
        orders = orders.filter(payment_method=PaymentMethod.AT_PICKUP)
    elif filters.payment == PaymentFilter.REFUNDED:
        orders = orders.filter(refunded_total__gt=0)
    if filters.pickup_point:
        orders = orders.filter(pickup_point_id=filters.pickup_point)
    term = filters.search.strip()
    if term:
        digits = "".join(ch for ch in term if ch.isdigit())
        match = Q(member__display_name__icontains=term) | Q(number=term)
        if len(digits) >= 4:
            match |= Q(member__phone__endswith=digits) | Q(member__phone__contains=digits)
        orders = orders.filter(match)
    orders = _with_flags(orders, schedule).prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("id"))
    )
    if filters.flagged:
        orders = orders.filter(_flagged(schedule, timezone.now()))
    return orders.order_by("-created_at", "-id")


def schedule_item_totals(schedule: Schedule) -> QuerySet[ScheduleItem]:
    """Per item: units ordered by order state (active lines only), and the amounts."""
    active = Q(order_lines__status=LineStatus.ACTIVE)

    def units(*statuses):
        return Coalesce(
            Sum(
                "order_lines__quantity",
                filter=active & Q(order_lines__order__status__in=statuses),
            ),
            0,
        )

    return (
        schedule.items.select_related("offer__product")
        .annotate(
            units_pending=units(OrderStatus.PENDING_PAYMENT),
            units_paid=units(OrderStatus.PAID),
            units_confirmed=units(
                OrderStatus.CONFIRMED,
                OrderStatus.READY_FOR_PICKUP,
                OrderStatus.PICKED_UP,
                OrderStatus.COMPLETED,
            ),
            amount=Coalesce(
                Sum(
                    "order_lines__amount",
                    filter=active
                    & ~Q(
                        order_lines__order__status__in=(OrderStatus.EXPIRED, OrderStatus.CANCELLED)
                    ),
                ),
                Value(Decimal("0.00")),
                output_field=DecimalField(),
            ),
        )
        .order_by("display_order", "id")
    )


def schedule_order_counts(schedule: Schedule) -> dict[str, int]:
    rows = Order.objects.filter(schedule=schedule).values("status").annotate(n=Count("pk"))
    return {row["status"]: row["n"] for row in rows}
