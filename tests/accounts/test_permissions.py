"""Object scoping: another party's object answers 404 and is left untouched."""

import pytest
from django.urls import reverse

from accounts.models import Community, PickupPoint, ReviewStatus, SupplierMember
from tests.factories import (
    CommunityFactory,
    MembershipFactory,
    PickupPointFactory,
    SupplierFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

COMMUNITY_DATA = {
    "name": "被改了",
    "area": "别处",
    "contact_phone": "+8613900000001",
    "description": "",
}
POINT_DATA = {
    "name": "被改了",
    "address": "别处",
    "opening_hours": "从不",
    "contact_phone": "+8613900000001",
}


@pytest.fixture
def leader_a():
    return CommunityFactory().leader


@pytest.fixture
def community_b():
    return CommunityFactory()


def _b_urls(community_b):
    point = community_b.pickup_points.get()
    return {
        "detail": reverse("accounts:community_detail", args=[community_b.pk]),
        "edit": reverse("accounts:community_edit", args=[community_b.pk]),
        "point_new": reverse("accounts:pickup_point_create", args=[community_b.pk]),
        "point_edit": reverse("accounts:pickup_point_edit", args=[community_b.pk, point.pk]),
    }


@pytest.mark.parametrize("target", ["detail", "edit", "point_new", "point_edit"])
def test_leader_cannot_get_another_leaders_community(client, leader_a, community_b, target):
    client.force_login(leader_a)
    response = client.get(_b_urls(community_b)[target])
    assert response.status_code == 404
    assert community_b.name not in response.content.decode()


@pytest.mark.parametrize(
    ("target", "data"),
    [
        ("detail", {}),
        ("edit", COMMUNITY_DATA),
        ("point_new", POINT_DATA),
        ("point_edit", {**POINT_DATA, "is_active": ""}),
    ],
)
def test_leader_cannot_post_to_another_leaders_community(
    client, leader_a, community_b, target, data
):
    client.force_login(leader_a)
    name_before = community_b.name
    point = community_b.pickup_points.get()

    response = client.post(_b_urls(community_b)[target], data)

    # The detail page takes no POST at all.
    assert response.status_code == (405 if target == "detail" else 404)
    community_b.refresh_from_db()
    point.refresh_from_db()
    assert community_b.name == name_before
    assert point.name != "被改了"
    assert point.is_active
    assert community_b.pickup_points.count() == 1


def test_leader_cannot_reach_another_communitys_point_through_own_community(client, leader_a):
    own = Community.objects.get(leader=leader_a)
    foreign_point = CommunityFactory().pickup_points.get()
    url = reverse("accounts:pickup_point_edit", args=[own.pk, foreign_point.pk])
    client.force_login(leader_a)

    assert client.get(url).status_code == 404
    assert client.post(url, {**POINT_DATA, "is_active": "on"}).status_code == 404
    foreign_point.refresh_from_db()
    assert foreign_point.name != "被改了"


def test_pickup_point_url_must_name_the_points_own_community(client, leader_a):
    first = Community.objects.get(leader=leader_a)
    second = CommunityFactory(leader=leader_a)
    point = second.pickup_points.get()
    client.force_login(leader_a)

    mismatched = reverse("accounts:pickup_point_edit", args=[first.pk, point.pk])
    assert client.get(mismatched).status_code == 404
    matching = reverse("accounts:pickup_point_edit", args=[second.pk, point.pk])
    assert client.get(matching).status_code == 200


def test_leader_cannot_manage_own_community_while_it_is_not_approved(client, leader_a):
    pending = CommunityFactory(leader=leader_a, status=ReviewStatus.PENDING)
    client.force_login(leader_a)

    assert client.get(reverse("accounts:community_detail", args=[pending.pk])).status_code == 404
    assert client.get(reverse("accounts:community_edit", args=[pending.pk])).status_code == 404


def test_leader_home_lists_only_own_communities(client, leader_a, community_b):
    client.force_login(leader_a)
    body = client.get(reverse("accounts:leader_home")).content.decode()
    assert Community.objects.get(leader=leader_a).name in body
    assert community_b.name not in body


def test_cannot_resubmit_someone_elses_application(client, leader_a):
    rejected = CommunityFactory(status=ReviewStatus.REJECTED)
    url = reverse("accounts:leader_application_resubmit", args=[rejected.pk])
    client.force_login(leader_a)

    assert client.get(url).status_code == 404
    assert client.post(url, COMMUNITY_DATA).status_code == 404
    rejected.refresh_from_db()
    assert rejected.status == ReviewStatus.REJECTED
    assert rejected.name != "被改了"


# Members


def test_member_cannot_set_current_community_they_are_not_in(client):
    mine, theirs = CommunityFactory(), CommunityFactory()
    user = UserFactory()
    MembershipFactory(user=user, community=mine)
    client.force_login(user)

    response = client.post(reverse("accounts:set_current_community", args=[theirs.pk]))

    assert response.status_code == 404
    user.refresh_from_db()
    assert user.current_community == mine


def test_member_cannot_set_current_community_that_is_unknown(client, member):
    client.force_login(member)
    response = client.post(reverse("accounts:set_current_community", args=[999999]))
    assert response.status_code == 404


def test_member_sets_current_community_they_are_in(client):
    first, second = CommunityFactory(), CommunityFactory()
    user = UserFactory()
    MembershipFactory(user=user, community=first)
    MembershipFactory(user=user, community=second)
    client.force_login(user)

    response = client.post(reverse("accounts:set_current_community", args=[first.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:member_home")
    user.refresh_from_db()
    assert user.current_community == first


def test_member_pages_show_only_own_communities(client):
    mine, theirs = CommunityFactory(name="我的小区"), CommunityFactory(name="别人的小区")
    user = UserFactory()
    MembershipFactory(user=user, community=mine)
    client.force_login(user)

    for name in ("accounts:member_home", "accounts:member_communities"):
        body = client.get(reverse(name)).content.decode()
        assert "我的小区" in body
        assert theirs.name not in body


# Suppliers


def test_supplier_sees_only_own_organisation(client):
    mine = SupplierFactory(name="我的公司", status=ReviewStatus.APPROVED)
    theirs = SupplierFactory(name="别人的公司", status=ReviewStatus.APPROVED)
    their_owner = theirs.members.get().user
    client.force_login(mine.members.get().user)

    body = client.get(reverse("accounts:supplier_home")).content.decode()

    assert "我的公司" in body
    assert "别人的公司" not in body
    assert str(their_owner) not in body


def test_supplier_cannot_open_another_supplier_in_the_staff_pages(client):
    mine = SupplierFactory(status=ReviewStatus.APPROVED)
    theirs = SupplierFactory(status=ReviewStatus.APPROVED)
    client.force_login(mine.members.get().user)

    response = client.get(reverse("accounts:staff_supplier", args=[theirs.pk]))

    assert response.status_code == 403
    assert theirs.licence_number not in response.content.decode()


def test_registration_status_shows_only_own_registration(client):
    mine = SupplierFactory(name="我的公司")
    SupplierFactory(name="别人的公司")
    client.force_login(mine.members.get().user)

    body = client.get(reverse("accounts:supplier_status")).content.decode()

    assert "我的公司" in body
    assert "别人的公司" not in body


def test_registration_status_without_a_supplier_is_404(client, member):
    client.force_login(member)
    assert client.get(reverse("accounts:supplier_status")).status_code == 404


def test_colleague_added_by_owner_lands_in_owners_supplier_only(client):
    mine = SupplierFactory(status=ReviewStatus.APPROVED)
    other = SupplierFactory(status=ReviewStatus.APPROVED)
    newcomer = UserFactory()
    client.force_login(mine.members.get().user)

    response = client.post(reverse("accounts:supplier_member_add"), {"login": newcomer.phone})

    assert response.status_code == 302
    assert SupplierMember.objects.get(user=newcomer).supplier == mine
    assert other.members.count() == 1


# Staff decisions


@pytest.mark.parametrize(
    "name",
    [
        "accounts:staff_supplier",
        "accounts:staff_supplier_approve",
        "accounts:staff_supplier_reject",
        "accounts:staff_leader",
        "accounts:staff_leader_approve",
        "accounts:staff_leader_reject",
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_staff_pages_answer_404_for_unknown_id(client, staff, name, method):
    client.force_login(staff)
    response = getattr(client, method)(reverse(name, args=[999999]), {"reason": "x"})
    if method == "post" and name in ("accounts:staff_supplier", "accounts:staff_leader"):
        # A POST without a decision is sent back to the page, which then answers 404.
        assert response.status_code == 302
        assert client.get(response["Location"]).status_code == 404
    else:
        assert response.status_code == 404


@pytest.mark.parametrize(
    ("kind", "approve", "reject", "detail"),
    [
        (
            "supplier",
            "accounts:staff_supplier_approve",
            "accounts:staff_supplier_reject",
            "accounts:staff_supplier",
        ),
        (
            "community",
            "accounts:staff_leader_approve",
            "accounts:staff_leader_reject",
            "accounts:staff_leader",
        ),
    ],
)
def test_only_a_post_decides(client, staff, kind, approve, reject, detail):
    obj = SupplierFactory() if kind == "supplier" else CommunityFactory(status="pending")
    client.force_login(staff)

    assert client.get(reverse(approve, args=[obj.pk])).status_code == 200
    assert client.get(reverse(reject, args=[obj.pk]), {"reason": "x"}).status_code == 200
    response = client.post(reverse(detail, args=[obj.pk]), {"reason": "x"})
    assert response.status_code == 302

    obj.refresh_from_db()
    assert obj.status == ReviewStatus.PENDING
    assert obj.reviewed_by is None


def test_deciding_an_already_decided_application_changes_nothing(client, staff):
    supplier = SupplierFactory(status=ReviewStatus.REJECTED)
    client.force_login(staff)

    response = client.post(
        reverse("accounts:staff_supplier_approve", args=[supplier.pk]), follow=True
    )

    assert response.redirect_chain == [(reverse("accounts:staff_suppliers"), 302)]
    assert "This application has already been decided." in response.content.decode()
    supplier.refresh_from_db()
    assert supplier.status == ReviewStatus.REJECTED


# Invitations


def test_invite_for_unknown_or_unapproved_community_is_404(client):
    pending = CommunityFactory(status=ReviewStatus.PENDING)
    for code in ("ZZZZZZ", pending.invite_code):
        assert client.get(reverse("accounts:invite", args=[code])).status_code == 404
        assert client.get(reverse("accounts:invite_qr", args=[code])).status_code == 404


def test_inactive_pickup_points_are_not_listed_to_members(client):
    community = CommunityFactory()
    PickupPointFactory(community=community, name="已停用点", is_active=False)
    client.force_login(UserFactory())

    body = client.get(reverse("accounts:invite", args=[community.invite_code])).content.decode()

    assert community.pickup_points.get(is_active=True).name in body
    assert "已停用点" not in body
    assert PickupPoint.objects.filter(community=community).count() == 2
