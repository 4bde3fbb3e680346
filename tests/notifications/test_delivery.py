"""delivery_send and the sweeper: channels made to fail, retries with backoff, the end
state after the last attempt, idempotent sends, and re-queueing of due deliveries."""

import smtplib
from datetime import datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings

from accounts.models import User
from notifications import services, tasks
from notifications.models import Channel, Delivery, DeliveryStatus
from notifications.services import ChannelError, deliveries_requeue_due, delivery_send, notify
from notifications.sms import LocmemSmsBackend, SmsSendError
from notifications.wechat import WeChatRobotError
from tests.factories import CommunityFactory, UserFactory

from .fakes import FakeWeChatRobot

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOON = datetime(2025, 3, 15, 12, 0, tzinfo=SHANGHAI)
WEBHOOK = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=test-key"


class ScriptedSmsBackend(LocmemSmsBackend):
    """The locmem backend, except that it first raises the exceptions in ``script``."""

    script: list[Exception] = []
    calls = 0

    def send(self, message):
        ScriptedSmsBackend.calls += 1
        if ScriptedSmsBackend.script:
            raise ScriptedSmsBackend.script.pop(0)
        return super().send(message)


@pytest.fixture
def sms_script(settings):
    settings.SMS_BACKEND = f"{__name__}.ScriptedSmsBackend"
    ScriptedSmsBackend.script = []
    ScriptedSmsBackend.calls = 0
    yield ScriptedSmsBackend.script
    ScriptedSmsBackend.script = []


class Clock:
    def __init__(self, now):
        self.now = now

    def advance(self, **delta):
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock():
    clock = Clock(NOON)
    with mock.patch("django.utils.timezone.now", side_effect=lambda: clock.now):
        yield clock


@pytest.fixture
def recipient(db):
    return UserFactory(email="member@example.com", preferred_language="en")


@pytest.fixture
def broadcast(clock, recipient):
    return notify(
        recipients=[recipient],
        kind="supplier_approved",
        context={"supplier_name": "绿叶农场"},
        link="/supplier/",
    )


def _delivery(broadcast, channel) -> Delivery:
    return Delivery.objects.get(broadcast=broadcast, channel=channel)


def _reload(delivery) -> Delivery:
    return Delivery.objects.get(pk=delivery.pk)


# Success and idempotency


def test_sms_is_sent_once_with_provider_id(broadcast, recipient, sms_outbox, clock):
    sms = _delivery(broadcast, Channel.SMS)
    clock.advance(seconds=5)

    assert delivery_send(delivery_id=sms.pk) == "sent"

    sms = _reload(sms)
    assert sms.status == DeliveryStatus.SENT
    assert sms.attempts == 1
    assert sms.provider_message_id == "locmem-1"
    assert sms.sent_at == clock.now
    assert sms.last_error == ""
    assert len(sms_outbox) == 1
    message = sms_outbox[0]
    assert message.phone == recipient.phone
    assert message.template == "supplier_approved"
    assert message.idempotency_key == f"delivery-{sms.pk}"
    link = settings.SITE_URL.rstrip("/") + "/supplier/"
    assert message.text == f"Your supplier registration is approved {link}"
    assert message.params == {"title": "Your supplier registration is approved"[:30], "link": link}


def test_sending_a_sent_delivery_again_is_skipped(broadcast, sms_outbox):
    sms = _delivery(broadcast, Channel.SMS)
    delivery_send(delivery_id=sms.pk)

    assert delivery_send(delivery_id=sms.pk) == "skipped"
    assert tasks.send_deliveries.run([sms.pk, sms.pk]) is None

    assert len(sms_outbox) == 1
    assert _reload(sms).attempts == 1


def test_unknown_delivery_is_skipped(db):
    assert delivery_send(delivery_id=987654) == "skipped"


def test_email_is_sent_with_a_stable_message_id(broadcast, mailoutbox):
    email = _delivery(broadcast, Channel.EMAIL)

    assert delivery_send(delivery_id=email.pk) == "sent"

    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["member@example.com"]
    assert mail.subject == "Your supplier registration is approved"
    assert mail.body.endswith(settings.SITE_URL.rstrip("/") + "/supplier/")
    email = _reload(email)
    assert email.status == DeliveryStatus.SENT
    assert email.provider_message_id == mail.extra_headers["Message-ID"]
    assert f"delivery-{email.pk}" in email.provider_message_id


# Retries


