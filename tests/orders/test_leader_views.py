"""The leader's order review pages: the list with its filters, search and flags, totals per
item, bulk and single confirm, reject with a reason (refund, stock, notice), the CSV export
with formula escaping, permissions, and query counts flat in the number of orders."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import PickupPoint
from notifications.models import Notification
from orders.models import Order, OrderStatus, PaymentMethod, Refund, RefundStatus
from orders.providers.base import PaymentReport
from orders.services.payments import payment_report_apply, payment_start
from orders.services.review import order_reject
from sandboxpay import gateway
from sandboxpay.models import Charge
from tests.accounts.utils import by_testid, field_errors
from tests.factories import CommunityFactory, MembershipFactory, StaffFactory, UserFactory
from tests.orders.conftest import make_shop
from tests.scheduling.conftest import timeline

pytestmark = pytest.mark.django_db


def _url(name, *args):
    return reverse(f"orders:{name}", args=args)


def pay(order: Order, *, settle: bool = False) -> Order:
    """Pay an online order as the provider's notification would; ``settle`` also marks the
    sandbox charge paid, so refunds of it succeed at the gateway."""
    payment = payment_start(order=order, member=order.member)
    with transaction.atomic():
        payment_report_apply(
            report=PaymentReport(
                trade_number=payment.trade_number, outcome="paid", amount=payment.amount
            ),
            provider_code="sandbox",
        )
    if settle:
        charge = Charge.objects.get(trade_number=payment.trade_number)
        gateway.charge_settle(token=charge.token, paid=True)
    order.refresh_from_db()
    return order


def numbers(response) -> list[str]:
    """Order numbers of the rows shown, in order."""
    return re.findall(r'data-testid="order-row"[^>]*data-number="(\d+)"', response.content.decode())


def row(response, order: Order) -> str:
    match = re.search(
        rf'<tr data-testid="order-row"[^>]*data-number="{order.number}"[^>]*>(.*?)</tr>',
        response.content.decode(),
        flags=re.S,
    )
    assert match, f"no row for order {order.number}"
    return match.group(1)


def flags_of(response, order: Order) -> set[str]:
    return set(re.findall(r'data-testid="flag-(\w+)"', row(response, order)))


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


@pytest.fixture
def leader_client(client, shop):
    client.force_login(shop.leader)
    return client


def list_page(client, shop, **params):
    response = client.get(_url("leader_schedule_orders", shop.schedule.pk), params)
    assert response.status_code == 200
    return response


# The list


def test_list_shows_orders_counts_item_totals_and_cutoff(leader_client, shop):
    pending = shop.order(quantities={shop.grapes.pk: 2})
    paid = pay(shop.order(shop.new_member(), quantities={shop.grapes.pk: 1, shop.eggs.pk: 3}))
    response = list_page(leader_client, shop)

    assert set(numbers(response)) == {pending.number, paid.number}
    assert by_testid(response, "count-pending_payment").split()[-1] == "1"
    assert by_testid(response, "count-paid").split()[-1] == "1"
    assert by_testid(response, "count-confirmed").split()[-1] == "0"
    assert by_testid(response, "order-total").strip() == "2"
    local_cutoff = timezone.localtime(shop.schedule.cutoff).strftime("%Y-%m-%d %H:%M")
    assert local_cutoff in by_testid(response, "schedule-cutoff")

    body = response.content.decode()
    grapes = re.search(
        rf'data-testid="item-total-row" data-item="{shop.grapes.pk}">(.*?)</tr>', body, re.S
    ).group(1)
    assert re.search(r'data-testid="units-pending">2<', grapes)
    assert re.search(r'data-testid="units-paid">1<', grapes)
    assert re.search(r'data-testid="units-confirmed">0<', grapes)
    assert re.search(r'data-testid="item-amount">¥45.00<', grapes)  # 3 x 15.00
    assert re.search(r'data-testid="item-reserved">3<', grapes)

    paid_row = row(response, paid)
    assert 'data-testid="select-order"' in paid_row
    assert 'data-testid="confirm-order"' in paid_row
    assert 'data-testid="payment-paid"' in paid_row
    assert "×3" in paid_row  # lines summary
    assert shop.member.masked_phone not in paid_row
    pending_row = row(response, pending)
    assert 'data-testid="select-order"' not in pending_row
    assert 'data-testid="payment-unpaid"' in pending_row
    # The member is named, the phone masked.
    assert shop.member.display_name in pending_row
    assert shop.member.masked_phone in pending_row
    assert shop.member.phone not in response.content.decode()


def test_item_below_its_minimum_is_warned(client):
    shop = make_shop(eggs={"min_group_qty": 10})
    client.force_login(shop.leader)
    shop.order(quantities={shop.eggs.pk: 2})
    response = list_page(client, shop)
    body = response.content.decode()
    eggs = re.search(
        rf'data-testid="item-total-row" data-item="{shop.eggs.pk}">(.*?)</tr>', body, re.S
    ).group(1)
    grapes = re.search(
        rf'data-testid="item-total-row" data-item="{shop.grapes.pk}">(.*?)</tr>', body, re.S
    ).group(1)
    assert 'data-testid="below-minimum"' in eggs
    assert "2 of 10" in eggs
    assert 'data-testid="below-minimum"' not in grapes


def test_list_expires_overdue_orders_before_reading(leader_client, shop):
    order = shop.order()
    Order.objects.filter(pk=order.pk).update(payment_deadline=timezone.now() - timedelta(hours=1))
    response = list_page(leader_client, shop)
    order.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED
    assert 'data-status="expired"' in response.content.decode()


def test_filter_by_status(leader_client, shop):
    pending = shop.order()
    paid = pay(shop.order(shop.new_member()))
    assert numbers(list_page(leader_client, shop, status="paid")) == [paid.number]
    assert numbers(list_page(leader_client, shop, status="pending_payment")) == [pending.number]
    assert numbers(list_page(leader_client, shop, status="confirmed")) == []


def test_filter_by_item_keeps_the_whole_order(leader_client, shop):
    grapes_only = shop.order(quantities={shop.grapes.pk: 1})
    eggs_only = shop.order(shop.new_member(), quantities={shop.eggs.pk: 1})
    both = shop.order(shop.new_member(), quantities={shop.grapes.pk: 1, shop.eggs.pk: 2})
    response = list_page(leader_client, shop, item=shop.eggs.pk)
    assert set(numbers(response)) == {eggs_only.number, both.number}
    assert grapes_only.number not in numbers(response)
    # The other lines of a matching order are still listed.
    assert "×1" in row(response, both) and "×2" in row(response, both)


def test_filter_by_payment(client):
    shop = make_shop(allow_pay_at_pickup=True)
    client.force_login(shop.leader)
    unpaid = shop.order()
    paid = pay(shop.order(shop.new_member()))
    at_pickup = shop.order(shop.new_member(), method=PaymentMethod.AT_PICKUP)
    refunded = pay(shop.order(shop.new_member()), settle=True)
    order_reject(order=refunded, actor=shop.leader, reason="缺货")

    assert set(numbers(list_page(client, shop, payment="paid"))) == {
        paid.number,
        refunded.number,
    }
    assert numbers(list_page(client, shop, payment="unpaid")) == [unpaid.number]
    assert numbers(list_page(client, shop, payment="at_pickup")) == [at_pickup.number]
    response = list_page(client, shop, payment="refunded")
    assert numbers(response) == [refunded.number]
    assert 'data-testid="payment-refunded"' in row(response, refunded)


def test_filter_by_pickup_point(leader_client, shop):
    other_point = PickupPoint.objects.create(
        community=shop.schedule.community,
        name="2 号楼门口",
        address="花木路 100 弄 2 号楼",
        opening_hours="每天 15:00-21:00",
        contact_phone="+8613900005555",
    )
    shop.schedule.pickup_points.add(other_point)
    here = shop.order()
    there = shop.order(shop.new_member(), pickup_point=other_point)
    response = list_page(leader_client, shop, pickup_point=other_point.pk)
    assert numbers(response) == [there.number]
    assert numbers(list_page(leader_client, shop, pickup_point=shop.point.pk)) == [here.number]
    # The choices are the schedule's points.
    assert 'data-testid="filter-pickup_point"' in response.content.decode()
    assert "2 号楼门口" in by_testid(response, "order-filter")


def test_search_by_name_phone_and_order_number(leader_client, shop):
    alice = shop.new_member()
    alice.display_name = "王阿姨"
    alice.save()
    bob = shop.new_member()
    first = shop.order(alice)
    second = shop.order(bob)
    assert numbers(list_page(leader_client, shop, q="阿姨")) == [first.number]
    assert numbers(list_page(leader_client, shop, q=bob.phone[-4:])) == [second.number]
    assert numbers(list_page(leader_client, shop, q=second.number)) == [second.number]
    response = list_page(leader_client, shop, q="没有这个人")
    assert numbers(response) == []
    assert 'data-testid="orders-empty"' in response.content.decode()


def test_invalid_filter_is_ignored_with_a_notice(leader_client, shop):
    order = shop.order()
    response = list_page(leader_client, shop, status="bogus", item="999999")
    assert numbers(response) == [order.number]
    assert 'data-testid="filters-ignored"' in response.content.decode()


# Flags


def test_flags_several_orders_and_pay_at_pickup(client):
    shop = make_shop(allow_pay_at_pickup=True)
    client.force_login(shop.leader)
    first = shop.order(quantities={shop.grapes.pk: 1})
    second = shop.order(quantities={shop.eggs.pk: 1})
    at_pickup = shop.order(shop.new_member(), method=PaymentMethod.AT_PICKUP)
    plain = shop.order(shop.new_member())
    response = list_page(client, shop)
    assert flags_of(response, first) == {"several_orders"}
    assert flags_of(response, second) == {"several_orders"}
    assert flags_of(response, at_pickup) == {"pay_at_pickup"}
    assert flags_of(response, plain) == set()

    flagged = list_page(client, shop, flagged="on")
    assert set(numbers(flagged)) == {first.number, second.number, at_pickup.number}


def test_flag_unusual_quantity_against_the_members_other_schedules(client, shop):
    earlier = make_shop(community=shop.schedule.community)
    earlier.order(shop.member, quantities={earlier.grapes.pk: 1})
    earlier.order(
        earlier.member, quantities={earlier.grapes.pk: 5}
    )  # someone else's habits do not count
    big = shop.order(quantities={shop.grapes.pk: 5, shop.eggs.pk: 1})
    usual = shop.order(earlier.member, quantities={shop.grapes.pk: 5})
    client.force_login(shop.leader)
    response = list_page(client, shop)
    assert flags_of(response, big) == {"unusual_quantity"}
    assert flags_of(response, usual) == set()
    # The flag does not depend on an item filter narrowing the order's lines.
    filtered = list_page(client, shop, item=shop.eggs.pk)
    assert flags_of(filtered, big) == {"unusual_quantity"}
    assert numbers(list_page(client, shop, item=shop.eggs.pk, flagged="on")) == [big.number]


def test_flag_unpaid_near_cutoff(client):
    fields = timeline()
    now = timezone.now()
    shop = make_shop(**{**fields, "cutoff": now + timedelta(minutes=40)})
    client.force_login(shop.leader)
    unpaid = shop.order()
    paid = pay(shop.order(shop.new_member()))
    response = list_page(client, shop)
    assert flags_of(response, unpaid) == {"unpaid_near_cutoff"}
    assert flags_of(response, paid) == set()
    assert numbers(list_page(client, shop, flagged="1")) == [unpaid.number]


def test_no_near_cutoff_flag_far_from_the_cutoff(leader_client, shop):
    unpaid = shop.order()
    assert flags_of(list_page(leader_client, shop), unpaid) == set()
    assert numbers(list_page(leader_client, shop, flagged="on")) == []


# Confirming


def test_bulk_confirm_confirms_only_paid_orders(leader_client, shop):
    paid_a = pay(shop.order())
    paid_b = pay(shop.order(shop.new_member()))
    pending = shop.order(shop.new_member())
    list_url = _url("leader_schedule_orders", shop.schedule.pk) + "?status=paid"
    response = leader_client.post(
        _url("leader_orders_confirm", shop.schedule.pk),
        {"orders": [paid_a.pk, paid_b.pk, pending.pk, "junk"], "next": list_url},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == list_url
    texts = messages_of(response)
    assert "2 orders confirmed." in texts
    assert any("1 selected order was not waiting" in text for text in texts)
    for order in (paid_a, paid_b):
        order.refresh_from_db()
        assert order.status == OrderStatus.CONFIRMED
        assert re.fullmatch(r"\d{8}", order.pickup_code)
        assert Notification.objects.filter(
            recipient=order.member, kind="order_confirmed", object_id=order.pk
        ).exists()
    pending.refresh_from_db()
    assert pending.status == OrderStatus.PENDING_PAYMENT
    assert not Notification.objects.filter(kind="order_confirmed", object_id=pending.pk).exists()


def test_bulk_confirm_of_another_schedules_orders_changes_nothing(leader_client, shop):
    other = make_shop(community=shop.schedule.community)
    stranger = pay(other.order())
    response = leader_client.post(
        _url("leader_orders_confirm", shop.schedule.pk), {"orders": [stranger.pk]}, follow=True
    )
    stranger.refresh_from_db()
    assert stranger.status == OrderStatus.PAID
    assert response.redirect_chain[-1][0] == _url("leader_schedule_orders", shop.schedule.pk)


def test_bulk_confirm_without_a_selection(leader_client, shop):
    response = leader_client.post(_url("leader_orders_confirm", shop.schedule.pk), follow=True)
    assert "Select the paid orders to confirm." in messages_of(response)


def test_bulk_confirm_ignores_an_outside_next(leader_client, shop):
    paid = pay(shop.order())
    response = leader_client.post(
        _url("leader_orders_confirm", shop.schedule.pk),
        {"orders": [paid.pk], "next": "https://evil.example/"},
    )
    assert response.status_code == 302
    assert response["Location"] == _url("leader_schedule_orders", shop.schedule.pk)


def test_single_confirm(leader_client, shop):
    paid = pay(shop.order())
    response = leader_client.post(_url("leader_order_confirm", paid.pk), follow=True)
    assert response.redirect_chain[-1][0] == _url("leader_order", paid.pk)
    paid.refresh_from_db()
    assert paid.status == OrderStatus.CONFIRMED
    assert paid.pickup_code
    assert Notification.objects.filter(kind="order_confirmed", object_id=paid.pk).count() == 1
    assert by_testid(response, "pickup-code").strip() == paid.pickup_code
    # Twice: refused with a message, nothing changes.
    response = leader_client.post(_url("leader_order_confirm", paid.pk), follow=True)
    assert "Only paid orders can be confirmed." in messages_of(response)
    assert Notification.objects.filter(kind="order_confirmed", object_id=paid.pk).count() == 1


def test_single_confirm_from_the_list_returns_to_the_list(leader_client, shop):
    paid = pay(shop.order())
    back = _url("leader_schedule_orders", shop.schedule.pk) + "?payment=paid&page=1"
    response = leader_client.post(_url("leader_order_confirm", paid.pk), {"next": back})
    assert response["Location"] == back


def test_unpaid_order_cannot_be_confirmed(leader_client, shop):
    pending = shop.order()
    response = leader_client.post(_url("leader_order_confirm", pending.pk), follow=True)
    assert "Only paid orders can be confirmed." in messages_of(response)
    pending.refresh_from_db()
    assert pending.status == OrderStatus.PENDING_PAYMENT


# Rejecting


def test_reject_needs_a_reason(leader_client, shop):
    paid = pay(shop.order())
    url = _url("leader_order_reject", paid.pk)
    assert leader_client.get(url).status_code == 200
    response = leader_client.post(url, {"reason": "  "})
    assert response.status_code == 200
    assert field_errors(response, "reason") == ["Give a reason; the member sees it."]
    paid.refresh_from_db()
    assert paid.status == OrderStatus.PAID
    assert not Refund.objects.filter(order=paid).exists()


def test_reject_a_paid_order_refunds_releases_stock_and_tells_the_member(
    leader_client, shop, django_capture_on_commit_callbacks
):
    paid = pay(shop.order(quantities={shop.grapes.pk: 3, shop.eggs.pk: 1}), settle=True)
    shop.grapes.refresh_from_db()
    reserved = shop.grapes.reserved_qty
    with django_capture_on_commit_callbacks(execute=True):
        response = leader_client.post(
            _url("leader_order_reject", paid.pk), {"reason": "葡萄缺货"}, follow=True
        )
    assert response.redirect_chain[-1][0] == _url("leader_schedule_orders", shop.schedule.pk)
    assert any(paid.number in text and "rejected" in text for text in messages_of(response))
    paid.refresh_from_db()
    assert paid.status == OrderStatus.CANCELLED
    assert paid.cancel_reason == "葡萄缺货"
    refund = Refund.objects.get(order=paid)
    assert refund.amount == paid.total
    assert refund.status == RefundStatus.SUCCEEDED  # sent to the sandbox after commit
    shop.grapes.refresh_from_db()
    assert shop.grapes.reserved_qty == reserved - 3
    notice = Notification.objects.get(kind="order_rejected", object_id=paid.pk)
    assert notice.recipient == paid.member
    assert "葡萄缺货" in notice.body


def test_reject_an_unpaid_order_releases_stock_without_a_refund(leader_client, shop):
    pending = shop.order(quantities={shop.grapes.pk: 2})
    shop.grapes.refresh_from_db()
    reserved = shop.grapes.reserved_qty
    leader_client.post(_url("leader_order_reject", pending.pk), {"reason": "重复下单"})
    pending.refresh_from_db()
    assert pending.status == OrderStatus.CANCELLED
    assert not Refund.objects.filter(order=pending).exists()
    shop.grapes.refresh_from_db()
    assert shop.grapes.reserved_qty == reserved - 2
    assert Notification.objects.filter(kind="order_rejected", object_id=pending.pk).exists()


def test_a_cancelled_order_cannot_be_rejected(leader_client, shop):
    order = shop.order()
    leader_client.post(_url("leader_order_reject", order.pk), {"reason": "重复下单"})
    response = leader_client.get(_url("leader_order_reject", order.pk), follow=True)
    assert response.redirect_chain[-1][0] == _url("leader_order", order.pk)
    assert "This order can no longer be rejected." in messages_of(response)
    response = leader_client.post(_url("leader_order_reject", order.pk), {"reason": "again"})
    assert response.status_code == 200
    assert "This order can no longer be rejected." in by_testid(response, "form-errors")
    assert Notification.objects.filter(kind="order_rejected", object_id=order.pk).count() == 1


# The order page


def test_order_page_shows_lines_payment_refunds_timeline_and_actions(client):
    shop = make_shop(allow_pay_at_pickup=True)
    client.force_login(shop.leader)
    paid = pay(shop.order(note="请放门卫"), settle=True)
    response = client.get(_url("leader_order", paid.pk))
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('data-testid="line-row"') == 2
    assert body.count('data-testid="payment-row"') == 1
    assert 'data-testid="confirm-order"' in body
    assert 'data-testid="reject-order"' in body
    assert "请放门卫" in by_testid(response, "order-note")
    assert shop.point.name in by_testid(response, "order-receiving")
    assert 'data-testid="history"' in body
    assert 'data-testid="refunds"' not in body

    second = shop.order(quantities={shop.eggs.pk: 1})
    order_reject(order=paid, actor=shop.leader, reason="缺货")
    response = client.get(_url("leader_order", paid.pk))
    body = response.content.decode()
    assert body.count('data-testid="refund-row"') == 1
    assert 'data-testid="confirm-order"' not in body
    assert 'data-testid="reject-order"' not in body
    assert "缺货" in by_testid(response, "cancel-reason")
    assert "Cancelled" in by_testid(response, "history")

    response = client.get(_url("leader_order", second.pk))
    assert 'data-testid="flag-several_orders"' not in response.content.decode()  # first gone
    at_pickup = shop.order(shop.new_member(), method=PaymentMethod.AT_PICKUP)
    response = client.get(_url("leader_order", at_pickup.pk))
    assert 'data-testid="flag-pay_at_pickup"' in response.content.decode()
    assert 'data-testid="reject-order"' in response.content.decode()


def test_order_page_expires_an_overdue_order(leader_client, shop):
    order = shop.order()
    Order.objects.filter(pk=order.pk).update(payment_deadline=timezone.now() - timedelta(hours=1))
    response = leader_client.get(_url("leader_order", order.pk))
    assert "Expired" in by_testid(response, "order-status")
    order.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED


# Export


def _csv_rows(response) -> list[list[str]]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_export_one_row_per_line_with_the_filters(leader_client, shop):
    paid = pay(shop.order(quantities={shop.grapes.pk: 2, shop.eggs.pk: 1}))
    pending = shop.order(shop.new_member(), quantities={shop.eggs.pk: 1})
    response = leader_client.get(_url("leader_orders_export", shop.schedule.pk))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    header, *rows = _csv_rows(response)
    assert header[:3] == ["Order number", "Member", "Phone"]
    assert len(rows) == 3
    grapes = next(r for r in rows if r[0] == paid.number and r[7] == "2")
    assert grapes[1] == str(paid.member)
    assert grapes[2] == "'" + paid.member.masked_phone  # "+86…" is escaped
    assert grapes[3] == shop.point.name
    assert grapes[4] == shop.grapes.offer.product.name
    assert grapes[6:9] == ["15.00", "2", "30.00"]
    assert grapes[9] == "Paid"
    assert grapes[10] == "Online"
    assert grapes[11] == "Yes"
    assert any(r[0] == pending.number and r[11] == "No" for r in rows)

    response = leader_client.get(_url("leader_orders_export", shop.schedule.pk), {"status": "paid"})
    _header, *rows = _csv_rows(response)
    assert {r[0] for r in rows} == {paid.number}


def test_export_escapes_formulas(leader_client, shop):
    member = shop.new_member()
    member.display_name = '=HYPERLINK("http://evil.example","点我")'
    member.save()
    shop.order(member)
    _header, *rows = _csv_rows(leader_client.get(_url("leader_orders_export", shop.schedule.pk)))
    assert rows
    for cells in rows:
        assert cells[1] == "'" + member.display_name
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)


def test_export_link_keeps_the_filters(leader_client, shop):
    response = list_page(leader_client, shop, status="paid", q="王")
    href = re.search(r'href="([^"]+)" data-testid="export-csv"', response.content.decode())
    assert "status=paid" in href.group(1) and "export.csv" in href.group(1)


# Permissions


def _all_urls(shop, order):
    schedule_id = shop.schedule.pk
    return [
        ("get", _url("leader_schedule_orders", schedule_id)),
        ("get", _url("leader_orders_export", schedule_id)),
        ("post", _url("leader_orders_confirm", schedule_id)),
        ("get", _url("leader_order", order.pk)),
        ("post", _url("leader_order_confirm", order.pk)),
        ("get", _url("leader_order_reject", order.pk)),
        ("post", _url("leader_order_reject", order.pk)),
    ]


def test_another_leader_gets_404(client, shop):
    order = pay(shop.order())
    client.force_login(CommunityFactory().leader)
    for method, url in _all_urls(shop, order):
        data = {"orders": [order.pk], "reason": "x"} if method == "post" else None
        assert getattr(client, method)(url, data).status_code == 404, url
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_a_member_gets_403_and_anonymous_is_sent_to_log_in(client, shop):
    order = shop.order()
    for method, url in _all_urls(shop, order):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and "login" in response["Location"], url
    client.force_login(shop.member)
    for method, url in _all_urls(shop, order):
        assert getattr(client, method)(url).status_code == 403, url


def test_staff_may_review_every_community(client, shop):
    order = pay(shop.order())
    client.force_login(StaffFactory())
    assert client.get(_url("leader_schedule_orders", shop.schedule.pk)).status_code == 200
    assert client.get(_url("leader_order", order.pk)).status_code == 200
    client.post(_url("leader_order_confirm", order.pk))
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED


def test_actions_are_post_only(leader_client, shop):
    order = pay(shop.order())
    assert leader_client.get(_url("leader_orders_confirm", shop.schedule.pk)).status_code == 405
    assert leader_client.get(_url("leader_order_confirm", order.pk)).status_code == 405
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


# Links and query counts


def test_schedule_builder_links_to_its_orders(leader_client, shop):
    response = leader_client.get(reverse("scheduling:leader_schedule", args=[shop.schedule.pk]))
    link = re.search(
        r'href="([^"]+)" data-testid="schedule-orders-link"', response.content.decode()
    )
    assert link.group(1) == _url("leader_schedule_orders", shop.schedule.pk)


def _orders(shop, count: int) -> None:
    for index in range(count):
        member = shop.new_member() if index % 10 else shop.member
        order = shop.order(member, quantities={shop.grapes.pk: 1, shop.eggs.pk: 1})
        if index % 2:
            pay(order)


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("name", ["leader_schedule_orders", "leader_orders_export"])
def test_query_count_is_flat_in_the_orders(client, name):
    few, many = make_shop(), make_shop(grapes={"quantity_cap": 100}, eggs={"quantity_cap": 100})
    _orders(few, 3)
    _orders(many, 30)
    client.force_login(few.leader)
    _queries(client, _url(name, few.schedule.pk))  # warm caches (content types, sessions)
    few_count = _queries(client, _url(name, few.schedule.pk))
    client.force_login(many.leader)
    _queries(client, _url(name, many.schedule.pk))
    many_count = _queries(client, _url(name, many.schedule.pk))
    assert many_count == few_count


def test_pagination_keeps_the_filters(client):
    shop = make_shop(grapes={"quantity_cap": 100}, eggs={"quantity_cap": 100})
    client.force_login(shop.leader)
    for _index in range(25):
        pay(shop.order(shop.new_member(), quantities={shop.grapes.pk: 1}))
    response = list_page(client, shop, payment="paid")
    assert len(numbers(response)) == 20
    next_link = re.search(r'href="([^"]+)" rel="next"', response.content.decode()).group(1)
    assert "payment=paid" in next_link.replace("&amp;", "&") and "page=2" in next_link
    assert len(numbers(list_page(client, shop, payment="paid", page=2))) == 5


def test_unknown_user_without_phone_is_still_listed(leader_client, shop):
    member = UserFactory(phone=None, email="a@example.com", display_name="")
    MembershipFactory(user=member, community=shop.schedule.community)
    order = shop.order(member)
    response = list_page(leader_client, shop)
    assert "a@example.com" in row(response, order)
