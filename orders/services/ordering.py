"""Placing, cancelling and expiring orders; stock follows every change."""

import secrets
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, PickupPoint, User
from groupbuy.exceptions import DomainError
from groupbuy.services import state_change_record
from scheduling.models import DeliveryOption, ItemOutcome, Schedule, ScheduleItem
from scheduling.services.schedules import schedule_is_open_for_orders

from ..models import (
    ACTIVE_ORDER_STATUSES,
    OPEN_ORDER_STATUSES,
    ZERO,
    Fulfilment,
    LineStatus,
    Order,
    OrderLine,
    OrderStatus,
    PaymentMethod,
    PaymentStatus,
)
from .stock import stock_release, stock_reserve
from .tell import tell_member

PICKUP_CODE_ATTEMPTS = 20


def order_transition(order: Order, name: str, *, actor: User | None, reason: str = "") -> None:
    """Run one transition on a locked order, save it and record who did it."""
    from_state = order.status
    getattr(order, name)()
    order.save()
    state_change_record(
        subject=order,
        transition=name,
        from_state=from_state,
        to_state=order.status,
        actor=actor,
        reason=reason,
    )


def lock_order(order: Order | int) -> Order:
    pk = order if isinstance(order, int) else order.pk
    return (
        Order.objects.select_for_update(of=("self",))
        .select_related("schedule", "community", "pickup_point", "member")
        .get(pk=pk)
    )


def active_line_quantities(order: Order) -> dict[int, int]:
    return dict(order.lines.filter(status=LineStatus.ACTIVE).values_list("item_id", "quantity"))


def pickup_code_assign(order: Order) -> None:
    """8 random digits, unique among the community's open orders (constraint backstop)."""
    taken = Order.objects.filter(community_id=order.community_id, status__in=OPEN_ORDER_STATUSES)
    for _attempt in range(PICKUP_CODE_ATTEMPTS):
        code = f"{secrets.randbelow(10**8):08d}"
        if not taken.filter(pickup_code=code).exists():
            order.pickup_code = code
            return
    raise DomainError(_("Could not issue a pickup code; try again."))


def payment_deadline_for(schedule: Schedule, *, now: datetime) -> datetime:
    """The payment window, never past the cut-off: unpaid orders must not decide whether
    an item reaches its minimum group quantity."""
    window = timedelta(minutes=settings.ORDER_PAYMENT_WINDOW_MINUTES)
    return min(now + window, schedule.cutoff)


def _clean_quantities(quantities: dict) -> dict[int, int]:
    cleaned = {}
    for item_id, quantity in quantities.items():
        try:
            item_id, quantity = int(item_id), int(quantity)
        except (TypeError, ValueError):
            raise DomainError(_("Quantities must be whole numbers."), field="quantities") from None
        if quantity < 0:
            raise DomainError(_("Quantities cannot be negative."), field="quantities")
        if quantity:
            cleaned[item_id] = quantity
    if not cleaned:
        raise DomainError(_("Choose at least one item."), field="quantities")
    return cleaned


def ordered_quantities(*, member: User, schedule: Schedule) -> dict[int, int]:
    """What the member already holds per item in this schedule (active lines)."""
    rows = (
        OrderLine.objects.filter(
            order__member=member,
            order__schedule=schedule,
            order__status__in=ACTIVE_ORDER_STATUSES,
            status=LineStatus.ACTIVE,
        )
        .values("item_id")
        .annotate(total=Sum("quantity"))
    )
    return {row["item_id"]: row["total"] for row in rows}


def order_lines_price(
    *, schedule: Schedule, quantities: dict, member: User
) -> tuple[list[tuple[ScheduleItem, int]], Decimal]:
    """Check the cart against the schedule and the member's limits; return the lines and
    the goods total computed from the stored prices. Raises DomainError."""
    quantities = _clean_quantities(quantities)
    items = {
        item.pk: item
        for item in ScheduleItem.objects.filter(
            schedule=schedule, pk__in=list(quantities)
        ).select_related("offer__product")
    }
    if set(quantities) - set(items):
        raise DomainError(_("Some items are not part of this group buy."), field="quantities")
    already = ordered_quantities(member=member, schedule=schedule)
    problems = []
    for item_id in sorted(quantities):
        item, quantity = items[item_id], quantities[item_id]
        name = item.offer.product.localized_name
        if item.outcome != ItemOutcome.OPEN:
            problems.append(_("%(name)s can no longer be ordered") % {"name": name})
        elif already.get(item_id, 0) + quantity > item.per_member_limit:
            problems.append(
                _("%(name)s is limited to %(limit)s per member (you already have %(had)s)")
                % {"name": name, "limit": item.per_member_limit, "had": already.get(item_id, 0)}
            )
    if problems:
        raise DomainError("; ".join(problems) + ".", field="quantities")
    lines = [(items[item_id], quantities[item_id]) for item_id in sorted(quantities)]
    goods_total = sum((item.member_price * quantity for item, quantity in lines), ZERO)
    return lines, goods_total


