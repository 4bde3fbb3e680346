"""Refunds: decided inside the business transaction, sent to the provider after commit.

``refund_request`` writes a Refund row (requested) and books the amount on the order and
line, so the same money cannot be promised twice; ``refund_send`` talks to the provider
outside any transaction, idempotent by refund number, and retries with backoff until the
provider accepts or refuses for good (then the booking is undone and the leader told).
"""

import logging
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum
from django.db.models.functions import Round
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from groupbuy.exceptions import DomainError
from groupbuy.services import state_change_record
from notifications.services import notify

from ..models import (
    ZERO,
    Order,
    OrderLine,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from ..providers import get_provider
from ..providers.base import ProviderError
from .tell import tell_member

logger = logging.getLogger(__name__)

# Sent inside the transaction that records a refund as succeeded (later stages follow
# their own records, e.g. an after-sales request becomes "refunded").
refund_succeeded = Signal()

# The refund in hand is leased for this long, so a second sender skips it.
SEND_LEASE = timedelta(minutes=2)


def _refundable_on(payment: Payment) -> Decimal:
    booked = payment.refunds.exclude(status=RefundStatus.FAILED).aggregate(total=Sum("amount"))
    return payment.amount - (booked["total"] or ZERO)


def refund_request(
    *,
    order: Order,
    amount: Decimal,
    reason: str,
    line: OrderLine | None = None,
    payment: Payment | None = None,
    now: datetime | None = None,
) -> Refund | None:
    """Book a refund of ``amount`` in the caller's transaction; it is sent after commit.

    Without ``payment`` the order's succeeded payment is used; an order never paid online
    (pay at pickup, or not paid yet) has nothing to refund and returns None.
    """
    if amount <= 0:
        return None
    if payment is None:
        payment = (
            order.payments.select_for_update()
            .filter(status=PaymentStatus.SUCCEEDED)
            .order_by("succeeded_at", "pk")
            .first()
        )
        if payment is None:
            return None
        own_payment = True
    else:
        own_payment = order.paid_at is not None and payment.pk == _paying_payment_id(order)
    if amount > _refundable_on(payment):
        raise DomainError(_("This refund exceeds what was paid."))
    refund = Refund.objects.create(
        payment=payment,
        order=order,
        line=line,
        amount=amount,
        reason=reason[:200],
        booked_on_order=own_payment,
        next_attempt_at=now or timezone.now(),
    )
    if own_payment:
        # Money kept for the order: book it so it is never refunded twice.
        Order.objects.filter(pk=order.pk).update(
            refunded_total=Round(F("refunded_total") + amount, 2)
        )
        order.refunded_total += amount
        if line is not None:
            OrderLine.objects.filter(pk=line.pk).update(
                refunded_amount=Round(F("refunded_amount") + amount, 2)
            )
            line.refunded_amount += amount
    state_change_record(
        subject=refund,
        transition="request",
        from_state="",
        to_state=refund.status,
        reason=reason,
    )
    transaction.on_commit(lambda: refund_queue(refund.pk))
    return refund


def _paying_payment_id(order: Order) -> int | None:
    """The payment that pays the order; a late or second payment is returned whole."""
    return (
        order.payments.filter(status=PaymentStatus.SUCCEEDED)
        .order_by("succeeded_at", "pk")
        .values_list("pk", flat=True)
        .first()
    )


def refund_order_remainder(order: Order, *, reason: str) -> Refund | None:
    """Refund whatever of the order's payment is not refunded yet (order cancelled)."""
    if order.paid_at is None:
        return None
    return refund_request(order=order, amount=order.total - order.refunded_total, reason=reason)


def refund_line(line: OrderLine, *, reason: str) -> Refund | None:
    return refund_request(
        order=line.order, line=line, amount=line.amount - line.refunded_amount, reason=reason
    )


def refund_queue(refund_id: int) -> None:
    from ..tasks import send_refund

    try:
        send_refund.delay(refund_id)
    except Exception:  # broker down: the retry sweep sends it
        logger.warning("could not queue refund %s", refund_id, exc_info=True)


def _backoff(attempt: int) -> timedelta:
    return timedelta(seconds=settings.REFUND_RETRY_BASE_SECONDS * 2 ** max(attempt - 1, 0))


def refund_send(*, refund_id: int, now: datetime | None = None) -> str:
    """Send one requested refund to the provider. Call outside any transaction."""
    now = now or timezone.now()
    claimed = Refund.objects.filter(
        pk=refund_id, status=RefundStatus.REQUESTED, next_attempt_at__lte=now
    ).update(attempts=F("attempts") + 1, next_attempt_at=now + SEND_LEASE)
    if not claimed:
        return "not due"
    refund = Refund.objects.select_related("payment").get(pk=refund_id)
    provider = get_provider(refund.payment.provider)
    try:
        receipt = provider.refund(
            trade_number=refund.payment.trade_number,
            refund_number=refund.refund_number,
            amount=refund.amount,
            reason=refund.reason,
        )
    except ProviderError as error:
        gives_up = not error.retryable or refund.attempts >= settings.REFUND_MAX_ATTEMPTS
        if gives_up:
            refund_fail(refund_id=refund_id, error=str(error))
            return "failed"
        Refund.objects.filter(pk=refund_id, status=RefundStatus.REQUESTED).update(
            last_error=str(error)[:300], next_attempt_at=now + _backoff(refund.attempts)
        )
        return "retry"
    with transaction.atomic():
        refund = (
            Refund.objects.select_for_update(of=("self",)).select_related("order").get(pk=refund_id)
        )
        if refund.status != RefundStatus.REQUESTED:
            return refund.status
        refund.provider_reference = receipt.provider_reference[:64]
        refund.succeeded_at = timezone.now()
        refund.last_error = ""
        _refund_transition(refund, "succeed")
        refund_succeeded.send(sender=Refund, refund=refund)
        tell_member(refund.order, "order_refunded", amount=refund.amount, reason=refund.reason)
    return "succeeded"


def _refund_transition(refund: Refund, name: str, reason: str = "") -> None:
    from_state = refund.status
    getattr(refund, name)()
    refund.save()
    state_change_record(
        subject=refund,
        transition=name,
        from_state=from_state,
        to_state=refund.status,
        reason=reason,
    )


@transaction.atomic
def refund_fail(*, refund_id: int, error: str) -> None:
    """The provider refused for good: undo the booking and tell the member and leader."""
    refund = (
        Refund.objects.select_for_update(of=("self",))
        .select_related("order__community")
        .get(pk=refund_id)
    )
    if refund.status != RefundStatus.REQUESTED:
        return
    refund.last_error = error[:300]
    _refund_transition(refund, "fail", reason=error[:200])
    order = refund.order
    if refund.booked_on_order:
        Order.objects.filter(pk=order.pk).update(
            refunded_total=Round(F("refunded_total") - refund.amount, 2)
        )
        if refund.line_id:
            OrderLine.objects.filter(pk=refund.line_id).update(
                refunded_amount=Round(F("refunded_amount") - refund.amount, 2)
            )
    notify(
        recipients=[order.member, order.community.leader],
        kind="order_refund_failed",
        about=order,
        community=order.community,
        context={"number": order.number, "amount": str(refund.amount), "error": error[:200]},
    )


def refunds_retry_due(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    due = list(
        Refund.objects.filter(status=RefundStatus.REQUESTED, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:500]
    )
    for refund_id in due:
        refund_queue(refund_id)
    return len(due)
