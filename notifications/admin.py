from django.contrib import admin
from django_fsm.admin import FSMAdminMixin

from .models import Acknowledgement, Broadcast, Delivery, Notification, NotificationPreference


class ReadOnlyAdmin(admin.ModelAdmin):
    """The outbox is written by services only; the admin is for looking."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Broadcast)
class BroadcastAdmin(ReadOnlyAdmin):
    list_display = ["title", "kind", "community", "sender", "recipient_count", "created_at"]
    list_filter = ["kind"]
    search_fields = ["title", "community__name"]
    raw_id_fields = ["community", "sender", "reminder_of"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["title", "recipient", "kind", "read_at", "created_at"]
    list_filter = ["kind"]
    search_fields = ["title", "recipient__phone", "recipient__email"]
    raw_id_fields = ["broadcast", "recipient", "reminder_of"]


@admin.register(Delivery)
class DeliveryAdmin(FSMAdminMixin, ReadOnlyAdmin):
    fsm_fields = ["status"]
    list_display = ["id", "channel", "status", "attempts", "next_attempt_at", "sent_at"]
    list_filter = ["channel", "status"]
    search_fields = ["address", "provider_message_id"]
    raw_id_fields = ["broadcast", "notification"]


@admin.register(Acknowledgement)
class AcknowledgementAdmin(ReadOnlyAdmin):
    list_display = ["notification", "created_at"]
    raw_id_fields = ["notification"]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "sms", "email"]
    list_filter = ["kind"]
    raw_id_fields = ["user"]
