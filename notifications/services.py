"""Every write of the notification outbox.

``notify`` is the only way in: in the caller's transaction it writes one Broadcast, one
Notification per recipient (the in-app inbox) and one Delivery per extra channel, with a
constant number of set-based statements however many recipients there are. After commit
the due deliveries are queued to Celery in chunks; if the broker is down they stay queued
and the sweeper (beat, every minute) queues them later. ``delivery_send`` sends one
delivery at most once: it holds the row lock while sending and skips locked rows.
"""

import json
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.template import Context
from django.template.loader import get_template
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from groupbuy.exceptions import DomainError

from .kinds import get_kind
from .models import (
    Acknowledgement,
    Broadcast,
    Channel,
    Delivery,
    DeliveryStatus,
    Notification,
    NotificationPreference,
)

logger = logging.getLogger(__name__)

QUEUE_CHUNK_SIZE = 100
REMIND_INTERVAL = timedelta(hours=1)


class ChannelError(Exception):
    """A channel could not send; ``retryable`` says whether trying again may help."""

    def __init__(self, message: str, *, retryable: bool = True):
        super().__init__(message)
        self.retryable = retryable


# Rendering


def _render(kind_code: str, part: str, context: dict) -> str:
    template = get_template(f"notifications/{kind_code}/{part}.txt").template
    return template.render(Context(context, autoescape=False)).strip()


def _render_in(language: str, kind_code: str, context: dict, reminder: bool) -> tuple[str, str]:
    with translation.override(language):
        title = _render(kind_code, "title", context)
        body = _render(kind_code, "body", context)
        if reminder:
            title = _("Reminder: %(title)s") % {"title": title}
    return title[:200], body


def absolute_url(path: str) -> str:
    if not path or path.startswith(("http://", "https://")):
        return path
    return settings.SITE_URL.rstrip("/") + path


def sms_quiet_until(moment: datetime) -> datetime:
    """When an SMS written at ``moment`` may go out: at once, or when quiet hours end."""
    start_hour, end_hour = settings.NOTIFICATIONS_SMS_QUIET_HOURS
    local = timezone.localtime(moment)
    hour = local.hour
    in_quiet = (
        hour >= start_hour or hour < end_hour
        if start_hour > end_hour
        else (start_hour <= hour < end_hour)
    )
    if not in_quiet:
        return moment
    end = local.replace(hour=end_hour, minute=0, second=0, microsecond=0)
    if end <= local:
        end += timedelta(days=1)
    return end


# Writing the outbox


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _db_datetime(value: datetime):
    """Raw SQL gets datetimes as the ORM would store them (SQLite keeps naive UTC text)."""
    return connection.ops.adapt_datetimefield_value(value)


def _json_param_sql() -> str:
    return "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"


def _recipient_subquery(recipients) -> tuple[str, tuple]:
    if isinstance(recipients, models.QuerySet):
        queryset = recipients
    else:
        queryset = User.objects.filter(pk__in=[user.pk for user in recipients])
    # A join in the caller's queryset (members of several communities) may repeat a user;
    # one notification per recipient is a constraint, so repeat rows must go.
    queryset = (
        queryset.filter(is_active=True).order_by().values("id", "preferred_language").distinct()
    )
    sql, params = queryset.query.sql_with_params()
    return sql, params


