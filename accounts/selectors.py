"""Every read of accounts data, scoped by the user asking."""

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from groupbuy.roles import Role

from .models import (
    Community,
    Membership,
    PickupPoint,
    ReviewStatus,
    SupplierMember,
    SupplierOrganization,
    User,
)


def user_roles(user: User) -> list[Role]:
    """Roles in a fixed order: member, leader, supplier, staff."""
    if not user.is_authenticated:
        return []
    roles = [Role.MEMBER]
    if Community.objects.filter(leader=user, status=ReviewStatus.APPROVED).exists():
        roles.append(Role.LEADER)
    if SupplierMember.objects.filter(user=user, supplier__status=ReviewStatus.APPROVED).exists():
        roles.append(Role.SUPPLIER)
    if user.is_staff:
        roles.append(Role.STAFF)
    return roles


# Members


def memberships_for_member(user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user, community__status=ReviewStatus.APPROVED)
        .select_related("community")
        .order_by("created_at")
    )


def community_for_member(user: User, community_id: int) -> Community:
    return get_object_or_404(
        Community.objects.filter(status=ReviewStatus.APPROVED, memberships__user=user),
        pk=community_id,
    )


def current_community_for_member(user: User) -> Community | None:
    """The member's chosen community, falling back to the first one joined."""
    memberships = memberships_for_member(user)
    if user.current_community_id:
        chosen = memberships.filter(community_id=user.current_community_id).first()
        if chosen:
            return chosen.community
    first = memberships.first()
    return first.community if first else None


def active_pickup_points(community: Community) -> QuerySet[PickupPoint]:
    return community.pickup_points.filter(is_active=True).order_by("id")


def community_by_invite_code(code: str) -> Community | None:
    return Community.objects.filter(
        invite_code=code.strip().upper(), status=ReviewStatus.APPROVED
    ).first()


# Leaders


def communities_led_by(user: User) -> QuerySet[Community]:
    return (
        Community.objects.filter(leader=user, status=ReviewStatus.APPROVED)
        .annotate(
            member_count=Count("memberships", distinct=True),
            pickup_point_count=Count(
                "pickup_points", filter=Q(pickup_points__is_active=True), distinct=True
            ),
        )
        .order_by("created_at")
    )


def community_for_leader(user: User, community_id: int) -> Community:
    return get_object_or_404(
        Community.objects.filter(leader=user, status=ReviewStatus.APPROVED), pk=community_id
    )


def pickup_point_for_leader(user: User, community_id: int, pickup_point_id: int) -> PickupPoint:
    return get_object_or_404(
        PickupPoint.objects.filter(
            community__leader=user,
            community__status=ReviewStatus.APPROVED,
            community_id=community_id,
        ),
        pk=pickup_point_id,
    )


def community_members_for_leader(community: Community) -> QuerySet[Membership]:
    return community.memberships.select_related("user").order_by("-created_at", "-id")


def leader_applications_of(user: User) -> QuerySet[Community]:
    return Community.objects.filter(leader=user).exclude(status=ReviewStatus.APPROVED)


def leader_application_for_applicant(user: User, community_id: int) -> Community:
    return get_object_or_404(
        Community.objects.filter(leader=user, status=ReviewStatus.REJECTED), pk=community_id
    )


# Suppliers


def supplier_membership_of(user: User) -> SupplierMember | None:
    if not user.is_authenticated:
        return None
    return SupplierMember.objects.select_related("supplier").filter(user=user).first()


def approved_supplier_for_user(user: User) -> SupplierOrganization:
    membership = get_object_or_404(
        SupplierMember.objects.select_related("supplier"),
        user=user,
        supplier__status=ReviewStatus.APPROVED,
    )
    return membership.supplier


def supplier_team(supplier: SupplierOrganization) -> QuerySet[SupplierMember]:
    return supplier.members.select_related("user")


# Platform staff


def supplier_review_queue(*, status: str = ReviewStatus.PENDING) -> QuerySet[SupplierOrganization]:
    return (
        SupplierOrganization.objects.filter(status=status)
        .annotate(user_count=Count("members"))
        .order_by("created_at", "id")
    )


def supplier_for_staff(supplier_id: int) -> SupplierOrganization:
    return get_object_or_404(SupplierOrganization, pk=supplier_id)


def leader_application_queue(*, status: str = ReviewStatus.PENDING) -> QuerySet[Community]:
    return (
        Community.objects.filter(status=status)
        .select_related("leader")
        .annotate(pickup_point_count=Count("pickup_points"))
        .order_by("created_at", "id")
    )


def community_for_staff(community_id: int) -> Community:
    return get_object_or_404(Community.objects.select_related("leader"), pk=community_id)


def user_by_login(login: str) -> User | None:
    login = login.strip()
    if not login:
        return None
    if "@" in login:
        return User.objects.filter(email__iexact=login).first()
    return User.objects.filter(phone=login).first()
