"""Collecting money: start a payment at the provider, apply what the provider reports.

An order is paid only by the provider's verified notification or by the answer to our own
query, never by the member's browser coming back from the cashier. Applying a report is
idempotent and safe in any order; money reported taken for an order that can no longer
be served is refunded.
"""

import logging
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from groupbuy.exceptions import DomainError
from groupbuy.services import state_change_record
from notifications.services import absolute_url

from ..models import (
    LineStatus,
    Order,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentNotification,
    PaymentStatus,
)
from ..providers import get_provider
from ..providers.base import (
    CLOSED,
    FAILED,
    PAID,
    InvalidNotification,
    PaymentReport,
    ProviderError,
)
from .ordering import (
    active_line_quantities,
    lock_order,
    order_expire_if_due,
    order_transition,
    orders_due_for_expiry,
)
from .stock import stock_reserve
from .tell import tell_member

logger = logging.getLogger(__name__)

IN_PROGRESS = (PaymentStatus.CREATED, PaymentStatus.PENDING)


def _payment_transition(payment: Payment, name: str, *, reason: str = "") -> None:
    from_state = payment.status
    getattr(payment, name)()
    payment.save()
    state_change_record(
        subject=payment,
        transition=name,
        from_state=from_state,
        to_state=payment.status,
        reason=reason,
    )


def payment_start(*, order: Order, member: User, now: datetime | None = None) -> Payment:
    """Open (or reuse) a payment at the provider for an unpaid online order and return it
    with the cashier address. The provider is called outside any transaction."""
    now = now or timezone.now()
    with transaction.atomic():
        order = lock_order(order)
        if order.member_id != member.pk:
            raise DomainError(_("This is not your order."))
        if order.status != OrderStatus.PENDING_PAYMENT or not order.pays_online:
            raise DomainError(_("This order is not waiting for an online payment."))
        if order.payment_deadline <= now:
            raise DomainError(_("The payment window has closed."))
        payment = (
            order.payments.filter(status=PaymentStatus.PENDING, amount=order.total)
            .exclude(pay_url="")
            .first()
        )
        if payment is not None:
            return payment
        payment = Payment.objects.create(
            order=order, provider=settings.PAYMENT_PROVIDER, amount=order.total
        )
    provider = get_provider(payment.provider)
    try:
        checkout = provider.create_payment(
            trade_number=payment.trade_number,
            amount=payment.amount,
            description=_("Tuangou order %(number)s") % {"number": order.number},
            notify_url=absolute_url(reverse("orders:payment_notify", args=[payment.provider])),
            return_url=absolute_url(reverse("orders:member_order", args=[order.number])),
        )
    except ProviderError as error:
        logger.warning("payment %s could not start: %s", payment.trade_number, error)
        raise DomainError(_("The payment service is not available; try again shortly.")) from error
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        payment.pay_url = checkout.pay_url
        if payment.status == PaymentStatus.CREATED:
            _payment_transition(payment, "start")
        else:
            payment.save(update_fields=["pay_url", "updated_at"])
    return payment


def payment_notification_receive(*, provider_code: str, body: bytes, headers) -> str:
    """Verify, record and apply one notification. Raises InvalidNotification (answer 400)."""
    provider = get_provider(provider_code)
    try:
        report = provider.parse_notification(body=body, headers=headers)
    except InvalidNotification as error:
        PaymentNotification.objects.create(
            provider=provider_code, body=body.decode(errors="replace")[:5000], outcome=str(error)
        )
        raise
    text = body.decode(errors="replace")[:5000]
    try:
        with transaction.atomic():
            outcome = payment_report_apply(report=report, provider_code=provider_code)
    except InvalidNotification as error:
        PaymentNotification.objects.create(
            provider=provider_code,
            trade_number=report.trade_number[:40],
            body=text,
            verified=True,
            outcome=str(error)[:200],
        )
        raise
    PaymentNotification.objects.create(
        provider=provider_code,
        trade_number=report.trade_number[:40],
        body=text,
        verified=True,
        outcome=outcome[:200],
    )
    return outcome


