from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from . import services


@shared_task(name="notifications.send_deliveries", ignore_result=True)
def send_deliveries(delivery_ids: list[int]) -> None:
    """Send a chunk of deliveries; each is sent at most once however often this runs.

    A slow provider may make a chunk outlast the task's soft time limit: the delivery in
    hand rolls back and it and the rest of the chunk go back on the queue.
    """
    for index, delivery_id in enumerate(delivery_ids):
        try:
            services.delivery_send(delivery_id=delivery_id)
        except SoftTimeLimitExceeded:
            services.enqueue_deliveries(delivery_ids[index:])
            return


@shared_task(name="notifications.sweep_due_deliveries", ignore_result=True)
def sweep_due_deliveries() -> None:
    services.deliveries_requeue_due()
