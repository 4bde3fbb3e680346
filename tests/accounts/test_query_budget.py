"""List pages use a fixed number of queries, however many rows they show."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import ReviewStatus
from tests.factories import CommunityFactory, MembershipFactory, SupplierFactory

pytestmark = pytest.mark.django_db

# Session, user, roles, the page's own queries and the paginator's count (6 to 8 today),
# with a little room.
CEILING = 10


def _queries(client, url) -> tuple[int, str]:
    """Queries one GET of ``url`` costs, after a warm-up request."""
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured), response.content.decode()


def _budget(client, django_assert_max_num_queries, url, add_rows, row_marker, extra_rows=0):
    """Compare 3 rows with 30 rows; ``extra_rows`` are rows that exist from the start."""
    add_rows(3)
    few, body = _queries(client, url)
    assert body.count(row_marker) == 3 + extra_rows

    add_rows(27)
    with django_assert_max_num_queries(CEILING):
        client.get(url)
    many, body = _queries(client, url)
    assert body.count(row_marker) == 30 + extra_rows

    assert few == many, f"{few} queries for 3 rows but {many} for 30"
    assert many <= CEILING


@pytest.fixture(autouse=True)
def _one_page(settings):
    # Show every row on one page, so that a per-row query would show up.
    settings.PAGINATE_BY = 50


def test_staff_supplier_queue(client, staff, django_assert_max_num_queries):
    client.force_login(staff)

    def add(n):
        for _ in range(n):
            SupplierFactory()

    _budget(
        client,
        django_assert_max_num_queries,
        reverse("accounts:staff_suppliers"),
        add,
        'data-testid="supplier-row"',
    )


def test_staff_leader_queue(client, staff, django_assert_max_num_queries):
    client.force_login(staff)

    def add(n):
        for _ in range(n):
            community = CommunityFactory(status=ReviewStatus.PENDING)
            community.pickup_points.create(
                name="第二个点", address="x", opening_hours="x", contact_phone="+8613900000000"
            )

    _budget(
        client,
        django_assert_max_num_queries,
        reverse("accounts:staff_leaders"),
        add,
        'data-testid="leader-row"',
    )


def test_leader_community_member_list(client, community, leader, django_assert_max_num_queries):
    client.force_login(leader)

    def add(n):
        for _ in range(n):
            MembershipFactory(community=community)

    _budget(
        client,
        django_assert_max_num_queries,
        reverse("accounts:community_detail", args=[community.pk]),
        add,
        "****",  # each member's masked phone
        extra_rows=1,  # the leader is a member of her own community
    )


def test_leader_home_with_many_communities(client, leader, django_assert_max_num_queries):
    client.force_login(leader)

    def add(n):
        for _ in range(n):
            CommunityFactory(leader=leader)

    _budget(
        client,
        django_assert_max_num_queries,
        reverse("accounts:leader_home"),
        add,
        "/leader/communities/",
        extra_rows=1,  # the leader's first community
    )
