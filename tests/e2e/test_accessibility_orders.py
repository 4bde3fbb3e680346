"""axe-core on the order pages: checkout, order list and order page on the phone (in
Chinese, with a pickup code), the sandbox cashier, and the leader's order review."""

import pytest
from django.db import transaction

from orders.providers.base import PaymentReport
from orders.services.payments import payment_report_apply, payment_start
from orders.services.review import order_confirm
from tests.e2e.test_accessibility import assert_accessible, log_in
from tests.orders.conftest import make_shop

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def confirmed_order(settings, live_server):
    settings.SITE_URL = live_server.url
    shop = make_shop()
    shop.member.preferred_language = "zh-hans"
    shop.member.save(update_fields=["preferred_language"])
    order = shop.order()
    payment = payment_start(order=order, member=shop.member)
    with transaction.atomic():
        payment_report_apply(
            report=PaymentReport(
                trade_number=payment.trade_number, outcome="paid", amount=payment.amount
            ),
            provider_code="sandbox",
        )
    order.refresh_from_db()
    order_confirm(order=order, actor=shop.leader)
    return shop, order


@pytest.mark.parametrize("page_name", ["checkout", "orders", "order", "pending", "cashier"])
def test_member_order_pages_on_phone(page_name, confirmed_order, new_phone_context, live_server):
    shop, order = confirmed_order
    paths = {
        "checkout": f"/m/schedules/{shop.schedule.pk}/checkout/?q_{shop.grapes.pk}=2"
        f"&q_{shop.eggs.pk}=1",
        "orders": "/m/orders/",
        "order": f"/m/orders/{order.number}/",
    }
    if page_name in ("pending", "cashier"):
        pending = shop.order(quantities={shop.eggs.pk: 1})
        paths["pending"] = f"/m/orders/{pending.number}/"
        paths["cashier"] = payment_start(order=pending, member=shop.member).pay_url
    context = new_phone_context()
    log_in(context, shop.member, live_server)
    page = context.new_page()
    page.goto(paths[page_name])
    assert_accessible(page)


@pytest.mark.parametrize("page_name", ["orders", "order", "reject"])
def test_leader_order_pages(page_name, confirmed_order, new_desktop_context, live_server):
    shop, order = confirmed_order
    paths = {
        "orders": f"/leader/schedules/{shop.schedule.pk}/orders/",
        "order": f"/leader/orders/{order.pk}/",
        "reject": f"/leader/orders/{order.pk}/reject/",
    }
    context = new_desktop_context()
    log_in(context, shop.leader, live_server)
    page = context.new_page()
    page.goto(paths[page_name])
    assert_accessible(page)
