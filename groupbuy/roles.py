"""Roles a user holds and the view mixins that require them.

Roles are derived from relations (supplier membership, led communities, community
memberships, the staff flag); ``accounts.middleware.RoleMiddleware`` puts them on the
request as ``request.roles`` and the one the user is acting as as ``request.active_role``.
"""

from django.contrib.auth.mixins import AccessMixin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    MEMBER = "member", _("Member")
    LEADER = "leader", _("Leader")
    SUPPLIER = "supplier", _("Supplier")
    STAFF = "staff", _("Platform staff")


ROLE_HOME_URL_NAMES = {
    Role.MEMBER: "accounts:member_home",
    Role.LEADER: "accounts:leader_home",
    Role.SUPPLIER: "accounts:supplier_home",
    Role.STAFF: "accounts:staff_home",
}


class RoleRequiredMixin(AccessMixin):
    """Anonymous users are sent to log in; signed-in users without the role get 403."""

    required_role: Role

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if self.required_role not in request.roles:
            raise PermissionDenied
        request.acting_role = self.required_role
        return super().dispatch(request, *args, **kwargs)


class MemberRequiredMixin(RoleRequiredMixin):
    required_role = Role.MEMBER


class LeaderRequiredMixin(RoleRequiredMixin):
    required_role = Role.LEADER


class SupplierRequiredMixin(RoleRequiredMixin):
    required_role = Role.SUPPLIER


class StaffRequiredMixin(RoleRequiredMixin):
    required_role = Role.STAFF
