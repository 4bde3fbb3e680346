"""The leader's fulfilment pages: the schedule's overview, preparing and sending purchase
orders, the purchase order page and its downloads, the receipt with its shortage preview
(nothing written) and its application (allocations, refunds, orders ready), the pickup
notice (prefilled, sent, coverage), permissions, and query counts flat in the orders."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from fulfillment.models import PickupNotice, PurchaseOrderStatus, ShortageAllocation
from fulfillment.services import pickup, purchasing, receiving
from notifications.models import Notification
from orders.models import Fulfilment, OrderLine, OrderStatus, Refund
from scheduling.models import Schedule, ShortageRule
from scheduling.services.schedules import schedule_close
from tests.accounts.utils import by_testid, field_errors
from tests.factories import CommunityFactory, StaffFactory
from tests.fulfillment.conftest import Round, make_round, pay_and_confirm
from tests.orders.conftest import make_shop
from tests.orders.test_leader_views import pay

pytestmark = pytest.mark.django_db


def _url(name, *args):
    return reverse(f"fulfillment:{name}", args=args)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


def body(response) -> str:
    return response.content.decode()


def pass_cutoff(schedule: Schedule) -> None:
    """Move the cut-off into the past (orders were placed before it)."""
    now = timezone.now()
    Schedule.objects.filter(pk=schedule.pk).update(
        sale_start=now - timedelta(hours=2), cutoff=now - timedelta(minutes=1)
    )


def receipt_post(counts: dict, action: str) -> dict:
    data = {"action": action}
    for line_id, (received, short, damaged) in counts.items():
        data[f"received_{line_id}"] = received
        data[f"short_{line_id}"] = short
        data[f"damaged_{line_id}"] = damaged
    return data


def grapes_round(members: int = 2, **shop_fields) -> Round:
    """``members`` members each order 3 grapes (one case of 6 for two): no spare units, so
    a short unit is a member's loss."""
    shop = make_shop(**shop_fields)
    return make_round(quantities={shop.grapes.pk: 3}, members=members, shop=shop)


@pytest.fixture
def round_(db) -> Round:
    return make_round()


@pytest.fixture
def leader_client(client, round_):
    client.force_login(round_.shop.leader)
    return client


# Overview


def test_overview_lists_the_purchase_orders_counts_and_links(leader_client, round_):
    schedule = round_.shop.schedule
    response = leader_client.get(_url("leader_fulfilment", schedule.pk))
    assert response.status_code == 200
    html = body(response)
    row = re.search(r'<tr data-testid="purchase-order-row"(.*?)</tr>', html, flags=re.S).group(0)
    po = round_.purchase_order
    assert f'data-number="{po.number}"' in row and 'data-status="draft"' in row
    assert po.supplier.name in row
    assert _url("leader_purchase_order", po.pk) in row
    # 2 members x 2 grapes = 4 -> one case of 6 at 10.00; 2 eggs -> a case of 6 at 10.00.
    assert by_testid(response, "po-lines").strip() == "2"
    assert by_testid(response, "po-amount").strip() == "¥120.00"
    assert by_testid(response, "count-confirmed").strip() == "2"
    assert by_testid(response, "count-ready").strip() == "0"
    assert "awaiting-review" not in html
    assert _url("leader_pickup_lists", schedule.pk) in html
    assert _url("leader_pickup_lists_pdf", schedule.pk) in html
    assert _url("leader_pickup_notice", schedule.pk) in html
    assert str(ShortageRule.LATEST_PAID_FIRST.label) in by_testid(response, "shortage-rule")


def test_overview_shows_orders_awaiting_review_with_a_link(client):
    shop = make_shop()
    pay_and_confirm(shop, shop.order())
    pay(shop.order(shop.new_member()))
    client.force_login(shop.leader)
    response = client.get(_url("leader_fulfilment", shop.schedule.pk))
    note = by_testid(response, "awaiting-review")
    assert "1 paid order is waiting for your review" in note
    link = re.search(r'href="([^"]+)" data-testid="review-orders-link"', body(response))
    assert link.group(1) == (
        reverse("orders:leader_schedule_orders", args=[shop.schedule.pk]) + "?status=paid"
    )


