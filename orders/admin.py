from django.contrib import admin

from groupbuy.admin_transitions import ServiceTransitionsAdminMixin

from .models import Order, OrderLine, Payment, PaymentNotification, Refund
from .services import review


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    fields = ["product_name", "spec", "unit_price", "quantity", "amount", "refunded_amount"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Money records change only through the services (provider reports, refunds)."""

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(ServiceTransitionsAdminMixin, admin.ModelAdmin):
    transition_services = {
        "confirm": lambda obj, actor: review.order_confirm(order=obj, actor=actor),
        "cancel": lambda obj, actor, reason: review.order_reject(
            order=obj, actor=actor, reason=reason
        ),
    }
    transitions_with_reason = ("cancel",)
    list_display = [
        "number",
        "member",
        "community",
        "schedule",
        "total",
        "refunded_total",
        "payment_method",
        "status",
        "created_at",
    ]
    list_filter = ["status", "payment_method", "fulfilment"]
    search_fields = ["number", "member__phone", "member__display_name", "schedule__title"]
    list_select_related = ["member", "community", "schedule"]
    date_hierarchy = "created_at"
    inlines = [OrderLineInline]
    readonly_fields = [
        "number",
        "member",
        "community",
        "schedule",
        "fulfilment",
        "pickup_point",
        "delivery_address",
        "note",
        "payment_method",
        "goods_total",
        "delivery_fee",
        "total",
        "refunded_total",
        "payment_deadline",
        "paid_at",
        "confirmed_at",
        "cancelled_at",
        "cancel_reason",
        "pickup_code",
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["trade_number", "order", "provider", "amount", "status", "succeeded_at"]
    list_filter = ["status", "provider"]
    search_fields = ["trade_number", "provider_reference", "order__number"]
    list_select_related = ["order"]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["refund_number", "order", "amount", "status", "attempts", "last_error"]
    list_filter = ["status"]
    search_fields = ["refund_number", "order__number"]
    list_select_related = ["order"]


@admin.register(PaymentNotification)
class PaymentNotificationAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "provider", "trade_number", "verified", "outcome"]
    list_filter = ["provider", "verified"]
    search_fields = ["trade_number"]
