from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

BEAT_HEARTBEAT_KEY = "groupbuy:beat-heartbeat"


@shared_task(name="groupbuy.tasks.beat_heartbeat", ignore_result=True)
def beat_heartbeat():
    """Beat runs this every minute so /healthz can tell whether beat and a worker are alive."""
    cache.set(BEAT_HEARTBEAT_KEY, timezone.now().isoformat(), timeout=None)
