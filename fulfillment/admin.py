from django.contrib import admin

from groupbuy.admin_transitions import ServiceTransitionsAdminMixin

from .models import (
    AfterSalesPhoto,
    AfterSalesRequest,
    PickupNotice,
    PurchaseOrder,
    PurchaseOrderLine,
    Review,
    ReviewPhoto,
    ShortageAllocation,
)
from .services import aftersales


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class PurchaseOrderLineInline(ReadOnlyInline):
    model = PurchaseOrderLine
    fields = [
        "product_name",
        "case_size",
        "ordered_units",
        "quantity",
        "unit_price",
        "declined",
        "shipped_quantity",
        "received_quantity",
        "short_quantity",
        "damaged_quantity",
    ]
    readonly_fields = fields


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(admin.ModelAdmin):
    """Read-only: purchase orders move through the leader's and supplier's pages."""

    list_display = ["number", "supplier", "community", "delivery_date", "status", "sent_at"]
    list_filter = ["status"]
    search_fields = ["number", "supplier__name", "community__name"]
    list_select_related = ["supplier", "community"]
    inlines = [PurchaseOrderLineInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ShortageAllocation)
class ShortageAllocationAdmin(admin.ModelAdmin):
    list_display = ["purchase_line", "order_line", "units", "amount", "refund", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PickupNotice)
class PickupNoticeAdmin(admin.ModelAdmin):
    list_display = ["schedule", "place", "window_start", "window_end", "sent_by", "created_at"]
    list_select_related = ["schedule", "sent_by"]

    def has_add_permission(self, request):
        return False


class ReviewPhotoInline(ReadOnlyInline):
    model = ReviewPhoto
    fields = ["image"]
    readonly_fields = fields


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["offer", "member", "rating", "created_at"]
    list_filter = ["rating"]
    search_fields = ["text", "offer__product__name"]
    list_select_related = ["offer__product", "member"]
    inlines = [ReviewPhotoInline]

    def has_add_permission(self, request):
        return False


class AfterSalesPhotoInline(ReadOnlyInline):
    model = AfterSalesPhoto
    fields = ["image"]
    readonly_fields = fields


@admin.register(AfterSalesRequest)
class AfterSalesRequestAdmin(ServiceTransitionsAdminMixin, admin.ModelAdmin):
    transition_services = {
        "approve": lambda obj, actor: aftersales.after_sales_approve(request=obj, actor=actor),
        "reject": lambda obj, actor, reason: aftersales.after_sales_reject(
            request=obj, actor=actor, reason=reason
        ),
    }
    transitions_with_reason = ("reject",)
    list_display = ["number", "community", "member", "reason", "requested_amount", "status"]
    list_filter = ["status", "reason"]
    search_fields = ["number", "member__phone", "member__display_name"]
    list_select_related = ["community", "member"]
    readonly_fields = [
        "number",
        "order",
        "order_line",
        "member",
        "community",
        "reason",
        "description",
        "requested_amount",
        "decision_reason",
        "decided_by",
        "decided_at",
        "escalated_at",
        "refund",
    ]
    inlines = [AfterSalesPhotoInline]

    def has_add_permission(self, request):
        return False
