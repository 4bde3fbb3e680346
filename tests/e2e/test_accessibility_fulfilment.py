"""axe-core on the fulfilment pages of every role: supplier purchase orders, the leader's
fulfilment, receipt, pickup notice, lists, pickup desk and after-sales, the member's
review and after-sales pages on the phone, and the staff's after-sales queue."""

from decimal import Decimal

import pytest
from django.urls import reverse

from fulfillment.services import aftersales, pickup
from tests.e2e.test_accessibility import assert_accessible, log_in
from tests.factories import StaffFactory
from tests.fulfillment.conftest import make_round

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def finished_round(settings, live_server, tmp_path):
    """Goods received with a shortage; the first order collected, reviewed and with an
    escalated after-sales request; the second still waiting for pickup."""
    settings.SITE_URL = live_server.url
    settings.MEDIA_ROOT = tmp_path
    round_ = make_round(members=2)
    round_.receive(eggs=(6, 0))
    first, second = round_.orders
    first.refresh_from_db()
    pickup.pickup_hand_over(order=first, actor=round_.shop.leader)
    line = first.lines.get(item=round_.shop.grapes)
    aftersales.review_create(member=first.member, order_line=line, rating=4, text="不错")
    request = aftersales.after_sales_submit(
        member=first.member,
        order_line=line,
        reason="quality",
        description="压坏了",
        amount=Decimal("5.00"),
    )
    aftersales.after_sales_escalate(request=request, actor=round_.shop.leader)
    return round_, first, second, line, request


def _visit(context, user, live_server, path):
    log_in(context, user, live_server)
    page = context.new_page()
    page.goto(path)
    assert_accessible(page)


@pytest.mark.parametrize("page_name", ["list", "detail", "pick_list", "reviews"])
def test_supplier_pages(page_name, finished_round, new_desktop_context, live_server):
    round_ = finished_round[0]
    paths = {
        "list": reverse("fulfillment:supplier_purchase_orders"),
        "detail": reverse("fulfillment:supplier_purchase_order", args=[round_.purchase_order.pk]),
        "pick_list": reverse("fulfillment:supplier_pick_list"),
        "reviews": reverse("fulfillment:supplier_reviews"),
    }
    _visit(new_desktop_context(), round_.supplier_user, live_server, paths[page_name])


@pytest.mark.parametrize(
    "page_name",
    ["fulfilment", "purchase_order", "receive", "notice", "lists", "desk", "after_sales"],
)
def test_leader_pages(page_name, finished_round, new_desktop_context, live_server):
    round_, _first, second, _line, request = finished_round
    community = round_.shop.schedule.community
    paths = {
        "fulfilment": reverse("fulfillment:leader_fulfilment", args=[round_.shop.schedule.pk]),
        "purchase_order": reverse(
            "fulfillment:leader_purchase_order", args=[round_.purchase_order.pk]
        ),
        "receive": reverse(
            "fulfillment:leader_purchase_order_receive", args=[round_.purchase_order.pk]
        ),
        "notice": reverse("fulfillment:leader_pickup_notice", args=[round_.shop.schedule.pk]),
        "lists": reverse("fulfillment:leader_pickup_lists", args=[round_.shop.schedule.pk]),
        "desk": reverse("fulfillment:leader_pickup_verify", args=[community.pk])
        + f"?order={second.pk}",
        "after_sales": reverse("fulfillment:leader_after_sales_detail", args=[request.pk]),
    }
    _visit(new_desktop_context(), round_.shop.leader, live_server, paths[page_name])


@pytest.mark.parametrize("page_name", ["order", "review", "after_sales", "requests"])
def test_member_pages_on_phone(page_name, finished_round, new_phone_context, live_server):
    _round, first, _second, line, _request = finished_round
    paths = {
        "order": reverse("orders:member_order", args=[first.number]),
        "review": reverse("fulfillment:member_review", args=[line.pk]),
        "after_sales": reverse("fulfillment:member_after_sales_new", args=[line.pk]),
        "requests": reverse("fulfillment:member_after_sales"),
    }
    _visit(new_phone_context(), first.member, live_server, paths[page_name])


@pytest.mark.parametrize("page_name", ["queue", "detail"])
def test_staff_after_sales_pages(page_name, finished_round, new_desktop_context, live_server):
    request = finished_round[4]
    paths = {
        "queue": reverse("fulfillment:staff_after_sales"),
        "detail": reverse("fulfillment:staff_after_sales_detail", args=[request.pk]),
    }
    _visit(new_desktop_context(), StaffFactory(), live_server, paths[page_name])
