"""Reads of the leader's fulfilment pages: a schedule's purchase orders, one purchase order
with its lines and what receipt recorded, the pickup notices sent and their coverage.

Scoped to the user asking: another leader's schedule or purchase order answers 404; staff
see every community (as on the order review pages).
"""

from dataclasses import dataclass

from django.db.models import (
    Count,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from accounts.models import User
from groupbuy.selectors import state_changes_for
from notifications.models import Delivery, DeliveryStatus, Notification
from orders.models import ZERO, Fulfilment, LineStatus, Order, OrderStatus
from orders.selectors import leader_schedule, schedule_order_counts
from scheduling.models import Schedule, ScheduleItem

from ..models import PickupNotice, PurchaseOrder, PurchaseOrderLine, ShortageAllocation
from ..services.pickup import pickup_notice_recipients

__all__ = [
    "FulfilmentCounts",
    "leader_purchase_order",
    "leader_schedule",
    "members_of_orders",
    "purchase_order_history",
    "purchase_order_lines",
    "ready_order_receiving",
    "schedule_execution",
    "schedule_fulfilment_counts",
    "schedule_pickup_notices",
    "schedule_purchase_orders",
]


def leader_purchase_order(user: User, purchase_order_id: int) -> PurchaseOrder:
    purchase_orders = PurchaseOrder.objects.select_related(
        "schedule__community", "supplier", "community"
    )
    if not user.is_staff:
        purchase_orders = purchase_orders.filter(community__leader=user)
    return get_object_or_404(purchase_orders, pk=purchase_order_id)


def _line_totals(purchase_order: PurchaseOrder) -> None:
    """Totals of the prefetched lines, on the purchase order (declined lines left out)."""
    lines = list(purchase_order.lines.all())
    kept = [line for line in lines if not line.declined]
    purchase_order.line_count = len(lines)
    purchase_order.declined_count = len(lines) - len(kept)
    purchase_order.total_amount = sum((line.amount for line in kept), ZERO)
    purchase_order.total_units = sum(line.quantity for line in kept)
    purchase_order.total_ordered_units = sum(line.ordered_units for line in kept)
    purchase_order.total_short = sum(line.short_quantity for line in kept)
    purchase_order.total_damaged = sum(line.damaged_quantity for line in kept)


def schedule_purchase_orders(schedule: Schedule) -> list[PurchaseOrder]:
    """The schedule's purchase orders with their lines and totals (two queries)."""
    purchase_orders = list(
        schedule.purchase_orders.select_related("supplier")
        .prefetch_related(Prefetch("lines", queryset=PurchaseOrderLine.objects.order_by("id")))
        .order_by("delivery_date", "supplier__name", "id")
    )
    for purchase_order in purchase_orders:
        _line_totals(purchase_order)
    return purchase_orders


def purchase_order_lines(purchase_order: PurchaseOrder) -> list[PurchaseOrderLine]:
    """Lines with what receipt allocated to members (allocations, their orders, refunds)."""
    allocations = ShortageAllocation.objects.select_related(
        "order_line__order__member", "refund"
    ).order_by("id")
    lines = list(
        purchase_order.lines.prefetch_related(
            Prefetch("allocations", queryset=allocations)
        ).order_by("id")
    )
    purchase_order.lines_list = lines
    kept = [line for line in lines if not line.declined]
    purchase_order.total_amount = sum((line.amount for line in kept), ZERO)
    purchase_order.total_units = sum(line.quantity for line in kept)
    purchase_order.total_ordered_units = sum(line.ordered_units for line in kept)
    purchase_order.total_refunded = sum(
        (allocation.amount for line in lines for allocation in line.allocations.all()), ZERO
    )
    return lines


def purchase_order_history(purchase_order: PurchaseOrder):
    return state_changes_for(purchase_order)


def members_of_orders(order_ids) -> dict[int, User]:
    """{order id: member} in one query (for the receipt preview's losses)."""
    orders = Order.objects.filter(pk__in=set(order_ids)).select_related("member")
    return {order.pk: order.member for order in orders}


@dataclass
class FulfilmentCounts:
    by_status: dict[str, int]

    def _n(self, *statuses) -> int:
        return sum(self.by_status.get(status, 0) for status in statuses)

    @property
    def awaiting_review(self) -> int:
        """Paid, not confirmed yet (the leader's review)."""
        return self._n(OrderStatus.PAID)

    @property
    def awaiting_payment(self) -> int:
        return self._n(OrderStatus.PENDING_PAYMENT)

    @property
    def blocking(self) -> int:
        """Orders that keep purchase orders from going out."""
        return self.awaiting_review + self.awaiting_payment

    @property
    def confirmed(self) -> int:
        return self._n(OrderStatus.CONFIRMED)

    @property
    def ready(self) -> int:
        return self._n(OrderStatus.READY_FOR_PICKUP)

    @property
    def picked_up(self) -> int:
        return self._n(OrderStatus.PICKED_UP, OrderStatus.COMPLETED)


def schedule_fulfilment_counts(schedule: Schedule) -> FulfilmentCounts:
    return FulfilmentCounts(schedule_order_counts(schedule))


def _count_by_broadcast(queryset) -> Coalesce:
    counted = queryset.order_by().values("broadcast_id").annotate(n=Count("id")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def schedule_pickup_notices(schedule: Schedule) -> QuerySet[PickupNotice]:
    """The schedule's pickup notices, newest first, with their broadcast's counts."""
    return (
        schedule.pickup_notices.select_related("broadcast", "sent_by")
        .annotate(
            acknowledged_count=_count_by_broadcast(
                Notification.objects.filter(
                    broadcast=OuterRef("broadcast_id"), acknowledgement__isnull=False
                )
            ),
            read_count=_count_by_broadcast(
                Notification.objects.filter(
                    broadcast=OuterRef("broadcast_id"), read_at__isnull=False
                )
            ),
            failed_count=_count_by_broadcast(
                Delivery.objects.filter(
                    broadcast=OuterRef("broadcast_id"), status=DeliveryStatus.FAILED
                )
            ),
        )
        .order_by("-created_at", "-id")
    )


@dataclass
class ReadyReceiving:
    """How the members with a ready order receive their goods (for the notice's wording)."""

    recipients: int
    pickup_orders: int
    delivery_orders: int

    @property
    def all_delivery(self) -> bool:
        return bool(self.delivery_orders) and not self.pickup_orders


def ready_order_receiving(schedule: Schedule) -> ReadyReceiving:
    rows = (
        Order.objects.filter(schedule=schedule, status=OrderStatus.READY_FOR_PICKUP)
        .values("fulfilment")
        .annotate(n=Count("pk"))
    )
    by_fulfilment = {row["fulfilment"]: row["n"] for row in rows}
    return ReadyReceiving(
        recipients=pickup_notice_recipients(schedule).count(),
        pickup_orders=by_fulfilment.get(Fulfilment.PICKUP, 0),
        delivery_orders=by_fulfilment.get(Fulfilment.DELIVERY, 0),
    )


def schedule_execution(schedule: Schedule) -> QuerySet[ScheduleItem]:
    """How the round went per item: planned (the cap), sold (units in orders that went
    ahead), bought (purchase order), received, missing (short + damaged), picked up (units
    handed over). One query, whatever the number of orders."""
    went_ahead = Q(order_lines__status=LineStatus.ACTIVE) & Q(
        order_lines__order__status__in=(
            OrderStatus.CONFIRMED,
            OrderStatus.READY_FOR_PICKUP,
            OrderStatus.PICKED_UP,
            OrderStatus.COMPLETED,
        )
    )
    return (
        schedule.items.select_related("offer__product", "purchase_order_line")
        .annotate(
            sold_units=Coalesce(Sum("order_lines__quantity", filter=went_ahead), 0),
            picked_up_units=Coalesce(
                Sum(
                    F("order_lines__quantity") - F("order_lines__short_units"),
                    filter=went_ahead & Q(order_lines__picked_up_at__isnull=False),
                ),
                0,
            ),
        )
        .order_by("display_order", "id")
    )
