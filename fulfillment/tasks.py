"""Thin Celery tasks: take ids, call a service, safe to run twice."""

from celery import shared_task

from .services import pickup, purchasing


@shared_task(name="fulfillment.prepare_purchase_orders", ignore_result=True)
def prepare_purchase_orders() -> None:
    purchasing.schedules_prepare_purchase_orders()


@shared_task(name="fulfillment.auto_complete_orders", ignore_result=True)
def auto_complete_orders() -> None:
    pickup.orders_auto_complete()
