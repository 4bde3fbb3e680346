"""Switching the role one acts as, and the language pages are shown in."""

import re

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.middleware import ACTIVE_ROLE_SESSION_KEY
from accounts.models import ReviewStatus, SupplierMember
from tests.factories import CommunityFactory, StaffFactory, SupplierFactory, UserFactory

pytestmark = pytest.mark.django_db

SWITCH_URL = reverse("accounts:role_switch")
LANGUAGE_URL = reverse("accounts:set_language")


@pytest.fixture
def all_roles_user():
    """A staff member who also leads a community and works for a supplier."""
    user = StaffFactory()
    CommunityFactory(leader=user)
    supplier = SupplierFactory(status=ReviewStatus.APPROVED)
    SupplierMember.objects.create(supplier=supplier, user=user, is_owner=False)
    return user


# Role switch


@pytest.mark.parametrize(
    ("role", "home"),
    [
        ("member", "accounts:member_home"),
        ("leader", "accounts:leader_home"),
        ("supplier", "accounts:supplier_home"),
        ("staff", "accounts:staff_home"),
    ],
)
def test_switch_to_held_role_redirects_to_its_home(client, all_roles_user, role, home):
    client.force_login(all_roles_user)

    response = client.post(SWITCH_URL, {"role": role})

    assert response.status_code == 302
    assert response["Location"] == reverse(home)
    assert client.session[ACTIVE_ROLE_SESSION_KEY] == role
    # The site root now opens that role's home too.
    assert client.get(reverse("home"))["Location"] == reverse(home)
    assert client.get(reverse(home)).status_code == 200


@pytest.mark.parametrize("role", ["supplier", "staff", "admin", ""])
def test_switch_to_role_not_held_is_404(client, leader, role):
    client.force_login(leader)
    client.post(SWITCH_URL, {"role": "member"})

    response = client.post(SWITCH_URL, {"role": role})

    assert response.status_code == 404
    assert client.session[ACTIVE_ROLE_SESSION_KEY] == "member"


def test_switch_as_anonymous_is_404(client):
    assert client.post(SWITCH_URL, {"role": "member"}).status_code == 404


def test_switch_only_by_post(client, leader):
    client.force_login(leader)
    assert client.get(SWITCH_URL, {"role": "member"}).status_code == 405


def test_default_role_is_the_last_one_held(client, leader, member):
    client.force_login(leader)
    assert client.get(reverse("home"))["Location"] == reverse("accounts:leader_home")
    client.force_login(member)
    assert client.get(reverse("home"))["Location"] == reverse("accounts:member_home")


def test_chosen_role_that_is_lost_falls_back(client):
    supplier = SupplierFactory(status=ReviewStatus.APPROVED)
    owner = supplier.members.get().user
    client.force_login(owner)
    client.post(SWITCH_URL, {"role": "supplier"})
    SupplierMember.objects.filter(user=owner).delete()

    assert client.get(reverse("home"))["Location"] == reverse("accounts:member_home")


def test_role_switch_is_offered_only_to_multi_role_users(client, leader, member):
    client.force_login(leader)
    body = client.get(reverse("accounts:member_home")).content.decode()
    assert 'data-testid="role-switch"' in body
    assert 'value="leader"' in body
    client.force_login(member)
    body = client.get(reverse("accounts:member_home")).content.decode()
    assert 'data-testid="role-switch"' not in body


# Language


def _html_lang(response) -> str:
    match = re.search(r'<html lang="([^"]+)">', response.content.decode())
    assert match, "no <html lang=...>"
    return match.group(1)


def test_post_language_stores_preference_on_signed_in_user(client):
    user = UserFactory(preferred_language="zh-hans")
    client.force_login(user)

    response = client.post(
        LANGUAGE_URL, {"language": "en", "next": reverse("accounts:member_home")}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:member_home")
    user.refresh_from_db()
    assert user.preferred_language == "en"
    assert _html_lang(client.get(reverse("accounts:member_home"))) == "en"


def test_post_unknown_language_is_not_stored(client):
    user = UserFactory(preferred_language="zh-hans")
    client.force_login(user)

    client.post(LANGUAGE_URL, {"language": "fr"})

    user.refresh_from_db()
    assert user.preferred_language == "zh-hans"


def test_post_language_as_anonymous_sets_cookie(client):
    response = client.post(LANGUAGE_URL, {"language": "en", "next": "/"})

    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert _html_lang(client.get("/")) == "en"


def test_anonymous_default_language_is_chinese(client):
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert _html_lang(client.get("/")) == "zh-hans"


@pytest.mark.parametrize(
    ("preferred", "browser", "expected"),
    [
        ("en", "zh-CN,zh;q=0.9", "en"),
        ("zh-hans", "en-US,en;q=0.9", "zh-hans"),
        ("", "en-US,en;q=0.9", "en"),
        ("", "zh-CN,zh;q=0.9", "zh-hans"),
    ],
)
def test_signed_in_users_language_wins_over_browser(client, preferred, browser, expected):
    user = UserFactory(preferred_language=preferred)
    client.force_login(user)

    response = client.get(reverse("accounts:member_home"), HTTP_ACCEPT_LANGUAGE=browser)

    assert response.status_code == 200
    assert _html_lang(response) == expected
    assert response["Content-Language"] == expected


def test_pages_are_translated_for_each_users_language(client):
    client.force_login(UserFactory(preferred_language="zh-hans"))
    chinese = client.get(reverse("accounts:profile"), HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(UserFactory(preferred_language="en"))
    english = client.get(reverse("accounts:profile"), HTTP_ACCEPT_LANGUAGE="zh-CN")

    assert ">首页</a>" in chinese.content.decode()
    assert ">Home</a>" not in chinese.content.decode()
    assert ">Home</a>" in english.content.decode()
    assert ">首页</a>" not in english.content.decode()
