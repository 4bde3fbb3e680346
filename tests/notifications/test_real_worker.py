"""The notification outbox on real infrastructure: PostgreSQL, Redis and Celery workers.

Nothing here is mocked. A worker is ``celery -A groupbuy worker`` in a subprocess on this
test's own database (``test_tuangou`` or ``test_tuangou_gwN`` under xdist) and a private
``redis-server`` started for this module, so parallel runs never share a queue. The
worker sends SMS through ``FileSmsBackend`` (tests/notifications/realinfra.py), which
records ``started`` and ``completed`` lines with the delivery's idempotency key, so the
test reads from outside the worker exactly which sends happened.

Data must be committed for the worker to see it: the tests use transactional
``django_db``. Every waiting loop is bounded; every process is stopped in ``finally``.
"""

import threading
import time

import pytest
from django.db import DatabaseError, connection, transaction

from accounts.models import Membership, User
from accounts.services import community_join
from notifications import services
from notifications.models import Channel, Delivery, DeliveryStatus, Notification
from notifications.services import deliveries_requeue_due, enqueue_deliveries, notify
from tests.factories import CommunityFactory, UserFactory
from tests.notifications.realinfra import (
    RedisServer,
    Worker,
    celery_publishing_to,
    notify_query_count,
    require_redis_server,
    sms_events,
    wait_for,
)

pytestmark = pytest.mark.postgres

WAIT = 30  # seconds, the most any single wait may take


@pytest.fixture(autouse=True)
def _no_sms_quiet_hours(settings):
    """SMS written at night would wait for the morning; these tests send at once."""
    settings.NOTIFICATIONS_SMS_QUIET_HOURS = (0, 0)


@pytest.fixture(autouse=True)
def _eager_outside_publishing_blocks(monkeypatch):
    """Set-up data (factories) sends its own notices in-process, whatever the caller's
    environment says; only ``celery_publishing_to`` blocks talk to a broker."""
    from groupbuy.celery import app

    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = saved


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    require_redis_server()
    server = RedisServer(directory=tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def broker_url(redis_server):
    """The module's private broker, emptied for each test."""
    client = redis_server.client()
    try:
        client.flushall()
    finally:
        client.close()
    return redis_server.url(0)


@pytest.fixture
def sms_file(tmp_path):
    return tmp_path / "sms.jsonl"


def _statuses(deliveries) -> list[str]:
    return list(
        Delivery.objects.filter(pk__in=[d.pk for d in deliveries])
        .order_by("pk")
        .values_list("status", flat=True)
    )


def _wait_status(deliveries, status: str, worker: Worker, sms_file):
    def done():
        worker.assert_alive()
        return set(_statuses(deliveries)) == {status}

    wait_for(
        done,
        timeout=WAIT,
        message=lambda: (
            f"deliveries {status}: {_statuses(deliveries)}; sms: {sms_events(sms_file)}; "
            f"worker log:\n{worker.log()[-3000:]}"
        ),
    )


def _tasks_succeeded(worker: Worker) -> int:
    return sum(
        1
        for line in worker.log().splitlines()
        if "notifications.send_deliveries[" in line and " succeeded " in line
    )


def _completed_keys(sms_file) -> list[str]:
    return [r["key"] for r in sms_events(sms_file, "completed")]


# 1 -------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_notify_goes_through_redis_and_a_real_worker_exactly_once(broker_url, sms_file, tmp_path):
    members = UserFactory.create_batch(4)
    with (
        celery_publishing_to(broker_url),
        Worker(
            broker_url=broker_url, sms_file=sms_file, log_path=tmp_path / "worker.log"
        ) as worker,
    ):
        broadcast = notify(
            recipients=User.objects.filter(pk__in=[u.pk for u in members]),
            kind="community_welcome",
            context={"community_name": "Garden Court"},
        )  # commits; on_commit publishes the sends to Redis
        deliveries = list(Delivery.objects.filter(broadcast=broadcast))
        assert len(deliveries) == len(members)
        assert {d.channel for d in deliveries} == {Channel.SMS}
        _wait_status(deliveries, DeliveryStatus.SENT, worker, sms_file)

        # A duplicate task (a re-queue racing the first one) sends nothing again.
        assert enqueue_deliveries([d.pk for d in deliveries]) == len(deliveries)
        wait_for(
            lambda: _tasks_succeeded(worker) >= 2,
            timeout=WAIT,
            message=lambda: f"the duplicate task to run; log:\n{worker.log()[-3000:]}",
        )

    keys = _completed_keys(sms_file)
    assert sorted(keys) == sorted(d.idempotency_key for d in deliveries)
    assert len(set(keys)) == len(keys)
    assert len(sms_events(sms_file, "started")) == len(deliveries)
    for delivery in Delivery.objects.filter(broadcast=broadcast):
        assert delivery.attempts == 1
        assert delivery.sent_at is not None
        assert delivery.provider_message_id == f"file-{delivery.idempotency_key}"
    assert Notification.objects.filter(broadcast=broadcast).count() == len(members)


# 2 -------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_redis_stopped_while_a_member_joins_delays_the_welcome_but_never_drops_it(
    sms_file, tmp_path, caplog
):
    require_redis_server()
    community = CommunityFactory()  # eager here: its own notices are sent in-process
    member = UserFactory()
    redis = RedisServer(directory=tmp_path / "redis")
    redis.start()
    try:
        url = redis.url(0)
        with celery_publishing_to(url):
            redis.stop()
            assert not redis.ping()

            started = time.monotonic()
            community_join(user=member, community=community)  # commits, publish fails
            elapsed = time.monotonic() - started
            assert elapsed < 5, f"the join waited {elapsed:.1f} s for the broker"
            assert "could not queue 1 deliveries; the sweeper will" in caplog.text

            assert Membership.objects.filter(user=member, community=community).exists()
            notification = Notification.objects.get(recipient=member, kind="community_welcome")
            delivery = Delivery.objects.get(notification=notification, channel=Channel.SMS)
            assert delivery.status == DeliveryStatus.QUEUED
            assert delivery.attempts == 0
            assert list(
                Delivery.objects.filter(status=DeliveryStatus.QUEUED).values_list("pk", flat=True)
            ) == [delivery.pk]

            redis.start()  # the same port: the app's broker URL is unchanged
            with Worker(
                broker_url=url, sms_file=sms_file, log_path=tmp_path / "worker.log"
            ) as worker:
                assert deliveries_requeue_due() == 1
                _wait_status([delivery], DeliveryStatus.SENT, worker, sms_file)
                assert deliveries_requeue_due() == 0
    finally:
        redis.close()

    assert _completed_keys(sms_file) == [delivery.idempotency_key]
    delivery.refresh_from_db()
    assert delivery.attempts == 1


