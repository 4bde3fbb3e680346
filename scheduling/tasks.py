from celery import shared_task

from .services import schedules


@shared_task(name="scheduling.close_due_schedules", ignore_result=True)
def close_due_schedules() -> None:
    """Close published schedules whose cut-off has passed (idempotent, row-locked)."""
    schedules.schedules_close_due()
