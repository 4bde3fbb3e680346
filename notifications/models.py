from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition


class Channel(models.TextChoices):
    IN_APP = "in_app", _("In-app")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")
    WECHAT_ROBOT = "wechat_robot", _("WeChat Work group")


class Broadcast(models.Model):
    """One event told to one or more recipients: the unit a sender follows up on."""

    kind = models.CharField(_("kind"), max_length=64)
    community = models.ForeignKey(
        "accounts.Community",
        verbose_name=_("community"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="broadcasts",
    )
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sender"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Title, body and link in the platform's language, for channels that post once for
    # everyone (the community's group robot) and for the sender's overview.
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    link = models.CharField(_("link"), max_length=500, blank=True)
    content_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    about = GenericForeignKey("content_type", "object_id")
    recipient_count = models.PositiveIntegerField(_("recipients"), default=0)
    reminder_of = models.ForeignKey(
        "self",
        verbose_name=_("reminder of"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="reminders",
    )
    last_reminded_at = models.DateTimeField(_("last reminded at"), null=True, blank=True)
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        verbose_name = _("broadcast")
        verbose_name_plural = _("broadcasts")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["community", "-created_at"])]

    def __str__(self):
        return self.title


class Notification(models.Model):
    """One recipient's copy of a broadcast: the in-app inbox entry, always written."""

    broadcast = models.ForeignKey(Broadcast, on_delete=models.CASCADE, related_name="notifications")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("kind"), max_length=64)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"))
    link = models.CharField(_("link"), max_length=500, blank=True)
    context = models.JSONField(_("context"), default=dict, blank=True)
    content_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    about = GenericForeignKey("content_type", "object_id")
    # A reminder's acknowledgement also counts for the notice it reminds of.
    reminder_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="reminders"
    )
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"]),
            models.Index(
                fields=["recipient"],
                name="notification_unread_idx",
                condition=models.Q(read_at__isnull=True),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["broadcast", "recipient"], name="one_notification_per_recipient"
            )
        ]

    def __str__(self):
        return self.title


class Acknowledgement(models.Model):
    """The recipient tapped "Got it"."""

    notification = models.OneToOneField(
        Notification, on_delete=models.CASCADE, related_name="acknowledgement"
    )
    created_at = models.DateTimeField(_("acknowledged at"), auto_now_add=True)

    class Meta:
        verbose_name = _("acknowledgement")
        verbose_name_plural = _("acknowledgements")

    def __str__(self):
        return f"ack {self.notification_id}"


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class Delivery(ConcurrentTransitionMixin, models.Model):
    """One send of a notification over one channel; the group robot gets one per broadcast."""

    broadcast = models.ForeignKey(Broadcast, on_delete=models.CASCADE, related_name="deliveries")
    notification = models.ForeignKey(
        Notification,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    address = models.CharField(_("address"), max_length=500)
    status = FSMField(
        _("status"),
        max_length=16,
        choices=DeliveryStatus.choices,
        default=DeliveryStatus.QUEUED,
        protected=True,
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), db_index=True)
    last_error = models.TextField(_("last error"), blank=True)
    provider_message_id = models.CharField(_("provider message id"), max_length=200, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "channel"],
                condition=models.Q(notification__isnull=False),
                name="one_delivery_per_notification_channel",
            ),
            models.UniqueConstraint(
                fields=["broadcast", "channel"],
                condition=models.Q(notification__isnull=True),
                name="one_group_delivery_per_broadcast_channel",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_due_idx",
                condition=models.Q(status="queued"),
            )
        ]

    def __str__(self):
        return f"{self.channel} #{self.pk} {self.status}"

    @property
    def idempotency_key(self) -> str:
        return f"delivery-{self.pk}"

    @transition(field=status, source=DeliveryStatus.QUEUED, target=DeliveryStatus.SENT)
    def mark_sent(self):
        pass

    @transition(
        field=status,
        source=[DeliveryStatus.QUEUED, DeliveryStatus.SENT],
        target=DeliveryStatus.DELIVERED,
    )
    def mark_delivered(self):
        pass

    @transition(field=status, source=DeliveryStatus.QUEUED, target=DeliveryStatus.FAILED)
    def mark_failed(self):
        pass

    @transition(field=status, source=DeliveryStatus.SENT, target=DeliveryStatus.FAILED)
    def mark_undelivered(self):
        """The provider accepted the send but later reported it never arrived."""


class NotificationPreference(models.Model):
    """A member's choice of extra channels for one kind; no row means the kind's default."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(_("kind"), max_length=64)
    sms = models.BooleanField(_("SMS"))
    email = models.BooleanField(_("E-mail"))

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="one_preference_per_kind")
        ]

    def __str__(self):
        return f"{self.user} {self.kind}"