# 3 -------------------------------------------------------------------------------------


def _row_unlocked(pk: int) -> bool:
    try:
        with transaction.atomic():
            Delivery.objects.select_for_update(nowait=True).get(pk=pk)
    except DatabaseError:
        return False
    return True


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_send_rolls_back_and_the_sweeper_sends_it_once(
    broker_url, sms_file, tmp_path
):
    member = UserFactory()
    with celery_publishing_to(broker_url):
        first = Worker(
            broker_url=broker_url,
            sms_file=sms_file,
            log_path=tmp_path / "worker-1.log",
            TEST_SMS_DELAY="10",  # killed long before it ends
        )
        first.start()
        try:
            broadcast = notify(
                recipients=[member], kind="community_welcome", context={"community_name": "X"}
            )
            delivery = Delivery.objects.get(broadcast=broadcast)
            wait_for(
                lambda: sms_events(sms_file, "started"),
                timeout=WAIT,
                message=lambda: f"the send to start; log:\n{first.log()[-3000:]}",
            )
            assert not _row_unlocked(delivery.pk), "the worker holds the row while sending"
            first.kill()
        finally:
            first.stop()
        assert first.process.returncode == -9

        # The killed transaction rolled back: still queued, no attempt counted, unlocked.
        wait_for(lambda: _row_unlocked(delivery.pk), timeout=WAIT, message="the row lock to go")
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.QUEUED
        assert delivery.attempts == 0
        assert _completed_keys(sms_file) == []

        with Worker(
            broker_url=broker_url, sms_file=sms_file, log_path=tmp_path / "worker-2.log"
        ) as second:
            assert deliveries_requeue_due() == 1
            _wait_status([delivery], DeliveryStatus.SENT, second, sms_file)

    started = [r["key"] for r in sms_events(sms_file, "started")]
    assert started == [delivery.idempotency_key] * 2  # the killed try and the one that went
    assert _completed_keys(sms_file) == [delivery.idempotency_key]
    delivery.refresh_from_db()
    assert delivery.attempts == 1