def _insert_notifications(
    *,
    broadcast: Broadcast,
    recipients,
    kind_code: str,
    texts: dict[str, tuple[str, str]],
    link: str,
    context: dict,
    about_type_id: int | None,
    about_id: int | None,
    reminder_of: Broadcast | None,
    now: datetime,
) -> int:
    table = _q(Notification._meta.db_table)
    default = texts[settings.LANGUAGE_CODE]
    title_case, body_case, case_params_title, case_params_body = ["CASE"], ["CASE"], [], []
    for language, (title, body) in texts.items():
        if language == settings.LANGUAGE_CODE:
            continue
        title_case.append("WHEN r.preferred_language = %s THEN %s")
        body_case.append("WHEN r.preferred_language = %s THEN %s")
        case_params_title += [language, title]
        case_params_body += [language, body]
    title_case.append("ELSE %s END")
    body_case.append("ELSE %s END")
    case_params_title.append(default[0])
    case_params_body.append(default[1])
    subquery, subquery_params = _recipient_subquery(recipients)
    reminder_sql, reminder_params = "NULL", []
    if reminder_of is not None:
        reminder_sql = (
            f"(SELECT o.id FROM {table} o WHERE o.broadcast_id = %s AND o.recipient_id = r.id)"
        )
        reminder_params = [reminder_of.pk]
    sql = (
        f"INSERT INTO {table} (broadcast_id, recipient_id, kind, title, body, link, context, "
        "content_type_id, object_id, reminder_of_id, read_at, created_at) "
        f"SELECT %s, r.id, %s, {' '.join(title_case)}, {' '.join(body_case)}, %s, "
        f"{_json_param_sql()}, %s, %s, {reminder_sql}, NULL, %s FROM ({subquery}) r"
    )
    params = [
        broadcast.pk,
        kind_code,
        *case_params_title,
        *case_params_body,
        link,
        json.dumps(context),
        about_type_id,
        about_id,
        *reminder_params,
        _db_datetime(now),
        *subquery_params,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _insert_deliveries(
    *,
    broadcast: Broadcast,
    channel: str,
    default_on: bool,
    kind_code: str,
    due: datetime,
    now: datetime,
) -> None:
    address_column = {Channel.SMS: "phone", Channel.EMAIL: "email"}[channel]
    preference_column = {Channel.SMS: "sms", Channel.EMAIL: "email"}[channel]
    sql = (
        f"INSERT INTO {_q(Delivery._meta.db_table)} (broadcast_id, notification_id, channel, "
        "address, status, attempts, next_attempt_at, last_error, provider_message_id, "
        "sent_at, created_at) "
        f"SELECT %s, n.id, %s, u.{_q(address_column)}, %s, 0, %s, '', '', NULL, %s "
        f"FROM {_q(Notification._meta.db_table)} n "
        f"JOIN {_q(User._meta.db_table)} u ON u.id = n.recipient_id "
        f"LEFT JOIN {_q(NotificationPreference._meta.db_table)} p "
        "ON p.user_id = u.id AND p.kind = %s "
        f"WHERE n.broadcast_id = %s AND u.{_q(address_column)} IS NOT NULL "
        f"AND u.{_q(address_column)} <> '' AND COALESCE(p.{_q(preference_column)}, %s)"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                broadcast.pk,
                channel,
                DeliveryStatus.QUEUED,
                _db_datetime(due),
                _db_datetime(now),
                kind_code,
                broadcast.pk,
                default_on,
            ],
        )


@transaction.atomic
def notify(
    *,
    recipients: Iterable[User] | models.QuerySet,
    kind: str,
    about: models.Model | None = None,
    community=None,
    sender: User | None = None,
    context: dict | None = None,
    link: str = "",
    reminder_of: Broadcast | None = None,
) -> Broadcast:
    """Tell ``recipients`` about an event, in the caller's transaction.

    ``context`` must be JSON-serialisable: it is stored on each notification and given to
    the kind's templates (with ``community`` and ``about`` added).
    """
    notification_kind = get_kind(kind)
    context = dict(context or {})
    now = timezone.now()
    template_context = {**context, "community": community, "about": about, "link": link}
    languages = [code for code, _name in settings.LANGUAGES]
    texts = {
        language: _render_in(language, kind, template_context, reminder_of is not None)
        for language in languages
    }
    title, body = texts[settings.LANGUAGE_CODE]
    about_type = ContentType.objects.get_for_model(about) if about is not None else None
    broadcast = Broadcast.objects.create(
        kind=kind,
        community=community,
        sender=sender if sender is not None and sender.is_authenticated else None,
        title=title,
        body=body,
        link=link,
        content_type=about_type,
        object_id=about.pk if about is not None else None,
        reminder_of=reminder_of,
    )
    count = _insert_notifications(
        broadcast=broadcast,
        recipients=recipients,
        kind_code=kind,
        texts=texts,
        link=link,
        context=context,
        about_type_id=about_type.pk if about_type else None,
        about_id=about.pk if about is not None else None,
        reminder_of=reminder_of,
        now=now,
    )
    Broadcast.objects.filter(pk=broadcast.pk).update(recipient_count=count)
    broadcast.recipient_count = count
    for channel in (Channel.SMS, Channel.EMAIL):
        due = sms_quiet_until(now) if channel == Channel.SMS else now
        _insert_deliveries(
            broadcast=broadcast,
            channel=channel,
            default_on=channel in notification_kind.default_channels,
            kind_code=kind,
            due=due,
            now=now,
        )
    webhook = getattr(community, "wechat_robot_webhook", "") if community is not None else ""
    if notification_kind.community_wide and webhook:
        Delivery.objects.create(
            broadcast=broadcast,
            channel=Channel.WECHAT_ROBOT,
            address=webhook,
            next_attempt_at=now,
        )
    due_ids = list(
        Delivery.objects.filter(
            broadcast=broadcast, status=DeliveryStatus.QUEUED, next_attempt_at__lte=now
        ).values_list("id", flat=True)
    )
    if due_ids:
        transaction.on_commit(lambda: enqueue_deliveries(due_ids))
    return broadcast