def payment_report_apply(*, report: PaymentReport, provider_code: str) -> str:
    """Apply a verified report; returns what happened. Call inside a transaction."""
    payment = (
        Payment.objects.select_for_update()
        .filter(trade_number=report.trade_number, provider=provider_code)
        .first()
    )
    if payment is None:
        raise InvalidNotification("unknown trade number")
    if report.amount != payment.amount:
        logger.error(
            "payment %s: provider reports %s, we asked for %s",
            payment.trade_number,
            report.amount,
            payment.amount,
        )
        raise InvalidNotification("amount does not match the payment")
    if report.provider_reference and not payment.provider_reference:
        payment.provider_reference = report.provider_reference[:64]
    if report.outcome == PAID:
        if payment.status == PaymentStatus.SUCCEEDED:
            return "duplicate"
        payment.succeeded_at = report.settled_at or timezone.now()
        _payment_transition(payment, "succeed")
        return _order_paid(payment)
    if report.outcome == FAILED and payment.status in IN_PROGRESS:
        payment.failure_reason = _("The payment failed at the provider.")
        _payment_transition(payment, "fail")
        return "failed"
    if report.outcome == CLOSED and payment.status in (*IN_PROGRESS, PaymentStatus.FAILED):
        _payment_transition(payment, "close")
        return "closed"
    payment.save(update_fields=["provider_reference", "updated_at"])
    return "no change"


def _order_paid(payment: Payment) -> str:
    """Money arrived for the payment's order: mark it paid, reinstate it, or refund."""
    from .refunds import refund_request

    order = lock_order(payment.order_id)
    now = timezone.now()
    if order.status == OrderStatus.PENDING_PAYMENT:
        order.paid_at = payment.succeeded_at
        order_transition(order, "mark_paid", actor=None)
        tell_member(order, "order_paid")
        return "paid"
    if order.status == OrderStatus.EXPIRED and _reinstatable(order):
        try:
            with transaction.atomic():
                stock_reserve(quantities=active_line_quantities(order))
                order.paid_at = payment.succeeded_at
                order_transition(
                    order, "reinstate", actor=None, reason=_("Paid after the window closed")
                )
        except DomainError:
            pass
        else:
            tell_member(order, "order_paid")
            return "reinstated"
    if order.status in (OrderStatus.EXPIRED, OrderStatus.CANCELLED):
        reason = (
            _("Paid after the order expired and the items were gone")
            if order.status == OrderStatus.EXPIRED
            else _("Paid after the order was cancelled")
        )
    else:
        reason = _("Paid twice; the second payment is returned")
    refund_request(order=order, payment=payment, amount=payment.amount, reason=reason, now=now)
    return "refunded"


def _reinstatable(order: Order) -> bool:
    lines = order.lines.filter(status=LineStatus.ACTIVE).select_related("item")
    return order.schedule.status in ("published", "closed") and all(
        line.item.outcome != "failed" for line in lines
    )


def payments_close_open_later(order: Order) -> None:
    """After commit, close the order's unpaid payments at the provider so they cannot be
    paid any more (a payment that slipped through is handled as a late payment)."""
    if order.payment_method != PaymentMethod.ONLINE:
        return
    open_ids = list(order.payments.filter(status__in=IN_PROGRESS).values_list("pk", flat=True))
    for payment_id in open_ids:
        transaction.on_commit(lambda payment_id=payment_id: _queue_close(payment_id))


def _queue_close(payment_id: int) -> None:
    from ..tasks import close_payment

    try:
        close_payment.delay(payment_id)
    except Exception:  # broker down: the expiry sweeper asks the provider again
        logger.warning("could not queue closing payment %s", payment_id, exc_info=True)


def payment_sync(*, payment_id: int, close: bool = False) -> str:
    """Ask the provider where an unfinished payment stands (and close it if unpaid when
    ``close``), then apply the answer. Never inside a transaction."""
    payment = Payment.objects.get(pk=payment_id)
    if payment.status not in IN_PROGRESS:
        return "settled"
    provider = get_provider(payment.provider)
    try:
        if close:
            report = provider.close_payment(trade_number=payment.trade_number)
        else:
            report = provider.query_payment(trade_number=payment.trade_number)
    except ProviderError as error:
        if error.retryable:
            raise
        # The provider never saw it (it failed before the cashier opened): close ours.
        report = PaymentReport(
            trade_number=payment.trade_number, outcome=CLOSED, amount=payment.amount
        )
    with transaction.atomic():
        return payment_report_apply(report=report, provider_code=payment.provider)


def orders_sweep_due(*, now: datetime | None = None) -> int:
    """The periodic expiry: for each overdue unpaid order first ask the provider (a late
    payment is applied, an unpaid one closed), then expire what is still unpaid."""
    now = now or timezone.now()
    expired = 0
    for order_id in list(orders_due_for_expiry(now=now)[:500]):
        provider_answered = True
        for payment_id in Payment.objects.filter(
            order_id=order_id, status__in=IN_PROGRESS
        ).values_list("pk", flat=True):
            try:
                payment_sync(payment_id=payment_id, close=True)
            except ProviderError:
                logger.warning("provider did not answer for payment %s", payment_id)
                provider_answered = False
        expired += order_expire_if_due(order_id=order_id, now=now, force=provider_answered)
    return expired
