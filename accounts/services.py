"""Every write to accounts data. Each spans one transaction; transitions are recorded."""

import secrets
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from groupbuy.exceptions import DomainError
from groupbuy.services import state_change_record
from notifications.services import notify

from .models import (
    Community,
    Membership,
    PickupPoint,
    ReviewedApplication,
    ReviewStatus,
    SupplierMember,
    SupplierOrganization,
    User,
)
from .selectors import user_by_login

INVITE_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L look-alikes
INVITE_CODE_LENGTH = 6


# Users


def user_update_profile(*, user: User, display_name: str, preferred_language: str) -> User:
    user.display_name = display_name.strip()
    user.preferred_language = preferred_language
    user.save(update_fields=["display_name", "preferred_language"])
    return user


def user_set_language(*, user: User, language: str) -> None:
    if user.is_authenticated and user.preferred_language != language:
        user.preferred_language = language
        user.save(update_fields=["preferred_language"])


# Reviews shared by supplier registrations and leader applications


def _review_transition(
    *, application: ReviewedApplication, transition_name: str, actor: User, reason: str = ""
):
    if transition_name == "reject" and not reason.strip():
        raise DomainError(_("Give a reason for the rejection."), field="reason")
    from_state = application.status
    getattr(application, transition_name)()
    application.review_reason = reason.strip()
    application.reviewed_by = actor
    application.reviewed_at = timezone.now()
    application.save()
    state_change_record(
        subject=application,
        transition=transition_name,
        from_state=from_state,
        to_state=application.status,
        actor=actor,
        reason=application.review_reason,
    )


def _locked(model, pk):
    return model.objects.select_for_update().get(pk=pk)


# Suppliers


@transaction.atomic
def supplier_register(
    *,
    user: User,
    name: str,
    licence_number: str,
    contact_name: str,
    contact_phone: str,
    address: str,
) -> SupplierOrganization:
    if SupplierMember.objects.filter(user=user).exists():
        raise DomainError(_("You already belong to a supplier."))
    licence_number = licence_number.strip().upper()
    if SupplierOrganization.objects.filter(licence_number=licence_number).exists():
        raise DomainError(
            _("A supplier with this licence number is already registered."),
            field="licence_number",
        )
    supplier = SupplierOrganization.objects.create(
        name=name.strip(),
        licence_number=licence_number,
        contact_name=contact_name.strip(),
        contact_phone=contact_phone,
        address=address.strip(),
    )
    SupplierMember.objects.create(supplier=supplier, user=user, is_owner=True)
    state_change_record(
        subject=supplier,
        transition="register",
        from_state="",
        to_state=supplier.status,
        actor=user,
    )
    return supplier


@transaction.atomic
def supplier_approve(*, supplier: SupplierOrganization, actor: User) -> SupplierOrganization:
    supplier = _locked(SupplierOrganization, supplier.pk)
    _review_transition(application=supplier, transition_name="approve", actor=actor)
    _notify_supplier_team(supplier=supplier, kind="supplier_approved", actor=actor)
    return supplier


@transaction.atomic
def supplier_reject(
    *, supplier: SupplierOrganization, actor: User, reason: str
) -> SupplierOrganization:
    supplier = _locked(SupplierOrganization, supplier.pk)
    _review_transition(application=supplier, transition_name="reject", actor=actor, reason=reason)
    _notify_supplier_team(supplier=supplier, kind="supplier_rejected", actor=actor)
    return supplier


def _notify_supplier_team(*, supplier: SupplierOrganization, kind: str, actor: User) -> None:
    notify(
        recipients=User.objects.filter(supplier_membership__supplier=supplier),
        kind=kind,
        about=supplier,
        sender=actor,
        context={"supplier_name": supplier.name, "reason": supplier.review_reason},
        link=reverse(
            "accounts:supplier_home" if kind == "supplier_approved" else "accounts:supplier_status"
        ),
    )


@transaction.atomic
def supplier_resubmit(
    *,
    supplier: SupplierOrganization,
    actor: User,
    name: str,
    contact_name: str,
    contact_phone: str,
    address: str,
) -> SupplierOrganization:
    supplier = _locked(SupplierOrganization, supplier.pk)
    if not supplier.members.filter(user=actor, is_owner=True).exists():
        raise DomainError(_("Only the supplier's owner can resubmit the registration."))
    from_state = supplier.status
    supplier.resubmit()
    supplier.name = name.strip()
    supplier.contact_name = contact_name.strip()
    supplier.contact_phone = contact_phone
    supplier.address = address.strip()
    supplier.save()
    state_change_record(
        subject=supplier,
        transition="resubmit",
        from_state=from_state,
        to_state=supplier.status,
        actor=actor,
    )
    return supplier


@transaction.atomic
def supplier_member_add(
    *, supplier: SupplierOrganization, actor: User, login: str
) -> SupplierMember:
    if not supplier.members.filter(user=actor, is_owner=True).exists():
        raise DomainError(_("Only the supplier's owner can add colleagues."))
    colleague = user_by_login(login)
    if colleague is None:
        raise DomainError(
            _("No account uses this phone number or e-mail. Ask your colleague to sign up first."),
            field="login",
        )
    if SupplierMember.objects.filter(user=colleague).exists():
        raise DomainError(_("This person already belongs to a supplier."), field="login")
    return SupplierMember.objects.create(supplier=supplier, user=colleague, is_owner=False)


# Communities and leaders


def _new_invite_code() -> str:
    return "".join(secrets.choice(INVITE_CODE_ALPHABET) for _ in range(INVITE_CODE_LENGTH))