def test_prepare_builds_drafts_and_warns_about_unreviewed_orders(client):
    shop = make_shop()
    pay_and_confirm(shop, shop.order())
    pay(shop.order(shop.new_member()))
    client.force_login(shop.leader)
    response = client.post(_url("leader_purchase_orders_prepare", shop.schedule.pk), follow=True)
    po = shop.schedule.purchase_orders.get()
    assert po.status == PurchaseOrderStatus.DRAFT
    assert po.lines.get(item=shop.grapes).ordered_units == 2  # only the confirmed order
    texts = messages_of(response)
    assert any("1 purchase order prepared" in text for text in texts)
    assert any("1 order is still waiting for payment or your review" in text for text in texts)
    assert 'data-testid="purchase-order-row"' in body(response)


def test_prepare_without_confirmed_orders_prepares_nothing(client):
    shop = make_shop()
    client.force_login(shop.leader)
    response = client.post(_url("leader_purchase_orders_prepare", shop.schedule.pk), follow=True)
    assert not shop.schedule.purchase_orders.exists()
    assert any("No draft to prepare" in text for text in messages_of(response))
    assert 'data-testid="no-purchase-orders"' in body(response)


def test_prepare_again_follows_orders_confirmed_since(client):
    """Drafts follow the orders until they are sent."""
    shop = make_shop()
    pay_and_confirm(shop, shop.order())
    client.force_login(shop.leader)
    url = _url("leader_purchase_orders_prepare", shop.schedule.pk)
    client.post(url)
    assert shop.schedule.purchase_orders.get().lines.get(item=shop.grapes).ordered_units == 2
    later = shop.order(shop.new_member(), quantities={shop.grapes.pk: 3})
    pay_and_confirm(shop, later)
    client.post(url)
    line = shop.schedule.purchase_orders.get().lines.get(item=shop.grapes)
    assert line.ordered_units == 5 and line.quantity == 6


def test_prepare_on_a_sent_purchase_order_changes_nothing(leader_client, round_):
    round_.send()
    response = leader_client.post(
        _url("leader_purchase_orders_prepare", round_.shop.schedule.pk), follow=True
    )
    assert round_.shop.schedule.purchase_orders.get().status == PurchaseOrderStatus.SENT
    assert any("No draft to prepare" in text for text in messages_of(response))


def test_prepare_is_refused_for_a_completed_schedule(leader_client, round_):
    Schedule.objects.filter(pk=round_.shop.schedule.pk).update(status="completed")
    response = leader_client.get(_url("leader_fulfilment", round_.shop.schedule.pk))
    assert 'data-testid="prepare-purchase-orders"' not in body(response)
    response = leader_client.post(
        _url("leader_purchase_orders_prepare", round_.shop.schedule.pk), follow=True
    )
    assert any("published or closed" in text for text in messages_of(response))


# Purchase order page and sending


def test_purchase_order_page_shows_lines_totals_delivery_and_history(leader_client, round_):
    po = round_.purchase_order
    response = leader_client.get(_url("leader_purchase_order", po.pk))
    assert response.status_code == 200
    html = body(response)
    grapes = round_.line_of(round_.shop.grapes)
    row = re.search(
        rf'<tr data-testid="po-line" data-line="{grapes.pk}"(.*?)</tr>', html, flags=re.S
    ).group(0)
    assert grapes.product_name in row
    assert re.search(r'data-testid="line-ordered">4<', row)
    assert re.search(r'data-testid="line-cases">1<', row)
    assert re.search(r'data-testid="line-quantity">6<', row)
    assert "¥10.00" in row and "¥60.00" in row
    assert by_testid(response, "po-total-amount").strip() == "¥120.00"
    assert by_testid(response, "po-delivery-date").strip() == (
        round_.shop.schedule.arrival_date.isoformat()
    )
    assert round_.shop.point.address in by_testid(response, "po-delivery-address")
    assert 'data-testid="history"' in html
    assert 'data-testid="send-purchase-order"' in html
    for fmt in ("pdf", "csv", "xlsx"):
        assert _url("leader_purchase_order_download", po.pk, fmt) in html


def test_send_before_the_cutoff_is_refused_with_a_message(leader_client, round_):
    Schedule.objects.filter(pk=round_.shop.schedule.pk).update(
        cutoff=timezone.now() + timedelta(hours=1)
    )
    po = round_.purchase_order
    response = leader_client.post(_url("leader_purchase_order_send", po.pk), follow=True)
    po.refresh_from_db()
    assert po.status == PurchaseOrderStatus.DRAFT
    assert any("after the cut-off" in text for text in messages_of(response))