def test_retryable_failures_back_off_then_fail_while_email_still_goes(
    broadcast, sms_script, sms_outbox, mailoutbox, clock
):
    sms_script.extend(SmsSendError(f"gateway busy {n}", retryable=True) for n in (1, 2, 3))
    sms = _delivery(broadcast, Channel.SMS)

    assert delivery_send(delivery_id=sms.pk) == "retry"
    sms = _reload(sms)
    assert (sms.status, sms.attempts) == (DeliveryStatus.QUEUED, 1)
    assert sms.next_attempt_at == clock.now + timedelta(seconds=30)
    assert sms.last_error == "ChannelError: gateway busy 1"

    clock.advance(seconds=30)
    assert delivery_send(delivery_id=sms.pk) == "retry"
    sms = _reload(sms)
    assert (sms.status, sms.attempts) == (DeliveryStatus.QUEUED, 2)
    assert sms.next_attempt_at == clock.now + timedelta(seconds=60)
    assert sms.last_error == "ChannelError: gateway busy 2"

    clock.advance(seconds=60)
    assert delivery_send(delivery_id=sms.pk) == "failed"
    sms = _reload(sms)
    assert (sms.status, sms.attempts) == (DeliveryStatus.FAILED, 3)
    assert sms.last_error == "ChannelError: gateway busy 3"
    assert sms.sent_at is None
    assert sms.provider_message_id == ""
    assert ScriptedSmsBackend.calls == 3
    assert sms_outbox == []

    # Failed is final: nothing more is tried.
    assert delivery_send(delivery_id=sms.pk) == "skipped"
    assert ScriptedSmsBackend.calls == 3

    # The other channel of the same notification is not held back.
    email = _delivery(broadcast, Channel.EMAIL)
    assert delivery_send(delivery_id=email.pk) == "sent"
    assert len(mailoutbox) == 1
    assert _reload(email).status == DeliveryStatus.SENT


def test_a_retry_is_queued_again_with_the_backoff_as_countdown(
    broadcast, sms_script, django_capture_on_commit_callbacks
):
    sms_script.append(SmsSendError("timeout", retryable=True))
    sms = _delivery(broadcast, Channel.SMS)

    with django_capture_on_commit_callbacks() as callbacks:
        delivery_send(delivery_id=sms.pk)

    assert len(callbacks) == 1
    with mock.patch.object(services, "enqueue_deliveries") as enqueue:
        callbacks[0]()
    enqueue.assert_called_once_with([sms.pk], countdown=30.0)


def test_success_after_a_retry_clears_the_error(broadcast, sms_script, sms_outbox, clock):
    sms_script.append(SmsSendError("timeout", retryable=True))
    sms = _delivery(broadcast, Channel.SMS)

    assert delivery_send(delivery_id=sms.pk) == "retry"
    clock.advance(seconds=30)
    assert delivery_send(delivery_id=sms.pk) == "sent"

    sms = _reload(sms)
    assert (sms.status, sms.attempts, sms.last_error) == (DeliveryStatus.SENT, 2, "")
    assert len(sms_outbox) == 1


def test_backoff_and_attempts_follow_the_settings(broadcast, sms_script, settings, clock):
    settings.NOTIFICATIONS_RETRY_BASE_SECONDS = 10
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 4
    sms_script.extend(SmsSendError("busy", retryable=True) for _ in range(4))
    sms = _delivery(broadcast, Channel.SMS)

    delays = []
    for _ in range(3):
        assert delivery_send(delivery_id=sms.pk) == "retry"
        delays.append(_reload(sms).next_attempt_at - clock.now)
    assert delivery_send(delivery_id=sms.pk) == "failed"

    assert delays == [timedelta(seconds=10), timedelta(seconds=20), timedelta(seconds=40)]
    assert _reload(sms).attempts == 4


def test_non_retryable_error_fails_at_the_first_attempt(
    broadcast, sms_script, mailoutbox, django_capture_on_commit_callbacks
):
    sms_script.append(SmsSendError("isv.MOBILE_NUMBER_ILLEGAL", retryable=False))
    sms = _delivery(broadcast, Channel.SMS)

    with django_capture_on_commit_callbacks() as callbacks:
        assert delivery_send(delivery_id=sms.pk) == "failed"

    assert callbacks == []  # not queued again
    sms = _reload(sms)
    assert (sms.status, sms.attempts) == (DeliveryStatus.FAILED, 1)
    assert "MOBILE_NUMBER_ILLEGAL" in sms.last_error
    assert delivery_send(delivery_id=_delivery(broadcast, Channel.EMAIL).pk) == "sent"
    assert len(mailoutbox) == 1