# 4 -------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_channel_failing_three_times_ends_failed_while_the_email_goes(
    broker_url, sms_file, tmp_path
):
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    member = UserFactory(email="member@example.com")
    with (
        celery_publishing_to(broker_url),
        Worker(
            broker_url=broker_url,
            sms_file=sms_file,
            log_path=tmp_path / "worker.log",
            TEST_SMS_FAIL="1",
            NOTIFICATIONS_RETRY_BASE_SECONDS="0",
            EMAIL_URL=f"filemail:///{mail_dir}",  # four slashes: an absolute path
        ) as worker,
    ):
        broadcast = notify(
            recipients=[member], kind="supplier_approved", context={"supplier_name": "Fresh Co"}
        )
        sms = Delivery.objects.get(broadcast=broadcast, channel=Channel.SMS)
        email = Delivery.objects.get(broadcast=broadcast, channel=Channel.EMAIL)
        _wait_status([email], DeliveryStatus.SENT, worker, sms_file)
        _wait_status([sms], DeliveryStatus.FAILED, worker, sms_file)

    sms.refresh_from_db()
    email.refresh_from_db()
    assert sms.attempts == 3
    assert sms.last_error.endswith(": test provider unavailable"), sms.last_error
    assert sms.sent_at is None
    assert [r["event"] for r in sms_events(sms_file)] == ["started", "failed"] * 3
    assert email.attempts == 1
    assert email.last_error == ""
    mails = [path.read_text() for path in mail_dir.iterdir()]
    assert len(mails) == 1
    assert "To: member@example.com" in mails[0]
    assert f"Message-ID: {email.provider_message_id}" in mails[0]
    assert email.idempotency_key in email.provider_message_id


# 5 -------------------------------------------------------------------------------------


def _bulk_members(count: int, prefix: str) -> list[User]:
    return User.objects.bulk_create(
        User(phone=f"+86{prefix}{n:08d}", display_name=f"m{n}") for n in range(count)
    )


@pytest.mark.django_db(transaction=True)
def test_two_sweepers_never_queue_the_same_delivery(monkeypatch):
    queued: list[tuple[str, list[int]]] = []
    lock = threading.Lock()

    def record(ids, *, countdown=None):
        with lock:
            queued.append((threading.current_thread().name, list(ids)))
        return len(ids)

    monkeypatch.setattr(services, "enqueue_deliveries", record)
    members = _bulk_members(3000, "135")
    broadcast = notify(
        recipients=User.objects.filter(pk__in=[u.pk for u in members]),
        kind="community_welcome",
        context={"community_name": "X"},
    )
    due = set(Delivery.objects.filter(broadcast=broadcast).values_list("pk", flat=True))
    assert len(due) == 3000
    queued.clear()

    errors: list[BaseException] = []
    holding = threading.Event()
    other_done = threading.Event()

    def holder():
        """Claims a batch and keeps its rows locked until the other sweeper has swept."""
        try:
            with transaction.atomic():
                assert deliveries_requeue_due(limit=500) == 500
                holding.set()
                assert other_done.wait(WAIT)
            while deliveries_requeue_due(limit=100):
                pass
        except BaseException as error:
            errors.append(error)
            holding.set()
        finally:
            connection.close()

    def sweeper():
        try:
            assert holding.wait(WAIT)
            assert deliveries_requeue_due(limit=500) == 500  # skips the locked 500
            other_done.set()
            while deliveries_requeue_due(limit=100):
                pass
        except BaseException as error:
            errors.append(error)
            other_done.set()
        finally:
            connection.close()

    threads = [
        threading.Thread(target=holder, name="sweeper-a"),
        threading.Thread(target=sweeper, name="sweeper-b"),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert not any(thread.is_alive() for thread in threads)
    assert not errors, errors

    first_a = next(ids for name, ids in queued if name == "sweeper-a")
    first_b = next(ids for name, ids in queued if name == "sweeper-b")
    assert not set(first_a) & set(first_b)
    all_ids = [pk for _name, ids in queued for pk in ids]
    assert len(all_ids) == len(set(all_ids)), "a delivery was queued twice"
    assert set(all_ids) == due
    assert {name for name, _ids in queued} == {"sweeper-a", "sweeper-b"}
    assert deliveries_requeue_due() == 0  # all leased


# 6 -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_notify_query_count_is_flat_on_postgresql():
    assert connection.vendor == "postgresql"
    large, small = CommunityFactory(), CommunityFactory()
    members = _bulk_members(5100, "134")
    Membership.objects.bulk_create(
        Membership(user=user, community=large if n < 5000 else small)
        for n, user in enumerate(members)
    )

    def members_of(community):
        return User.objects.filter(memberships__community=community)

    assert members_of(small).count() == 101  # the leader is a member too
    notify_query_count(members_of(small), small)  # warm caches (content types)
    count_100 = notify_query_count(members_of(small), small)
    count_5000 = notify_query_count(members_of(large), large)
    assert count_100 == count_5000, (count_100, count_5000)
    assert count_100 <= 12, count_100
    broadcast = notify(
        recipients=members_of(large),
        kind="community_announcement",
        community=large,
        context={"title": "t", "body": "b"},
    )
    assert broadcast.recipient_count == 5001  # the members and the leader
    assert Delivery.objects.filter(broadcast=broadcast, channel=Channel.SMS).count() == 5001