def test_send_after_the_cutoff_tells_the_supplier(leader_client, round_):
    pass_cutoff(round_.shop.schedule)
    po = round_.purchase_order
    response = leader_client.post(_url("leader_purchase_order_send", po.pk))
    assert response.status_code == 302
    assert response["Location"] == _url("leader_purchase_order", po.pk)
    po.refresh_from_db()
    assert po.status == PurchaseOrderStatus.SENT
    assert Notification.objects.filter(
        recipient=round_.supplier_user, kind="purchase_order_sent"
    ).exists()
    page = leader_client.get(_url("leader_purchase_order", po.pk))
    assert 'data-testid="send-purchase-order"' not in body(page)
    assert 'data-testid="waiting-supplier"' in body(page)


def test_send_with_orders_left_unreviewed_is_refused(client):
    shop = make_shop()
    pay_and_confirm(shop, shop.order())
    pay(shop.order(shop.new_member()))  # paid, never reviewed
    pass_cutoff(shop.schedule)
    (po,) = purchasing.purchase_orders_prepare(schedule=shop.schedule, actor=shop.leader)
    client.force_login(shop.leader)
    page = client.get(_url("leader_purchase_order", po.pk))
    assert "1 order still waits for payment or your review" in by_testid(page, "send-blocked")
    response = client.post(_url("leader_purchase_order_send", po.pk), follow=True)
    po.refresh_from_db()
    assert po.status == PurchaseOrderStatus.DRAFT
    assert any("Confirm or reject the 1 paid or unpaid orders" in t for t in messages_of(response))


def test_declined_line_is_shown_with_its_reason(leader_client, round_):
    round_.send()
    eggs = round_.line_of(round_.shop.eggs)
    purchasing.purchase_order_acknowledge(
        purchase_order=round_.purchase_order,
        actor=round_.supplier_user,
        declined_lines={eggs.pk: "鸡蛋断货"},
    )
    response = leader_client.get(_url("leader_purchase_order", round_.purchase_order.pk))
    html = body(response)
    row = re.search(
        rf'<tr data-testid="po-line" data-line="{eggs.pk}" data-declined="1"(.*?)</tr>',
        html,
        flags=re.S,
    ).group(0)
    assert "鸡蛋断货" in row
    # The declined line is not part of the total any more.
    assert by_testid(response, "po-total-amount").strip() == "¥60.00"
    overview = leader_client.get(_url("leader_fulfilment", round_.shop.schedule.pk))
    assert "1 declined" in by_testid(overview, "po-lines")


def test_downloads(leader_client, round_):
    po = round_.purchase_order
    pdf = leader_client.get(_url("leader_purchase_order_download", po.pk, "pdf"))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    csv = leader_client.get(_url("leader_purchase_order_download", po.pk, "csv"))
    assert csv["Content-Type"].startswith("text/csv")
    assert "阳光玫瑰葡萄" in csv.content.decode("utf-8-sig")
    xlsx = leader_client.get(_url("leader_purchase_order_download", po.pk, "xlsx"))
    assert xlsx.content.startswith(b"PK")
    assert f"{po.number}.xlsx" in xlsx["Content-Disposition"]
    assert leader_client.get(_url("leader_purchase_order_download", po.pk, "doc")).status_code == (
        404
    )


# Receipt


def test_receipt_is_offered_once_the_goods_are_ready(leader_client, round_):
    po = round_.purchase_order
    response = leader_client.get(_url("leader_purchase_order_receive", po.pk), follow=True)
    assert response.redirect_chain[-1][0] == _url("leader_purchase_order", po.pk)
    assert any("marked them ready" in text for text in messages_of(response))
    round_.ready()
    page = leader_client.get(_url("leader_purchase_order", po.pk))
    assert _url("leader_purchase_order_receive", po.pk) in body(page)
    overview = leader_client.get(_url("leader_fulfilment", round_.shop.schedule.pk))
    assert 'data-testid="receive-link"' in body(overview)


def test_receipt_form_is_prefilled_with_what_was_shipped(leader_client, round_):
    grapes = round_.line_of(round_.shop.grapes)
    eggs = round_.line_of(round_.shop.eggs)
    round_.ready(shipped={grapes.pk: 5}, note="少一盒")
    response = leader_client.get(_url("leader_purchase_order_receive", round_.purchase_order.pk))
    assert response.status_code == 200
    form = response.context["form"]
    assert form[f"received_{grapes.pk}"].value() == 5
    assert form[f"short_{grapes.pk}"].value() == 1
    assert form[f"damaged_{grapes.pk}"].value() == 0
    assert form[f"received_{eggs.pk}"].value() == 6
    assert form[f"short_{eggs.pk}"].value() == 0
    page = leader_client.get(_url("leader_purchase_order", round_.purchase_order.pk))
    assert "少一盒" in by_testid(page, "po-delivery-note")