def test_unexpected_exception_counts_as_a_retryable_attempt(broadcast, sms_script, clock):
    sms_script.extend([RuntimeError("bug in a backend"), KeyError("x"), ValueError("y")])
    sms = _delivery(broadcast, Channel.SMS)

    assert delivery_send(delivery_id=sms.pk) == "retry"
    sms = _reload(sms)
    assert sms.last_error == "RuntimeError: bug in a backend"
    assert sms.next_attempt_at == clock.now + timedelta(seconds=30)
    assert delivery_send(delivery_id=sms.pk) == "retry"
    assert delivery_send(delivery_id=sms.pk) == "failed"
    sms = _reload(sms)
    assert (sms.status, sms.attempts) == (DeliveryStatus.FAILED, 3)
    assert sms.last_error == "ValueError: y"


def test_channel_error_raised_by_the_channel_layer(broadcast, clock):
    sms = _delivery(broadcast, Channel.SMS)

    with mock.patch.object(
        services,
        "_send_over_channel",
        side_effect=[ChannelError("down"), ChannelError("bad", retryable=False)],
    ):
        assert delivery_send(delivery_id=sms.pk) == "retry"
        assert delivery_send(delivery_id=sms.pk) == "failed"

    sms = _reload(sms)
    assert (sms.status, sms.attempts, sms.last_error) == (
        DeliveryStatus.FAILED,
        2,
        "ChannelError: bad",
    )


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (smtplib.SMTPRecipientsRefused({"member@example.com": (550, b"no such user")}), "failed"),
        (smtplib.SMTPServerDisconnected("connection lost"), "retry"),
        (ConnectionRefusedError("smtp down"), "retry"),
    ],
    ids=["refused-recipient", "disconnected", "connection-refused"],
)
def test_email_errors(broadcast, error, outcome):
    email = _delivery(broadcast, Channel.EMAIL)

    with mock.patch("django.core.mail.EmailMessage.send", side_effect=error):
        assert delivery_send(delivery_id=email.pk) == outcome

    email = _reload(email)
    assert email.attempts == 1
    assert email.last_error
    expected = DeliveryStatus.FAILED if outcome == "failed" else DeliveryStatus.QUEUED
    assert email.status == expected


# WeChat Work group robot


@pytest.fixture
def announcement(clock):
    community = CommunityFactory()
    community.wechat_robot_webhook = WEBHOOK
    community.save(update_fields=["wechat_robot_webhook"])
    return notify(
        recipients=User.objects.filter(memberships__community=community),
        kind="community_announcement",
        community=community,
        about=community,
        context={"title": "明天停水", "body": "明天 9 点到 12 点停水。"},
        link="/m/inbox/",
    )


def test_robot_delivery_ends_delivered(announcement):
    robot = _delivery(announcement, Channel.WECHAT_ROBOT)

    with mock.patch("notifications.wechat.robot_post", return_value="wechat-1") as post:
        assert delivery_send(delivery_id=robot.pk) == "sent"

    post.assert_called_once_with(
        webhook_url=WEBHOOK,
        title="明天停水",
        body="明天 9 点到 12 点停水。",
        link=settings.SITE_URL.rstrip("/") + "/m/inbox/",
    )
    robot = _reload(robot)
    assert robot.status == DeliveryStatus.DELIVERED
    assert robot.provider_message_id == "wechat-1"
    assert robot.sent_at is not None


@pytest.mark.parametrize(
    ("error", "outcome", "status"),
    [
        (WeChatRobotError("errcode 45009", retryable=True), "retry", DeliveryStatus.QUEUED),
        (WeChatRobotError("errcode 93000", retryable=False), "failed", DeliveryStatus.FAILED),
    ],
    ids=["rate-limited", "bad-key"],
)
def test_robot_errors(announcement, error, outcome, status):
    robot = _delivery(announcement, Channel.WECHAT_ROBOT)

    with mock.patch("notifications.wechat.robot_post", side_effect=error):
        assert delivery_send(delivery_id=robot.pk) == outcome

    assert _reload(robot).status == status


def test_robot_delivery_through_a_fake_robot(announcement):
    robot = _delivery(announcement, Channel.WECHAT_ROBOT)
    with FakeWeChatRobot() as fake:
        Delivery.objects.filter(pk=robot.pk).update(address=fake.url)

        assert delivery_send(delivery_id=robot.pk) == "sent"

    assert _reload(robot).status == DeliveryStatus.DELIVERED
    assert len(fake.posts) == 1
    content = fake.posts[0]["markdown"]["content"]
    assert content.startswith("**明天停水**\n明天 9 点到 12 点停水。")


# The sweeper


def _status(delivery):
    return _reload(delivery).status


