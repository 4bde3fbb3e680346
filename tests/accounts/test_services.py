"""accounts.services: every write, its business rules and its audit trail."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django_fsm import TransitionNotAllowed

from accounts import services
from accounts.models import (
    Community,
    Membership,
    PickupPoint,
    ReviewStatus,
    SupplierMember,
    SupplierOrganization,
)
from groupbuy.exceptions import DomainError
from groupbuy.models import StateChange
from tests.factories import (
    CommunityFactory,
    MembershipFactory,
    PickupPointFactory,
    StaffFactory,
    SupplierFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _changes(obj):
    return StateChange.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk
    ).order_by("id")


def _register_kwargs(**overrides):
    data = {
        "name": " 鲜果供应链 ",
        "licence_number": " 91310000ma1fl1xq2k ",
        "contact_name": "李四",
        "contact_phone": "+8613900009999",
        "address": "上海市闵行区",
    }
    data.update(overrides)
    return data


POINT = {
    "name": "东门快递柜",
    "address": "花木路 200 号",
    "opening_hours": "每天 08:00-22:00",
    "contact_phone": "+8613900005555",
}


def _apply_kwargs(**overrides):
    data = {
        "name": " 阳光小区 ",
        "area": "浦东新区 花木街道",
        "contact_phone": "+8613900006666",
        "description": "",
        "pickup_points": [POINT],
    }
    data.update(overrides)
    return data


# Suppliers


class TestSupplierRegister:
    def test_creates_pending_supplier_owned_by_user_with_audit_row(self):
        user = UserFactory()
        supplier = services.supplier_register(user=user, **_register_kwargs())

        assert supplier.status == ReviewStatus.PENDING
        assert supplier.name == "鲜果供应链"
        assert supplier.licence_number == "91310000MA1FL1XQ2K"
        member = SupplierMember.objects.get(user=user)
        assert member.supplier == supplier
        assert member.is_owner
        (change,) = _changes(supplier)
        assert (change.transition, change.from_state, change.to_state, change.actor) == (
            "register",
            "",
            ReviewStatus.PENDING,
            user,
        )

    def test_duplicate_licence_is_refused_on_the_licence_field(self):
        SupplierFactory(licence_number="91310000MA1FL1XQ2K")
        user = UserFactory()
        before = SupplierOrganization.objects.count()

        with pytest.raises(DomainError) as excinfo:
            # Same number, other case and padding: still the same licence.
            services.supplier_register(user=user, **_register_kwargs())

        assert excinfo.value.field == "licence_number"
        assert SupplierOrganization.objects.count() == before
        assert not SupplierMember.objects.filter(user=user).exists()

    def test_user_already_in_a_supplier_is_refused(self):
        existing = SupplierFactory()
        owner = existing.members.get().user
        before = SupplierOrganization.objects.count()

        with pytest.raises(DomainError):
            services.supplier_register(user=owner, **_register_kwargs())

        assert SupplierOrganization.objects.count() == before
        assert SupplierMember.objects.filter(user=owner).count() == 1


class TestSupplierReview:
    def test_approve_records_reviewer_and_audit_row(self):
        supplier = SupplierFactory()
        staff = StaffFactory()

        result = services.supplier_approve(supplier=supplier, actor=staff)

        supplier.refresh_from_db()
        assert result.status == supplier.status == ReviewStatus.APPROVED
        assert supplier.reviewed_by == staff
        assert supplier.reviewed_at is not None
        change = _changes(supplier).last()
        assert change.transition == "approve"
        assert change.from_state == ReviewStatus.PENDING
        assert change.to_state == ReviewStatus.APPROVED
        assert change.actor == staff
        assert change.reason == ""

    def test_reject_records_reason_in_audit_row(self):
        supplier = SupplierFactory()
        staff = StaffFactory()

        services.supplier_reject(supplier=supplier, actor=staff, reason="  执照过期  ")

        supplier.refresh_from_db()
        assert supplier.status == ReviewStatus.REJECTED
        assert supplier.review_reason == "执照过期"
        assert supplier.reviewed_by == staff
        change = _changes(supplier).last()
        assert (change.transition, change.from_state, change.to_state) == (
            "reject",
            ReviewStatus.PENDING,
            ReviewStatus.REJECTED,
        )
        assert change.actor == staff
        assert change.reason == "执照过期"

    @pytest.mark.parametrize("reason", ["", "   "])
    def test_reject_without_reason_changes_nothing(self, reason):
        supplier = SupplierFactory()
        audit_rows = _changes(supplier).count()

        with pytest.raises(DomainError) as excinfo:
            services.supplier_reject(supplier=supplier, actor=StaffFactory(), reason=reason)

        assert excinfo.value.field == "reason"
        supplier.refresh_from_db()
        assert supplier.status == ReviewStatus.PENDING
        assert supplier.reviewed_by is None
        assert supplier.reviewed_at is None
        assert _changes(supplier).count() == audit_rows

    def test_approving_twice_is_not_allowed_and_writes_no_audit_row(self):
        supplier = SupplierFactory(status=ReviewStatus.APPROVED)
        audit_rows = _changes(supplier).count()

        with pytest.raises(TransitionNotAllowed):
            services.supplier_approve(supplier=supplier, actor=StaffFactory())

        assert _changes(supplier).count() == audit_rows

    def test_review_reads_the_current_row_not_a_stale_copy(self):
        supplier = SupplierFactory()
        stale = SupplierOrganization.objects.get(pk=supplier.pk)
        services.supplier_reject(supplier=supplier, actor=StaffFactory(), reason="照片模糊")

        with pytest.raises(TransitionNotAllowed):
            services.supplier_approve(supplier=stale, actor=StaffFactory())
        supplier.refresh_from_db()
        assert supplier.status == ReviewStatus.REJECTED


class TestSupplierResubmit:
    def _resubmit(self, supplier, actor):
        return services.supplier_resubmit(
            supplier=supplier,
            actor=actor,
            name="新名称",
            contact_name="王五",
            contact_phone="+8613900007777",
            address="新地址",
        )

    def test_owner_resubmits_a_rejected_registration(self):
        supplier = SupplierFactory(status=ReviewStatus.REJECTED)
        owner = supplier.members.get(is_owner=True).user

        result = self._resubmit(supplier, owner)

        supplier.refresh_from_db()
        assert result.status == supplier.status == ReviewStatus.PENDING
        assert supplier.name == "新名称"
        assert supplier.contact_phone == "+8613900007777"
        change = _changes(supplier).last()
        assert (change.transition, change.from_state, change.to_state, change.actor) == (
            "resubmit",
            ReviewStatus.REJECTED,
            ReviewStatus.PENDING,
            owner,
        )

    def test_colleague_who_is_not_owner_cannot_resubmit(self):
        supplier = SupplierFactory(status=ReviewStatus.REJECTED)
        colleague = UserFactory()
        SupplierMember.objects.create(supplier=supplier, user=colleague, is_owner=False)

        with pytest.raises(DomainError):
            self._resubmit(supplier, colleague)

        supplier.refresh_from_db()
        assert supplier.status == ReviewStatus.REJECTED
        assert supplier.name != "新名称"

    def test_outsider_cannot_resubmit(self):
        supplier = SupplierFactory(status=ReviewStatus.REJECTED)

        with pytest.raises(DomainError):
            self._resubmit(supplier, UserFactory())

        supplier.refresh_from_db()
        assert supplier.status == ReviewStatus.REJECTED

    def test_pending_registration_cannot_be_resubmitted(self):
        supplier = SupplierFactory()
        owner = supplier.members.get().user

        with pytest.raises(TransitionNotAllowed):
            self._resubmit(supplier, owner)


class TestSupplierMemberAdd:
    def test_owner_adds_colleague_by_phone(self):
        supplier = SupplierFactory(status=ReviewStatus.APPROVED)
        owner = supplier.members.get().user
        colleague = UserFactory(phone="+8613812340000")

        member = services.supplier_member_add(
            supplier=supplier, actor=owner, login=" +8613812340000 "
        )

        assert member.user == colleague
        assert member.supplier == supplier
        assert not member.is_owner

    def test_owner_adds_colleague_by_email_case_insensitively(self):
        supplier = SupplierFactory(status=ReviewStatus.APPROVED)
        owner = supplier.members.get().user
        colleague = UserFactory(email="colleague@example.com")

        member = services.supplier_member_add(
            supplier=supplier, actor=owner, login="Colleague@Example.com"
        )

        assert member.user == colleague

    @pytest.mark.parametrize("login", ["+8613899990000", "nobody@example.com", "   "])
    def test_unknown_login_is_refused_on_the_login_field(self, login):
        supplier = SupplierFactory(status=ReviewStatus.APPROVED)
        owner = supplier.members.get().user

        with pytest.raises(DomainError) as excinfo:
            services.supplier_member_add(supplier=supplier, actor=owner, login=login)

        assert excinfo.value.field == "login"
        assert supplier.members.count() == 1

    def test_person_already_in_a_supplier_is_refused(self):
        supplier = SupplierFactory(status=ReviewStatus.APPROVED)
        owner = supplier.members.get().user
        other_owner = SupplierFactory().members.get().user

        with pytest.raises(DomainError) as excinfo:
            services.supplier_member_add(supplier=supplier, actor=owner, login=other_owner.phone)

        assert excinfo.value.field == "login"
        assert other_owner.supplier_membership.supplier != supplier
        assert supplier.members.count() == 1

    def test_non_owner_cannot_add(self):
        supplier = SupplierFactory(status=ReviewStatus.APPROVED)
        colleague = UserFactory()
        SupplierMember.objects.create(supplier=supplier, user=colleague, is_owner=False)
        newcomer = UserFactory()

        with pytest.raises(DomainError):
            services.supplier_member_add(supplier=supplier, actor=colleague, login=newcomer.phone)

        assert not SupplierMember.objects.filter(user=newcomer).exists()

    def test_owner_of_another_supplier_cannot_add(self):
        supplier = SupplierFactory(status=ReviewStatus.APPROVED)
        stranger = SupplierFactory(status=ReviewStatus.APPROVED).members.get().user
        newcomer = UserFactory()

        with pytest.raises(DomainError):
            services.supplier_member_add(supplier=supplier, actor=stranger, login=newcomer.phone)

        assert not SupplierMember.objects.filter(user=newcomer).exists()


# Communities


class TestCommunityApply:
    def test_creates_pending_community_with_points_and_invite_code(self):
        user = UserFactory()

        community = services.community_apply(user=user, **_apply_kwargs())

        assert community.status == ReviewStatus.PENDING
        assert community.leader == user
        assert community.name == "阳光小区"
        assert list(community.pickup_points.values_list("name", flat=True)) == ["东门快递柜"]
        assert len(community.invite_code) == services.INVITE_CODE_LENGTH == 6
        assert set(community.invite_code) <= set(services.INVITE_CODE_ALPHABET)
        change = _changes(community).get()
        assert (change.transition, change.from_state, change.to_state, change.actor) == (
            "apply",
            "",
            ReviewStatus.PENDING,
            user,
        )
        # An application does not make anyone a member yet.
        assert not Membership.objects.filter(community=community).exists()

    def test_invite_code_alphabet_has_no_look_alikes(self):
        assert not set("01IO") & set(services.INVITE_CODE_ALPHABET)

    def test_invite_codes_are_drawn_from_the_alphabet(self):
        codes = {services._new_invite_code() for _ in range(200)}
        assert all(len(code) == 6 for code in codes)
        assert set("".join(codes)) <= set(services.INVITE_CODE_ALPHABET)
        assert len(codes) > 150  # random, not a constant

    @pytest.mark.parametrize("points", [[], [{}], [{}, {}]])
    def test_needs_at_least_one_pickup_point(self, points):
        user = UserFactory()

        with pytest.raises(DomainError):
            services.community_apply(user=user, **_apply_kwargs(pickup_points=points))

        assert not Community.objects.filter(leader=user).exists()
        assert not PickupPoint.objects.exists()

    def test_only_one_pending_application_at_a_time(self):
        user = UserFactory()
        services.community_apply(user=user, **_apply_kwargs())

        with pytest.raises(DomainError):
            services.community_apply(user=user, **_apply_kwargs(name="第二个小区"))

        assert Community.objects.filter(leader=user).count() == 1

    def test_may_apply_again_after_approval_or_rejection(self):
        user = UserFactory()
        CommunityFactory(leader=user)
        CommunityFactory(leader=user, status=ReviewStatus.REJECTED)

        services.community_apply(user=user, **_apply_kwargs(name="第三个小区"))

        assert Community.objects.filter(leader=user).count() == 3

    def test_invite_code_collision_is_retried(self, monkeypatch):
        taken = CommunityFactory().invite_code
        codes = iter([taken, taken, "ABCDEF"])
        monkeypatch.setattr(services, "_new_invite_code", lambda: next(codes))

        community = services.community_apply(user=UserFactory(), **_apply_kwargs())

        assert community.invite_code == "ABCDEF"
        assert community.pickup_points.count() == 1

    def test_gives_up_when_no_invite_code_is_free(self, monkeypatch):
        taken = CommunityFactory().invite_code
        monkeypatch.setattr(services, "_new_invite_code", lambda: taken)
        user = UserFactory()

        with pytest.raises(DomainError):
            services.community_apply(user=user, **_apply_kwargs())

        assert not Community.objects.filter(leader=user).exists()


class TestCommunityReview:
    def test_approve_makes_the_leader_a_member_with_current_community(self):
        user = UserFactory()
        community = services.community_apply(user=user, **_apply_kwargs())
        staff = StaffFactory()

        services.community_approve(community=community, actor=staff)

        community.refresh_from_db()
        user.refresh_from_db()
        assert community.status == ReviewStatus.APPROVED
        assert community.reviewed_by == staff
        assert Membership.objects.filter(user=user, community=community).count() == 1
        assert user.current_community == community
        change = _changes(community).last()
        assert (change.transition, change.from_state, change.to_state, change.actor) == (
            "approve",
            ReviewStatus.PENDING,
            ReviewStatus.APPROVED,
            staff,
        )

    def test_approve_keeps_the_leaders_existing_current_community(self):
        elsewhere = CommunityFactory()
        user = UserFactory()
        MembershipFactory(user=user, community=elsewhere)
        community = services.community_apply(user=user, **_apply_kwargs())

        services.community_approve(community=community, actor=StaffFactory())

        user.refresh_from_db()
        assert user.current_community == elsewhere
        assert Membership.objects.filter(user=user, community=community).exists()

    def test_reject_records_reason_and_adds_no_membership(self):
        community = CommunityFactory(status=ReviewStatus.PENDING)
        staff = StaffFactory()

        services.community_reject(community=community, actor=staff, reason="地址不详")

        community.refresh_from_db()
        assert community.status == ReviewStatus.REJECTED
        assert community.review_reason == "地址不详"
        assert not Membership.objects.filter(community=community).exists()
        change = _changes(community).last()
        assert (change.from_state, change.to_state, change.reason, change.actor) == (
            ReviewStatus.PENDING,
            ReviewStatus.REJECTED,
            "地址不详",
            staff,
        )

    def test_reject_without_reason_changes_nothing(self):
        community = CommunityFactory(status=ReviewStatus.PENDING)
        audit_rows = _changes(community).count()

        with pytest.raises(DomainError) as excinfo:
            services.community_reject(community=community, actor=StaffFactory(), reason=" ")

        assert excinfo.value.field == "reason"
        community.refresh_from_db()
        assert community.status == ReviewStatus.PENDING
        assert community.reviewed_by is None
        assert _changes(community).count() == audit_rows


class TestCommunityResubmit:
    def _resubmit(self, community, actor):
        return services.community_resubmit(
            community=community,
            actor=actor,
            name="改名小区",
            area="徐汇区",
            contact_phone="+8613900008888",
            description="补充了自提点",
        )

    def test_applicant_resubmits(self):
        community = CommunityFactory(status=ReviewStatus.REJECTED)

        self._resubmit(community, community.leader)

        community.refresh_from_db()
        assert community.status == ReviewStatus.PENDING
        assert community.name == "改名小区"
        change = _changes(community).last()
        assert (change.transition, change.from_state, change.to_state, change.actor) == (
            "resubmit",
            ReviewStatus.REJECTED,
            ReviewStatus.PENDING,
            community.leader,
        )

    def test_only_the_applicant_may_resubmit(self):
        community = CommunityFactory(status=ReviewStatus.REJECTED)

        with pytest.raises(DomainError):
            self._resubmit(community, UserFactory())

        community.refresh_from_db()
        assert community.status == ReviewStatus.REJECTED

    def test_not_while_another_application_is_pending(self):
        community = CommunityFactory(status=ReviewStatus.REJECTED)
        CommunityFactory(leader=community.leader, status=ReviewStatus.PENDING)

        with pytest.raises(DomainError):
            self._resubmit(community, community.leader)

        community.refresh_from_db()
        assert community.status == ReviewStatus.REJECTED


class TestCommunityJoin:
    def test_join_is_idempotent_and_sets_current_community(self):
        community = CommunityFactory()
        user = UserFactory()

        first = services.community_join(user=user, community=community)
        second = services.community_join(user=user, community=community)

        assert first == second
        assert Membership.objects.filter(user=user, community=community).count() == 1
        user.refresh_from_db()
        assert user.current_community == community

    def test_joining_another_community_makes_it_current(self):
        first, second = CommunityFactory(), CommunityFactory()
        user = UserFactory()
        services.community_join(user=user, community=first)

        services.community_join(user=user, community=second)

        user.refresh_from_db()
        assert user.current_community == second
        assert user.memberships.count() == 2

    @pytest.mark.parametrize("status", [ReviewStatus.PENDING, ReviewStatus.REJECTED])
    def test_refuses_a_community_that_is_not_open(self, status):
        community = CommunityFactory(status=status)
        user = UserFactory()

        with pytest.raises(DomainError):
            services.community_join(user=user, community=community)

        assert not Membership.objects.filter(user=user).exists()
        user.refresh_from_db()
        assert user.current_community is None


class TestCommunitySetCurrent:
    def test_member_switches_current_community(self):
        first, second = CommunityFactory(), CommunityFactory()
        user = UserFactory()
        MembershipFactory(user=user, community=first)
        MembershipFactory(user=user, community=second)

        services.community_set_current(user=user, community=first)

        user.refresh_from_db()
        assert user.current_community == first

    def test_must_be_a_member(self):
        mine, theirs = CommunityFactory(), CommunityFactory()
        user = UserFactory()
        MembershipFactory(user=user, community=mine)

        with pytest.raises(DomainError):
            services.community_set_current(user=user, community=theirs)

        user.refresh_from_db()
        assert user.current_community == mine


class TestCommunityUpdate:
    def test_update_strips_and_saves(self):
        community = CommunityFactory()

        services.community_update(
            community=community,
            name=" 新名字 ",
            area=" 静安区 ",
            contact_phone="+8613911112222",
            description=" 说明 ",
        )

        community.refresh_from_db()
        assert (community.name, community.area, community.description) == (
            "新名字",
            "静安区",
            "说明",
        )
        assert community.contact_phone == "+8613911112222"


class TestPickupPoints:
    def _update(self, point, **overrides):
        data = {
            "name": point.name,
            "address": point.address,
            "opening_hours": point.opening_hours,
            "contact_phone": point.contact_phone,
            "is_active": point.is_active,
        }
        data.update(overrides)
        return services.pickup_point_update(pickup_point=point, **data)

    def test_create(self):
        community = CommunityFactory()

        point = services.pickup_point_create(
            community=community,
            name=" 西门 ",
            address=" 花木路 2 号 ",
            opening_hours="每天 10:00-20:00",
            contact_phone="+8613900001234",
        )

        assert point.community == community
        assert point.name == "西门"
        assert point.is_active
        assert community.pickup_points.count() == 2

    def test_cannot_deactivate_the_last_active_point(self):
        community = CommunityFactory()
        (point,) = community.pickup_points.all()

        with pytest.raises(DomainError) as excinfo:
            self._update(point, is_active=False, name="改名")

        assert excinfo.value.field == "is_active"
        point.refresh_from_db()
        assert point.is_active
        assert point.name != "改名"

    def test_last_point_check_does_not_trust_the_in_memory_instance(self):
        # A bound ModelForm sets instance.is_active = False before the service runs.
        community = CommunityFactory()
        (point,) = community.pickup_points.all()
        point.is_active = False

        with pytest.raises(DomainError):
            self._update(point, is_active=False)

        assert PickupPoint.objects.get(pk=point.pk).is_active

    def test_inactive_points_do_not_count_as_others(self):
        community = CommunityFactory()
        (point,) = community.pickup_points.all()
        PickupPointFactory(community=community, is_active=False)

        with pytest.raises(DomainError):
            self._update(point, is_active=False)

        point.refresh_from_db()
        assert point.is_active

    def test_can_deactivate_when_another_point_is_active(self):
        community = CommunityFactory()
        (point,) = community.pickup_points.all()
        PickupPointFactory(community=community)

        self._update(point, is_active=False)

        point.refresh_from_db()
        assert not point.is_active

    def test_last_active_point_can_still_be_edited(self):
        community = CommunityFactory()
        (point,) = community.pickup_points.all()

        self._update(point, name=" 新名字 ", opening_hours="每天 07:00-23:00")

        point.refresh_from_db()
        assert point.name == "新名字"
        assert point.opening_hours == "每天 07:00-23:00"
        assert point.is_active


# Users


class TestUserSettings:
    def test_set_language_saves_a_changed_language(self):
        user = UserFactory(preferred_language="zh-hans")

        services.user_set_language(user=user, language="en")

        user.refresh_from_db()
        assert user.preferred_language == "en"

    def test_update_profile(self):
        user = UserFactory()

        services.user_update_profile(user=user, display_name="  小王 ", preferred_language="en")

        user.refresh_from_db()
        assert user.display_name == "小王"
        assert user.preferred_language == "en"
