"""Leader application, community management and pickup points."""

import pytest
from django.urls import reverse

from accounts.models import Community, Membership, PickupPoint, ReviewStatus
from tests.accounts.utils import by_testid, field_errors
from tests.factories import CommunityFactory, MembershipFactory, PickupPointFactory, UserFactory

pytestmark = pytest.mark.django_db

APPLY_URL = reverse("accounts:leader_apply")


def _application(points=1, **overrides):
    data = {
        "name": "阳光小区",
        "area": "浦东新区 花木街道",
        "contact_phone": "+8613900006666",
        "description": "",
        "points-TOTAL_FORMS": "2",
        "points-INITIAL_FORMS": "0",
        "points-MIN_NUM_FORMS": "0",
        "points-MAX_NUM_FORMS": "5",
    }
    for i in range(2):
        if i < points:
            data.update(
                {
                    f"points-{i}-name": f"{i + 1} 号楼大堂",
                    f"points-{i}-address": f"花木路 100 弄 {i + 1} 号",
                    f"points-{i}-opening_hours": "每天 15:00-21:00",
                    f"points-{i}-contact_phone": "+8613900003333",
                }
            )
        else:
            data.update(
                {
                    f"points-{i}-name": "",
                    f"points-{i}-address": "",
                    f"points-{i}-opening_hours": "",
                    f"points-{i}-contact_phone": "",
                }
            )
    data.update(overrides)
    return data


def test_apply_page_opens_for_any_signed_in_user(client, member):
    client.force_login(member)
    response = client.get(APPLY_URL)
    assert response.status_code == 200
    assert 'data-testid="leader-apply-form"' in response.content.decode()


def test_apply_without_pickup_point_shows_error_and_saves_nothing(client, member):
    client.force_login(member)

    response = client.post(APPLY_URL, _application(points=0))

    assert response.status_code == 200
    assert "Add at least one pickup point." in by_testid(response, "pickup-errors")
    assert not Community.objects.exists()
    assert not PickupPoint.objects.exists()


def test_apply_with_incomplete_pickup_point_shows_field_error(client, member):
    client.force_login(member)

    response = client.post(APPLY_URL, _application(**{"points-0-address": ""}))

    assert response.status_code == 200
    assert field_errors(response, "points-0-address")
    assert not Community.objects.exists()


def test_apply_with_bad_phone_shows_field_error(client, member):
    client.force_login(member)

    response = client.post(APPLY_URL, _application(contact_phone="021-12345678"))

    assert response.status_code == 200
    assert field_errors(response, "contact_phone")
    assert not Community.objects.exists()


def test_second_pending_application_is_refused_with_message(client, member):
    client.force_login(member)
    client.post(APPLY_URL, _application())

    response = client.post(APPLY_URL, _application(name="第二个小区"))

    assert response.status_code == 200
    assert "already have an application" in by_testid(response, "form-errors")
    assert Community.objects.filter(leader=member).count() == 1


def test_apply_then_staff_approve_then_leader_home_shows_community(client, member, staff):
    client.force_login(member)
    response = client.post(APPLY_URL, _application(points=2))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:member_home")
    community = Community.objects.get(leader=member)
    assert community.status == ReviewStatus.PENDING
    assert community.pickup_points.count() == 2
    # Pending: shown to the applicant, but no leader dashboard yet.
    assert "阳光小区" in by_testid(client.get(reverse("accounts:member_home")), "applications")
    assert client.get(reverse("accounts:leader_home")).status_code == 403

    client.force_login(staff)
    response = client.post(reverse("accounts:staff_leader_approve", args=[community.pk]))
    assert response.status_code == 302

    client.force_login(member)
    home = client.get(reverse("accounts:leader_home"))
    assert home.status_code == 200
    table = by_testid(home, "led-communities")
    assert "阳光小区" in table
    assert community.invite_code in table
    assert Membership.objects.filter(user=member, community=community).exists()


def test_rejected_applicant_resubmits(client):
    community = CommunityFactory(status=ReviewStatus.REJECTED)
    client.force_login(community.leader)
    url = reverse("accounts:leader_application_resubmit", args=[community.pk])

    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "name": "改名小区",
            "area": "徐汇区",
            "contact_phone": "+8613900008888",
            "description": "",
        },
    )

    assert response.status_code == 302
    community.refresh_from_db()
    assert community.status == ReviewStatus.PENDING
    assert community.name == "改名小区"


# Managing an approved community


def test_community_detail_shows_invite_and_members(client, community, leader):
    MembershipFactory(community=community, user=UserFactory(display_name="邻居甲"))
    client.force_login(leader)

    response = client.get(reverse("accounts:community_detail", args=[community.pk]))

    assert response.status_code == 200
    assert by_testid(response, "invite-code").strip() == community.invite_code
    assert f"/join/{community.invite_code}/" in response.content.decode()
    members = by_testid(response, "members")
    assert "邻居甲" in members
    assert str(leader) in members


def test_edit_community(client, community, leader):
    client.force_login(leader)
    url = reverse("accounts:community_edit", args=[community.pk])

    response = client.post(
        url,
        {"name": "新名字", "area": "静安区", "contact_phone": "+8613911112222", "description": "d"},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:community_detail", args=[community.pk])
    community.refresh_from_db()
    assert community.name == "新名字"


def test_edit_community_with_bad_phone_keeps_data(client, community, leader):
    client.force_login(leader)
    url = reverse("accounts:community_edit", args=[community.pk])
    before = community.name

    response = client.post(
        url, {"name": "新名字", "area": "静安区", "contact_phone": "abc", "description": ""}
    )

    assert response.status_code == 200
    assert field_errors(response, "contact_phone")
    community.refresh_from_db()
    assert community.name == before


def test_add_pickup_point(client, community, leader):
    client.force_login(leader)

    response = client.post(
        reverse("accounts:pickup_point_create", args=[community.pk]),
        {
            "name": "西门",
            "address": "花木路 2 号",
            "opening_hours": "每天 10:00-20:00",
            "contact_phone": "+8613900001234",
        },
    )

    assert response.status_code == 302
    assert community.pickup_points.filter(name="西门", is_active=True).exists()


def _point_data(point, **overrides):
    data = {
        "name": point.name,
        "address": point.address,
        "opening_hours": point.opening_hours,
        "contact_phone": point.contact_phone,
    }
    if point.is_active:
        data["is_active"] = "on"
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_deactivating_last_active_point_shows_error(client, community, leader):
    point = community.pickup_points.get()
    client.force_login(leader)

    response = client.post(
        reverse("accounts:pickup_point_edit", args=[community.pk, point.pk]),
        _point_data(point, is_active=None, name="改名"),
    )

    assert response.status_code == 200
    assert field_errors(response, "is_active") == [
        "A community needs at least one pickup point in use."
    ]
    point.refresh_from_db()
    assert point.is_active
    assert point.name != "改名"


def test_deactivating_a_point_when_another_is_active(client, community, leader):
    point = community.pickup_points.get()
    PickupPointFactory(community=community)
    client.force_login(leader)

    response = client.post(
        reverse("accounts:pickup_point_edit", args=[community.pk, point.pk]),
        _point_data(point, is_active=None),
    )

    assert response.status_code == 302
    point.refresh_from_db()
    assert not point.is_active
