"""The leader's review of orders, and what the schedule's outcome does to them."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from groupbuy.exceptions import DomainError
from scheduling.models import Schedule, ScheduleItem

from ..models import LineStatus, Order, OrderLine, OrderStatus
from .ordering import lock_order, order_end, order_transition, pickup_code_assign
from .refunds import refund_line
from .stock import stock_release
from .tell import tell_member

CANCELLABLE = (OrderStatus.PENDING_PAYMENT, OrderStatus.PAID, OrderStatus.CONFIRMED)


def _check_leader(order: Order, actor: User) -> None:
    if not (actor.is_staff or order.community.leader_id == actor.pk):
        raise DomainError(_("Only the community's leader can review its orders."))


def _confirm_locked(order: Order, actor: User, now: datetime) -> None:
    pickup_code_assign(order)
    order.confirmed_at = now
    order_transition(order, "confirm", actor=actor)
    tell_member(order, "order_confirmed", actor=actor)


@transaction.atomic
def order_confirm(*, order: Order, actor: User, now: datetime | None = None) -> Order:
    order = lock_order(order)
    _check_leader(order, actor)
    if order.status != OrderStatus.PAID:
        raise DomainError(_("Only paid orders can be confirmed."))
    _confirm_locked(order, actor, now or timezone.now())
    return order


@transaction.atomic
def orders_confirm(*, schedule: Schedule, order_ids, actor: User) -> int:
    """Confirm the chosen paid orders of one schedule; others are left as they are."""
    if not (actor.is_staff or schedule.community.leader_id == actor.pk):
        raise DomainError(_("Only the community's leader can review its orders."))
    now = timezone.now()
    orders = (
        Order.objects.select_for_update(of=("self",))
        .filter(schedule=schedule, pk__in=list(order_ids), status=OrderStatus.PAID)
        .select_related("schedule", "community", "pickup_point", "member")
        .order_by("pk")
    )
    confirmed = 0
    for order in orders:
        _confirm_locked(order, actor, now)
        confirmed += 1
    return confirmed


@transaction.atomic
def order_reject(*, order: Order, actor: User, reason: str, now: datetime | None = None):
    """Cancel the order with a reason the member sees; whatever was paid is refunded."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give a reason; the member sees it."), field="reason")
    order = lock_order(order)
    _check_leader(order, actor)
    if order.status not in CANCELLABLE:
        raise DomainError(_("This order can no longer be rejected."))
    order_end(order, transition="cancel", actor=actor, reason=reason, now=now or timezone.now())
    tell_member(order, "order_rejected", actor=actor, reason=reason)
    return order


def item_failed_cancel_lines(*, item: ScheduleItem) -> int:
    """The item missed its minimum group quantity (inside the closing transaction)."""
    name = item.offer.product.name
    return item_lines_cancel(
        item=item,
        reason=_("%(name)s did not reach its minimum group quantity") % {"name": name},
        notice_kind="order_item_failed",
    )


def item_lines_cancel(
    *, item: ScheduleItem, reason: str, notice_kind: str, actor: User | None = None
) -> int:
    """Cancel and refund every open line of ``item`` (the item failed, or its supplier
    cannot deliver it): orders left without lines are cancelled whole, unpaid ones expire,
    and each member is told. Call inside a transaction. Returns the lines cancelled."""
    now = timezone.now()
    name = item.offer.product.name
    lines = (
        OrderLine.objects.select_for_update(of=("self",))
        .filter(item=item, status=LineStatus.ACTIVE, order__status__in=CANCELLABLE)
        .select_related("order")
        .order_by("order_id")
    )
    cancelled = 0
    for line in lines:
        order = lock_order(line.order_id)
        if order.status == OrderStatus.PENDING_PAYMENT:
            # Past its payment window by now (windows end at the cut-off): it expires whole.
            order_end(order, transition="expire", actor=actor, reason=reason, now=now)
            continue
        line.order = order
        line.cancel_reason = reason[:200]
        line.cancel()
        line.save()
        stock_release(quantities={item.pk: line.quantity})
        cancelled += 1
        if not order.lines.filter(status=LineStatus.ACTIVE).exists():
            order_end(order, transition="cancel", actor=actor, reason=reason, now=now)
            tell_member(order, "order_cancelled", actor=actor, reason=reason)
            continue
        refund_line(line, reason=reason)
        tell_member(order, notice_kind, actor=actor, item=name, amount=line.amount, reason=reason)
    return cancelled


def schedule_cancelled_cancel_orders(*, schedule: Schedule, actor: User | None, reason: str):
    """The leader cancelled the schedule: every open order is cancelled and refunded."""
    now = timezone.now()
    ids = schedule.orders.filter(status__in=CANCELLABLE).order_by("pk").values_list("pk", flat=True)
    for order_id in list(ids):
        order = lock_order(order_id)
        if order.status not in CANCELLABLE:
            continue
        order_end(order, transition="cancel", actor=actor, reason=reason, now=now)
        tell_member(order, "order_cancelled", actor=actor, reason=reason)