def _create_with_unique_invite_code(**fields) -> Community:
    for _attempt in range(10):
        try:
            with transaction.atomic():
                return Community.objects.create(invite_code=_new_invite_code(), **fields)
        except IntegrityError:
            continue
    raise DomainError(_("Could not allocate an invite code; please try again."))


@transaction.atomic
def community_apply(
    *,
    user: User,
    name: str,
    area: str,
    contact_phone: str,
    description: str = "",
    pickup_points: Iterable[dict],
) -> Community:
    """A user applies to lead a community; staff approve or reject the application."""
    pickup_points = [p for p in pickup_points if p]
    if not pickup_points:
        raise DomainError(_("Add at least one pickup point."))
    if Community.objects.filter(leader=user, status=ReviewStatus.PENDING).exists():
        raise DomainError(_("You already have an application waiting for review."))
    community = _create_with_unique_invite_code(
        name=name.strip(),
        area=area.strip(),
        contact_phone=contact_phone,
        description=description.strip(),
        leader=user,
    )
    for point in pickup_points:
        PickupPoint.objects.create(community=community, **point)
    state_change_record(
        subject=community, transition="apply", from_state="", to_state=community.status, actor=user
    )
    return community


@transaction.atomic
def community_approve(*, community: Community, actor: User) -> Community:
    community = _locked(Community, community.pk)
    _review_transition(application=community, transition_name="approve", actor=actor)
    # The leader is a member of her own community too.
    _membership_ensure(user=community.leader, community=community)
    _notify_applicant(community=community, kind="leader_approved", actor=actor)
    return community


def _notify_applicant(*, community: Community, kind: str, actor: User) -> None:
    notify(
        recipients=[community.leader],
        kind=kind,
        about=community,
        sender=actor,
        context={"community_name": community.name, "reason": community.review_reason},
        link=reverse(
            "accounts:leader_home" if kind == "leader_approved" else "accounts:member_home"
        ),
    )


@transaction.atomic
def community_reject(*, community: Community, actor: User, reason: str) -> Community:
    community = _locked(Community, community.pk)
    _review_transition(application=community, transition_name="reject", actor=actor, reason=reason)
    _notify_applicant(community=community, kind="leader_rejected", actor=actor)
    return community


@transaction.atomic
def community_resubmit(
    *, community: Community, actor: User, name: str, area: str, contact_phone: str, description: str
) -> Community:
    community = _locked(Community, community.pk)
    if community.leader_id != actor.pk:
        raise DomainError(_("Only the applicant can resubmit the application."))
    if Community.objects.filter(leader=actor, status=ReviewStatus.PENDING).exists():
        raise DomainError(_("You already have an application waiting for review."))
    from_state = community.status
    community.resubmit()
    community.name = name.strip()
    community.area = area.strip()
    community.contact_phone = contact_phone
    community.description = description.strip()
    community.save()
    state_change_record(
        subject=community,
        transition="resubmit",
        from_state=from_state,
        to_state=community.status,
        actor=actor,
    )
    return community


def _membership_ensure(*, user: User, community: Community) -> Membership:
    membership, _created = Membership.objects.get_or_create(user=user, community=community)
    if user.current_community_id is None:
        user.current_community = community
        user.save(update_fields=["current_community"])
    return membership


@transaction.atomic
def community_join(*, user: User, community: Community) -> Membership:
    """Join by invite link, QR code or code; joining twice is harmless."""
    if community.status != ReviewStatus.APPROVED:
        raise DomainError(_("This community is not open yet."))
    already_member = Membership.objects.filter(user=user, community=community).exists()
    membership = _membership_ensure(user=user, community=community)
    community_set_current(user=user, community=community)
    if not already_member:
        notify(
            recipients=[user],
            kind="community_welcome",
            about=community,
            community=community,
            context={"community_name": community.name},
            link=reverse("accounts:member_home"),
        )
    return membership


def community_set_current(*, user: User, community: Community) -> None:
    if not Membership.objects.filter(user=user, community=community).exists():
        raise DomainError(_("You are not a member of this community."))
    if user.current_community_id != community.pk:
        user.current_community = community
        user.save(update_fields=["current_community"])


def community_update(
    *,
    community: Community,
    name: str,
    area: str,
    contact_phone: str,
    description: str,
    wechat_robot_webhook: str = "",
) -> Community:
    community.name = name.strip()
    community.area = area.strip()
    community.contact_phone = contact_phone
    community.description = description.strip()
    community.wechat_robot_webhook = wechat_robot_webhook.strip()
    community.save(
        update_fields=[
            "name",
            "area",
            "contact_phone",
            "description",
            "wechat_robot_webhook",
            "updated_at",
        ]
    )
    return community


def pickup_point_create(
    *, community: Community, name: str, address: str, opening_hours: str, contact_phone: str
) -> PickupPoint:
    return PickupPoint.objects.create(
        community=community,
        name=name.strip(),
        address=address.strip(),
        opening_hours=opening_hours.strip(),
        contact_phone=contact_phone,
    )


def pickup_point_update(
    *,
    pickup_point: PickupPoint,
    name: str,
    address: str,
    opening_hours: str,
    contact_phone: str,
    is_active: bool,
) -> PickupPoint:
    # Judge by the rows, not pickup_point.is_active: a bound ModelForm has already set
    # the instance's fields to the submitted values.
    if not is_active:
        others = pickup_point.community.pickup_points.filter(is_active=True).exclude(
            pk=pickup_point.pk
        )
        if not others.exists():
            raise DomainError(
                _("A community needs at least one pickup point in use."), field="is_active"
            )
    pickup_point.name = name.strip()
    pickup_point.address = address.strip()
    pickup_point.opening_hours = opening_hours.strip()
    pickup_point.contact_phone = contact_phone
    pickup_point.is_active = is_active
    pickup_point.save()
    return pickup_point
