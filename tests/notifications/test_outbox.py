"""notify(): the outbox rows one event writes, in the caller's transaction.

One Broadcast, one Notification per active recipient (rendered in the recipient's
language), one Delivery per extra channel (kind default or the member's preference,
SMS held back in quiet hours), one group-robot Delivery for community-wide notices.
After commit the due deliveries are queued; a rollback writes and queues nothing.
Also the recipients' and senders' follow-up actions: acknowledge, read, remind.
"""

from contextlib import contextmanager
from datetime import datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from accounts.models import User
from groupbuy.exceptions import DomainError
from notifications import services
from notifications.models import (
    Acknowledgement,
    Broadcast,
    Channel,
    Delivery,
    DeliveryStatus,
    Notification,
    NotificationPreference,
)
from notifications.services import notify
from tests.factories import CommunityFactory, UserFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEBHOOK = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=test-key"


def shanghai(hour, minute=0, *, day=15):
    return datetime(2025, 3, day, hour, minute, tzinfo=SHANGHAI)


@contextmanager
def frozen(moment):
    """notify() and the model defaults see ``moment`` as now."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def _supplier_approved(recipients, **extra):
    return notify(
        recipients=recipients,
        kind="supplier_approved",
        context={"supplier_name": "绿叶农场"},
        link="/supplier/",
        **extra,
    )


def _deliveries(broadcast, channel):
    return Delivery.objects.filter(broadcast=broadcast, channel=channel)


@pytest.fixture
def community(db):
    return CommunityFactory()


def _with_webhook(community, url=WEBHOOK):
    community.wechat_robot_webhook = url
    community.save(update_fields=["wechat_robot_webhook"])
    return community


# Rows


def test_writes_one_broadcast_and_one_notification_per_active_recipient():
    active = UserFactory.create_batch(3)
    inactive = UserFactory(is_active=False)
    sender = UserFactory()

    broadcast = _supplier_approved([*active, inactive], sender=sender, about=active[0])

    assert Broadcast.objects.count() == 1
    assert broadcast.recipient_count == 3
    assert Broadcast.objects.get().recipient_count == 3
    assert broadcast.kind == "supplier_approved"
    assert broadcast.sender == sender
    assert broadcast.link == "/supplier/"
    notifications = Notification.objects.filter(broadcast=broadcast)
    assert sorted(n.recipient_id for n in notifications) == sorted(u.pk for u in active)
    assert not Notification.objects.filter(recipient=inactive).exists()
    assert not Delivery.objects.filter(address__in=[inactive.phone, inactive.email]).exists()
    first = notifications.first()
    assert first.kind == "supplier_approved"
    assert first.link == "/supplier/"
    assert first.context == {"supplier_name": "绿叶农场"}
    assert first.read_at is None
    assert first.content_type == ContentType.objects.get_for_model(User)
    assert first.about == active[0]
    assert broadcast.about == active[0]


def test_recipients_may_be_a_queryset():
    users = UserFactory.create_batch(2)
    UserFactory()  # not asked

    broadcast = _supplier_approved(User.objects.filter(pk__in=[u.pk for u in users]))

    assert broadcast.recipient_count == 2
    assert set(broadcast.notifications.values_list("recipient_id", flat=True)) == {
        u.pk for u in users
    }


def test_a_user_repeated_by_the_recipients_join_gets_one_notification():
    first, second = CommunityFactory(), CommunityFactory()
    both = UserFactory()
    for community in (first, second):
        community.memberships.create(user=both)
    recipients = User.objects.filter(memberships__community__in=[first, second])
    assert recipients.count() == 4  # the two leaders, and ``both`` twice

    broadcast = notify(
        recipients=recipients, kind="community_welcome", context={"community_name": "x"}
    )

    assert broadcast.recipient_count == 3
    assert broadcast.notifications.filter(recipient=both).count() == 1
    assert Delivery.objects.filter(broadcast=broadcast, notification__recipient=both).count() == 1


def test_no_active_recipient_still_writes_the_broadcast():
    broadcast = _supplier_approved([UserFactory(is_active=False)])

    assert broadcast.recipient_count == 0
    assert not Notification.objects.exists()
    assert not Delivery.objects.exists()


def test_anonymous_sender_is_not_stored():
    from django.contrib.auth.models import AnonymousUser

    broadcast = _supplier_approved([UserFactory()], sender=AnonymousUser())

    assert broadcast.sender is None


# Language


def _expected(language, kind, part, context):
    with translation.override(language):
        return render_to_string(f"notifications/{kind}/{part}.txt", context).strip()


def test_each_recipient_reads_it_in_their_own_language():
    english = UserFactory(preferred_language="en")
    chinese = UserFactory(preferred_language="zh-hans")
    unset = UserFactory(preferred_language="")
    context = {"supplier_name": "绿叶农场", "reason": "营业执照模糊。"}

    broadcast = notify(
        recipients=[english, chinese, unset], kind="supplier_rejected", context=context
    )

    by_user = {n.recipient_id: n for n in broadcast.notifications.all()}
    for user, language in ((english, "en"), (chinese, "zh-hans"), (unset, "zh-hans")):
        notification = by_user[user.pk]
        assert notification.title == _expected(language, "supplier_rejected", "title", context)
        assert notification.body == _expected(language, "supplier_rejected", "body", context)
        assert "营业执照模糊。" in notification.body
    assert by_user[english.pk].title == "Your supplier registration needs changes"
    # The broadcast keeps the platform language's text (for the group robot and the sender).
    assert broadcast.title == _expected(settings.LANGUAGE_CODE, "supplier_rejected", "title", {})


def _has_cjk(text):
    return any("\u4e00" <= char <= "\u9fff" for char in text)


def test_chinese_readers_get_chinese_text():
    english = UserFactory(preferred_language="en")
    chinese = UserFactory(preferred_language="zh-hans")
    unset = UserFactory(preferred_language="")

    broadcast = _supplier_approved([english, chinese, unset])

    by_user = {n.recipient_id: n for n in broadcast.notifications.all()}
    assert not _has_cjk(by_user[english.pk].title)
    assert _has_cjk(by_user[chinese.pk].title)
    assert _has_cjk(by_user[unset.pk].title)


# Extra channels


def test_deliveries_follow_the_kinds_default_channels(community):
    user = UserFactory(email="both@example.com")

    approved = _supplier_approved([user])
    welcome = notify(
        recipients=[user],
        kind="community_welcome",
        community=community,
        context={"community_name": community.name},
    )

    assert set(Delivery.objects.filter(broadcast=approved).values_list("channel", "address")) == {
        (Channel.SMS, user.phone),
        (Channel.EMAIL, "both@example.com"),
    }
    assert set(Delivery.objects.filter(broadcast=welcome).values_list("channel", flat=True)) == {
        Channel.SMS
    }
    notification = approved.notifications.get()
    assert {d.notification_id for d in Delivery.objects.filter(broadcast=approved)} == {
        notification.pk
    }
    for delivery in Delivery.objects.all():
        assert delivery.status == DeliveryStatus.QUEUED
        assert delivery.attempts == 0


def test_preferences_override_the_defaults(community):
    no_sms = UserFactory(email="no-sms@example.com")
    NotificationPreference.objects.create(
        user=no_sms, kind="supplier_approved", sms=False, email=True
    )
    email_welcome = UserFactory(email="welcome@example.com")
    NotificationPreference.objects.create(
        user=email_welcome, kind="community_welcome", sms=False, email=True
    )
    other_kind = UserFactory(email="other@example.com")
    NotificationPreference.objects.create(
        user=other_kind, kind="community_welcome", sms=False, email=False
    )

    approved = _supplier_approved([no_sms, other_kind])
    welcome = notify(
        recipients=[email_welcome],
        kind="community_welcome",
        community=community,
        context={"community_name": community.name},
    )

    def channels(broadcast, user):
        return set(
            Delivery.objects.filter(broadcast=broadcast, notification__recipient=user).values_list(
                "channel", flat=True
            )
        )

    assert channels(approved, no_sms) == {Channel.EMAIL}
    # A preference for another kind leaves this kind's defaults alone.
    assert channels(approved, other_kind) == {Channel.SMS, Channel.EMAIL}
    # SMS off, e-mail on: e-mail although the kind does not send it by default.
    assert channels(welcome, email_welcome) == {Channel.EMAIL}
    # Everyone still has the inbox entry.
    assert approved.notifications.count() == 2


def test_both_channels_off_leaves_only_the_inbox():
    user = UserFactory(email="quiet@example.com")
    NotificationPreference.objects.create(
        user=user, kind="supplier_approved", sms=False, email=False
    )

    broadcast = _supplier_approved([user])

    assert broadcast.notifications.count() == 1
    assert not Delivery.objects.exists()


def test_no_delivery_for_a_channel_without_an_address():
    phone_only = UserFactory(email=None)
    email_only = UserFactory(phone=None, email="mail-only@example.com")

    broadcast = _supplier_approved([phone_only, email_only])

    assert broadcast.recipient_count == 2
    assert set(_deliveries(broadcast, Channel.SMS).values_list("address", flat=True)) == {
        phone_only.phone
    }
    assert set(_deliveries(broadcast, Channel.EMAIL).values_list("address", flat=True)) == {
        "mail-only@example.com"
    }


# Quiet hours


@pytest.mark.parametrize(
    ("now", "sms_due"),
    [
        (shanghai(23, 30), shanghai(8, day=16)),
        (shanghai(22, 0), shanghai(8, day=16)),
        (shanghai(3, 15), shanghai(8)),
        (shanghai(7, 59), shanghai(8)),
        (shanghai(8, 0), shanghai(8, 0)),
        (shanghai(12, 0), shanghai(12, 0)),
        (shanghai(21, 59), shanghai(21, 59)),
    ],
    ids=["23:30", "22:00", "03:15", "07:59", "08:00", "12:00", "21:59"],
)
def test_sms_waits_for_the_end_of_quiet_hours_email_does_not(now, sms_due):
    user = UserFactory(email="night@example.com")

    with frozen(now):
        broadcast = _supplier_approved([user])

    sms = _deliveries(broadcast, Channel.SMS).get()
    email = _deliveries(broadcast, Channel.EMAIL).get()
    assert sms.next_attempt_at == sms_due
    assert email.next_attempt_at == now


def test_quiet_hours_are_shanghai_wall_clock_hours():
    # The rule is about Shanghai wall-clock time, whatever the moment's own zone.
    assert services.sms_quiet_until(shanghai(23, 30).astimezone(ZoneInfo("UTC"))) == shanghai(
        8, day=16
    )


def test_only_due_deliveries_are_queued_after_commit(django_capture_on_commit_callbacks):
    user = UserFactory(email="night@example.com")

    with frozen(shanghai(23, 30)), django_capture_on_commit_callbacks() as callbacks:
        broadcast = _supplier_approved([user])

    assert len(callbacks) == 1
    with mock.patch.object(services, "enqueue_deliveries") as enqueue:
        callbacks[0]()
    email = _deliveries(broadcast, Channel.EMAIL).get()
    enqueue.assert_called_once_with([email.pk])


# Group robot


def _announce(community):
    return notify(
        recipients=User.objects.filter(memberships__community=community),
        kind="community_announcement",
        community=community,
        about=community,
        context={"title": "明天停水", "body": "明天 9 点到 12 点停水。"},
        link="/m/inbox/",
    )


def test_community_wide_notice_posts_once_to_the_group_robot(community):
    _with_webhook(community)
    for user in UserFactory.create_batch(3):
        community.memberships.create(user=user)

    broadcast = _announce(community)

    robot = _deliveries(broadcast, Channel.WECHAT_ROBOT).get()
    assert robot.notification is None
    assert robot.address == WEBHOOK
    assert robot.status == DeliveryStatus.QUEUED
    assert broadcast.recipient_count == 4  # the leader is a member too
    assert _deliveries(broadcast, Channel.SMS).count() == 4


def test_no_robot_delivery_without_a_webhook(community):
    broadcast = _announce(community)

    assert broadcast.recipient_count == 1
    assert not _deliveries(broadcast, Channel.WECHAT_ROBOT).exists()


def test_no_robot_delivery_for_a_personal_notice(community):
    _with_webhook(community)

    broadcast = notify(
        recipients=[UserFactory()],
        kind="community_welcome",
        community=community,
        context={"community_name": community.name},
    )

    assert not _deliveries(broadcast, Channel.WECHAT_ROBOT).exists()


def test_robot_delivery_is_queued_even_in_quiet_hours(
    community, django_capture_on_commit_callbacks
):
    _with_webhook(community)

    with frozen(shanghai(23, 30)), django_capture_on_commit_callbacks() as callbacks:
        broadcast = _announce(community)

    with mock.patch.object(services, "enqueue_deliveries") as enqueue:
        for callback in callbacks:
            callback()
    robot = _deliveries(broadcast, Channel.WECHAT_ROBOT).get()
    enqueue.assert_called_once_with([robot.pk])


# Transaction and queueing


class Boom(Exception):
    pass


def test_rolled_back_transaction_leaves_no_rows_and_queues_nothing(
    community, django_capture_on_commit_callbacks
):
    _with_webhook(community)

    def counts():
        return Broadcast.objects.count(), Notification.objects.count(), Delivery.objects.count()

    before = counts()

    with (
        mock.patch.object(services, "enqueue_deliveries") as enqueue,
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Boom),
        transaction.atomic(),
    ):
        _announce(community)
        assert counts() != before
        raise Boom

    assert callbacks == []
    enqueue.assert_not_called()
    assert counts() == before


def test_commit_queues_every_due_delivery_once(community, django_capture_on_commit_callbacks):
    _with_webhook(community)
    for user in UserFactory.create_batch(2, email=None):
        community.memberships.create(user=user)

    with (
        frozen(shanghai(12)),
        mock.patch.object(services, "enqueue_deliveries") as enqueue,
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        broadcast = _announce(community)

    assert len(callbacks) == 1
    enqueue.assert_called_once()
    (queued,), _kwargs = enqueue.call_args
    assert sorted(queued) == sorted(
        Delivery.objects.filter(broadcast=broadcast).values_list("pk", flat=True)
    )
    assert len(queued) == 4  # three SMS and the robot


def test_nothing_to_queue_registers_no_callback(django_capture_on_commit_callbacks):
    user = UserFactory(email=None)
    NotificationPreference.objects.create(
        user=user, kind="supplier_approved", sms=False, email=False
    )

    with django_capture_on_commit_callbacks() as callbacks:
        _supplier_approved([user])

    assert callbacks == []


def test_after_commit_the_task_sends_sms_and_email(
    django_capture_on_commit_callbacks, sms_outbox, mailoutbox
):
    user = UserFactory(email="now@example.com", preferred_language="en")
    from notifications.tasks import send_deliveries

    with (
        frozen(shanghai(12)),
        mock.patch.object(
            send_deliveries,
            "apply_async",
            side_effect=lambda args, countdown=None: send_deliveries.run(*args),
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        broadcast = _supplier_approved([user])

    assert [m.phone for m in sms_outbox] == [user.phone]
    assert sms_outbox[0].text.startswith("Your supplier registration is approved")
    assert sms_outbox[0].text.endswith(settings.SITE_URL.rstrip("/") + "/supplier/")
    assert [m.to for m in mailoutbox] == [["now@example.com"]]
    assert set(Delivery.objects.filter(broadcast=broadcast).values_list("status", flat=True)) == {
        DeliveryStatus.SENT
    }


def test_enqueue_sends_in_chunks_and_survives_a_broker_outage():
    from notifications.tasks import send_deliveries

    calls = []

    def apply_async(args, countdown=None):
        calls.append(args[0])
        if len(calls) == 2:
            raise ConnectionError("redis is down")

    with mock.patch.object(send_deliveries, "apply_async", side_effect=apply_async):
        queued = services.enqueue_deliveries(list(range(1, 251)))

    # The first chunk the broker refuses ends the attempt (each would wait out the same
    # publish retries); what was not queued stays for the sweeper.
    assert [len(chunk) for chunk in calls] == [100, 100]
    assert calls[0][0] == 1 and calls[1][0] == 101
    assert queued == 100


def test_query_count_does_not_grow_with_recipients(community):
    _with_webhook(community)
    _supplier_approved([UserFactory()])  # warm caches (content types)

    def measure(n):
        users = UserFactory.create_batch(n, email=None)
        for i, user in enumerate(users):
            if i % 2:
                user.email = f"r{user.pk}@example.com"
                user.save(update_fields=["email"])
        with CaptureQueriesContext(connection) as captured:
            broadcast = notify(
                recipients=User.objects.filter(pk__in=[u.pk for u in users]),
                kind="supplier_approved",
                community=community,
                about=community,
                context={"supplier_name": "x"},
            )
        assert broadcast.recipient_count == n
        assert Delivery.objects.filter(broadcast=broadcast).count() == n + n // 2
        return len(captured)

    few = measure(5)
    many = measure(50)

    assert few == many, f"{few} queries for 5 recipients, {many} for 50"
    assert many <= 12


def test_query_count_for_a_list_of_users_is_constant_too():
    _supplier_approved([UserFactory()])

    def measure(n):
        users = UserFactory.create_batch(n)
        with CaptureQueriesContext(connection) as captured:
            _supplier_approved(users)
        return len(captured)

    assert measure(5) == measure(50)


# Read and acknowledge


def _one_notification(user=None, **kwargs):
    user = user or UserFactory()
    return _supplier_approved([user], **kwargs).notifications.get()


def test_mark_read_sets_read_at_once():
    notification = _one_notification()

    with frozen(shanghai(9)):
        services.notification_mark_read(notification=notification)
    with frozen(shanghai(10)):
        services.notification_mark_read(notification=Notification.objects.get(pk=notification.pk))

    assert Notification.objects.get(pk=notification.pk).read_at == shanghai(9)


def test_mark_all_read_touches_only_the_users_unread_notifications():
    user, other = UserFactory(), UserFactory()
    for _ in range(3):
        _supplier_approved([user, other])

    assert services.notifications_mark_all_read(user=user) == 3
    assert services.notifications_mark_all_read(user=user) == 0
    assert not Notification.objects.filter(recipient=user, read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=other, read_at__isnull=True).count() == 3


def test_acknowledging_is_idempotent_and_marks_read():
    notification = _one_notification()

    first = services.notification_acknowledge(notification=notification)
    second = services.notification_acknowledge(
        notification=Notification.objects.get(pk=notification.pk)
    )

    assert first.pk == second.pk
    assert Acknowledgement.objects.count() == 1
    assert Notification.objects.get(pk=notification.pk).read_at is not None


# Remind


@pytest.fixture
def announced(community):
    members = UserFactory.create_batch(3, preferred_language="en")
    for user in members:
        community.memberships.create(user=user)
    broadcast = services.community_announce(
        community=community, actor=community.leader, title="取货提醒", body="今天下午取货。"
    )
    return broadcast, members


def test_remind_notifies_only_those_who_have_not_acknowledged(announced, community):
    broadcast, members = announced
    leader = community.leader
    services.notification_acknowledge(
        notification=broadcast.notifications.get(recipient=members[0])
    )
    services.notification_acknowledge(notification=broadcast.notifications.get(recipient=leader))

    reminder = services.broadcast_remind(broadcast=broadcast, actor=leader)

    assert reminder.reminder_of == broadcast
    assert reminder.kind == broadcast.kind
    assert reminder.community == community
    assert reminder.sender == leader
    assert reminder.recipient_count == 2
    reminded = reminder.notifications.order_by("recipient_id")
    assert [n.recipient_id for n in reminded] == sorted(u.pk for u in members[1:])
    for notification in reminded:
        original = broadcast.notifications.get(recipient=notification.recipient)
        assert notification.reminder_of == original
        assert notification.title == f"Reminder: {original.title}"
        assert notification.body == original.body
    broadcast.refresh_from_db()
    assert broadcast.last_reminded_at is not None


def test_acknowledging_the_reminder_acknowledges_the_original(announced, community):
    broadcast, members = announced
    reminder = services.broadcast_remind(broadcast=broadcast, actor=community.leader)
    reminded = reminder.notifications.get(recipient=members[1])

    services.notification_acknowledge(notification=reminded)
    services.notification_acknowledge(notification=reminded)

    original = broadcast.notifications.get(recipient=members[1])
    assert Acknowledgement.objects.filter(notification=original).count() == 1
    assert Acknowledgement.objects.filter(notification=reminded).count() == 1
    assert Acknowledgement.objects.count() == 2


def test_remind_at_most_once_an_hour(announced, community):
    broadcast, _members = announced
    leader = community.leader

    with frozen(shanghai(10)):
        services.broadcast_remind(broadcast=broadcast, actor=leader)
    with frozen(shanghai(10, 59)), pytest.raises(DomainError) as refused:
        services.broadcast_remind(broadcast=broadcast, actor=leader)
    assert "11:00" in str(refused.value.message)
    assert Broadcast.objects.filter(reminder_of=broadcast).count() == 1

    with frozen(shanghai(11, 0)):
        services.broadcast_remind(broadcast=broadcast, actor=leader)
    assert Broadcast.objects.filter(reminder_of=broadcast).count() == 2


def test_remind_when_everyone_acknowledged_is_refused(announced, community):
    broadcast, _members = announced
    for notification in broadcast.notifications.all():
        services.notification_acknowledge(notification=notification)

    with pytest.raises(DomainError):
        services.broadcast_remind(broadcast=broadcast, actor=community.leader)

    assert not Broadcast.objects.filter(reminder_of=broadcast).exists()
    broadcast.refresh_from_db()
    assert broadcast.last_reminded_at is None


def test_acknowledged_reminder_counts_for_the_next_remind(announced, community):
    broadcast, members = announced
    leader = community.leader
    with frozen(shanghai(10)):
        reminder = services.broadcast_remind(broadcast=broadcast, actor=leader)
    for notification in reminder.notifications.exclude(recipient=members[2]):
        services.notification_acknowledge(notification=notification)

    with frozen(shanghai(12)):
        second = services.broadcast_remind(broadcast=broadcast, actor=leader)

    assert list(second.notifications.values_list("recipient_id", flat=True)) == [members[2].pk]


def test_announcement_needs_title_and_body(community):
    for title, body, field in (("  ", "正文", "title"), ("标题", " ", "body")):
        with pytest.raises(DomainError) as refused:
            services.community_announce(
                community=community, actor=community.leader, title=title, body=body
            )
        assert refused.value.field == field
    assert not Broadcast.objects.filter(kind="community_announcement").exists()


def test_preferences_save_creates_then_updates_rows():
    user = UserFactory()

    services.preferences_save(
        user=user, choices={"community_welcome": {"sms": False, "email": True}}
    )
    services.preferences_save(
        user=user, choices={"community_welcome": {"sms": True, "email": False}}
    )

    preference = NotificationPreference.objects.get(user=user)
    assert (preference.kind, preference.sms, preference.email) == ("community_welcome", True, False)


def test_preferences_save_refuses_unknown_kinds():
    user = UserFactory()

    with pytest.raises(KeyError):
        services.preferences_save(user=user, choices={"no_such_kind": {"sms": 1, "email": 1}})

    assert not NotificationPreference.objects.exists()


def test_retry_delay_doubles():
    base = settings.NOTIFICATIONS_RETRY_BASE_SECONDS
    assert [services.retry_delay(n) for n in (1, 2, 3)] == [
        timedelta(seconds=base),
        timedelta(seconds=base * 2),
        timedelta(seconds=base * 4),
    ]
