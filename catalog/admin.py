from django.contrib import admin

from groupbuy.admin_transitions import ServiceTransitionsAdminMixin

from . import services
from .models import Category, ContractStatus, Offer, Product, ProductImage, SupplierContract


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "position"]
    list_editable = ["position"]
    search_fields = ["code", "name", "name_en"]


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    extra = 0


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "spec", "unit", "category", "storage", "supplier", "created_at"]
    list_filter = ["category", "storage"]
    search_fields = ["name", "name_en", "brand", "barcode", "supplier__name"]
    list_select_related = ["category", "supplier"]
    raw_id_fields = ["supplier"]
    inlines = [ProductImageInline]


class _StaffDecisionsAdmin(ServiceTransitionsAdminMixin):
    """Admin transition buttons run the same services as the staff pages (audit, notices)."""

    def has_add_permission(self, request):
        # Offers are created by suppliers, contracts are issued by the approval service.
        return False


@admin.register(Offer)
class OfferAdmin(_StaffDecisionsAdmin, admin.ModelAdmin):
    transition_services = {
        "approve": lambda obj, actor: services.offer_approve(offer=obj, actor=actor),
        "reject": lambda obj, actor, reason: services.offer_reject(
            offer=obj, actor=actor, reason=reason
        ),
        "request_changes": lambda obj, actor, reason: services.offer_request_changes(
            offer=obj, actor=actor, reason=reason
        ),
        "suspend": lambda obj, actor, reason: services.offer_suspend(
            offer=obj, actor=actor, reason=reason
        ),
        "reinstate": lambda obj, actor: services.offer_reinstate(offer=obj, actor=actor),
    }
    transitions_with_reason = ("reject", "request_changes", "suspend")
    list_display = [
        "product",
        "supplier",
        "supply_price",
        "retail_price",
        "valid_until",
        "status",
        "submitted_at",
        "decided_at",
    ]
    list_filter = ["status", "product__category", "valid_until"]
    search_fields = ["product__name", "product__name_en", "supplier__name"]
    list_select_related = ["product", "supplier"]
    raw_id_fields = ["supplier", "product", "revision_of"]
    readonly_fields = ["submitted_at", "decided_at", "review_reason"]
    date_hierarchy = "submitted_at"

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and not obj.is_editable:
            # An offer under review or decided never changes: a change is a new revision.
            fields += ["supplier", "product", "revision_of", *Offer.TERM_FIELDS]
        return fields


@admin.register(SupplierContract)
class SupplierContractAdmin(_StaffDecisionsAdmin, admin.ModelAdmin):
    transition_services = {
        "terminate": lambda obj, actor, reason: services.contract_terminate(
            contract=obj, actor=actor, reason=reason
        ),
    }
    transitions_with_reason = ("terminate",)
    list_display = [
        "supplier",
        "terms_version",
        "commission_rate",
        "valid_from",
        "valid_until",
        "status",
        "signed_at",
    ]
    list_filter = ["status", "terms_version"]
    search_fields = ["supplier__name", "signed_name"]
    list_select_related = ["supplier"]
    raw_id_fields = ["supplier"]
    readonly_fields = [
        "issued_by",
        "signed_by",
        "signed_name",
        "signed_at",
        "signed_ip",
        "ended_reason",
    ]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.status != ContractStatus.PENDING_SIGNATURE:
            # What the supplier signed stays as signed.
            fields += [
                "supplier",
                "terms_version",
                "terms_text",
                "commission_rate",
                "fee_terms",
                "valid_from",
                "valid_until",
            ]
        return fields
