"""Leader pickup verification: the code box (wrong, malformed, another community's, reused
and rate-limited codes refused in place), the member search, handing over all or some lines
with the payment taken for pay-at-pickup orders, home delivery out/delivered, the buttons
on the leader's order page, permissions and the search's query budget."""

import html as html_lib
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from fulfillment.models import PickupAttempt
from fulfillment.services import receiving
from orders.models import Fulfilment, LineStatus, Order, OrderStatus, PaymentMethod
from tests.factories import StaffFactory, UserFactory
from tests.fulfillment.conftest import make_round, pay_and_confirm
from tests.orders.conftest import make_shop

pytestmark = pytest.mark.django_db

ADDRESS = "幸福路 8 号 2 单元 301"


def ready_round(*, members: int = 2, at_pickup: int = 0, delivery: int = 0, grapes_short=0):
    """A received round: ``members`` online orders (collect at the pickup point), plus
    pay-at-pickup and paid home-delivery orders; every order is ready for pickup.
    ``grapes_short`` grapes are missing for the members (beyond the case rounding)."""
    shop = make_shop(
        allow_pay_at_pickup=True,
        delivery_option="pickup_and_delivery",
        delivery_fee=Decimal("6.00"),
    )
    extra = {"at_pickup": [], "delivery": []}
    for _ in range(at_pickup):
        extra["at_pickup"].append(shop.order(shop.new_member(), method=PaymentMethod.AT_PICKUP))
    for _ in range(delivery):
        order = shop.order(
            shop.new_member(),
            fulfilment=Fulfilment.DELIVERY,
            pickup_point=None,
            delivery_address=ADDRESS,
        )
        extra["delivery"].append(pay_and_confirm(shop, order))
    round_ = make_round(shop=shop, members=members)
    round_.ready()
    line = round_.line_of(shop.grapes)
    short = line.quantity - line.ordered_units + grapes_short if grapes_short else 0
    receiving.receipt_apply(
        purchase_order=round_.purchase_order,
        actor=shop.leader,
        counts=round_.counts(grapes=(short, 0)),
    )
    for order in [*round_.orders, *extra["at_pickup"], *extra["delivery"]]:
        order.refresh_from_db()
    round_.at_pickup = extra["at_pickup"]
    round_.delivery = extra["delivery"]
    return round_


@pytest.fixture
def round_(db):
    return ready_round(at_pickup=1, delivery=1)


@pytest.fixture
def leader_client(client, round_):
    client.force_login(round_.shop.leader)
    return client


def verify_url(round_or_community_id, **query) -> str:
    community_id = (
        round_or_community_id
        if isinstance(round_or_community_id, int)
        else round_or_community_id.shop.schedule.community_id
    )
    url = reverse("fulfillment:leader_pickup_verify", args=[community_id])
    if query:
        url += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return url


def hand_over_url(order) -> str:
    return reverse("fulfillment:leader_pickup_hand_over", args=[order.pk])


def panel(html: str) -> str:
    start = html.find('data-testid="pickup-order"')
    assert start != -1, "no order panel"
    return html[start : html.find("</section>", start)]


def error_of(html: str, name: str) -> str:
    match = re.search(rf'data-testid="error-{name}">([^<]*)<', html)
    return html_lib.unescape(match.group(1)) if match else ""


# The page


def test_verify_page_has_a_big_numeric_code_box_and_a_search(leader_client, round_):
    response = leader_client.get(verify_url(round_))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="pickup-code-input"' in html
    assert 'inputmode="numeric"' in html
    assert 'maxlength="8"' in html
    assert 'autocomplete="off"' in html
    assert '<label for="id_code">' in html
    assert 'data-testid="pickup-search-form"' in html
    assert 'data-testid="pickup-order"' not in html
    # Three ready pickup orders (two online, one pay-at-pickup); the delivery is listed apart.
    assert "3 orders waiting for pickup" in html
    assert html.count('data-testid="delivery-row"') == 1
    assert 'data-testid="nav-pickup"' in html
    assert 'data-testid="nav-after-sales"' in html


