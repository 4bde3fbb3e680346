"""Member pages: home, joining by code / invite link / QR, communities, profile."""

import pytest
from django.urls import reverse

from accounts.middleware import ACTIVE_ROLE_SESSION_KEY
from accounts.models import Membership, ReviewStatus
from tests.accounts.utils import by_testid, field_errors
from tests.factories import CommunityFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

HOME_URL = reverse("accounts:member_home")
JOIN_URL = reverse("accounts:join_by_code")


def test_home_without_community_invites_to_join(client, member):
    client.force_login(member)
    response = client.get(HOME_URL)
    assert response.status_code == 200
    assert 'data-testid="no-community"' in response.content.decode()


def test_home_shows_current_community_and_its_points(client, community):
    user = UserFactory()
    MembershipFactory(user=user, community=community)
    client.force_login(user)

    response = client.get(HOME_URL)

    assert by_testid(response, "community-name") == community.name
    assert community.pickup_points.get().name in by_testid(response, "pickup-points")


# Join by code


@pytest.mark.parametrize("code", ["ZZZZZZ", "ABC", ""])
def test_join_with_unknown_or_malformed_code_shows_field_error(client, member, code):
    client.force_login(member)

    response = client.post(JOIN_URL, {"code": code})

    assert response.status_code == 200
    assert field_errors(response, "code")
    assert not Membership.objects.filter(user=member).exists()


def test_unknown_code_error_text(client, member):
    client.force_login(member)
    response = client.post(JOIN_URL, {"code": "ZZZZZZ"})
    assert field_errors(response, "code") == ["No open community has this invite code."]


def test_code_of_pending_community_is_unknown(client, member):
    pending = CommunityFactory(status=ReviewStatus.PENDING)
    client.force_login(member)

    response = client.post(JOIN_URL, {"code": pending.invite_code})

    assert response.status_code == 200
    assert field_errors(response, "code")


def test_known_code_in_lower_case_leads_to_the_invite_page(client, member, community):
    client.force_login(member)

    response = client.post(JOIN_URL, {"code": f" {community.invite_code.lower()} "})

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:invite", args=[community.invite_code])
    # Finding the community does not join it yet.
    assert not Membership.objects.filter(user=member).exists()


# Invite link


def test_invite_as_anonymous_shows_sign_up_link(client, community):
    url = reverse("accounts:invite", args=[community.invite_code])

    response = client.get(url)

    assert response.status_code == 200
    assert by_testid(response, "invite-community-name") == community.name
    body = response.content.decode()
    assert 'data-testid="invite-signup"' in body
    assert f'href="{reverse("account_signup")}?next={url}"' in body.replace("%2F", "/")
    assert 'data-testid="join"' not in body


def test_invite_post_as_anonymous_sends_to_sign_up(client, community):
    url = reverse("accounts:invite", args=[community.invite_code])

    response = client.post(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_signup')}?next={url}"
    assert Membership.objects.filter(community=community).count() == 1  # the leader


def test_invite_post_as_signed_in_user_joins(client, member, community):
    url = reverse("accounts:invite", args=[community.invite_code])
    client.force_login(member)
    assert 'data-testid="join"' in client.get(url).content.decode()

    response = client.post(url)

    assert response.status_code == 302
    assert response["Location"] == HOME_URL
    assert Membership.objects.filter(user=member, community=community).exists()
    member.refresh_from_db()
    assert member.current_community == community
    assert client.session[ACTIVE_ROLE_SESSION_KEY] == "member"
    home = client.get(HOME_URL)
    assert by_testid(home, "community-name") == community.name
    # Coming back to the link: already a member, and joining again is harmless.
    assert 'data-testid="already-member"' in client.get(url).content.decode()
    client.post(url)
    assert Membership.objects.filter(user=member, community=community).count() == 1


def test_invite_code_in_link_is_case_insensitive(client, community):
    response = client.get(reverse("accounts:invite", args=[community.invite_code.lower()]))
    assert response.status_code == 200


def test_qr_endpoint_returns_svg_of_the_invite_link(client, community):
    response = client.get(reverse("accounts:invite_qr", args=[community.invite_code]))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    body = response.content.decode()
    assert "<svg" in body
    assert community.name in body  # the title


def test_qr_endpoint_refuses_post(client, community):
    response = client.post(reverse("accounts:invite_qr", args=[community.invite_code]))
    assert response.status_code == 405


# Communities and profile


def test_communities_page_lists_memberships_and_marks_current(client):
    first, second = CommunityFactory(name="一号小区"), CommunityFactory(name="二号小区")
    user = UserFactory()
    MembershipFactory(user=user, community=first)
    MembershipFactory(user=user, community=second)
    client.force_login(user)

    response = client.get(reverse("accounts:member_communities"))

    assert response.status_code == 200
    assert response.context["current"] == second
    assert {m.community for m in response.context["memberships"]} == {first, second}


def test_profile_update(client, member):
    client.force_login(member)

    response = client.post(
        reverse("accounts:profile"), {"display_name": " 小王 ", "preferred_language": "zh-hans"}
    )

    assert response.status_code == 302
    member.refresh_from_db()
    assert member.display_name == "小王"
    assert member.preferred_language == "zh-hans"


def test_profile_rejects_unknown_language(client, member):
    client.force_login(member)

    response = client.post(
        reverse("accounts:profile"), {"display_name": "x", "preferred_language": "fr"}
    )

    assert response.status_code == 200
    assert field_errors(response, "preferred_language")
    member.refresh_from_db()
    assert member.preferred_language == "en"