def enqueue_deliveries(delivery_ids: list[int], *, countdown: float | None = None) -> int:
    """Queue sends in chunks; a broker outage only delays them (the sweeper retries).

    The first chunk that cannot be published ends the attempt: every further chunk would
    wait out the same publish retries, holding up the request that wrote the outbox.
    """
    from .tasks import send_deliveries

    queued = 0
    for start in range(0, len(delivery_ids), QUEUE_CHUNK_SIZE):
        chunk = delivery_ids[start : start + QUEUE_CHUNK_SIZE]
        try:
            send_deliveries.apply_async(args=[chunk], countdown=countdown)
        except Exception:  # broker down: the rows stay queued for the sweeper
            logger.warning(
                "could not queue %d deliveries; the sweeper will",
                len(delivery_ids) - start,
                exc_info=True,
            )
            break
        queued += len(chunk)
    return queued


# Sending


def _send_over_channel(delivery: Delivery) -> str:
    from . import email as email_channel
    from . import sms as sms_channel
    from . import wechat as wechat_channel

    notification = delivery.notification
    try:
        if delivery.channel == Channel.SMS:
            link = absolute_url(notification.link)
            text = f"{notification.title} {link}".strip()
            return sms_channel.sms_send(
                phone=delivery.address,
                text=text,
                purpose=notification.kind,
                template=notification.kind,
                params={"title": notification.title[:30], "link": link},
                idempotency_key=delivery.idempotency_key,
            )
        if delivery.channel == Channel.EMAIL:
            link = absolute_url(notification.link)
            body = f"{notification.body}\n\n{link}" if link else notification.body
            return email_channel.email_send(
                to=delivery.address,
                subject=notification.title,
                body=body,
                idempotency_key=delivery.idempotency_key,
            )
        if delivery.channel == Channel.WECHAT_ROBOT:
            broadcast = delivery.broadcast
            return wechat_channel.robot_post(
                webhook_url=delivery.address,
                title=broadcast.title,
                body=broadcast.body,
                link=absolute_url(broadcast.link),
            )
    except (
        sms_channel.SmsSendError,
        email_channel.EmailSendError,
        wechat_channel.WeChatRobotError,
    ) as error:
        raise ChannelError(str(error), retryable=getattr(error, "retryable", True)) from error
    raise ChannelError(f"unknown channel {delivery.channel}", retryable=False)


def retry_delay(attempts: int) -> timedelta:
    base = settings.NOTIFICATIONS_RETRY_BASE_SECONDS
    return timedelta(seconds=base * (2 ** max(attempts - 1, 0)))


def delivery_send(*, delivery_id: int) -> str:
    """Send one queued delivery once. Returns what happened: sent, retry, failed or skipped.

    The row stays locked while the provider is called, so a second worker (a duplicate
    task, the sweeper's re-queue) skips it; a worker killed mid-send rolls back and the
    delivery is sent again later, with the same idempotency key for the provider.
    """
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("notification", "broadcast")
            .filter(pk=delivery_id, status=DeliveryStatus.QUEUED)
            .first()
        )
        if delivery is None:
            return "skipped"
        delivery.attempts += 1
        try:
            message_id = _send_over_channel(delivery)
        except SoftTimeLimitExceeded:
            raise  # not the channel's fault: roll back, the task re-queues the rest
        except Exception as error:
            retryable = error.retryable if isinstance(error, ChannelError) else True
            if not isinstance(error, ChannelError):
                logger.exception("delivery %s: unexpected error", delivery.pk)
            delivery.last_error = f"{type(error).__name__}: {error}"[:2000]
            if retryable and delivery.attempts < settings.NOTIFICATIONS_MAX_ATTEMPTS:
                delay = retry_delay(delivery.attempts)
                delivery.next_attempt_at = now + delay
                delivery.save()
                transaction.on_commit(
                    lambda: enqueue_deliveries([delivery_id], countdown=delay.total_seconds())
                )
                return "retry"
            delivery.mark_failed()
            delivery.save()
            return "failed"
        delivery.provider_message_id = str(message_id or "")[:200]
        delivery.sent_at = timezone.now()
        delivery.last_error = ""
        if delivery.channel == Channel.WECHAT_ROBOT:
            delivery.mark_delivered()  # the robot answers once the group has the message
        else:
            delivery.mark_sent()
        delivery.save()
        return "sent"


