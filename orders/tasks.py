"""Thin Celery tasks: take ids, call a service, safe to run twice."""

import contextlib

from celery import shared_task

from scheduling.services.schedules import schedules_close_due

from .providers.base import ProviderError
from .services import payments, refunds


@shared_task(name="orders.send_refund", ignore_result=True)
def send_refund(refund_id: int) -> None:
    refunds.refund_send(refund_id=refund_id)


@shared_task(name="orders.retry_due_refunds", ignore_result=True)
def retry_due_refunds() -> None:
    refunds.refunds_retry_due()


@shared_task(name="orders.close_payment", ignore_result=True)
def close_payment(payment_id: int) -> None:
    # A provider that does not answer is asked again by the expiry sweep.
    with contextlib.suppress(ProviderError):
        payments.payment_sync(payment_id=payment_id, close=True)


@shared_task(name="orders.expire_due_and_close_schedules", ignore_result=True)
def expire_due_and_close_schedules() -> None:
    """Expire unpaid orders (asking the provider first), then close schedules whose
    cut-off has passed, so unpaid orders never count towards a minimum group quantity."""
    payments.orders_sweep_due()
    schedules_close_due()
