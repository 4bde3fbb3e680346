"""Response time and query count of the foundation's list pages at a realistic size.

Run with `make bench` (prints the figures); not part of `make test`.
"""

import statistics
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Membership, SupplierOrganization, User
from tests.factories import CommunityFactory, StaffFactory

pytestmark = [pytest.mark.bench, pytest.mark.django_db]

ROWS = 2000
RUNS = 15


def _measure(client, url):
    client.get(url)  # warm caches and templates
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return statistics.median(timings), max(timings), len(queries)


def _report(name, url, median, worst, queries):
    print(
        f"\nBENCH {name}: rows={ROWS} median={median:.1f}ms max={worst:.1f}ms "
        f"queries={queries} db={connection.vendor} url={url}"
    )


def test_bench_leader_member_list(client):
    community = CommunityFactory()
    users = User.objects.bulk_create(
        User(phone=f"+86136{n:08d}", display_name=f"团员{n}") for n in range(ROWS)
    )
    Membership.objects.bulk_create(Membership(user=u, community=community) for u in users)
    client.force_login(community.leader)
    url = reverse("accounts:community_detail", args=[community.pk])
    median, worst, queries = _measure(client, url)
    _report("leader community page (members paginated)", url, median, worst, queries)
    assert queries <= 15


def test_bench_staff_supplier_queue(client):
    SupplierOrganization.objects.bulk_create(
        SupplierOrganization(
            name=f"供应商{n}",
            licence_number=f"91310000MB{n:08d}",
            contact_name="张三",
            contact_phone="+8613900001111",
            address="上海",
        )
        for n in range(ROWS)
    )
    client.force_login(StaffFactory())
    url = reverse("accounts:staff_suppliers")
    median, worst, queries = _measure(client, url)
    _report("staff supplier queue", url, median, worst, queries)
    assert queries <= 15