def test_preview_shows_the_losses_and_changes_nothing(client):
    round_ = grapes_round(members=2)
    round_.ready()
    client.force_login(round_.shop.leader)
    po = round_.purchase_order
    counts = round_.counts(grapes=(1, 1))  # 4 received, 1 short, 1 damaged of 6
    response = client.post(
        _url("leader_purchase_order_receive", po.pk), receipt_post(counts, "preview")
    )
    assert response.status_code == 200
    html = body(response)
    assert 'data-testid="receipt-preview"' in html
    # Latest paid first: the second member's order loses both units.
    loser = round_.orders[1]
    losses = re.findall(r'<tr data-testid="preview-loss" data-order="(\d+)"', html)
    assert losses == [loser.number]
    assert by_testid(response, "loss-units").strip() == "2"
    assert by_testid(response, "loss-amount").strip() == "¥30.00"
    assert str(loser.member) in html and loser.member.masked_phone in html
    assert by_testid(response, "preview-refund-total").strip() == "¥30.00"
    assert by_testid(response, "preview-affected").strip() == "1"
    assert by_testid(response, "preview-missing-total").strip() == "2"
    assert str(ShortageRule.LATEST_PAID_FIRST.label) in by_testid(response, "preview-rule")
    # The confirm form carries the same counts.
    confirm = re.search(
        r'<form method="post" data-testid="confirm-receipt-form">(.*?)</form>', html, flags=re.S
    ).group(1)
    line = round_.line_of(round_.shop.grapes)
    assert f'name="received_{line.pk}" value="4"' in confirm
    assert f'name="short_{line.pk}" value="1"' in confirm
    assert f'name="damaged_{line.pk}" value="1"' in confirm
    # Nothing written.
    po.refresh_from_db()
    assert po.status == PurchaseOrderStatus.READY
    assert not ShortageAllocation.objects.exists()
    assert not Refund.objects.filter(order__in=round_.orders).exists()
    assert OrderLine.objects.filter(short_units__gt=0).count() == 0
    line.refresh_from_db()
    assert line.received_quantity is None


def test_preview_with_the_proportional_rule_shares_the_loss(client):
    round_ = grapes_round(members=2, shortage_rule=ShortageRule.PROPORTIONAL)
    round_.ready()
    client.force_login(round_.shop.leader)
    response = client.post(
        _url("leader_purchase_order_receive", round_.purchase_order.pk),
        receipt_post(round_.counts(grapes=(2, 0)), "preview"),
    )
    html = body(response)
    losses = re.findall(r'<tr data-testid="preview-loss" data-order="(\d+)"', html)
    assert sorted(losses) == sorted(order.number for order in round_.orders)
    assert re.findall(r'data-testid="loss-units">(\d+)<', html) == ["1", "1"]
    assert str(ShortageRule.PROPORTIONAL.label) in by_testid(response, "preview-rule")


def test_a_shortage_within_the_spare_units_costs_members_nothing(leader_client, round_):
    round_.ready()
    # 4 grapes ordered, 6 bought: 2 short are covered by the spare units.
    response = leader_client.post(
        _url("leader_purchase_order_receive", round_.purchase_order.pk),
        receipt_post(round_.counts(grapes=(2, 0)), "preview"),
    )
    assert 'data-testid="item-covered"' in body(response)
    assert by_testid(response, "preview-refund-total").strip() == "¥0.00"
    assert "preview-loss" not in body(response)


