"""The gateway's side: what a real provider does on its own servers.

The merchant-facing client (``provider.py``) calls these functions in-process, as a real
client would call the provider's API; notifications to the merchant go over HTTP.
"""

import json
import logging
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from orders.providers.base import CLOSED, FAILED, OPEN, PAID, PaymentReport, ProviderError

from .models import Charge, ChargeRefund, ChargeStatus

logger = logging.getLogger(__name__)

NOTIFY_BACKOFF_SECONDS = (5, 15, 60, 300, 900, 1800, 3600)

_OUTCOMES = {
    ChargeStatus.OPEN: OPEN,
    ChargeStatus.PAID: PAID,
    ChargeStatus.FAILED: FAILED,
    ChargeStatus.CLOSED: CLOSED,
}


def report_of(charge: Charge) -> PaymentReport:
    return PaymentReport(
        trade_number=charge.trade_number,
        outcome=_OUTCOMES[charge.status],
        amount=charge.amount,
        provider_reference=charge.reference,
        settled_at=charge.settled_at,
    )


def charge_open(
    *, trade_number: str, amount: Decimal, description: str, notify_url: str, return_url: str
) -> Charge:
    """Idempotent by trade number, like the real APIs (the same order number twice)."""
    if amount <= 0:
        raise ProviderError("amount must be positive", retryable=False)
    charge, created = Charge.objects.get_or_create(
        trade_number=trade_number,
        defaults={
            "amount": amount,
            "description": description[:200],
            "notify_url": notify_url,
            "return_url": return_url,
        },
    )
    if not created and charge.amount != amount:
        raise ProviderError("trade number reused with another amount", retryable=False)
    return charge


def notification_body(charge: Charge) -> bytes:
    return json.dumps(
        {
            "trade_number": charge.trade_number,
            "reference": charge.reference,
            "status": _OUTCOMES[charge.status],
            "amount": str(charge.amount),
            "settled_at": charge.settled_at.isoformat() if charge.settled_at else None,
        },
        separators=(",", ":"),
    ).encode()


def _queue_notification(charge_id: int) -> None:
    from .tasks import send_notification

    try:
        send_notification.delay(charge_id)
    except Exception:  # broker down: the resend sweep picks it up
        logger.warning("could not queue sandbox notification %s", charge_id, exc_info=True)


@transaction.atomic
def charge_settle(*, token: str, paid: bool) -> Charge:
    """The payer tapped Pay or Fail on the cashier page."""
    charge = Charge.objects.select_for_update().get(token=token)
    if charge.status != ChargeStatus.OPEN:
        return charge
    charge.status = ChargeStatus.PAID if paid else ChargeStatus.FAILED
    charge.settled_at = timezone.now()
    charge.next_notify_at = charge.settled_at
    charge.save()
    transaction.on_commit(lambda: _queue_notification(charge.pk))
    return charge


def charge_query(*, trade_number: str) -> PaymentReport:
    charge = Charge.objects.filter(trade_number=trade_number).first()
    if charge is None:
        raise ProviderError("no such trade", retryable=False)
    return report_of(charge)


@transaction.atomic
def charge_close(*, trade_number: str) -> PaymentReport:
    charge = Charge.objects.select_for_update().filter(trade_number=trade_number).first()
    if charge is None:
        raise ProviderError("no such trade", retryable=False)
    if charge.status in (ChargeStatus.OPEN, ChargeStatus.FAILED):
        charge.status = ChargeStatus.CLOSED
        charge.save(update_fields=["status"])
    return report_of(charge)


@transaction.atomic
def charge_refund(
    *, trade_number: str, refund_number: str, amount: Decimal, reason: str
) -> ChargeRefund:
    """Idempotent by refund number; never refunds more than was paid."""
    # The charge's lock serialises refunds of one trade, so the same refund number sent
    # twice at once is found by the second request, not inserted twice.
    charge = Charge.objects.select_for_update().filter(trade_number=trade_number).first()
    existing = ChargeRefund.objects.filter(refund_number=refund_number).first()
    if existing is not None:
        if existing.charge_id != getattr(charge, "pk", None) or existing.amount != amount:
            raise ProviderError("refund number reused differently", retryable=False)
        return existing
    if charge is None:
        raise ProviderError("no such trade", retryable=False)
    if charge.status != ChargeStatus.PAID:
        raise ProviderError("the trade is not paid", retryable=False)
    if amount <= 0 or charge.refunded + amount > charge.amount:
        raise ProviderError("refund exceeds the amount paid", retryable=False)
    return ChargeRefund.objects.create(
        charge=charge, refund_number=refund_number, amount=amount, reason=reason[:200]
    )


def notification_delivered(*, charge_id: int) -> None:
    Charge.objects.filter(pk=charge_id).update(
        notified_at=timezone.now(), next_notify_at=None, last_notify_error=""
    )


def notification_failed(*, charge_id: int, error: str) -> None:
    charge = Charge.objects.get(pk=charge_id)
    attempt = charge.notify_attempts
    if attempt >= len(NOTIFY_BACKOFF_SECONDS):
        next_at = None  # given up, as real gateways do after about a day
    else:
        next_at = timezone.now() + timedelta(seconds=NOTIFY_BACKOFF_SECONDS[attempt])
    Charge.objects.filter(pk=charge_id).update(
        notify_attempts=attempt + 1, next_notify_at=next_at, last_notify_error=error[:300]
    )


def notifications_resend_due() -> int:
    due = Charge.objects.filter(
        notified_at__isnull=True, next_notify_at__lte=timezone.now()
    ).values_list("pk", flat=True)[:500]
    due = list(due)
    for charge_id in due:
        _queue_notification(charge_id)
    return len(due)
