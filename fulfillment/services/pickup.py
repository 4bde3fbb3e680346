"""The pickup notice, handing goods over against a pickup code, home delivery, and the
member's confirmation of receipt (or the automatic one N days after pickup)."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Community, User
from groupbuy.exceptions import DomainError
from notifications.models import Broadcast
from notifications.services import notify
from orders.models import ZERO, Fulfilment, LineStatus, Order, OrderStatus, PaymentMethod
from orders.services.ordering import lock_order, order_transition
from scheduling.models import Schedule

from ..models import PickupAttempt, PickupNotice

PICKUP_CODE_DIGITS = 8


def _check_leader(community: Community, actor: User) -> None:
    if not (actor.is_staff or community.leader_id == actor.pk):
        raise DomainError(_("Only the community's leader can do this."))


def pickup_notice_recipients(schedule: Schedule):
    return User.objects.filter(
        orders__schedule=schedule, orders__status=OrderStatus.READY_FOR_PICKUP
    ).distinct()


@transaction.atomic
def pickup_notice_send(
    *,
    schedule: Schedule,
    actor: User,
    window_start: datetime,
    window_end: datetime,
    place: str,
    notes: str = "",
    contact_phone: str = "",
) -> PickupNotice:
    """Tell every member with a ready order when and where to collect (or that delivery
    is coming); the notice's coverage is the broadcast's."""
    _check_leader(schedule.community, actor)
    place = (place or "").strip()
    if not place:
        raise DomainError(_("Say where members collect their goods."), field="place")
    if not window_start < window_end:
        raise DomainError(_("The pickup window must end after it starts."), field="window_end")
    recipients = pickup_notice_recipients(schedule)
    if not recipients.exists():
        raise DomainError(_("No order is ready for pickup yet: receive the goods first."))
    notice = PickupNotice.objects.create(
        schedule=schedule,
        window_start=window_start,
        window_end=window_end,
        place=place[:300],
        notes=(notes or "").strip()[:500],
        contact_phone=(contact_phone or "").strip()[:20],
        sent_by=actor,
    )
    start, end = timezone.localtime(window_start), timezone.localtime(window_end)
    notice.broadcast = notify(
        recipients=recipients,
        kind="pickup_notice",
        about=notice,
        community=schedule.community,
        sender=actor,
        context={
            "title": schedule.title,
            "window": f"{start:%m-%d %H:%M}–{end:%H:%M}",
            "place": notice.place,
            "notes": notice.notes,
            "contact_phone": notice.contact_phone,
        },
        link=reverse("orders:member_orders"),
    )
    notice.save(update_fields=["broadcast", "updated_at"])
    return notice


def pickup_notice_broadcast(notice: PickupNotice) -> Broadcast | None:
    return notice.broadcast


# Verification


def _failures(verifier: User, now: datetime) -> int:
    since = now - timedelta(minutes=settings.PICKUP_CODE_LOCK_MINUTES)
    return PickupAttempt.objects.filter(
        verifier=verifier, succeeded=False, created_at__gte=since
    ).count()


def pickup_code_lookup(
    *, verifier: User, community: Community, code: str, now: datetime | None = None
) -> Order:
    """The community's order waiting for pickup with this code. Wrong codes are counted;
    after PICKUP_CODE_MAX_FAILURES in PICKUP_CODE_LOCK_MINUTES the verifier must wait."""
    now = now or timezone.now()
    _check_leader(community, verifier)
    if _failures(verifier, now) >= settings.PICKUP_CODE_MAX_FAILURES:
        raise DomainError(
            _("Too many wrong codes. Wait %(minutes)s minutes, or search the member by name.")
            % {"minutes": settings.PICKUP_CODE_LOCK_MINUTES},
            field="code",
        )
    code = "".join((code or "").split())
    if not (code.isascii() and code.isdigit() and len(code) == PICKUP_CODE_DIGITS):
        raise DomainError(_("A pickup code has 8 digits."), field="code")
    order = (
        Order.objects.filter(community=community, pickup_code=code)
        .filter(status__in=(OrderStatus.CONFIRMED, OrderStatus.READY_FOR_PICKUP))
        .select_related("member", "pickup_point", "schedule")
        .first()
    )
    # Call outside a transaction (the views do): a refused code must stay counted.
    PickupAttempt.objects.create(verifier=verifier, community=community, succeeded=bool(order))
    if order is None:
        raise DomainError(_("No order waiting for pickup has this code."), field="code")
    if order.status == OrderStatus.CONFIRMED:
        raise DomainError(_("This order's goods have not been received yet."), field="code")
    return order


def amount_due_at_pickup(order: Order) -> Decimal:
    """What a pay-at-pickup member pays: the goods handed over plus any delivery fee."""
    if order.payment_method != PaymentMethod.AT_PICKUP or order.paid_at is not None:
        return ZERO
    goods = sum(
        (
            line.unit_price * line.units_to_hand_over
            for line in order.lines.filter(status=LineStatus.ACTIVE)
        ),
        ZERO,
    )
    return goods + order.delivery_fee


@transaction.atomic
def pickup_hand_over(
    *,
    order: Order,
    actor: User,
    line_ids=None,
    settled: bool = False,
    now: datetime | None = None,
) -> Order:
    """Hand over all (or the chosen) lines; the order is picked up once every line with
    goods is. A pay-at-pickup order needs the payment taken (``settled``) first."""
    now = now or timezone.now()
    order = lock_order(order)
    _check_leader(order.community, actor)
    if order.status != OrderStatus.READY_FOR_PICKUP:
        raise DomainError(_("This order is not waiting for pickup."))
    if amount_due_at_pickup(order) and not settled:
        raise DomainError(
            _("Take the payment of ¥%(amount)s first.") % {"amount": amount_due_at_pickup(order)},
            field="settled",
        )
    lines = order.lines.filter(status=LineStatus.ACTIVE, picked_up_at__isnull=True)
    if line_ids is not None:
        chosen = {int(pk) for pk in line_ids}
        if not chosen or chosen - set(lines.values_list("pk", flat=True)):
            raise DomainError(_("Choose lines of this order still to hand over."), field="lines")
        lines = lines.filter(pk__in=chosen)
    lines.update(picked_up_at=now)
    if order.payment_method == PaymentMethod.AT_PICKUP and order.paid_at is None:
        order.paid_at = now
        order.save(update_fields=["paid_at", "updated_at"])
    waiting = order.lines.filter(status=LineStatus.ACTIVE, picked_up_at__isnull=True)
    if not any(line.units_to_hand_over for line in waiting):
        order.picked_up_at = now
        order_transition(order, "pick_up", actor=actor)
    return order


@transaction.atomic
def order_out_for_delivery(*, order: Order, actor: User, now: datetime | None = None) -> Order:
    order = lock_order(order)
    _check_leader(order.community, actor)
    if order.fulfilment != Fulfilment.DELIVERY or order.status != OrderStatus.READY_FOR_PICKUP:
        raise DomainError(_("Only a home-delivery order that is ready can go out."))
    order.out_for_delivery_at = now or timezone.now()
    order.save(update_fields=["out_for_delivery_at", "updated_at"])
    return order


@transaction.atomic
def order_delivered(
    *, order: Order, actor: User, settled: bool = False, now: datetime | None = None
) -> Order:
    order = lock_order(order)
    if order.fulfilment != Fulfilment.DELIVERY or order.out_for_delivery_at is None:
        raise DomainError(_("Mark the order out for delivery first."))
    return pickup_hand_over(order=order, actor=actor, settled=settled, now=now)


# After pickup


@transaction.atomic
def order_confirm_receipt(*, order: Order, member: User, now: datetime | None = None) -> Order:
    order = lock_order(order)
    if order.member_id != member.pk:
        raise DomainError(_("This is not your order."))
    if order.status != OrderStatus.PICKED_UP:
        raise DomainError(_("Only an order you have collected can be confirmed."))
    order.completed_at = now or timezone.now()
    order_transition(order, "complete", actor=member)
    return order


def orders_auto_complete(*, now: datetime | None = None) -> int:
    """Beat: picked-up orders the member did not confirm complete N days after pickup."""
    now = now or timezone.now()
    due = Order.objects.filter(
        status=OrderStatus.PICKED_UP,
        picked_up_at__lte=now - timedelta(days=settings.ORDER_AUTO_COMPLETE_DAYS),
    ).values_list("pk", flat=True)
    done = 0
    for order_id in list(due[:1000]):
        with transaction.atomic():
            order = (
                Order.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(pk=order_id, status=OrderStatus.PICKED_UP)
                .first()
            )
            if order is None:
                continue
            order.completed_at = now
            order_transition(
                order, "complete", actor=None, reason=_("Completed automatically after pickup")
            )
            done += 1
    return done
