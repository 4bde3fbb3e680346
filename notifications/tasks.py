from celery import shared_task

from . import services


@shared_task(name="notifications.send_deliveries", ignore_result=True)
def send_deliveries(delivery_ids: list[int]) -> None:
    """Send a chunk of deliveries; each is sent at most once however often this runs."""
    for delivery_id in delivery_ids:
        services.delivery_send(delivery_id=delivery_id)


@shared_task(name="notifications.sweep_due_deliveries", ignore_result=True)
def sweep_due_deliveries() -> None:
    services.deliveries_requeue_due()
