"""Member order pages: the cart on the schedule page, checkout (happy paths and every
bad input refused with nothing written), the order list and page scoped to the member,
pay and cancel actions, the htmx status fragment and the list's query budget."""

from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import PickupPoint
from orders.models import (
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
)
from orders.providers.base import PaymentReport
from orders.services.payments import payment_report_apply, payment_start
from sandboxpay import gateway
from sandboxpay.models import Charge
from scheduling.models import Schedule, ScheduleItem
from tests.factories import CommunityFactory, MembershipFactory, UserFactory
from tests.orders.conftest import make_shop

pytestmark = pytest.mark.django_db

GRAPES_PRICE = Decimal("15.00")
EGGS_PRICE = Decimal("29.90")


@pytest.fixture
def member_client(client, shop):
    client.force_login(shop.member)
    return client


def checkout_url(shop):
    return reverse("orders:checkout", args=[shop.schedule.pk])


def order_url(order, name="orders:member_order"):
    return reverse(name, args=[order.number])


def checkout_data(shop, grapes=2, eggs=1, **overrides):
    total = GRAPES_PRICE * grapes + EGGS_PRICE * eggs
    data = {
        f"q_{shop.grapes.pk}": str(grapes),
        f"q_{shop.eggs.pk}": str(eggs),
        "fulfilment": "pickup",
        "pickup_point": str(shop.point.pk),
        "payment_method": "online",
        "note": "",
        "expected_total": str(total),
        "action": "place",
    }
    data.update({key: value for key, value in overrides.items() if value is not None})
    for key in [key for key, value in overrides.items() if value is None]:
        data.pop(key, None)
    return data


def written(shop):
    """What a refused checkout must leave untouched."""
    return (
        Order.objects.count(),
        OrderLine.objects.count(),
        list(
            ScheduleItem.objects.filter(schedule=shop.schedule)
            .order_by("pk")
            .values_list("reserved_qty", flat=True)
        ),
    )


def pay(order):
    """The provider's verified report that the order was paid, applied directly."""
    payment = payment_start(order=order, member=order.member)
    with transaction.atomic():
        payment_report_apply(
            report=PaymentReport(
                trade_number=payment.trade_number, outcome="paid", amount=payment.amount
            ),
            provider_code=payment.provider,
        )
    order.refresh_from_db()
    return payment


def close_ordering(schedule):
    now = timezone.now()
    Schedule.objects.filter(pk=schedule.pk).update(
        sale_start=now - timedelta(hours=3), cutoff=now - timedelta(hours=1)
    )


# The cart on the schedule page