def _check_receiving(
    schedule: Schedule, fulfilment: str, pickup_point: PickupPoint | None, address: str
) -> None:
    if fulfilment == Fulfilment.DELIVERY:
        if schedule.delivery_option != DeliveryOption.PICKUP_AND_DELIVERY:
            raise DomainError(_("This group buy offers pickup only."), field="fulfilment")
        if not address.strip():
            raise DomainError(_("Give the delivery address."), field="delivery_address")
    elif fulfilment == Fulfilment.PICKUP:
        if pickup_point is None or not schedule.pickup_points.filter(pk=pickup_point.pk).exists():
            raise DomainError(
                _("Choose one of this group buy's pickup points."), field="pickup_point"
            )
    else:
        raise DomainError(_("Choose pickup or home delivery."), field="fulfilment")


@transaction.atomic
def order_place(
    *,
    member: User,
    schedule: Schedule,
    quantities: dict,
    payment_method: str,
    fulfilment: str = Fulfilment.PICKUP,
    pickup_point: PickupPoint | None = None,
    delivery_address: str = "",
    note: str = "",
    expected_total: Decimal | None = None,
    now: datetime | None = None,
) -> Order:
    """Create the order and reserve its stock in one transaction.

    ``expected_total`` is the total the member saw; a different server total (a price
    changed meanwhile, or a tampered form) refuses the order.
    """
    now = now or timezone.now()
    schedule = Schedule.objects.select_related("community").get(pk=schedule.pk)
    # One order at a time per member and community, so per-member limits hold under races.
    membership = (
        Membership.objects.select_for_update()
        .filter(user=member, community_id=schedule.community_id)
        .first()
    )
    if membership is None:
        raise DomainError(_("Join this community to order."))
    if not schedule_is_open_for_orders(schedule, now=now):
        raise DomainError(_("This group buy is not taking orders (the cut-off has passed)."))
    if payment_method not in PaymentMethod.values:
        raise DomainError(_("Choose a payment method."), field="payment_method")
    if payment_method == PaymentMethod.AT_PICKUP and not schedule.allow_pay_at_pickup:
        raise DomainError(
            _("This group buy does not accept payment at pickup."), field="payment_method"
        )
    _check_receiving(schedule, fulfilment, pickup_point, delivery_address)
    lines, goods_total = order_lines_price(schedule=schedule, quantities=quantities, member=member)
    delivery_fee = schedule.delivery_fee if fulfilment == Fulfilment.DELIVERY else ZERO
    total = goods_total + delivery_fee
    if expected_total is not None and expected_total != total:
        raise DomainError(
            _("The total is now ¥%(total)s; check your order and confirm again.")
            % {"total": total},
            field="expected_total",
        )
    stock_reserve(quantities={item.pk: quantity for item, quantity in lines})
    order = Order.objects.create(
        member=member,
        community=schedule.community,
        schedule=schedule,
        fulfilment=fulfilment,
        pickup_point=pickup_point if fulfilment == Fulfilment.PICKUP else None,
        delivery_address=delivery_address.strip() if fulfilment == Fulfilment.DELIVERY else "",
        note=note.strip()[:200],
        payment_method=payment_method,
        goods_total=goods_total,
        delivery_fee=delivery_fee,
        total=total,
        payment_deadline=(
            payment_deadline_for(schedule, now=now)
            if payment_method == PaymentMethod.ONLINE
            else None
        ),
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            item=item,
            product_name=item.offer.product.name,
            spec=item.offer.product.spec,
            unit=item.offer.product.unit,
            unit_price=item.member_price,
            quantity=quantity,
            amount=item.member_price * quantity,
        )
        for item, quantity in lines
    )
    state_change_record(
        subject=order, transition="place", from_state="", to_state=order.status, actor=member
    )
    if payment_method == PaymentMethod.AT_PICKUP:
        pickup_code_assign(order)
        order.confirmed_at = now
        order_transition(order, "accept_pay_at_pickup", actor=member)
        tell_member(order, "order_confirmed", actor=member)
    return order