def test_apply_records_allocations_refunds_and_makes_orders_ready(client):
    round_ = grapes_round(members=2)
    round_.ready()
    client.force_login(round_.shop.leader)
    po = round_.purchase_order
    counts = round_.counts(grapes=(2, 0))
    response = client.post(
        _url("leader_purchase_order_receive", po.pk), receipt_post(counts, "apply"), follow=True
    )
    assert response.redirect_chain[-1][0] == _url("leader_purchase_order", po.pk)
    assert any("1 order lost units" in text for text in messages_of(response))
    po.refresh_from_db()
    assert po.status == PurchaseOrderStatus.RECEIVED
    loser = round_.orders[1]
    (allocation,) = ShortageAllocation.objects.all()
    assert allocation.order_line.order_id == loser.pk
    assert allocation.units == 2 and allocation.amount == Decimal("30.00")
    assert allocation.refund is not None and allocation.refund.amount == Decimal("30.00")
    assert OrderLine.objects.get(pk=allocation.order_line_id).short_units == 2
    for order in round_.orders:
        order.refresh_from_db()
        assert order.status == OrderStatus.READY_FOR_PICKUP
    assert Notification.objects.filter(recipient=loser.member, kind="order_shortage").exists()
    # The purchase order page shows what was recorded.
    html = body(response)
    rows = re.findall(r'<tr data-testid="allocation-row" data-order="(\d+)"', html)
    assert rows == [loser.number]
    assert by_testid(response, "allocation-units").strip() == "2"
    assert by_testid(response, "allocation-amount").strip() == "¥30.00"
    assert allocation.refund.get_status_display() in by_testid(response, "allocation-refund")
    line = round_.line_of(round_.shop.grapes)
    row = re.search(
        rf'<tr data-testid="po-line" data-line="{line.pk}"(.*?)</tr>', html, flags=re.S
    ).group(0)
    assert re.search(r'data-testid="line-received">4<', row)
    assert re.search(r'data-testid="line-short">2<', row)
    overview = client.get(_url("leader_fulfilment", round_.shop.schedule.pk))
    assert "2 short, 0 damaged" in by_testid(overview, "po-receipt")
    assert by_testid(overview, "count-ready").strip() == "2"


def test_apply_without_losses_says_so(leader_client, round_):
    round_.ready()
    response = leader_client.post(
        _url("leader_purchase_order_receive", round_.purchase_order.pk),
        receipt_post(round_.counts(), "apply"),
        follow=True,
    )
    assert any("every member gets all units" in text for text in messages_of(response))
    assert not ShortageAllocation.objects.exists()
    assert 'data-testid="allocations"' not in body(response)


def test_apply_twice_records_once(leader_client, round_):
    round_.ready()
    data = receipt_post(round_.counts(grapes=(1, 0)), "apply")
    url = _url("leader_purchase_order_receive", round_.purchase_order.pk)
    leader_client.post(url, data)
    response = leader_client.post(url, data, follow=True)
    assert any("marked them ready" in text for text in messages_of(response))
    assert round_.purchase_order.lines.get(item=round_.shop.grapes).short_quantity == 1


def test_edit_returns_to_the_form_with_the_counts(leader_client, round_):
    round_.ready()
    counts = round_.counts(grapes=(1, 0))
    response = leader_client.post(
        _url("leader_purchase_order_receive", round_.purchase_order.pk),
        receipt_post(counts, "edit"),
    )
    assert 'data-testid="receipt-form"' in body(response)
    line = round_.line_of(round_.shop.grapes)
    assert response.context["form"][f"short_{line.pk}"].value() == "1"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ((5, 0, 0), "must add up to the 6 ordered"),
        ((6, 1, 0), "must add up to the 6 ordered"),
        ((7, -1, 0), "greater than or equal to 0"),
        (("x", 0, 0), "Enter a whole number"),
        (("", 0, 0), "This field is required"),
    ],
)
def test_bad_counts_are_shown_next_to_the_line(leader_client, round_, values, message):
    round_.ready()
    counts = round_.counts()
    line = round_.line_of(round_.shop.grapes)
    counts[line.pk] = values
    for action in ("preview", "apply"):
        response = leader_client.post(
            _url("leader_purchase_order_receive", round_.purchase_order.pk),
            receipt_post(counts, action),
        )
        assert response.status_code == 200
        errors = field_errors(response, f"line-{line.pk}")
        assert any(message in error for error in errors), errors
        assert 'data-testid="receipt-preview"' not in body(response)
    round_.purchase_order.refresh_from_db()
    assert round_.purchase_order.status == PurchaseOrderStatus.READY


def test_counts_of_a_line_left_out_are_refused(leader_client, round_):
    round_.ready()
    counts = round_.counts()
    data = receipt_post(counts, "preview")
    eggs = round_.line_of(round_.shop.eggs)
    del data[f"received_{eggs.pk}"]
    response = leader_client.post(
        _url("leader_purchase_order_receive", round_.purchase_order.pk), data
    )
    assert field_errors(response, f"line-{eggs.pk}")


