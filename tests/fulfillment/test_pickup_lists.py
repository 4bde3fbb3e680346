"""The printable pickup lists: one section per pickup point (and one for home delivery),
by member in order of name with bag numbers, pickup codes, masked phones and the units to
hand over (short units noted), by product with totals; the HTML print view and the PDF;
permissions; query counts flat in the number of orders."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from fulfillment import pickup_lists
from fulfillment.services import pickup, purchasing
from orders.models import Fulfilment, Order, OrderStatus
from orders.services.review import order_reject
from scheduling.services.schedules import schedule_close
from tests.factories import CommunityFactory, PickupPointFactory
from tests.fulfillment.conftest import Round, make_round, pay_and_confirm
from tests.orders.conftest import Shop, make_shop
from tests.orders.test_leader_views import pay

pytestmark = pytest.mark.django_db


def _url(name, schedule_id):
    return reverse(f"fulfillment:{name}", args=[schedule_id])


def body(response) -> str:
    return response.content.decode()


def named(user: User, name: str) -> User:
    User.objects.filter(pk=user.pk).update(display_name=name)
    user.display_name = name
    return user


def close_and_prepare(shop: Shop, orders) -> Round:
    after_cutoff = shop.schedule.cutoff + timedelta(minutes=1)
    schedule_close(schedule_id=shop.schedule.pk, now=after_cutoff)
    (purchase_order,) = purchasing.purchase_orders_prepare(
        schedule=shop.schedule, actor=shop.leader
    )
    supplier_user = purchase_order.supplier.members.get(is_owner=True).user
    return Round(shop, orders, purchase_order, supplier_user, after_cutoff)


@pytest.fixture
def two_points():
    """Carol and alice collect at the first point, Bob at the second; each orders 2 grapes
    and 1 eggs (6 grapes: one case, no spare units); a rejected order is left out."""
    community = CommunityFactory()
    shop = make_shop(community=community)
    second = PickupPointFactory(community=community, name="2 号楼门口", address="花木路 2 号")
    shop.schedule.pickup_points.add(second)
    carol = named(shop.member, "Carol")
    alice = named(shop.new_member(), "alice")
    bob = named(shop.new_member(), "Bob")
    orders = [
        pay_and_confirm(shop, shop.order(carol)),
        pay_and_confirm(shop, shop.order(alice)),
        pay_and_confirm(shop, shop.order(bob, pickup_point=second)),
    ]
    rejected = pay(shop.order(shop.new_member()))
    order_reject(order=rejected, actor=shop.leader, reason="重复下单")
    round_ = close_and_prepare(shop, orders)
    return round_, second


def sections_of(html: str) -> list[str]:
    return re.findall(r'data-testid="pickup-section" data-section="([\w-]+)"', html)


def section_html(html: str, key: str) -> str:
    match = re.search(rf'data-section="{key}">(.*?)</section>', html, flags=re.S)
    assert match, key
    return match.group(1)


def member_rows(html: str) -> list[tuple[str, str, str]]:
    """(bag, order number, status) of the by-member rows, in order."""
    return re.findall(
        r'<tr data-testid="member-row" data-bag="(\d+)" data-order="(\d+)" data-status="(\w+)"',
        html,
    )


def test_before_receipt_confirmed_orders_are_listed_as_not_received(client, two_points):
    round_, second = two_points
    shop = round_.shop
    client.force_login(shop.leader)
    response = client.get(_url("leader_pickup_lists", shop.schedule.pk))
    assert response.status_code == 200
    html = body(response)
    assert sections_of(html) == [f"point-{shop.point.pk}", f"point-{second.pk}"]
    first = section_html(html, f"point-{shop.point.pk}")
    carol, alice, bob = round_.orders
    assert member_rows(first) == [
        ("1", alice.number, "confirmed"),
        ("2", carol.number, "confirmed"),
    ]
    assert first.count('data-testid="not-received"') == 2
    assert member_rows(section_html(html, f"point-{second.pk}")) == [("1", bob.number, "confirmed")]
    # The rejected order is on no list.
    assert len(member_rows(html)) == 3
    assert 'data-testid="print-button"' in html
    assert 'class="sidebar"' not in html


def test_lists_after_receipt_show_codes_items_shortages_and_totals(client, two_points):
    round_, second = two_points
    shop = round_.shop
    round_.receive(grapes=(1, 0))  # one grape short: the latest paid order (Bob) loses it
    carol, alice, bob = (Order.objects.get(pk=order.pk) for order in round_.orders)
    pickup.pickup_hand_over(order=carol, actor=shop.leader)
    client.force_login(shop.leader)
    response = client.get(_url("leader_pickup_lists", shop.schedule.pk))
    html = body(response)
    first = section_html(html, f"point-{shop.point.pk}")
    assert member_rows(first) == [
        ("1", alice.number, OrderStatus.READY_FOR_PICKUP),
        ("2", carol.number, OrderStatus.PICKED_UP),
    ]
    assert alice.pickup_code in first and carol.pickup_code in first
    assert alice.member.masked_phone in first
    assert alice.member.phone not in first
    assert 'data-testid="picked-up"' in first and 'data-testid="not-received"' not in first
    # By product at the first point: 4 grapes, 2 eggs.
    products = re.findall(
        r'data-testid="product-name">(.*?)<.*?data-testid="product-units">(\d+)',
        first,
        flags=re.S,
    )
    assert [(name.strip(), units) for name, units in products] == [
        ("土鸡蛋", "2"),
        ("阳光玫瑰葡萄", "4"),
    ]
    second_html = section_html(html, f"point-{second.pk}")
    assert member_rows(second_html) == [("1", bob.number, OrderStatus.READY_FOR_PICKUP)]
    items = re.search(r'data-testid="member-items">(.*?)</td>', second_html, flags=re.S)
    assert "× <strong>1</strong>" in items.group(1)  # 2 grapes ordered, 1 arrived
    assert "(1 short, refunded)" in items.group(1)
    assert re.search(r'data-testid="product-short">1<', second_html)
    assert re.search(r'data-testid="section-total">2<', second_html)  # 1 grape + 1 eggs


def test_data_bags_follow_member_names_within_each_point(two_points):
    round_, _second = two_points
    sections = pickup_lists.pickup_lists(round_.shop.schedule)
    assert [section.kind for section in sections] == [pickup_lists.POINT, pickup_lists.POINT]
    first = sections[0]
    assert [(entry.bag, entry.name) for entry in first.members] == [(1, "alice"), (2, "Carol")]
    assert [(entry.bag, entry.name) for entry in sections[1].members] == [(1, "Bob")]
    assert all(entry.not_received for entry in first.members)
    assert {(total.product_name, total.units, total.orders) for total in first.products} == {
        ("阳光玫瑰葡萄", 4, 2),
        ("土鸡蛋", 2, 2),
    }


def test_home_delivery_has_its_own_section(client):
    shop = make_shop(delivery_option="pickup_and_delivery", delivery_fee=Decimal("5.00"))
    at_home = pay_and_confirm(
        shop,
        shop.order(
            shop.new_member(),
            fulfilment=Fulfilment.DELIVERY,
            pickup_point=None,
            delivery_address="花木路 8 号 301",
        ),
    )
    collected = pay_and_confirm(shop, shop.order())
    close_and_prepare(shop, [at_home, collected]).receive()
    client.force_login(shop.leader)
    html = body(client.get(_url("leader_pickup_lists", shop.schedule.pk)))
    assert sections_of(html) == [f"point-{shop.point.pk}", "delivery"]
    delivery = section_html(html, "delivery")
    assert member_rows(delivery) == [("1", at_home.number, OrderStatus.READY_FOR_PICKUP)]
    assert "花木路 8 号 301" in delivery
    assert member_rows(section_html(html, f"point-{shop.point.pk}")) == [
        ("1", collected.number, OrderStatus.READY_FOR_PICKUP)
    ]


def test_pdf(client, two_points):
    round_, _second = two_points
    round_.receive(grapes=(1, 0))
    client.force_login(round_.shop.leader)
    response = client.get(_url("leader_pickup_lists_pdf", round_.shop.schedule.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert b"/STSong-Light" in response.content
    assert (
        f"schedule-{round_.shop.schedule.pk}-pickup-lists.pdf" in (response["Content-Disposition"])
    )


def test_empty_lists(client):
    shop = make_shop()
    client.force_login(shop.leader)
    response = client.get(_url("leader_pickup_lists", shop.schedule.pk))
    # The schedule's pickup point is listed, without orders.
    assert member_rows(body(response)) == []
    assert sections_of(body(response)) == [f"point-{shop.point.pk}"]
    assert pickup_lists.pickup_lists_pdf(shop.schedule, []).startswith(b"%PDF")
    pdf = client.get(_url("leader_pickup_lists_pdf", shop.schedule.pk))
    assert pdf.content.startswith(b"%PDF")


def test_another_leader_gets_404_a_member_403(client, two_points):
    round_, _second = two_points
    schedule = round_.shop.schedule
    client.force_login(CommunityFactory().leader)
    for name in ("leader_pickup_lists", "leader_pickup_lists_pdf"):
        assert client.get(_url(name, schedule.pk)).status_code == 404
    client.force_login(round_.shop.member)
    for name in ("leader_pickup_lists", "leader_pickup_lists_pdf"):
        assert client.get(_url(name, schedule.pk)).status_code == 403


def _received_round(members: int) -> Round:
    shop = make_shop(grapes={"quantity_cap": 100}, eggs={"quantity_cap": 100})
    round_ = make_round(members=members, shop=shop)
    round_.receive(grapes=(members, 0))
    return round_


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("name", ["leader_pickup_lists", "leader_pickup_lists_pdf"])
def test_query_count_is_flat_in_the_orders(client, name):
    few, many = _received_round(3), _received_round(30)
    assert len(pickup_lists.pickup_lists(many.shop.schedule)[0].members) == 30
    client.force_login(few.shop.leader)
    _queries(client, _url(name, few.shop.schedule.pk))  # warm caches (content types, sessions)
    few_count = _queries(client, _url(name, few.shop.schedule.pk))
    client.force_login(many.shop.leader)
    _queries(client, _url(name, many.shop.schedule.pk))
    many_count = _queries(client, _url(name, many.shop.schedule.pk))
    assert many_count == few_count
