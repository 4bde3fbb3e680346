from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import models
from django.utils.translation import gettext_lazy as _

from groupbuy.admin_transitions import ServiceTransitionsAdminMixin

from . import services
from .models import Community, Membership, PickupPoint, SupplierMember, SupplierOrganization, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["-date_joined"]
    list_display = ["__str__", "phone", "email", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_active", "phone_verified", "preferred_language"]
    search_fields = ["phone", "email", "display_name"]
    readonly_fields = ["date_joined", "last_login"]
    fieldsets = [
        (None, {"fields": ["phone", "phone_verified", "email", "password"]}),
        (_("Profile"), {"fields": ["display_name", "preferred_language", "current_community"]}),
        (
            _("Permissions"),
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "phone", "password1", "password2"]}),
    ]
    raw_id_fields = ["current_community"]


class SupplierMemberInline(admin.TabularInline):
    model = SupplierMember
    extra = 0
    raw_id_fields = ["user"]


# Decisions in the admin run the same services as the staff review pages.
@admin.register(SupplierOrganization)
class SupplierOrganizationAdmin(ServiceTransitionsAdminMixin, admin.ModelAdmin):
    transition_services = {
        "approve": lambda obj, actor: services.supplier_approve(supplier=obj, actor=actor),
        "reject": lambda obj, actor, reason: services.supplier_reject(
            supplier=obj, actor=actor, reason=reason
        ),
    }
    transitions_with_reason = ("reject",)
    list_display = ["name", "licence_number", "contact_name", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["name", "licence_number", "contact_phone"]
    readonly_fields = ["reviewed_at", "reviewed_by"]
    inlines = [SupplierMemberInline]


class PickupPointInline(admin.TabularInline):
    model = PickupPoint
    extra = 0


@admin.register(Community)
class CommunityAdmin(ServiceTransitionsAdminMixin, admin.ModelAdmin):
    transition_services = {
        "approve": lambda obj, actor: services.community_approve(community=obj, actor=actor),
        "reject": lambda obj, actor, reason: services.community_reject(
            community=obj, actor=actor, reason=reason
        ),
    }
    transitions_with_reason = ("reject",)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["name", "area", "leader", "invite_code", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["name", "area", "invite_code", "leader__phone", "leader__email"]
    readonly_fields = ["invite_code", "reviewed_at", "reviewed_by"]
    raw_id_fields = ["leader"]
    inlines = [PickupPointInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "community", "created_at"]
    list_filter = ["community"]
    search_fields = ["user__phone", "user__display_name", "community__name"]
    raw_id_fields = ["user", "community"]