def test_declined_lines_are_not_counted(leader_client, round_):
    round_.send()
    eggs = round_.line_of(round_.shop.eggs)
    round_.purchase_order = purchasing.purchase_order_acknowledge(
        purchase_order=round_.purchase_order,
        actor=round_.supplier_user,
        declined_lines={eggs.pk: "断货"},
    )
    round_.purchase_order = purchasing.purchase_order_mark_ready(
        purchase_order=round_.purchase_order, actor=round_.supplier_user, dispatch="ready"
    )
    response = leader_client.get(_url("leader_purchase_order_receive", round_.purchase_order.pk))
    assert f"received_{eggs.pk}" not in response.context["form"].fields
    assert "土鸡蛋" in by_testid(response, "declined-lines")
    response = leader_client.post(
        _url("leader_purchase_order_receive", round_.purchase_order.pk),
        receipt_post(round_.counts(), "apply"),
    )
    assert response.status_code == 302
    round_.purchase_order.refresh_from_db()
    assert round_.purchase_order.status == PurchaseOrderStatus.RECEIVED


# Pickup notice


def test_pickup_notice_form_is_prefilled_from_the_schedule(leader_client, round_):
    round_.receive()
    schedule = round_.shop.schedule
    response = leader_client.get(_url("leader_pickup_notice", schedule.pk))
    assert response.status_code == 200
    form = response.context["form"]
    html = body(response)
    start = timezone.localtime(schedule.pickup_start).strftime("%Y-%m-%dT%H:%M")
    end = timezone.localtime(schedule.pickup_end).strftime("%Y-%m-%dT%H:%M")
    assert f'name="window_start" value="{start}"' in html
    assert f'name="window_end" value="{end}"' in html
    point = round_.shop.point
    assert form["place"].value() == f"{point.name} ({point.address})"
    assert form["contact_phone"].value() == str(point.contact_phone)
    assert not form["notes"].value()
    assert 'placeholder="e.g. Please bring a shopping bag."' in body(response)
    assert "2 members with a ready order will receive it" in by_testid(response, "recipient-count")


def test_pickup_notice_for_home_delivery_says_so(client):
    shop = make_shop(delivery_option="pickup_and_delivery", delivery_fee=Decimal("5.00"))
    orders = [
        pay_and_confirm(
            shop,
            shop.order(
                member,
                fulfilment=Fulfilment.DELIVERY,
                pickup_point=None,
                delivery_address="花木路 8 号 301",
            ),
        )
        for member in (shop.member, shop.new_member())
    ]
    schedule_close(schedule_id=shop.schedule.pk, now=shop.schedule.cutoff + timedelta(minutes=1))
    (po,) = purchasing.purchase_orders_prepare(schedule=shop.schedule, actor=shop.leader)
    round_ = Round(
        shop,
        orders,
        po,
        po.supplier.members.get(is_owner=True).user,
        shop.schedule.cutoff + timedelta(minutes=1),
    )
    round_.receive()
    client.force_login(shop.leader)
    response = client.get(_url("leader_pickup_notice", shop.schedule.pk))
    assert response.context["form"]["place"].value() == (
        "Home delivery to the address on your order"
    )
    assert "2 of the ready orders are delivered" in by_testid(response, "delivery-orders")


def test_sending_the_pickup_notice_goes_to_its_coverage(leader_client, round_):
    round_.receive()
    schedule = round_.shop.schedule
    start = timezone.localtime(schedule.pickup_start)
    response = leader_client.post(
        _url("leader_pickup_notice", schedule.pk),
        {
            "window_start": start.strftime("%Y-%m-%dT%H:%M"),
            "window_end": (start + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
            "place": "1 号楼大堂",
            "notes": "请带好购物袋",
            "contact_phone": "13900001111",
        },
    )
    notice = PickupNotice.objects.get()
    assert notice.notes == "请带好购物袋" and notice.place == "1 号楼大堂"
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "notifications:coverage", args=[schedule.community_id, notice.broadcast_id]
    )
    received = Notification.objects.filter(kind="pickup_notice")
    assert {n.recipient_id for n in received} == {o.member_id for o in round_.orders}
    coverage = leader_client.get(response["Location"])
    assert coverage.status_code == 200
    assert schedule.title in body(coverage)
    assert "1 号楼大堂" in body(coverage)
    assert by_testid(coverage, "count-total").strip() == "2"
    assert any("sent to 2 members" in text for text in messages_of(coverage))
    # The overview lists it with its counts and the coverage link.
    overview = leader_client.get(_url("leader_fulfilment", schedule.pk))
    assert by_testid(overview, "notice-recipients").strip() == "2"
    assert by_testid(overview, "notice-acknowledged").strip() == "0"
    assert response["Location"] in body(overview)