def test_code_shows_the_order_to_hand_over(leader_client, round_):
    order = round_.orders[0]
    response = leader_client.post(verify_url(round_), {"code": order.pickup_code})
    assert response.status_code == 302
    assert response["Location"] == verify_url(round_, order=order.pk) + "#order-panel"
    html = leader_client.get(response["Location"]).content.decode()
    box = panel(html)
    assert str(order.member.display_name) in box
    assert order.member.masked_phone in box
    assert str(order.member.phone) not in box  # never the whole number
    assert round_.shop.point.name in box
    assert box.count('data-testid="hand-over-check"') == 2
    assert "Hand over 2" in box and "Hand over 1" in box
    assert 'data-testid="pickup-amount-due"' not in box  # paid online
    assert 'data-testid="pickup-paid"' in box
    assert 'data-testid="hand-over-settled"' not in box
    assert PickupAttempt.objects.get().succeeded


def test_code_with_spaces_is_accepted(leader_client, round_):
    code = round_.orders[0].pickup_code
    response = leader_client.post(verify_url(round_), {"code": f" {code[:4]} {code[4:]} "})
    assert response.status_code == 302


def test_pay_at_pickup_order_shows_the_amount_due(leader_client, round_):
    order = round_.at_pickup[0]
    html = leader_client.get(verify_url(round_, order=order.pk)).content.decode()
    box = panel(html)
    assert f"¥{order.total}" in box
    assert 'data-testid="pickup-amount-due"' in box
    assert 'data-testid="hand-over-settled"' in box


def test_short_units_are_shown_and_not_handed_over(client):
    round_ = ready_round(members=2, grapes_short=1)
    client.force_login(round_.shop.leader)
    short = round_.orders[0].lines.get(item=round_.shop.grapes)
    short_order = round_.orders[0]
    if not short.short_units:  # the rule picked the other member's line
        short_order = round_.orders[1]
        short = short_order.lines.get(item=round_.shop.grapes)
    assert short.short_units == 1
    box = panel(client.get(verify_url(round_, order=short_order.pk)).content.decode())
    assert 'data-testid="hand-over-short"' in box
    assert "1 盒 did not arrive (refunded)" in box
    assert "Hand over 1 盒" in box  # 2 ordered, 1 short


# Refused codes


def test_wrong_code_is_refused_in_place(leader_client, round_):
    response = leader_client.post(verify_url(round_), {"code": "00000000"})
    html = response.content.decode()
    assert response.status_code == 200
    assert error_of(html, "code") == "No order waiting for pickup has this code."
    assert 'aria-invalid="true"' in html
    assert 'value="00000000"' in html  # kept for correction
    assert 'data-testid="pickup-order"' not in html
    assert not PickupAttempt.objects.get().succeeded


@pytest.mark.parametrize(
    "code", ["1234567", "123456789", "abcdefgh", "1234567a", "１２３４５６７８"]
)
def test_malformed_codes_are_refused(leader_client, round_, code):
    response = leader_client.post(verify_url(round_), {"code": code})
    assert response.status_code == 200
    assert error_of(response.content.decode(), "code") == "A pickup code has 8 digits."


def test_empty_code_is_refused(leader_client, round_):
    response = leader_client.post(verify_url(round_), {"code": ""})
    assert error_of(response.content.decode(), "code") == "Type the member's 8-digit pickup code."