@transaction.atomic
def order_cancel(*, order: Order, actor: User, reason: str = "", now: datetime | None = None):
    """The member cancels before the cut-off; a paid order is refunded in full."""
    now = now or timezone.now()
    order = lock_order(order)
    if order.member_id != actor.pk:
        raise DomainError(_("Only the member who placed the order can cancel it."))
    if now >= order.schedule.cutoff:
        raise DomainError(_("The cut-off has passed; ask your leader instead."))
    if order.status not in (OrderStatus.PENDING_PAYMENT, OrderStatus.PAID, OrderStatus.CONFIRMED):
        raise DomainError(_("This order can no longer be cancelled."))
    order_end(
        order,
        transition="cancel",
        actor=actor,
        reason=reason.strip() or _("Cancelled by the member"),
        now=now,
    )
    tell_member(order, "order_cancelled", actor=actor, reason=order.cancel_reason)
    return order


def order_end(order: Order, *, transition: str, actor: User | None, reason: str, now: datetime):
    """Cancel or expire a locked order: release its stock, refund what was paid, close an
    unpaid payment at the provider after commit."""
    from .payments import payments_close_open_later
    from .refunds import refund_order_remainder

    stock_release(quantities=active_line_quantities(order))
    if transition == "cancel":
        order.cancelled_at = now
        order.cancel_reason = reason[:200]
    order_transition(order, transition, actor=actor, reason=reason)
    refund_order_remainder(order, reason=reason)
    payments_close_open_later(order)


def _has_payment_in_progress(order: Order) -> bool:
    return order.payments.filter(status__in=(PaymentStatus.CREATED, PaymentStatus.PENDING)).exists()


def order_expire_if_due(*, order_id: int, now: datetime | None = None, force: bool = False):
    """Expire one unpaid order whose window has passed. An order with a payment at the
    provider waits for the sweeper (which asks the provider first) unless ``force`` or
    the grace period has passed too. Returns True when it expired."""
    now = now or timezone.now()
    grace = timedelta(minutes=settings.ORDER_PAYMENT_GRACE_MINUTES)
    with transaction.atomic():
        order = (
            # of=self: pickup_point is a nullable (outer) join PostgreSQL cannot lock.
            Order.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                pk=order_id,
                status=OrderStatus.PENDING_PAYMENT,
                payment_deadline__lte=now,
            )
            .select_related("schedule", "community", "member", "pickup_point")
            .first()
        )
        if order is None:
            return False
        if not force and order.payment_deadline > now - grace and _has_payment_in_progress(order):
            return False
        order_end(order, transition="expire", actor=None, reason=_("Not paid in time"), now=now)
        return True


def orders_expire_overdue(*, orders, now: datetime | None = None) -> int:
    """Lazy expiry when a page reads orders: expires the overdue ones of ``orders``."""
    now = now or timezone.now()
    due = orders.filter(status=OrderStatus.PENDING_PAYMENT, payment_deadline__lte=now)
    return sum(order_expire_if_due(order_id=pk, now=now) for pk in due.values_list("pk", flat=True))


def schedule_orders_expire_overdue(*, schedule_id: int, now: datetime | None = None) -> int:
    return orders_expire_overdue(orders=Order.objects.filter(schedule_id=schedule_id), now=now)


def member_orders_expire_overdue(*, member: User, now: datetime | None = None) -> int:
    return orders_expire_overdue(orders=Order.objects.filter(member=member), now=now)


def orders_due_for_expiry(*, now: datetime | None = None):
    now = now or timezone.now()
    return Order.objects.filter(
        Q(status=OrderStatus.PENDING_PAYMENT) & Q(payment_deadline__lte=now)
    ).values_list("pk", flat=True)


def change_audience(*, schedule: Schedule, item: ScheduleItem | None = None):
    """Whom a change to a published schedule concerns: the members holding active orders
    (of the item, for an item change); None while nobody has ordered (everyone is told)."""
    live = Order.objects.filter(
        schedule=schedule,
        status__in=(OrderStatus.PENDING_PAYMENT, OrderStatus.PAID, OrderStatus.CONFIRMED),
    )
    if not live.exists():
        return None
    if item is not None:
        live = live.filter(lines__item=item, lines__status=LineStatus.ACTIVE)
    return User.objects.filter(pk__in=live.values("member_id"))