def delivery_record_receipt(*, delivery_id: int, delivered: bool, error: str = "") -> bool:
    """Apply a provider's delivery report to a sent delivery; repeats change nothing."""
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update()
            .filter(pk=delivery_id, status=DeliveryStatus.SENT)
            .first()
        )
        if delivery is None:
            return False
        if delivered:
            delivery.mark_delivered()
        else:
            delivery.mark_undelivered()
            delivery.last_error = error[:2000]
        delivery.save()
        return True


def deliveries_requeue_due(*, limit: int = 1000) -> int:
    """The sweeper: queue deliveries that are due and not sent.

    Rows are claimed with SKIP LOCKED and pushed forward by a short lease, so two sweepers
    never queue the same delivery twice; a lost task is picked up again after the lease.
    """
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(status=DeliveryStatus.QUEUED, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id")
            .values_list("id", flat=True)[:limit]
        )
        if not ids:
            return 0
        lease = timedelta(seconds=settings.NOTIFICATIONS_REQUEUE_LEASE_SECONDS)
        Delivery.objects.filter(pk__in=ids).update(next_attempt_at=now + lease)
        transaction.on_commit(lambda: enqueue_deliveries(ids))
    return len(ids)


# Recipients' actions


def notification_mark_read(*, notification: Notification) -> None:
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )


@transaction.atomic
def notification_acknowledge(*, notification: Notification) -> Acknowledgement:
    """One tap on "Got it"; tapping again changes nothing. A reminder's counts for its notice."""
    notification_mark_read(notification=notification)
    acknowledgement, _created = Acknowledgement.objects.get_or_create(notification=notification)
    if notification.reminder_of_id:
        Acknowledgement.objects.get_or_create(notification_id=notification.reminder_of_id)
    return acknowledgement


def notifications_mark_all_read(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def preferences_save(*, user: User, choices: dict[str, dict[str, bool]]) -> None:
    """``choices`` maps a kind code to {"sms": bool, "email": bool}."""
    with transaction.atomic():
        for kind_code, channels in choices.items():
            get_kind(kind_code)
            NotificationPreference.objects.update_or_create(
                user=user,
                kind=kind_code,
                defaults={"sms": channels["sms"], "email": channels["email"]},
            )


# Senders' actions


@transaction.atomic
def broadcast_remind(*, broadcast: Broadcast, actor: User) -> Broadcast:
    """Notify again only the recipients who have not acknowledged; at most once an hour."""
    broadcast = Broadcast.objects.select_for_update().get(pk=broadcast.pk)
    now = timezone.now()
    if broadcast.last_reminded_at and now - broadcast.last_reminded_at < REMIND_INTERVAL:
        next_at = timezone.localtime(broadcast.last_reminded_at + REMIND_INTERVAL)
        raise DomainError(
            _("You can remind again at %(time)s.") % {"time": next_at.strftime("%H:%M")}
        )
    unacknowledged = User.objects.filter(
        notifications__broadcast=broadcast,
        notifications__acknowledgement__isnull=True,
    )
    if not unacknowledged.exists():
        raise DomainError(_("Everyone has acknowledged this notice."))
    first = broadcast.notifications.order_by("id").first()
    reminder = notify(
        recipients=unacknowledged,
        kind=broadcast.kind,
        about=broadcast.about,
        community=broadcast.community,
        sender=actor,
        context=first.context if first else {},
        link=broadcast.link,
        reminder_of=broadcast,
    )
    broadcast.last_reminded_at = now
    broadcast.save(update_fields=["last_reminded_at"])
    return reminder


def community_announce(*, community, actor: User, title: str, body: str) -> Broadcast:
    """The leader tells every member of the community something."""
    from django.urls import reverse

    title, body = title.strip(), body.strip()
    if not title:
        raise DomainError(_("Give the announcement a title."), field="title")
    if not body:
        raise DomainError(_("Write the announcement."), field="body")
    return notify(
        recipients=User.objects.filter(memberships__community=community),
        kind="community_announcement",
        about=community,
        community=community,
        sender=actor,
        context={"title": title, "body": body},
        link=reverse("notifications:member_inbox"),
    )