def test_sweeper_requeues_due_deliveries_and_pushes_them_by_a_lease(
    clock, recipient, django_capture_on_commit_callbacks
):
    day = notify(recipients=[recipient], kind="supplier_approved", context={"supplier_name": "y"})
    sent_sms = _delivery(day, Channel.SMS)
    day_email = _delivery(day, Channel.EMAIL)
    delivery_send(delivery_id=sent_sms.pk)
    clock.now = clock.now.replace(hour=23, minute=30)
    night = notify(recipients=[recipient], kind="supplier_approved", context={"supplier_name": "x"})
    held_sms = _delivery(night, Channel.SMS)  # due at 08:00 tomorrow
    night_email = _delivery(night, Channel.EMAIL)  # due now
    clock.advance(minutes=1)

    with django_capture_on_commit_callbacks() as callbacks:
        assert deliveries_requeue_due() == 2

    lease = timedelta(seconds=settings.NOTIFICATIONS_REQUEUE_LEASE_SECONDS)
    assert _reload(day_email).next_attempt_at == clock.now + lease
    assert _reload(night_email).next_attempt_at == clock.now + lease
    assert _reload(held_sms).next_attempt_at == held_sms.next_attempt_at
    assert _reload(sent_sms).next_attempt_at == sent_sms.next_attempt_at
    assert len(callbacks) == 1
    with mock.patch.object(services, "enqueue_deliveries") as enqueue:
        callbacks[0]()
    (queued,), _kwargs = enqueue.call_args
    assert sorted(queued) == sorted([day_email.pk, night_email.pk])

    # Within the lease the same rows are not queued twice.
    clock.advance(seconds=settings.NOTIFICATIONS_REQUEUE_LEASE_SECONDS - 1)
    assert deliveries_requeue_due() == 0
    # A lost task: after the lease they are queued again.
    clock.advance(seconds=1)
    assert deliveries_requeue_due() == 2


def test_sweeper_picks_up_held_sms_in_the_morning(clock, recipient, sms_outbox):
    clock.now = clock.now.replace(hour=23, minute=30)
    night = notify(
        recipients=[recipient], kind="community_welcome", context={"community_name": "x"}
    )
    sms = _delivery(night, Channel.SMS)
    assert deliveries_requeue_due() == 0

    clock.now = datetime(2025, 3, 16, 8, 0, tzinfo=SHANGHAI)
    with mock.patch.object(
        tasks.send_deliveries,
        "apply_async",
        side_effect=lambda args, countdown=None: tasks.send_deliveries.run(*args),
    ):
        assert deliveries_requeue_due() == 1
        # Tests run inside a transaction, so run the commit hook by hand.
        services.enqueue_deliveries([sms.pk])

    assert _status(sms) == DeliveryStatus.SENT
    assert len(sms_outbox) == 1


def test_sweeper_ignores_failed_and_retry_deliveries_not_yet_due(broadcast, sms_script, clock):
    sms_script.append(SmsSendError("busy", retryable=True))
    sms = _delivery(broadcast, Channel.SMS)
    email = _delivery(broadcast, Channel.EMAIL)
    delivery_send(delivery_id=sms.pk)  # retry in 30 s
    with mock.patch(
        "django.core.mail.EmailMessage.send", side_effect=smtplib.SMTPRecipientsRefused({})
    ):
        delivery_send(delivery_id=email.pk)  # failed
    clock.advance(seconds=10)

    assert deliveries_requeue_due() == 0

    clock.advance(seconds=20)
    assert deliveries_requeue_due() == 1
    assert _status(email) == DeliveryStatus.FAILED


def test_sweeper_respects_its_limit(clock):
    users = UserFactory.create_batch(5)
    notify(recipients=users, kind="community_welcome", context={"community_name": "x"})

    assert deliveries_requeue_due(limit=3) == 3
    assert deliveries_requeue_due(limit=3) == 2
    assert deliveries_requeue_due(limit=3) == 0


def test_sweep_task_calls_the_sweeper(db):
    with mock.patch.object(services, "deliveries_requeue_due", return_value=0) as sweep:
        tasks.sweep_due_deliveries.run()
    sweep.assert_called_once_with()


def test_send_task_sends_each_delivery(broadcast, sms_outbox, mailoutbox):
    ids = list(Delivery.objects.filter(broadcast=broadcast).values_list("pk", flat=True))

    tasks.send_deliveries.run(ids)

    assert len(sms_outbox) == 1
    assert len(mailoutbox) == 1
    statuses = Delivery.objects.filter(broadcast=broadcast).values_list("status", flat=True)
    assert set(statuses) == {DeliveryStatus.SENT}
