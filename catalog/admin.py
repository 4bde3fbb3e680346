from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _
from django_fsm.admin import FSMAdminMixin

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


class _NoAdminTransitions(FSMAdminMixin):
    """Decisions go through the staff pages (catalog/views/staff.py): their services record
    who, when, from, to and why, and notify the supplier. The admin shows the state
    read-only (the field is protected) and offers no transition buttons; a hand-made
    transition POST is refused rather than applied unrecorded."""

    fsm_fields = ["status"]

    def is_fsm_transition_visible(self, transition) -> bool:
        return False

    def response_change(self, request, obj):
        if request.POST.get(self.fsm_post_param):
            self.message_user(
                request,
                _("State changes are made on the staff pages, where they are recorded."),
                level=messages.ERROR,
            )
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    def has_add_permission(self, request):
        # Offers are created by suppliers, contracts are issued by the approval service.
        return False


@admin.register(Offer)
class OfferAdmin(_NoAdminTransitions, admin.ModelAdmin):
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
class SupplierContractAdmin(_NoAdminTransitions, admin.ModelAdmin):
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
