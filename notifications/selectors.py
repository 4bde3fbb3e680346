"""Every read of notifications, scoped by the user asking."""

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from accounts.models import ReviewStatus, User

from .kinds import KINDS
from .models import Broadcast, Channel, Delivery, DeliveryStatus, Notification


def inbox_for(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).select_related("acknowledgement")


def unread_count_for(user: User) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notification_for_recipient(user: User, notification_id: int) -> Notification:
    return get_object_or_404(inbox_for(user), pk=notification_id)


def preferences_for(user: User) -> list[dict]:
    """Every kind with the member's SMS/e-mail choice (or the kind's default)."""
    stored = {p.kind: p for p in user.notification_preferences.all()}
    rows = []
    for kind in KINDS.values():
        preference = stored.get(kind.code)
        rows.append(
            {
                "kind": kind,
                "sms": preference.sms if preference else Channel.SMS in kind.default_channels,
                "email": preference.email if preference else Channel.EMAIL in kind.default_channels,
            }
        )
    return rows


def _count_subquery(queryset) -> Coalesce:
    counted = queryset.order_by().values("broadcast_id").annotate(n=Count("id")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def community_broadcasts(community) -> QuerySet[Broadcast]:
    """The community's notices, newest first, with acknowledged and failed counts."""
    return (
        Broadcast.objects.filter(community=community, reminder_of__isnull=True)
        .select_related("sender")
        .annotate(
            acknowledged_count=_count_subquery(
                Notification.objects.filter(broadcast=OuterRef("pk"), acknowledgement__isnull=False)
            ),
            failed_count=_count_subquery(
                Delivery.objects.filter(broadcast=OuterRef("pk"), status=DeliveryStatus.FAILED)
            ),
        )
        .order_by("-created_at", "-id")
    )


def broadcast_for_leader(user: User, community_id: int, broadcast_id: int) -> Broadcast:
    return get_object_or_404(
        Broadcast.objects.select_related("community"),
        pk=broadcast_id,
        community_id=community_id,
        community__leader=user,
        community__status=ReviewStatus.APPROVED,
        reminder_of__isnull=True,
    )


def broadcast_coverage(broadcast: Broadcast) -> dict:
    """Counts for the sender: recipients, acknowledged, and per channel by status."""
    acknowledged = broadcast.notifications.filter(acknowledgement__isnull=False).count()
    by_channel: dict[str, dict[str, int]] = {}
    rows = (
        Delivery.objects.filter(broadcast=broadcast)
        .values("channel", "status")
        .annotate(n=Count("id"))
    )
    for row in rows:
        by_channel.setdefault(row["channel"], {})[row["status"]] = row["n"]
    channels = []
    for channel in (Channel.SMS, Channel.EMAIL, Channel.WECHAT_ROBOT):
        counts = by_channel.get(channel, {})
        channels.append(
            {
                "channel": channel,
                "label": channel.label,
                "queued": counts.get(DeliveryStatus.QUEUED, 0),
                "reached": counts.get(DeliveryStatus.SENT, 0)
                + counts.get(DeliveryStatus.DELIVERED, 0),
                "failed": counts.get(DeliveryStatus.FAILED, 0),
            }
        )
    total = broadcast.recipient_count
    return {
        "total": total,
        "in_app": total,
        "acknowledged": acknowledged,
        "not_acknowledged": total - acknowledged,
        "failed": sum(c["failed"] for c in channels),
        "channels": channels,
    }


COVERAGE_FILTERS = ("all", "acknowledged", "unacknowledged", "failed")


def coverage_rows(broadcast: Broadcast, *, show: str = "all") -> QuerySet[Notification]:
    """The broadcast's recipients with their acknowledgement and deliveries."""
    rows = (
        broadcast.notifications.select_related("recipient", "acknowledgement")
        .prefetch_related("deliveries")
        .order_by("recipient__display_name", "recipient_id")
    )
    if show == "acknowledged":
        rows = rows.filter(acknowledgement__isnull=False)
    elif show == "unacknowledged":
        rows = rows.filter(acknowledgement__isnull=True)
    elif show == "failed":
        rows = rows.filter(deliveries__status=DeliveryStatus.FAILED).distinct()
    return rows
