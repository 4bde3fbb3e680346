"""Reads for handing goods over: the communities a verifier may serve, the community's
orders waiting for pickup or delivery, and what one order hands over."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import Community, ReviewStatus, User
from orders.models import Fulfilment, LineStatus, Order, OrderLine, OrderStatus

from ..services.pickup import amount_due_at_pickup

SEARCH_LIMIT = 20


def pickup_community(user: User, community_id: int) -> Community:
    """A community whose pickups the user verifies: her own approved one (staff: any)."""
    communities = Community.objects.filter(status=ReviewStatus.APPROVED)
    if not user.is_staff:
        communities = communities.filter(leader=user)
    return get_object_or_404(communities, pk=community_id)


def _orders_with_lines() -> QuerySet[Order]:
    return Order.objects.select_related("member", "pickup_point", "schedule").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("id"))
    )


def pickup_order(user: User, order_id: int, community: Community | None = None) -> Order:
    """An order of one of the user's communities (staff: any); 404 otherwise."""
    orders = _orders_with_lines().select_related("community")
    if community is not None:
        orders = orders.filter(community=community)
    if not user.is_staff:
        orders = orders.filter(community__leader=user)
    return get_object_or_404(orders, pk=order_id)


def ready_orders_search(community: Community, term: str) -> list[Order]:
    """The community's orders waiting for pickup whose member matches ``term`` (name,
    phone digits, or the order number); at most SEARCH_LIMIT."""
    term = (term or "").strip()
    if not term:
        return []
    match = Q(member__display_name__icontains=term) | Q(number=term)
    digits = "".join(ch for ch in term if ch.isdigit())
    if len(digits) >= 4:
        match |= Q(member__phone__contains=digits)
    return list(
        _orders_with_lines()
        .filter(community=community, status=OrderStatus.READY_FOR_PICKUP)
        .filter(match)
        .order_by("member__display_name", "id")[:SEARCH_LIMIT]
    )


def ready_order_count(community: Community) -> int:
    return Order.objects.filter(
        community=community, status=OrderStatus.READY_FOR_PICKUP, fulfilment=Fulfilment.PICKUP
    ).count()


def ready_deliveries(community: Community) -> QuerySet[Order]:
    """Home-delivery orders of the community that are ready, out ones first."""
    return (
        Order.objects.filter(
            community=community,
            status=OrderStatus.READY_FOR_PICKUP,
            fulfilment=Fulfilment.DELIVERY,
        )
        .select_related("member")
        .order_by("out_for_delivery_at", "id")
    )


@dataclass
class HandOverLine:
    line: OrderLine
    units: int  # to hand over
    short_units: int
    done: bool  # already handed over
    selectable: bool


@dataclass
class HandOver:
    """What the verifier sees for one order."""

    order: Order
    lines: list[HandOverLine]
    amount_due: Decimal
    waiting: bool  # the order is waiting for pickup (or delivery)
    is_delivery: bool

    @property
    def selectable_ids(self) -> list[int]:
        return [row.line.pk for row in self.lines if row.selectable]

    @property
    def line_ids(self) -> list[int]:
        return [row.line.pk for row in self.lines]


def hand_over_summary(order: Order) -> HandOver:
    """Lines to hand over (from the prefetched lines of ``pickup_order``), money due."""
    waiting = order.status == OrderStatus.READY_FOR_PICKUP
    rows = []
    for line in order.lines.all():
        if line.status != LineStatus.ACTIVE:
            continue
        units = line.units_to_hand_over
        done = line.picked_up_at is not None
        rows.append(
            HandOverLine(
                line=line,
                units=units,
                short_units=line.short_units,
                done=done,
                selectable=waiting and not done and units > 0,
            )
        )
    return HandOver(
        order=order,
        lines=rows,
        amount_due=amount_due_at_pickup(order) if waiting else Decimal("0.00"),
        waiting=waiting,
        is_delivery=order.fulfilment == Fulfilment.DELIVERY,
    )