def test_pickup_notice_before_the_goods_arrive_is_refused(leader_client, round_):
    schedule = round_.shop.schedule
    response = leader_client.get(_url("leader_pickup_notice", schedule.pk))
    assert "No order is ready for pickup yet" in by_testid(response, "recipient-count")
    start = timezone.localtime(schedule.pickup_start)
    response = leader_client.post(
        _url("leader_pickup_notice", schedule.pk),
        {
            "window_start": start.strftime("%Y-%m-%dT%H:%M"),
            "window_end": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "place": "1 号楼大堂",
        },
    )
    assert response.status_code == 200
    assert "receive the goods first" in by_testid(response, "form-errors")
    assert not PickupNotice.objects.exists()


def test_pickup_notice_bad_input_is_shown_in_place(leader_client, round_):
    round_.receive()
    schedule = round_.shop.schedule
    start = timezone.localtime(schedule.pickup_start)
    response = leader_client.post(
        _url("leader_pickup_notice", schedule.pk),
        {
            "window_start": start.strftime("%Y-%m-%dT%H:%M"),
            "window_end": (start - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "place": "  ",
            "contact_phone": "1" * 30,
        },
    )
    assert response.status_code == 200
    assert field_errors(response, "window_end")
    assert field_errors(response, "place")
    assert field_errors(response, "contact_phone")
    response = leader_client.post(
        _url("leader_pickup_notice", schedule.pk),
        {"window_start": "tomorrow", "window_end": "", "place": "x"},
    )
    assert field_errors(response, "window_start") and field_errors(response, "window_end")
    assert not PickupNotice.objects.exists()


def test_staff_sending_a_notice_returns_to_the_overview(client, round_):
    round_.receive()
    schedule = round_.shop.schedule
    client.force_login(StaffFactory())
    start = timezone.localtime(schedule.pickup_start)
    response = client.post(
        _url("leader_pickup_notice", schedule.pk),
        {
            "window_start": start.strftime("%Y-%m-%dT%H:%M"),
            "window_end": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "place": "1 号楼大堂",
        },
    )
    assert response["Location"] == _url("leader_fulfilment", schedule.pk)
    assert PickupNotice.objects.count() == 1


# Links


def test_schedule_pages_link_to_fulfilment_after_the_cutoff(client):
    shop = make_shop()
    client.force_login(shop.leader)
    builder = reverse("scheduling:leader_schedule", args=[shop.schedule.pk])
    orders = reverse("orders:leader_schedule_orders", args=[shop.schedule.pk])
    for url in (builder, orders):
        assert 'data-testid="schedule-fulfilment-link"' not in body(client.get(url))
    pass_cutoff(shop.schedule)
    for url in (builder, orders):
        link = re.search(
            r'href="([^"]+)" data-testid="schedule-fulfilment-link"', body(client.get(url))
        )
        assert link.group(1) == _url("leader_fulfilment", shop.schedule.pk), url
    schedule_close(schedule_id=shop.schedule.pk)
    for url in (builder, orders):
        assert 'data-testid="schedule-fulfilment-link"' in body(client.get(url))


# Permissions


def _all_urls(round_: Round):
    schedule, po = round_.shop.schedule.pk, round_.purchase_order.pk
    return [
        ("get", _url("leader_fulfilment", schedule)),
        ("post", _url("leader_purchase_orders_prepare", schedule)),
        ("get", _url("leader_purchase_order", po)),
        ("post", _url("leader_purchase_order_send", po)),
        ("get", _url("leader_purchase_order_download", po, "pdf")),
        ("get", _url("leader_purchase_order_receive", po)),
        ("post", _url("leader_purchase_order_receive", po)),
        ("get", _url("leader_pickup_notice", schedule)),
        ("post", _url("leader_pickup_notice", schedule)),
        ("get", _url("leader_pickup_lists", schedule)),
        ("get", _url("leader_pickup_lists_pdf", schedule)),
    ]


def test_another_leader_gets_404_and_changes_nothing(client, round_):
    round_.ready()
    client.force_login(CommunityFactory().leader)
    for method, url in _all_urls(round_):
        data = receipt_post(round_.counts(), "apply") if method == "post" else None
        assert getattr(client, method)(url, data).status_code == 404, url
    round_.purchase_order.refresh_from_db()
    assert round_.purchase_order.status == PurchaseOrderStatus.READY


def test_a_member_gets_403_and_anonymous_is_sent_to_log_in(client, round_):
    for method, url in _all_urls(round_):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and "login" in response["Location"], url
    client.force_login(round_.shop.member)
    for method, url in _all_urls(round_):
        assert getattr(client, method)(url).status_code == 403, url


def test_actions_are_post_only(leader_client, round_):
    pass_cutoff(round_.shop.schedule)
    assert (
        leader_client.get(
            _url("leader_purchase_orders_prepare", round_.shop.schedule.pk)
        ).status_code
        == 405
    )
    assert (
        leader_client.get(_url("leader_purchase_order_send", round_.purchase_order.pk)).status_code
        == 405
    )
    round_.purchase_order.refresh_from_db()
    assert round_.purchase_order.status == PurchaseOrderStatus.DRAFT


def test_staff_see_every_community(client, round_):
    client.force_login(StaffFactory())
    assert client.get(_url("leader_fulfilment", round_.shop.schedule.pk)).status_code == 200
    assert client.get(_url("leader_purchase_order", round_.purchase_order.pk)).status_code == 200
    assert client.get(_url("leader_pickup_lists", round_.shop.schedule.pk)).status_code == 200


# Query counts


def ready_round(members: int) -> Round:
    """Received with a unit short and a pickup notice sent."""
    shop = make_shop(grapes={"quantity_cap": 100}, eggs={"quantity_cap": 100})
    round_ = make_round(members=members, shop=shop)
    round_.receive(grapes=(members, 0))  # more short units, more members lose some
    pickup.pickup_notice_send(
        schedule=shop.schedule,
        actor=shop.leader,
        window_start=shop.schedule.pickup_start,
        window_end=shop.schedule.pickup_end,
        place="1 号楼大堂",
    )
    return round_


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("name", ["leader_fulfilment", "leader_purchase_order"])
def test_query_count_is_flat_in_the_orders(client, name):
    few, many = ready_round(3), ready_round(30)
    assert (
        ShortageAllocation.objects.filter(purchase_line__purchase_order=many.purchase_order).count()
        > 1
    )

    def url(round_):
        if name == "leader_fulfilment":
            return _url(name, round_.shop.schedule.pk)
        return _url(name, round_.purchase_order.pk)

    client.force_login(few.shop.leader)
    _queries(client, url(few))  # warm caches (content types, sessions)
    few_count = _queries(client, url(few))
    client.force_login(many.shop.leader)
    _queries(client, url(many))
    many_count = _queries(client, url(many))
    assert many_count == few_count


def test_preview_query_count_is_flat_in_the_losses(client):
    counts = []
    for members in (4, 12):
        round_ = grapes_round(members=members, grapes={"quantity_cap": 100})
        round_.ready()
        client.force_login(round_.shop.leader)
        # No spare units (3 each, cases of 6): members + 1 short costs several members.
        data = receipt_post(round_.counts(grapes=(members + 1, 0)), "preview")
        url = _url("leader_purchase_order_receive", round_.purchase_order.pk)
        client.post(url, data)
        with CaptureQueriesContext(connection) as captured:
            response = client.post(url, data)
        assert len(re.findall('data-testid="preview-loss"', body(response))) >= 2
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]


def test_receipt_apply_keeps_the_plan_it_showed(client):
    """What the preview showed is what is applied with the same counts."""
    round_ = grapes_round(members=4, grapes={"quantity_cap": 100})
    round_.ready()
    client.force_login(round_.shop.leader)
    counts = round_.counts(grapes=(2, 1))
    plan = receiving.receipt_plan(purchase_order=round_.purchase_order, counts=counts)
    client.post(
        _url("leader_purchase_order_receive", round_.purchase_order.pk),
        receipt_post(counts, "apply"),
    )
    recorded = {(a.order_line_id, a.units, a.amount) for a in ShortageAllocation.objects.all()}
    shown = {
        (loss.order_line.pk, loss.units, loss.amount) for item in plan.items for loss in item.losses
    }
    assert recorded == shown and sum(units for _id, units, _a in recorded) == 3
