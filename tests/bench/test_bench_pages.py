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


def test_bench_leader_catalog(client):
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from catalog.models import Offer, OfferStatus, Product
    from tests.catalog.conftest import make_listed_offer
    from tests.factories import SupplierFactory

    supplier = SupplierFactory(status="approved")
    first = make_listed_offer(supplier, StaffFactory())  # signs the supplier's contract
    today = timezone.localdate()
    products = Product.objects.bulk_create(
        Product(
            supplier=supplier,
            name=f"商品{n}",
            spec="500 g",
            unit="份",
            category=first.product.category,
            origin="云南",
            storage="chilled",
            shelf_life_days=7,
        )
        for n in range(ROWS)
    )
    Offer.objects.bulk_create(
        Offer(
            supplier=supplier,
            product=product,
            supply_price=Decimal("10.00") + n % 50,
            retail_price=Decimal("15.00") + n % 70,
            min_order_qty=6,
            case_size=6,
            daily_capacity=100,
            lead_time_days=1,
            delivery_weekdays="0246",
            valid_from=today,
            valid_until=today + timedelta(days=30),
            status=OfferStatus.APPROVED,
            decided_at=timezone.now(),
        )
        for n, product in enumerate(products)
    )
    client.force_login(CommunityFactory().leader)
    for url in ("/leader/catalog/", "/leader/catalog/?q=商品1&weekday=2&sort=margin"):
        median, worst, queries = _measure(client, url)
        _report("leader catalog", url, median, worst, queries)
        assert queries <= 15


def test_bench_member_schedule_page(client):
    from catalog.models import Category
    from tests.catalog.conftest import make_listed_offer
    from tests.factories import MembershipFactory, SupplierFactory
    from tests.scheduling.test_member_pages import add_bulk_items, make_schedule

    supplier = SupplierFactory(status="approved")
    offer = make_listed_offer(supplier, StaffFactory())
    community = CommunityFactory()
    schedule = make_schedule(community, community.leader, offer)
    add_bulk_items(schedule, supplier, Category.objects.get(code="fruit"), 199, images=False)
    client.force_login(MembershipFactory(community=community).user)
    url = f"/m/schedules/{schedule.pk}/"
    median, worst, queries = _measure(client, url)
    print(
        f"\nBENCH member schedule page: items=200 median={median:.1f}ms max={worst:.1f}ms "
        f"queries={queries} db={connection.vendor}"
    )
    assert queries <= 15
