"""Fan-out of one notice to a community of 10,000 members, on PostgreSQL, Redis and a
real Celery worker.

Run with `make bench` (DATABASE_URL pointing at PostgreSQL); not part of `make test`.
Prints how fast notify() writes the outbox (notifications + deliveries per second, and
its query count, which must not grow with the community), then how fast a real worker
sends the 10,000 SMS through Redis with the file SMS backend (no delay).
"""

import os
import time

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import Membership, User
from notifications.models import Delivery, DeliveryStatus, Notification
from notifications.services import notify
from tests.factories import CommunityFactory
from tests.notifications.realinfra import (
    RedisServer,
    Worker,
    celery_publishing_to,
    notify_query_count,
    require_redis_server,
    sms_events,
)

pytestmark = [pytest.mark.bench, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

RECIPIENTS = 10_000
SMALL = 100
SEND_WAIT_SECONDS = 300
# One solo worker was the fastest on the 2-core reference machine (PostgreSQL shares the
# cores); with more cores try BENCH_WORKER_POOL=prefork BENCH_WORKER_CONCURRENCY=4.
WORKER_POOL = os.environ.get("BENCH_WORKER_POOL", "solo")
WORKER_CONCURRENCY = int(os.environ.get("BENCH_WORKER_CONCURRENCY", "1"))


def _members_of(community):
    return User.objects.filter(memberships__community=community)


def test_bench_fanout_to_ten_thousand_members(settings, tmp_path):
    require_redis_server()
    settings.NOTIFICATIONS_SMS_QUIET_HOURS = (0, 0)  # send at once, whatever the hour

    # Both communities are approved in eager mode; their leaders' notices go in-process.
    community, small = CommunityFactory(), CommunityFactory()
    users = User.objects.bulk_create(
        User(phone=f"+86133{n:08d}", display_name=f"团员{n}")
        for n in range(RECIPIENTS - 1 + SMALL - 1)
    )
    Membership.objects.bulk_create(
        Membership(user=user, community=community if n < RECIPIENTS - 1 else small)
        for n, user in enumerate(users)
    )  # with the leaders: RECIPIENTS and SMALL members
    assert _members_of(community).count() == RECIPIENTS
    assert _members_of(small).count() == SMALL

    notify_query_count(_members_of(small), small)  # warm caches (content types)
    queries_small = notify_query_count(_members_of(small), small)

    sms_file = tmp_path / "sms.jsonl"
    redis = RedisServer(directory=tmp_path / "redis")
    redis.start()
    try:
        broker_url = redis.url(0)
        with celery_publishing_to(broker_url):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                with transaction.atomic():
                    broadcast = notify(
                        recipients=_members_of(community),
                        kind="community_announcement",
                        community=community,
                        context={"title": "团购到货", "body": "今天 16:00 后到 1 号楼大堂自提。"},
                    )
                    written = time.perf_counter()
                committed = time.perf_counter()  # commit, then on_commit queued the sends
            notify_queries = len(queries)
            notifications = Notification.objects.filter(broadcast=broadcast).count()
            deliveries = Delivery.objects.filter(broadcast=broadcast).count()
            assert notifications == RECIPIENTS
            assert deliveries == RECIPIENTS  # SMS only: every member has a phone
            queued_messages = redis.client().llen("celery")
            assert queued_messages == RECIPIENTS // 100  # chunks of QUEUE_CHUNK_SIZE

            worker = Worker(
                broker_url=broker_url,
                sms_file=sms_file,
                log_path=tmp_path / "worker.log",
                pool=WORKER_POOL,
                concurrency=WORKER_CONCURRENCY,
            )
            worker_started = time.perf_counter()
            worker.start()
            try:
                ready = time.perf_counter()
                sent = 0
                deadline = ready + SEND_WAIT_SECONDS
                while time.perf_counter() < deadline:
                    worker.assert_alive()
                    sent = Delivery.objects.filter(
                        broadcast=broadcast, status=DeliveryStatus.SENT
                    ).count()
                    if sent == deliveries:
                        break
                    time.sleep(0.25)
                done = time.perf_counter()
                assert sent == deliveries, (
                    f"{sent}/{deliveries} sent in {SEND_WAIT_SECONDS} s; log:\n"
                    f"{worker.log()[-3000:]}"
                )
            finally:
                worker.stop()
    finally:
        redis.close()

    keys = [r["key"] for r in sms_events(sms_file, "completed")]
    assert len(keys) == len(set(keys)) == deliveries, "every SMS exactly once"

    rows_written = 1 + notifications + deliveries  # the broadcast too
    write_seconds = committed - started
    send_seconds = done - ready
    sends_per_s = len(keys) / send_seconds
    print(
        f"\nBENCH fanout: recipients={RECIPIENTS} rows_written={rows_written} "
        f"write_s={write_seconds:.2f} (notify {written - started:.2f} + commit and queue "
        f"{committed - written:.2f}) write_rows_per_s={rows_written / write_seconds:.0f} "
        f"notify_queries={notify_queries} notify_queries_{SMALL}={queries_small} "
        f"sends={len(keys)} send_s={send_seconds:.1f} sends_per_s={sends_per_s:.0f} "
        f"worker={WORKER_POOL}x{WORKER_CONCURRENCY} worker_boot_s={ready - worker_started:.1f} "
        f"db={connection.vendor}"
    )
    assert notify_queries == queries_small, (notify_queries, queries_small)