def test_schedule_page_has_cart_steppers_and_checkout(member_client, shop):
    ScheduleItem.objects.filter(pk=shop.eggs.pk).update(reserved_qty=58)  # 2 left, limit 5
    response = member_client.get(reverse("scheduling:member_schedule", args=[shop.schedule.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('data-testid="cart-qty"') == 2
    assert f'name="q_{shop.grapes.pk}" form="cart-form" value="0" min="0" max="5"' in html
    assert f'name="q_{shop.eggs.pk}" form="cart-form" value="0" min="0" max="2"' in html
    assert 'data-price="29.90"' in html
    assert f'id="cart-form" class="cart-bar" method="get" action="{checkout_url(shop)}"' in html
    assert 'data-testid="checkout-button"' in html
    assert 'aria-live="polite"' in html
    assert "js/cart.js" in html
    assert 'data-testid="nav-orders"' in html


def test_schedule_page_has_no_cart_once_closed(member_client, shop):
    close_ordering(shop.schedule)
    html = member_client.get(
        reverse("scheduling:member_schedule", args=[shop.schedule.pk])
    ).content.decode()
    assert 'data-testid="cart-qty"' not in html
    assert 'id="cart-form"' not in html


def test_schedule_page_marks_sold_out_items(member_client, shop):
    ScheduleItem.objects.filter(pk=shop.eggs.pk).update(reserved_qty=60)
    html = member_client.get(
        reverse("scheduling:member_schedule", args=[shop.schedule.pk])
    ).content.decode()
    assert html.count('data-testid="cart-qty"') == 1
    assert 'data-testid="sold-out"' in html


# Checkout: showing the cart


def test_checkout_shows_the_cart_priced_by_the_server(member_client, shop):
    response = member_client.get(
        checkout_url(shop), {f"q_{shop.grapes.pk}": 2, f"q_{shop.eggs.pk}": 1}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('data-testid="cart-line"') == 2
    assert 'data-testid="checkout-total">59.90<' in html
    assert 'name="expected_total" value="59.90"' in html
    assert f'data-testid="allowance-{shop.grapes.pk}"' in html
    assert "You can add up to 5 more" in html
    assert shop.point.name in html
    assert f'value="{shop.point.pk}"' in html and "checked" in html  # the only point
    assert 'value="at_pickup"' not in html  # the leader does not allow it
    assert 'value="delivery"' not in html  # pickup only
    assert 'data-testid="confirm-order"' in html


def test_checkout_allowance_counts_what_the_member_already_holds(member_client, shop):
    shop.order(quantities={shop.grapes.pk: 3})
    html = member_client.get(checkout_url(shop), {f"q_{shop.grapes.pk}": 1}).content.decode()
    assert f'data-testid="allowance-{shop.grapes.pk}">You can add up to 2 more' in html
    assert 'max="2"' in html


def test_checkout_expires_overdue_orders_before_counting_the_allowance(member_client, shop):
    order = shop.order(quantities={shop.grapes.pk: 5})
    Order.objects.filter(pk=order.pk).update(payment_deadline=timezone.now() - timedelta(hours=1))
    html = member_client.get(checkout_url(shop), {f"q_{shop.grapes.pk}": 5}).content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED
    assert f'data-testid="error-q_{shop.grapes.pk}"' not in html
    assert 'data-testid="checkout-total">75.00<' in html


def test_checkout_with_an_empty_cart(member_client, shop):
    response = member_client.get(checkout_url(shop))
    assert response.status_code == 200
    assert b'data-testid="cart-empty"' in response.content


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-1", "Quantities cannot be negative."),
        ("two", "Enter a whole number."),
        ("6", "You can add at most 5 more."),
    ],
)
def test_checkout_page_refuses_bad_quantities_in_the_link(member_client, shop, value, message):
    html = member_client.get(checkout_url(shop), {f"q_{shop.grapes.pk}": value}).content.decode()
    assert f'data-testid="error-q_{shop.grapes.pk}"' in html
    assert message in html
    assert 'data-testid="checkout-total">—<' in html


def test_checkout_offers_delivery_and_pay_at_pickup_when_the_leader_does(client):
    shop = make_shop(
        delivery_option="pickup_and_delivery",
        delivery_fee=Decimal("5.00"),
        allow_pay_at_pickup=True,
    )
    client.force_login(shop.member)
    html = client.get(checkout_url(shop), {f"q_{shop.grapes.pk}": 1}).content.decode()
    assert 'value="delivery"' in html
    assert "(+¥5.00)" in html
    assert 'value="at_pickup"' in html
    assert 'data-delivery-fee="5.00"' in html
    assert 'name="delivery_address"' in html


# Checkout: placing the order


def test_place_online_order_goes_to_the_cashier(member_client, shop):
    response = member_client.post(checkout_url(shop), checkout_data(shop, note="请放门口"))
    order = Order.objects.get()
    payment = Payment.objects.get(order=order)
    assert response.status_code == 302
    assert response["Location"] == payment.pay_url
    assert reverse("sandboxpay:cashier", args=[Charge.objects.get().token]) in payment.pay_url
    assert payment.status == PaymentStatus.PENDING
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert order.member == shop.member
    assert order.total == Decimal("59.90")
    assert order.note == "请放门口"
    assert order.pickup_point == shop.point
    assert order.payment_deadline is not None
    shop.grapes.refresh_from_db()
    shop.eggs.refresh_from_db()
    assert (shop.grapes.reserved_qty, shop.eggs.reserved_qty) == (2, 1)
    assert sorted(order.lines.values_list("quantity", "unit_price")) == [
        (1, EGGS_PRICE),
        (2, GRAPES_PRICE),
    ]


def test_place_pay_at_pickup_order_is_confirmed_with_a_code(client):
    shop = make_shop(allow_pay_at_pickup=True)
    client.force_login(shop.member)
    response = client.post(checkout_url(shop), checkout_data(shop, payment_method="at_pickup"))
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == order_url(order)
    assert order.status == OrderStatus.CONFIRMED
    assert len(order.pickup_code) == 8 and order.pickup_code.isdigit()
    assert not Payment.objects.exists()
    html = client.get(order_url(order)).content.decode()
    assert 'data-testid="message-success"' in html
    assert f'data-testid="pickup-code-digits">{order.pickup_code}<' in html
    assert "<svg" in html
    assert 'data-testid="pay-order"' not in html


def test_place_home_delivery_adds_the_fee(client):
    shop = make_shop(delivery_option="pickup_and_delivery", delivery_fee=Decimal("5.00"))
    client.force_login(shop.member)
    data = checkout_data(
        shop,
        fulfilment="delivery",
        delivery_address="3 号楼 1201",
        expected_total="64.90",
        pickup_point=None,
    )
    response = client.post(checkout_url(shop), data)
    order = Order.objects.get()
    assert response.status_code == 302
    assert (order.delivery_fee, order.total) == (Decimal("5.00"), Decimal("64.90"))
    assert order.delivery_address == "3 号楼 1201"
    assert order.pickup_point is None


def test_update_total_reprices_without_placing(member_client, shop):
    data = checkout_data(shop, grapes=3, expected_total="0.01", action="update")
    response = member_client.post(checkout_url(shop), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="checkout-total">74.90<' in html
    assert 'name="expected_total" value="74.90"' in html
    assert not Order.objects.exists()


def test_changed_total_is_shown_again_and_then_accepted(member_client, shop):
    response = member_client.post(checkout_url(shop), checkout_data(shop, expected_total="50.00"))
    html = response.content.decode()
    assert 'data-testid="error-expected_total"' in html
    assert "The total is now ¥59.90" in html
    assert 'name="expected_total" value="59.90"' in html
    response = member_client.post(checkout_url(shop), checkout_data(shop))
    assert response.status_code == 302
    assert Order.objects.count() == 1


BAD_INPUTS = {
    "zero": ({"grapes": 0, "eggs": 0}, "quantities", "Choose at least one item."),
    "negative": ({"grapes": -1}, "q_grapes", "Quantities cannot be negative."),
    "text": ({"q_grapes": "two"}, "q_grapes", "Enter a whole number."),
    "decimal": ({"q_grapes": "1.5"}, "q_grapes", "Enter a whole number."),
    "above limit": ({"grapes": 6}, "q_grapes", "You can add at most 5 more."),
    "unknown item": ({"q_999999": "1"}, "quantities", "not part of this group buy"),
    "tampered total": ({"expected_total": "1.00"}, "expected_total", "The total is now ¥59.90"),
    "junk total": ({"expected_total": "cheap"}, "expected_total", "Check the total"),
    "missing total": ({"expected_total": None}, "expected_total", "Check the total"),
    "pay at pickup not allowed": (
        {"payment_method": "at_pickup"},
        "payment_method",
        "does not accept payment at pickup",
    ),
    "unknown payment method": ({"payment_method": "credit"}, "payment_method", "valid choice"),
    "delivery not offered": (
        {"fulfilment": "delivery", "delivery_address": "3 号楼"},
        "fulfilment",
        "offers pickup only",
    ),
    "no pickup point": ({"pickup_point": None}, "pickup_point", "Choose one of this group buy"),
    "long note": ({"note": "长" * 201}, "note", "at most 200 characters"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS), ids=list(BAD_INPUTS))
def test_checkout_refuses_bad_input_and_writes_nothing(member_client, shop, case):
    changes, field, message = BAD_INPUTS[case]
    changes = dict(changes)
    quantities = {name: changes.pop(name) for name in ("grapes", "eggs") if name in changes}
    data = checkout_data(shop, **quantities)
    for key, value in changes.items():
        key = {"q_grapes": f"q_{shop.grapes.pk}"}.get(key, key)
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    before = written(shop)
    response = member_client.post(checkout_url(shop), data)
    html = response.content.decode()
    assert response.status_code == 200
    field = {"q_grapes": f"q_{shop.grapes.pk}"}.get(field, field)
    assert f'data-testid="error-{field}"' in html
    assert message in html
    assert written(shop) == before
    assert not Payment.objects.exists()


def test_checkout_refuses_an_item_of_another_schedule(member_client, shop):
    other = make_shop(community=shop.schedule.community)
    data = checkout_data(shop)
    data[f"q_{other.grapes.pk}"] = "1"
    before = written(shop), written(other)
    html = member_client.post(checkout_url(shop), data).content.decode()
    assert 'data-testid="error-quantities"' in html
    assert "Some items are not part of this group buy." in html
    assert (written(shop), written(other)) == before


def test_checkout_refuses_another_communitys_pickup_point(member_client, shop):
    stranger = CommunityFactory().pickup_points.first()
    before = written(shop)
    html = member_client.post(
        checkout_url(shop), checkout_data(shop, pickup_point=str(stranger.pk))
    ).content.decode()
    assert 'data-testid="error-pickup_point"' in html
    assert written(shop) == before


def test_checkout_refuses_home_delivery_without_an_address(client):
    shop = make_shop(delivery_option="pickup_and_delivery", delivery_fee=Decimal("5.00"))
    client.force_login(shop.member)
    before = written(shop)
    data = checkout_data(shop, fulfilment="delivery", delivery_address="  ", expected_total="64.90")
    html = client.post(checkout_url(shop), data).content.decode()
    assert 'data-testid="error-delivery_address"' in html
    assert "Give the delivery address." in html
    assert written(shop) == before


def test_checkout_refuses_above_the_limit_counting_earlier_orders(member_client, shop):
    shop.order(quantities={shop.grapes.pk: 4})
    before = written(shop)
    html = member_client.post(
        checkout_url(shop), checkout_data(shop, grapes=2, eggs=0)
    ).content.decode()
    assert f'data-testid="error-q_{shop.grapes.pk}"' in html
    assert "You can add at most 1 more." in html
    assert written(shop) == before


def test_checkout_refuses_stock_that_ran_out_with_the_form_message(member_client, shop):
    ScheduleItem.objects.filter(pk=shop.grapes.pk).update(reserved_qty=59)
    before = written(shop)
    html = member_client.post(
        checkout_url(shop), checkout_data(shop, grapes=2, eggs=0)
    ).content.decode()
    assert f'data-testid="error-q_{shop.grapes.pk}"' in html
    assert "You can add at most 1 more." in html
    assert written(shop) == before


def test_checkout_shows_the_reservations_refusal_next_to_the_items(member_client, shop):
    """Stock taken between the allowance check and the reservation (a race): the
    service's one error naming every short item is shown and nothing is written."""
    ScheduleItem.objects.filter(pk__in=[shop.grapes.pk, shop.eggs.pk]).update(reserved_qty=59)
    generous = {shop.grapes.pk: 5, shop.eggs.pk: 5}
    before = written(shop)
    with mock.patch("orders.selectors.member_item_allowances", return_value=generous):
        html = member_client.post(checkout_url(shop), checkout_data(shop, grapes=2, eggs=2))
    html = html.content.decode()
    assert 'data-testid="error-quantities"' in html
    assert "Not enough stock" in html
    assert "only 1 of Shine Muscat grapes left" in html
    assert "only 1 of Free-range eggs left" in html
    assert written(shop) == before


def test_checkout_after_the_cutoff_says_ordering_closed(member_client, shop):
    close_ordering(shop.schedule)
    response = member_client.get(checkout_url(shop), {f"q_{shop.grapes.pk}": 1})
    assert response.status_code == 200
    assert b'data-testid="ordering-closed"' in response.content
    assert b'data-testid="checkout-form"' not in response.content
    before = written(shop)
    response = member_client.post(checkout_url(shop), checkout_data(shop))
    assert response.status_code == 200
    assert b'data-testid="ordering-closed"' in response.content
    assert b"Ordering has closed" in response.content
    assert written(shop) == before


def test_checkout_of_another_communitys_schedule_is_404(client, shop):
    other = make_shop()
    client.force_login(shop.member)
    before = written(other)
    assert client.get(checkout_url(other)).status_code == 404
    assert client.post(checkout_url(other), checkout_data(other)).status_code == 404
    assert written(other) == before


def test_checkout_of_a_draft_schedule_is_404(member_client, shop):
    Schedule.objects.filter(pk=shop.schedule.pk).update(status="draft")
    assert member_client.get(checkout_url(shop)).status_code == 404


def test_anonymous_is_sent_to_log_in(client, shop):
    order = shop.order()
    for url in (checkout_url(shop), reverse("orders:member_orders"), order_url(order)):
        response = client.get(url)
        assert response.status_code == 302
        assert reverse("account_login") in response["Location"]


def test_checkout_needs_the_csrf_token(shop):
    client = Client(enforce_csrf_checks=True)
    client.force_login(shop.member)
    response = client.post(checkout_url(shop), checkout_data(shop))
    assert response.status_code == 403
    assert not Order.objects.exists()


# The order list


def test_order_list_shows_own_orders_newest_first(member_client, shop):
    first = shop.order(quantities={shop.grapes.pk: 1})
    second = shop.order(quantities={shop.eggs.pk: 2})
    shop.order(shop.new_member())  # someone else's
    html = member_client.get(reverse("orders:member_orders")).content.decode()
    assert html.count('data-testid="order-card"') == 2
    assert html.index(second.number) < html.index(first.number)
    assert shop.schedule.title in html
    assert "¥59.80" in html  # 2 x 29.90
    assert 'class="badge badge-pending_payment"' in html
    assert 'aria-current="page" data-testid="nav-orders"' in html


def test_order_list_empty_state(member_client):
    html = member_client.get(reverse("orders:member_orders")).content.decode()
    assert 'data-testid="no-orders"' in html


def test_order_list_expires_overdue_orders_first(member_client, shop):
    order = shop.order()
    Order.objects.filter(pk=order.pk).update(payment_deadline=timezone.now() - timedelta(hours=1))
    html = member_client.get(reverse("orders:member_orders")).content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED
    assert "badge-expired" in html
    shop.grapes.refresh_from_db()
    assert shop.grapes.reserved_qty == 0


def _list_queries(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("orders:member_orders"))
    assert response.status_code == 200
    return len(queries)


def test_order_list_query_budget_does_not_grow_with_orders(client):
    shop = make_shop(grapes={"per_member_limit": 60})
    client.force_login(shop.member)
    for _ in range(3):
        shop.order(quantities={shop.grapes.pk: 1, shop.eggs.pk: 1} if _ == 0 else None)
    few = _list_queries(client)
    for _ in range(27):
        shop.order(quantities={shop.grapes.pk: 1})
    assert Order.objects.filter(member=shop.member).count() == 30
    many = _list_queries(client)
    assert many == few
    assert few <= 12


# One order


def test_order_page_of_another_member_is_404(client, shop):
    order = shop.order()
    client.force_login(shop.new_member())
    assert client.get(order_url(order)).status_code == 404
    assert client.get(order_url(order, "orders:member_order_status")).status_code == 404
    assert client.post(order_url(order, "orders:member_order_pay")).status_code == 404
    assert client.post(order_url(order, "orders:member_order_cancel")).status_code == 404
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT


def test_order_page_of_an_unpaid_order(member_client, shop):
    order = shop.order(note="谢谢")
    html = member_client.get(order_url(order)).content.decode()
    assert html.count('data-testid="order-line"') == 2
    assert "阳光玫瑰葡萄" in html or "Shine Muscat" in html
    assert "¥59.90" in html
    assert 'data-testid="payment-countdown"' in html
    assert timezone.localtime(order.payment_deadline).isoformat() in html
    assert 'data-testid="pay-order"' in html
    assert 'data-testid="cancel-panel"' in html
    assert 'data-testid="pickup-code"' not in html
    assert 'data-testid="payment-waiting"' not in html
    assert shop.point.name in html
    assert 'data-testid="order-pickup-window"' in html
    assert 'href="tel:' in html and 'data-testid="call-leader"' in html
    assert 'data-testid="call-pickup-point"' in html
    assert 'data-testid="history"' in html
    assert "谢谢" in html


def test_order_page_shows_paid_order_with_refunds(member_client, shop):
    order = shop.order()
    pay(order)
    html = member_client.get(order_url(order)).content.decode()
    assert 'class="badge badge-paid"' in html
    assert 'data-testid="pay-order"' not in html
    assert 'data-testid="cancel-refund-note"' in html
    assert "¥59.90 will be refunded" in html


def test_order_page_expires_an_overdue_order(member_client, shop):
    order = shop.order()
    Order.objects.filter(pk=order.pk).update(payment_deadline=timezone.now() - timedelta(hours=1))
    html = member_client.get(order_url(order)).content.decode()
    assert 'data-testid="order-expired"' in html
    assert 'data-testid="pay-order"' not in html
    assert 'data-testid="cancel-panel"' not in html


# Pay


def test_pay_action_is_post_only(member_client, shop):
    order = shop.order()
    assert member_client.get(order_url(order, "orders:member_order_pay")).status_code == 405
    assert member_client.get(order_url(order, "orders:member_order_cancel")).status_code == 405


def test_pay_action_sends_the_member_to_the_cashier(member_client, shop):
    order = shop.order()
    response = member_client.post(order_url(order, "orders:member_order_pay"))
    payment = Payment.objects.get(order=order)
    assert response.status_code == 302
    assert response["Location"] == payment.pay_url
    # Paying again reuses the open payment.
    response = member_client.post(order_url(order, "orders:member_order_pay"))
    assert response["Location"] == payment.pay_url
    assert Payment.objects.filter(order=order).count() == 1


def test_pay_action_refused_when_not_awaiting_payment(member_client, shop):
    order = shop.order()
    pay(order)
    response = member_client.post(order_url(order, "orders:member_order_pay"), follow=True)
    assert response.redirect_chain[-1][0] == order_url(order)
    assert b"This order is not waiting for an online payment." in response.content
    assert Payment.objects.filter(order=order).count() == 1


# Cancel


def test_cancel_an_unpaid_order_releases_the_stock(member_client, shop):
    order = shop.order()
    response = member_client.post(
        order_url(order, "orders:member_order_cancel"), {"reason": "买错了"}, follow=True
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert order.cancel_reason == "买错了"
    assert b"Your order is cancelled." in response.content
    shop.grapes.refresh_from_db()
    assert shop.grapes.reserved_qty == 0
    assert not Refund.objects.exists()


def test_cancel_a_paid_order_refunds_it(member_client, shop):
    order = shop.order()
    payment = pay(order)
    response = member_client.post(order_url(order, "orders:member_order_cancel"), follow=True)
    order.refresh_from_db()
    refund = Refund.objects.get(order=order)
    assert order.status == OrderStatus.CANCELLED
    assert refund.amount == Decimal("59.90") and refund.payment == payment
    assert order.refunded_total == Decimal("59.90")
    html = response.content.decode()
    assert "¥59.90 will be refunded to you" in html
    assert 'data-testid="order-refunds"' in html
    assert "Cancelled by the member" in html


def test_cancel_after_the_cutoff_is_refused(member_client, shop):
    order = shop.order()
    pay(order)
    close_ordering(shop.schedule)
    response = member_client.post(order_url(order, "orders:member_order_cancel"), follow=True)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert b"The cut-off has passed" in response.content
    assert not Refund.objects.exists()
    assert b'data-testid="cancel-panel"' not in response.content


def test_cancel_needs_the_csrf_token(shop):
    order = shop.order()
    client = Client(enforce_csrf_checks=True)
    client.force_login(shop.member)
    assert client.post(order_url(order, "orders:member_order_cancel")).status_code == 403
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT


# Waiting for the provider's notification


def test_returning_from_the_cashier_waits_for_the_notification(member_client, shop):
    order = shop.order()
    member_client.post(order_url(order, "orders:member_order_pay"))
    charge = Charge.objects.get()
    gateway.charge_settle(token=charge.token, paid=True)  # no notification arrives yet
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT  # the browser's return decides nothing
    html = member_client.get(order_url(order)).content.decode()
    status_url = order_url(order, "orders:member_order_status")
    assert 'data-testid="payment-waiting"' in html
    assert f'hx-get="{status_url}?since=pending_payment"' in html
    assert 'hx-trigger="every 2s"' in html

    # Still waiting: the fragment keeps polling.
    response = member_client.get(
        status_url, {"since": "pending_payment"}, headers={"HX-Request": "true"}
    )
    fragment = response.content.decode()
    assert 'data-testid="order-status"' in fragment
    assert 'hx-trigger="every 2s"' in fragment
    assert "HX-Refresh" not in response.headers
    assert "<html" not in fragment

    # The notification arrives: the fragment shows the new state and reloads the page.
    payment = Payment.objects.get(order=order)
    with transaction.atomic():
        payment_report_apply(
            report=PaymentReport(
                trade_number=payment.trade_number, outcome="paid", amount=payment.amount
            ),
            provider_code=payment.provider,
        )
    response = member_client.get(
        status_url, {"since": "pending_payment"}, headers={"HX-Request": "true"}
    )
    fragment = response.content.decode()
    assert 'class="badge badge-paid"' in fragment
    assert "hx-get" not in fragment
    assert response.headers["HX-Refresh"] == "true"
    html = member_client.get(order_url(order)).content.decode()
    assert 'data-testid="payment-waiting"' not in html


def test_failed_payment_stops_waiting_and_offers_pay_again(member_client, shop):
    order = shop.order()
    member_client.post(order_url(order, "orders:member_order_pay"))
    payment = Payment.objects.get(order=order)
    with transaction.atomic():
        payment_report_apply(
            report=PaymentReport(
                trade_number=payment.trade_number, outcome="failed", amount=payment.amount
            ),
            provider_code=payment.provider,
        )
    html = member_client.get(order_url(order)).content.decode()
    assert 'data-testid="payment-failed"' in html
    assert 'data-testid="payment-waiting"' not in html
    assert 'data-testid="pay-order"' in html


def test_pickup_code_shown_once_confirmed(client):
    shop = make_shop(allow_pay_at_pickup=True)
    client.force_login(shop.member)
    order = shop.order(method=PaymentMethod.AT_PICKUP)
    html = client.get(order_url(order)).content.decode()
    assert 'data-testid="pickup-qr"' in html
    assert f"Pickup code {order.pickup_code}" in html  # the QR's title
    assert "Pay ¥59.90 at pickup." in html


def test_member_without_orders_elsewhere_sees_nothing(client, shop):
    shop.order()
    stranger = UserFactory()
    MembershipFactory(user=stranger, community=CommunityFactory())
    client.force_login(stranger)
    html = client.get(reverse("orders:member_orders")).content.decode()
    assert 'data-testid="no-orders"' in html


def test_pickup_point_list_is_the_schedules(member_client, shop):
    extra = PickupPoint.objects.create(
        community=shop.schedule.community,
        name="东门快递柜",
        address="东门",
        opening_hours="全天",
        contact_phone="+8613900000000",
    )
    html = member_client.get(checkout_url(shop), {f"q_{shop.grapes.pk}": 1}).content.decode()
    assert extra.name not in html  # not one of this schedule's points


def test_a_sold_out_item_is_refused_as_sold_out(member_client, shop):
    """A buyer who lost the race hears that the item is sold out, not a limit message."""
    ScheduleItem.objects.filter(pk=shop.grapes.pk).update(reserved_qty=F("quantity_cap"))

    response = member_client.post(checkout_url(shop), checkout_data(shop, grapes=1, eggs=0))

    assert response.status_code == 200
    assert "Shine Muscat grapes is sold out." in response.content.decode()
    assert not Order.objects.exists()


def test_checkout_gives_back_the_units_of_anyones_overdue_unpaid_order(member_client, shop):
    """Stock held by another member's order past its payment window is free again when
    the checkout reads it (lazy expiry), without waiting for the sweeper."""
    ScheduleItem.objects.filter(pk=shop.grapes.pk).update(quantity_cap=2)
    other = shop.new_member()
    holder = shop.order(other, quantities={shop.grapes.pk: 2})
    Order.objects.filter(pk=holder.pk).update(
        payment_deadline=timezone.now() - timedelta(minutes=1)
    )

    response = member_client.post(checkout_url(shop), checkout_data(shop, grapes=1, eggs=0))

    assert response.status_code == 302
    holder.refresh_from_db()
    assert holder.status == OrderStatus.EXPIRED
    shop.grapes.refresh_from_db()
    assert shop.grapes.reserved_qty == 1
