"""The orders stage answers the scheduling stage's signals."""

from django.dispatch import receiver

from scheduling.services.schedules import (
    schedule_cancelled,
    schedule_change_audience,
    schedule_item_failed,
)

from .ordering import change_audience
from .review import item_failed_cancel_lines, schedule_cancelled_cancel_orders


@receiver(schedule_item_failed, dispatch_uid="orders.item_failed")
def _item_failed(sender, item, **kwargs):
    item_failed_cancel_lines(item=item)


@receiver(schedule_cancelled, dispatch_uid="orders.schedule_cancelled")
def _schedule_cancelled(sender, schedule, actor=None, reason="", **kwargs):
    schedule_cancelled_cancel_orders(schedule=schedule, actor=actor, reason=reason)


@receiver(schedule_change_audience, dispatch_uid="orders.change_audience")
def _change_audience(sender, schedule, item=None, **kwargs):
    return change_audience(schedule=schedule, item=item)