def test_another_communitys_code_is_refused(leader_client, round_):
    other = ready_round(members=1)
    # A code this community does not use (random codes could, once in millions, collide).
    taken = set(
        Order.objects.filter(community=round_.shop.schedule.community).values_list(
            "pickup_code", flat=True
        )
    )
    code = next(f"{n:08d}" for n in range(10**7, 10**8) if f"{n:08d}" not in taken)
    Order.objects.filter(pk=other.orders[0].pk).update(pickup_code=code)
    response = leader_client.post(verify_url(round_), {"code": code})
    assert error_of(response.content.decode(), "code") == (
        "No order waiting for pickup has this code."
    )
    # Nor may she open the other community's desk or order.
    assert leader_client.get(verify_url(other)).status_code == 404
    assert leader_client.get(verify_url(round_, order=other.orders[0].pk)).status_code == 404


def test_code_cannot_be_used_again_after_pickup(leader_client, round_):
    order = round_.orders[0]
    response = leader_client.post(
        hand_over_url(order), {"lines": [line.pk for line in order.lines.all()]}
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.PICKED_UP
    response = leader_client.post(verify_url(round_), {"code": order.pickup_code})
    assert error_of(response.content.decode(), "code") == (
        "No order waiting for pickup has this code."
    )


def test_code_of_an_order_not_received_yet_is_refused(client):
    round_ = make_round(members=1)
    order = round_.orders[0]
    client.force_login(round_.shop.leader)
    response = client.post(verify_url(round_), {"code": order.pickup_code})
    assert error_of(response.content.decode(), "code") == (
        "This order's goods have not been received yet."
    )


def test_repeated_wrong_codes_are_rate_limited(leader_client, round_, settings):
    settings.PICKUP_CODE_MAX_FAILURES = 3
    for wrong in ("00000001", "00000002", "00000003"):
        response = leader_client.post(verify_url(round_), {"code": wrong})
        assert "No order waiting" in error_of(response.content.decode(), "code")
    # Now even the right code waits.
    response = leader_client.post(verify_url(round_), {"code": round_.orders[0].pickup_code})
    assert response.status_code == 200
    message = error_of(response.content.decode(), "code")
    assert message.startswith("Too many wrong codes.")
    assert f"Wait {settings.PICKUP_CODE_LOCK_MINUTES} minutes" in message
    # The member search still works.
    html = leader_client.get(
        verify_url(round_, q=round_.orders[0].member.display_name)
    ).content.decode()
    assert html.count('data-testid="pickup-result"') == 1


def test_the_lock_ends_after_the_window(leader_client, round_, settings):
    settings.PICKUP_CODE_MAX_FAILURES = 2
    for wrong in ("00000001", "00000002"):
        leader_client.post(verify_url(round_), {"code": wrong})
    PickupAttempt.objects.update(
        created_at=timezone.now() - timedelta(minutes=settings.PICKUP_CODE_LOCK_MINUTES + 1)
    )
    response = leader_client.post(verify_url(round_), {"code": round_.orders[0].pickup_code})
    assert response.status_code == 302


# Searching the member


def test_search_by_name_phone_or_number(leader_client, round_):
    order = round_.orders[1]
    member = order.member
    for term in (member.display_name, str(member.phone)[-4:], order.number):
        html = leader_client.get(verify_url(round_, q=term)).content.decode()
        results = html.count('data-testid="pickup-result"')
        assert results >= 1, term
        assert f"order={order.pk}#order-panel" in html
    html = leader_client.get(verify_url(round_, q="nobody-like-this")).content.decode()
    assert 'data-testid="pickup-no-results"' in html


def test_search_lists_only_this_communitys_ready_orders(leader_client, round_):
    other = ready_round(members=1)
    name = other.orders[0].member.display_name
    html = leader_client.get(verify_url(round_, q=name)).content.decode()
    assert 'data-testid="pickup-result"' not in html
    # A handed-over order is no longer found either.
    order = round_.orders[0]
    leader_client.post(hand_over_url(order), {"lines": [ln.pk for ln in order.lines.all()]})
    html = leader_client.get(verify_url(round_, q=order.member.display_name)).content.decode()
    assert 'data-testid="pickup-result"' not in html


def test_picking_a_search_result_shows_its_order(leader_client, round_):
    order = round_.orders[1]
    html = leader_client.get(
        verify_url(round_, q=order.member.display_name, order=order.pk)
    ).content.decode()
    assert f'data-order="{order.pk}"' in panel(html)


# Handing over


def test_hand_over_every_line(leader_client, round_):
    order = round_.orders[0]
    response = leader_client.post(
        hand_over_url(order), {"lines": [line.pk for line in order.lines.all()]}
    )
    assert response.status_code == 302
    assert response["Location"] == verify_url(round_)
    order.refresh_from_db()
    assert order.status == OrderStatus.PICKED_UP
    assert order.picked_up_at is not None
    assert all(line.picked_up_at for line in order.lines.all())
    html = leader_client.get(response["Location"]).content.decode()
    assert f"Order {order.number} handed over" in html
    # The order's panel now says so and offers nothing to tick.
    box = panel(leader_client.get(verify_url(round_, order=order.pk)).content.decode())
    assert 'data-testid="pickup-not-waiting"' in box
    assert 'data-testid="hand-over-check"' not in box
    assert box.count('data-testid="hand-over-line-done"') == 2


def test_hand_over_some_lines_then_the_rest(leader_client, round_):
    order = round_.orders[0]
    grapes, eggs = order.lines.order_by("id")
    response = leader_client.post(hand_over_url(order), {"lines": [grapes.pk]})
    assert response.status_code == 302
    assert response["Location"] == verify_url(round_, order=order.pk) + "#order-panel"
    order.refresh_from_db()
    grapes.refresh_from_db()
    assert order.status == OrderStatus.READY_FOR_PICKUP
    assert grapes.picked_up_at is not None
    box = panel(leader_client.get(response["Location"]).content.decode())
    assert box.count('data-testid="hand-over-check"') == 1
    assert 'data-testid="hand-over-line-done"' in box
    leader_client.post(hand_over_url(order), {"lines": [eggs.pk]})
    order.refresh_from_db()
    assert order.status == OrderStatus.PICKED_UP


def test_hand_over_nothing_ticked_is_refused_in_place(leader_client, round_):
    order = round_.orders[0]
    response = leader_client.post(hand_over_url(order), {})
    assert response.status_code == 200
    html = response.content.decode()
    assert error_of(html, "lines") == "Choose lines of this order still to hand over."
    order.refresh_from_db()
    assert order.status == OrderStatus.READY_FOR_PICKUP


def test_hand_over_another_orders_line_is_refused(leader_client, round_):
    order, other = round_.orders[0], round_.orders[1]
    response = leader_client.post(hand_over_url(order), {"lines": [other.lines.first().pk]})
    assert response.status_code == 200
    assert "Select a valid choice" in error_of(response.content.decode(), "lines")
    assert not other.lines.filter(picked_up_at__isnull=False).exists()


def test_pay_at_pickup_needs_the_payment_taken(leader_client, round_):
    order = round_.at_pickup[0]
    lines = [line.pk for line in order.lines.all()]
    response = leader_client.post(hand_over_url(order), {"lines": lines})
    assert response.status_code == 200
    html = response.content.decode()
    assert error_of(html, "settled") == f"Take the payment of ¥{order.total} first."
    order.refresh_from_db()
    assert order.status == OrderStatus.READY_FOR_PICKUP and order.paid_at is None
    response = leader_client.post(hand_over_url(order), {"lines": lines, "settled": "on"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.PICKED_UP
    assert order.paid_at is not None


def test_hand_over_twice_is_refused(leader_client, round_):
    order = round_.orders[0]
    lines = [line.pk for line in order.lines.all()]
    leader_client.post(hand_over_url(order), {"lines": lines})
    response = leader_client.post(hand_over_url(order), {"lines": lines})
    assert response.status_code == 200
    assert "This order is not waiting for pickup." in response.content.decode()


@pytest.mark.parametrize(
    "name",
    [
        "leader_pickup_hand_over",
        "leader_order_out_for_delivery",
        "leader_order_delivered",
    ],
)
def test_actions_are_post_only(leader_client, round_, name):
    order = round_.delivery[0]
    response = leader_client.get(reverse(f"fulfillment:{name}", args=[order.pk]))
    assert response.status_code == 405


# Home delivery


def test_delivery_goes_out_then_is_delivered(leader_client, round_):
    order = round_.delivery[0]
    box = panel(leader_client.get(verify_url(round_, order=order.pk)).content.decode())
    assert ADDRESS in box
    assert 'data-testid="out-for-delivery"' in box
    assert 'data-testid="delivered"' not in box
    assert 'data-testid="hand-over-submit"' not in box
    response = leader_client.post(
        reverse("fulfillment:leader_order_out_for_delivery", args=[order.pk])
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.out_for_delivery_at is not None
    html = leader_client.get(verify_url(round_, order=order.pk)).content.decode()
    assert 'data-testid="pickup-out-at"' in panel(html)
    assert 'data-testid="delivery-out"' in html  # in the list of deliveries too
    # The member sees it on her order page.
    member_html = _member_page(order)
    assert 'data-testid="order-out-for-delivery"' in member_html
    response = leader_client.post(reverse("fulfillment:leader_order_delivered", args=[order.pk]))
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.PICKED_UP
    assert order.picked_up_at is not None
    assert 'data-testid="order-delivered"' in _member_page(order)


def test_delivered_before_going_out_is_refused(leader_client, round_):
    order = round_.delivery[0]
    response = leader_client.post(
        reverse("fulfillment:leader_order_delivered", args=[order.pk]), follow=True
    )
    assert "Mark the order out for delivery first." in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.READY_FOR_PICKUP


def test_a_pickup_order_cannot_go_out_for_delivery(leader_client, round_):
    order = round_.orders[0]
    response = leader_client.post(
        reverse("fulfillment:leader_order_out_for_delivery", args=[order.pk]), follow=True
    )
    assert "Only a home-delivery order that is ready can go out." in response.content.decode()
    order.refresh_from_db()
    assert order.out_for_delivery_at is None


def test_delivery_buttons_on_the_leaders_order_page_come_back_to_it(leader_client, round_):
    order = round_.delivery[0]
    detail = reverse("orders:leader_order", args=[order.pk])
    html = leader_client.get(detail).content.decode()
    assert 'data-testid="out-for-delivery"' in html
    response = leader_client.post(
        reverse("fulfillment:leader_order_out_for_delivery", args=[order.pk]), {"next": detail}
    )
    assert response["Location"] == detail
    html = leader_client.get(detail).content.decode()
    assert 'data-testid="out-for-delivery-at"' in html
    assert 'data-testid="delivered"' in html
    # A foreign "next" is ignored.
    response = leader_client.post(
        reverse("fulfillment:leader_order_delivered", args=[order.pk]),
        {"next": "https://evil.example/"},
    )
    assert response["Location"].startswith("/leader/")
    html = leader_client.get(detail).content.decode()
    assert 'data-testid="picked-up-at"' in html


def test_hand_over_link_on_the_leaders_order_page(leader_client, round_):
    order = round_.orders[0]
    html = leader_client.get(reverse("orders:leader_order", args=[order.pk])).content.decode()
    assert f"{verify_url(round_)}?order={order.pk}#order-panel" in html
    assert 'data-testid="hand-over"' in html
    # Not before the goods arrived.
    early = make_round(members=1)
    leader_client.force_login(early.shop.leader)
    html = leader_client.get(
        reverse("orders:leader_order", args=[early.orders[0].pk])
    ).content.decode()
    assert 'data-testid="hand-over"' not in html


def _member_page(order) -> str:
    from django.test import Client

    client = Client()
    client.force_login(order.member)
    response = client.get(reverse("orders:member_order", args=[order.number]))
    assert response.status_code == 200
    return response.content.decode()


# Permissions


def test_anonymous_is_sent_to_log_in(client, round_):
    response = client.get(verify_url(round_))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_member_is_refused(client, round_):
    client.force_login(round_.orders[0].member)
    assert client.get(verify_url(round_)).status_code == 403
    assert client.post(hand_over_url(round_.orders[0]), {}).status_code == 403


def test_another_leader_gets_404_everywhere(client, round_):
    other = make_shop()
    client.force_login(other.leader)
    order = round_.orders[0]
    assert client.get(verify_url(round_)).status_code == 404
    assert client.post(verify_url(round_), {"code": order.pickup_code}).status_code == 404
    lines = [line.pk for line in order.lines.all()]
    assert client.post(hand_over_url(order), {"lines": lines}).status_code == 404
    delivery = round_.delivery[0]
    for name in ("leader_order_out_for_delivery", "leader_order_delivered"):
        response = client.post(reverse(f"fulfillment:{name}", args=[delivery.pk]))
        assert response.status_code == 404
    order.refresh_from_db()
    assert order.status == OrderStatus.READY_FOR_PICKUP
    assert not PickupAttempt.objects.exists()


def test_staff_may_verify(client, round_):
    client.force_login(StaffFactory())
    order = round_.orders[0]
    assert client.get(verify_url(round_)).status_code == 200
    response = client.post(verify_url(round_), {"code": order.pickup_code})
    assert response.status_code == 302
    lines = [line.pk for line in order.lines.all()]
    assert client.post(hand_over_url(order), {"lines": lines}).status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.PICKED_UP


def test_a_plain_user_gets_403(client, round_):
    client.force_login(UserFactory())
    assert client.get(verify_url(round_)).status_code == 403


def test_cancelled_lines_are_not_offered(leader_client, round_):
    order = round_.orders[0]
    eggs = order.lines.get(item=round_.shop.eggs)
    type(eggs).objects.filter(pk=eggs.pk).update(status=LineStatus.CANCELLED)
    box = panel(leader_client.get(verify_url(round_, order=order.pk)).content.decode())
    assert box.count('data-testid="hand-over-line"') == 1


# Query budget


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_search_and_delivery_list_query_count_is_flat(client):
    round_ = ready_round(members=30, delivery=0)
    community_id = round_.shop.schedule.community_id
    members = [order.member for order in round_.orders]
    for index, member in enumerate(members):
        member.display_name = f"Ann {index}" if index < 3 else f"Ben {index}"
        member.save(update_fields=["display_name"])
    # Ann: 3 matches; "n": all 30 (the page shows the first 20).
    client.force_login(round_.shop.leader)
    _queries(client, verify_url(community_id, q="Ann"))
    few = _queries(client, verify_url(community_id, q="Ann"))
    many = _queries(client, verify_url(community_id, q="n"))
    html = client.get(verify_url(community_id, q="n")).content.decode()
    assert html.count('data-testid="pickup-result"') == 20
    assert many == few
    # Deliveries: 3 then 30 shown on the desk, same number of queries.
    Order.objects.filter(pk__in=[o.pk for o in round_.orders[:3]]).update(
        fulfilment=Fulfilment.DELIVERY, delivery_address=ADDRESS
    )
    few = _queries(client, verify_url(community_id))
    Order.objects.filter(community_id=community_id).update(
        fulfilment=Fulfilment.DELIVERY, delivery_address=ADDRESS
    )
    many = _queries(client, verify_url(community_id))
    assert many == few


def test_amount_due_counts_only_units_handed_over(client):
    round_ = ready_round(members=0, at_pickup=1, grapes_short=1)
    order = round_.at_pickup[0]
    client.force_login(round_.shop.leader)
    box = panel(client.get(verify_url(round_, order=order.pk)).content.decode())
    # 2 grapes ordered, 1 short: pays 1 x 15.00 + 29.90.
    assert f"¥{Decimal('15.00') + Decimal('29.90')}" in box
