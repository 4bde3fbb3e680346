"""Who may open which role page: every (page, user) cell is one test case.

The role holder gets 200, a signed-in user without the role 403, an anonymous visitor
is sent to log in. Every signed-in user holds the member role.
"""

from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from accounts.models import ReviewStatus, SupplierMember
from accounts.selectors import user_roles
from groupbuy.roles import Role
from tests.factories import CommunityFactory, StaffFactory, SupplierFactory, UserFactory

pytestmark = pytest.mark.django_db

USERS = ["anonymous", "member", "leader", "supplier", "staff"]
USER_ROLES = {
    "anonymous": set(),
    "member": {Role.MEMBER},
    "leader": {Role.MEMBER, Role.LEADER},
    "supplier": {Role.MEMBER, Role.SUPPLIER},
    "staff": {Role.MEMBER, Role.STAFF},
}

# (url name, role required, how to build the URL kwargs from the world)
PAGES = [
    ("accounts:member_home", Role.MEMBER, lambda w: {}),
    ("accounts:member_communities", Role.MEMBER, lambda w: {}),
    ("accounts:profile", Role.MEMBER, lambda w: {}),
    ("accounts:leader_home", Role.LEADER, lambda w: {}),
    ("accounts:community_detail", Role.LEADER, lambda w: {"community_id": w.community.pk}),
    ("accounts:community_edit", Role.LEADER, lambda w: {"community_id": w.community.pk}),
    ("accounts:pickup_point_create", Role.LEADER, lambda w: {"community_id": w.community.pk}),
    (
        "accounts:pickup_point_edit",
        Role.LEADER,
        lambda w: {"community_id": w.community.pk, "pickup_point_id": w.point.pk},
    ),
    ("accounts:supplier_home", Role.SUPPLIER, lambda w: {}),
    ("accounts:staff_home", Role.STAFF, lambda w: {}),
    ("accounts:staff_suppliers", Role.STAFF, lambda w: {}),
    ("accounts:staff_leaders", Role.STAFF, lambda w: {}),
    ("accounts:staff_supplier", Role.STAFF, lambda w: {"pk": w.pending_supplier.pk}),
    ("accounts:staff_leader", Role.STAFF, lambda w: {"pk": w.pending_community.pk}),
]


class World:
    def __init__(self):
        self.community = CommunityFactory()
        self.point = self.community.pickup_points.get()
        self.supplier = SupplierFactory(status=ReviewStatus.APPROVED)
        self.pending_supplier = SupplierFactory()
        self.pending_community = CommunityFactory(status=ReviewStatus.PENDING)
        self.users = {
            "anonymous": None,
            "member": UserFactory(),
            "leader": self.community.leader,
            "supplier": SupplierMember.objects.get(supplier=self.supplier).user,
            "staff": StaffFactory(),
        }


@pytest.fixture
def world():
    return World()


def _sign_in(client, world, who):
    user = world.users[who]
    if user is not None:
        client.force_login(user)
    return user


def _assert_login_redirect(response, url):
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert target.path == reverse("account_login") == "/accounts/login/"
    assert f"next={url}" in response["Location"].replace("%2F", "/")


@pytest.mark.parametrize("who", USERS)
@pytest.mark.parametrize(("name", "role", "kwargs"), PAGES, ids=[p[0].split(":")[1] for p in PAGES])
def test_get_role_page(client, world, who, name, role, kwargs):
    url = reverse(name, kwargs=kwargs(world))
    _sign_in(client, world, who)

    response = client.get(url)

    if who == "anonymous":
        _assert_login_redirect(response, url)
    elif role in USER_ROLES[who]:
        assert response.status_code == 200
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("who", USERS)
def test_roles_held_by_each_user(world, who):
    user = world.users[who] or AnonymousUser()
    assert set(user_roles(user)) == USER_ROLES[who]


def test_pending_or_rejected_applications_give_no_role(client):
    pending_leader = CommunityFactory(status=ReviewStatus.PENDING).leader
    rejected_leader = CommunityFactory(status=ReviewStatus.REJECTED).leader
    pending_supplier = SupplierFactory().members.get().user
    rejected_supplier = SupplierFactory(status=ReviewStatus.REJECTED).members.get().user

    for user, url_name in [
        (pending_leader, "accounts:leader_home"),
        (rejected_leader, "accounts:leader_home"),
        (pending_supplier, "accounts:supplier_home"),
        (rejected_supplier, "accounts:supplier_home"),
    ]:
        client.force_login(user)
        assert client.get(reverse(url_name)).status_code == 403, (user, url_name)


# Writes are guarded like reads: a POST by someone without the role changes nothing.

POSTS = [
    (
        "accounts:staff_supplier_approve",
        Role.STAFF,
        lambda w: {"pk": w.pending_supplier.pk},
        {},
    ),
    (
        "accounts:staff_leader_approve",
        Role.STAFF,
        lambda w: {"pk": w.pending_community.pk},
        {},
    ),
    (
        "accounts:staff_supplier_reject",
        Role.STAFF,
        lambda w: {"pk": w.pending_supplier.pk},
        {"reason": "不行"},
    ),
    (
        "accounts:staff_leader_reject",
        Role.STAFF,
        lambda w: {"pk": w.pending_community.pk},
        {"reason": "不行"},
    ),
    (
        "accounts:community_edit",
        Role.LEADER,
        lambda w: {"community_id": w.community.pk},
        {"name": "被改了", "area": "x", "contact_phone": "+8613900000000", "description": ""},
    ),
    (
        "accounts:pickup_point_create",
        Role.LEADER,
        lambda w: {"community_id": w.community.pk},
        {
            "name": "新增",
            "address": "x",
            "opening_hours": "x",
            "contact_phone": "+8613900000000",
        },
    ),
    (
        "accounts:supplier_member_add",
        Role.SUPPLIER,
        lambda w: {},
        {"login": "+8613700000000"},
    ),
]


def _snapshot(world):
    world.pending_supplier.refresh_from_db()
    world.pending_community.refresh_from_db()
    world.community.refresh_from_db()
    return (
        world.pending_supplier.status,
        world.pending_community.status,
        world.community.name,
        world.community.pickup_points.count(),
        world.supplier.members.count(),
    )


# The role holder's POSTs are covered by the view tests.
POST_CELLS = [
    pytest.param(who, *post, id=f"{post[0].split(':')[1]}-{who}")
    for post in POSTS
    for who in USERS
    if post[1] not in USER_ROLES[who]
]


@pytest.mark.parametrize(("who", "name", "role", "kwargs", "data"), POST_CELLS)
def test_post_without_role_is_refused_and_changes_nothing(
    client, world, who, name, role, kwargs, data
):
    url = reverse(name, kwargs=kwargs(world))
    _sign_in(client, world, who)
    before = _snapshot(world)

    response = client.post(url, data)

    if who == "anonymous":
        _assert_login_redirect(response, url)
    else:
        assert response.status_code == 403
    assert _snapshot(world) == before
