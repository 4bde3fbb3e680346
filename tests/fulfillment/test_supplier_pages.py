"""The supplier's fulfilment pages: purchase orders (list, upcoming deliveries, detail,
answers by state, downloads), the pick list and the reviews of its offers."""

import io
import secrets
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from fulfillment.models import (
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    Review,
    ReviewPhoto,
)
from fulfillment.services import purchasing
from groupbuy.models import StateChange
from notifications.models import Notification
from orders.models import LineStatus, OrderLine
from scheduling.models import Schedule, ScheduleItem
from tests.factories import CommunityFactory, SupplierFactory

pytestmark = pytest.mark.django_db


def url(name, purchase_order=None):
    if purchase_order is None:
        return reverse(f"fulfillment:{name}")
    return reverse(f"fulfillment:{name}", args=[purchase_order.pk])


def html_of(response) -> str:
    return response.content.decode()


@pytest.fixture
def sent_round(fulfil_round):
    fulfil_round.send()
    return fulfil_round


@pytest.fixture
def supplier_client(client, fulfil_round):
    client.force_login(fulfil_round.supplier_user)
    return client


def reload(purchase_order) -> PurchaseOrder:
    return PurchaseOrder.objects.get(pk=purchase_order.pk)


def grape_and_egg_lines(round_):
    return round_.line_of(round_.shop.grapes), round_.line_of(round_.shop.eggs)


def error_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"] if "error" in message.tags]


# Cheap bulk data: copies of the round's schedule, items and purchase order.


def _copy(instance, **changes):
    model = type(instance)
    values = {
        field.attname: getattr(instance, field.attname)
        for field in model._meta.concrete_fields
        if not field.primary_key
    }
    values.update(changes)
    return model(**values)


def clone_purchase_orders(
    round_, count, *, status=PurchaseOrderStatus.SENT, communities=None, first_date=None
):
    """``count`` more purchase orders of the round's supplier, each for its own copy of the
    schedule (and items), spread over ``communities`` and three delivery dates."""
    source = reload(round_.purchase_order)
    schedule = round_.shop.schedule
    communities = communities or [source.community]
    first_date = first_date or source.delivery_date
    schedules = Schedule.objects.bulk_create(
        [
            _copy(schedule, title=f"copy {n}", share_token=secrets.token_urlsafe(12))
            for n in range(count)
        ]
    )
    source_items = list(schedule.items.order_by("id"))
    items = ScheduleItem.objects.bulk_create(
        [_copy(item, schedule_id=copy.pk) for copy in schedules for item in source_items]
    )
    purchase_orders = PurchaseOrder.objects.bulk_create(
        [
            _copy(
                source,
                schedule_id=copy.pk,
                number=f"PO9{copy.pk:011d}",
                community_id=communities[n % len(communities)].pk,
                delivery_date=first_date + timedelta(days=n % 3),
                status=status,
            )
            for n, copy in enumerate(schedules)
        ]
    )
    source_lines = list(source.lines.order_by("id"))
    item_index = {item.pk: index for index, item in enumerate(source_items)}
    PurchaseOrderLine.objects.bulk_create(
        [
            _copy(
                line,
                purchase_order_id=purchase_order.pk,
                item_id=items[n * len(source_items) + item_index[line.item_id]].pk,
            )
            for n, purchase_order in enumerate(purchase_orders)
            for line in source_lines
        ]
    )
    return purchase_orders


# Permissions


def _all_requests(purchase_order):
    return [
        ("get", url("supplier_purchase_orders")),
        ("get", url("supplier_purchase_order", purchase_order)),
        ("post", url("supplier_purchase_order_acknowledge", purchase_order)),
        ("post", url("supplier_purchase_order_decline", purchase_order)),
        ("post", url("supplier_purchase_order_start_stocking", purchase_order)),
        ("post", url("supplier_purchase_order_mark_ready", purchase_order)),
        ("get", url("supplier_purchase_order_pdf", purchase_order)),
        ("get", url("supplier_purchase_order_csv", purchase_order)),
        ("get", url("supplier_purchase_order_xlsx", purchase_order)),
        ("get", url("supplier_pick_list")),
        ("get", url("supplier_reviews")),
    ]


def test_anonymous_is_sent_to_log_in(client, sent_round):
    for method, address in _all_requests(sent_round.purchase_order):
        response = getattr(client, method)(address)
        assert response.status_code == 302, address
        assert reverse("account_login") in response["Location"]


@pytest.mark.parametrize("who", ["member", "leader"])
def test_other_roles_get_403(client, sent_round, who):
    user = sent_round.shop.member if who == "member" else sent_round.shop.leader
    client.force_login(user)
    for method, address in _all_requests(sent_round.purchase_order):
        assert getattr(client, method)(address).status_code == 403, address
    assert reload(sent_round.purchase_order).status == PurchaseOrderStatus.SENT


def test_another_supplier_gets_404_and_changes_nothing(client, sent_round):
    client.force_login(SupplierFactory(status="approved").members.get().user)
    purchase_order = sent_round.purchase_order
    for method, address in _all_requests(purchase_order)[1:9]:
        data = {"reason": "no", "dispatch": "shipped"} if method == "post" else None
        assert getattr(client, method)(address, data).status_code == 404, address
    assert reload(purchase_order).status == PurchaseOrderStatus.SENT
    # Its own lists do not show the other supplier's order.
    assert sent_round.purchase_order.number not in html_of(
        client.get(url("supplier_purchase_orders"))
    )
    assert 'data-testid="pick-day"' not in html_of(client.get(url("supplier_pick_list")))


def test_a_draft_is_the_leaders_and_answers_404(supplier_client, fulfil_round):
    draft = fulfil_round.purchase_order
    assert draft.status == PurchaseOrderStatus.DRAFT
    for method, address in _all_requests(draft)[1:9]:
        assert getattr(supplier_client, method)(address).status_code == 404, address
    listing = html_of(supplier_client.get(url("supplier_purchase_orders")))
    assert draft.number not in listing
    assert 'data-testid="empty"' in listing
    assert 'data-testid="no-upcoming"' in listing
    assert reload(draft).status == PurchaseOrderStatus.DRAFT


def test_actions_are_post_only(supplier_client, sent_round):
    purchase_order = sent_round.purchase_order
    for name in (
        "supplier_purchase_order_acknowledge",
        "supplier_purchase_order_decline",
        "supplier_purchase_order_start_stocking",
        "supplier_purchase_order_mark_ready",
    ):
        assert supplier_client.get(url(name, purchase_order)).status_code == 405, name
    assert reload(purchase_order).status == PurchaseOrderStatus.SENT


def test_sidebar_links(supplier_client):
    page = html_of(supplier_client.get(url("supplier_purchase_orders")))
    for testid, name in (
        ("nav-purchase-orders", "supplier_purchase_orders"),
        ("nav-pick-list", "supplier_pick_list"),
        ("nav-reviews", "supplier_reviews"),
    ):
        assert f'href="{url(name)}" data-testid="{testid}"' in page


# The list and the upcoming deliveries


def test_list_shows_sent_orders_with_total_and_upcoming(supplier_client, sent_round):
    purchase_order = reload(sent_round.purchase_order)
    response = supplier_client.get(url("supplier_purchase_orders"))
    assert response.status_code == 200
    page = html_of(response)
    assert page.count('data-testid="purchase-order-row"') == 1
    assert page.count('data-testid="upcoming-row"') == 1
    total = sum(line.amount for line in purchase_order.lines.all())
    assert f"¥{total}" in page
    assert purchase_order.community.name in page
    assert f'data-date="{purchase_order.delivery_date:%Y-%m-%d}"' in page
    assert reverse("fulfillment:supplier_purchase_order", args=[purchase_order.pk]) in page


def test_list_newest_delivery_first_and_upcoming_by_date(supplier_client, sent_round):
    base = sent_round.purchase_order.delivery_date
    clone_purchase_orders(sent_round, 3, first_date=base + timedelta(days=1))
    closed = clone_purchase_orders(
        sent_round, 1, status=PurchaseOrderStatus.DECLINED, first_date=base + timedelta(days=9)
    )[0]
    received = clone_purchase_orders(
        sent_round, 1, status=PurchaseOrderStatus.RECEIVED, first_date=base - timedelta(days=9)
    )[0]
    response = supplier_client.get(url("supplier_purchase_orders"))
    rows = list(response.context["page_obj"])
    dates = [row.delivery_date for row in rows]
    assert dates == sorted(dates, reverse=True)
    assert rows[0] == closed
    upcoming = response.context["upcoming"]
    assert [po.delivery_date for po in upcoming] == sorted(po.delivery_date for po in upcoming)
    assert closed not in upcoming and received not in upcoming
    assert len(upcoming) == 4
    page = html_of(response)
    assert page.count('data-testid="upcoming-day"') == 4  # base, +1, +2, +3


def test_list_filters_by_status(supplier_client, sent_round):
    declined = clone_purchase_orders(sent_round, 2, status=PurchaseOrderStatus.DECLINED)
    page = html_of(supplier_client.get(url("supplier_purchase_orders"), {"status": "declined"}))
    assert page.count('data-testid="purchase-order-row"') == 2
    assert all(po.number in page for po in declined)
    assert 'aria-current="page" data-testid="filter-declined"' in page
    assert 'data-testid="filter-draft"' not in page
    # A junk or draft status shows everything.
    for junk in ("draft", "nonsense"):
        page = html_of(supplier_client.get(url("supplier_purchase_orders"), {"status": junk}))
        assert page.count('data-testid="purchase-order-row"') == 3


def test_list_paginates(supplier_client, sent_round, settings):
    settings.PAGINATE_BY = 2
    clone_purchase_orders(sent_round, 3)
    first = html_of(supplier_client.get(url("supplier_purchase_orders")))
    assert first.count('data-testid="purchase-order-row"') == 2
    assert 'data-testid="pagination"' in first
    last = html_of(supplier_client.get(url("supplier_purchase_orders"), {"page": 2}))
    assert last.count('data-testid="purchase-order-row"') == 2


def test_list_queries_do_not_grow_with_rows(supplier_client, sent_round, settings):
    settings.PAGINATE_BY = 50
    communities = [sent_round.shop.schedule.community, CommunityFactory(), CommunityFactory()]

    def count():
        assert supplier_client.get(url("supplier_purchase_orders")).status_code == 200
        with CaptureQueriesContext(connection) as captured:
            page = html_of(supplier_client.get(url("supplier_purchase_orders")))
        return len(captured), page.count('data-testid="purchase-order-row"')

    clone_purchase_orders(sent_round, 2, communities=communities)
    few, rows = count()
    assert rows == 3
    clone_purchase_orders(sent_round, 27, communities=communities)
    many, rows = count()
    assert rows == 30
    assert few == many, f"{few} queries for 3 rows but {many} for 30"


# The detail page


def test_detail_shows_delivery_lines_totals_history_and_downloads(supplier_client, sent_round):
    purchase_order = reload(sent_round.purchase_order)
    response = supplier_client.get(url("supplier_purchase_order", purchase_order))
    assert response.status_code == 200
    page = html_of(response)
    assert purchase_order.number in page
    assert purchase_order.community.name in page
    assert purchase_order.delivery_address in page
    assert purchase_order.contact_phone and purchase_order.contact_phone in page
    assert f"{purchase_order.delivery_date:%Y-%m-%d}" in page
    assert page.count('data-testid="po-line"') == 2
    grapes, eggs = grape_and_egg_lines(sent_round)
    assert grapes.product_name in page and eggs.product_name in page
    assert f"¥{grapes.amount + eggs.amount}" in page
    assert 'data-testid="history"' in page
    for kind in ("pdf", "csv", "xlsx"):
        assert url(f"supplier_purchase_order_{kind}", purchase_order) in page
    # Sent: acknowledge and decline are open, the later steps are not.
    assert 'data-testid="acknowledge-form"' in page
    assert 'data-testid="decline-form"' in page
    assert 'data-testid="ready-form"' not in page
    assert 'data-testid="start-stocking"' not in page
    assert 'data-testid="line-shipped"' not in page


def test_detail_after_acknowledge_offers_stocking_and_ready(supplier_client, sent_round):
    purchasing.purchase_order_acknowledge(
        purchase_order=sent_round.purchase_order, actor=sent_round.supplier_user
    )
    page = html_of(supplier_client.get(url("supplier_purchase_order", sent_round.purchase_order)))
    assert 'data-testid="start-stocking"' in page
    assert 'data-testid="ready-form"' in page
    assert 'data-testid="acknowledge-form"' not in page
    assert page.count('data-testid="ready-line"') == 2


def test_detail_after_receipt_shows_shipped_received_short_damaged(client, fulfil_round):
    fulfil_round.receive(grapes=(1, 1))
    client.force_login(fulfil_round.supplier_user)
    page = html_of(client.get(url("supplier_purchase_order", fulfil_round.purchase_order)))
    grapes, _eggs = grape_and_egg_lines(fulfil_round)
    assert page.count('data-testid="line-shipped"') == 2
    assert page.count('data-testid="line-received"') == 2
    assert f'data-testid="line-received">{grapes.quantity - 2}<' in page
    assert 'data-testid="line-short">1<' in page
    assert 'data-testid="line-damaged">1<' in page
    assert 'data-testid="ready-form"' not in page


# Acknowledge


def test_acknowledge_without_declines(supplier_client, sent_round):
    purchase_order = sent_round.purchase_order
    response = supplier_client.post(url("supplier_purchase_order_acknowledge", purchase_order))
    assert response.status_code == 302
    assert response["Location"] == url("supplier_purchase_order", purchase_order)
    purchase_order = reload(purchase_order)
    assert purchase_order.status == PurchaseOrderStatus.ACKNOWLEDGED
    assert not purchase_order.lines.filter(declined=True).exists()
    assert Notification.objects.filter(
        kind="purchase_order_acknowledged", recipient=sent_round.shop.leader
    ).exists()
    page = html_of(supplier_client.get(response["Location"]))
    assert 'data-testid="message-success"' in page


def test_acknowledge_declining_one_line_with_reason(supplier_client, sent_round):
    purchase_order = sent_round.purchase_order
    grapes, eggs = grape_and_egg_lines(sent_round)
    response = supplier_client.post(
        url("supplier_purchase_order_acknowledge", purchase_order),
        {f"decline_{eggs.pk}": "on", f"reason_{eggs.pk}": "鸡场停产", f"reason_{grapes.pk}": "x"},
    )
    assert response.status_code == 302
    assert reload(purchase_order).status == PurchaseOrderStatus.ACKNOWLEDGED
    eggs.refresh_from_db()
    grapes.refresh_from_db()
    assert eggs.declined and eggs.decline_reason == "鸡场停产"
    assert not grapes.declined and grapes.decline_reason == ""
    # Members' lines of the declined item are cancelled; the others stay.
    assert not OrderLine.objects.filter(item=eggs.item, status=LineStatus.ACTIVE).exists()
    assert OrderLine.objects.filter(item=grapes.item, status=LineStatus.ACTIVE).count() == 2
    page = html_of(supplier_client.get(url("supplier_purchase_order", purchase_order)))
    assert 'data-testid="line-declined"' in page
    assert "鸡场停产" in page
    assert f'data-testid="total-payable"><strong>¥{grapes.amount}<' in page
    # The declined line is not offered for shipping.
    assert page.count('data-testid="ready-line"') == 1


def test_declining_a_line_without_reason_changes_nothing(supplier_client, sent_round):
    purchase_order = sent_round.purchase_order
    _grapes, eggs = grape_and_egg_lines(sent_round)
    history = StateChange.objects.count()
    response = supplier_client.post(
        url("supplier_purchase_order_acknowledge", purchase_order),
        {f"decline_{eggs.pk}": "on", f"reason_{eggs.pk}": "   "},
    )
    assert response.status_code == 200
    page = html_of(response)
    assert f'data-testid="error-reason_{eggs.pk}"' in page
    assert error_messages(response)
    assert reload(purchase_order).status == PurchaseOrderStatus.SENT
    assert not purchase_order.lines.filter(declined=True).exists()
    assert StateChange.objects.count() == history
    assert OrderLine.objects.filter(item=eggs.item, status=LineStatus.ACTIVE).count() == 2


def test_declining_every_line_is_refused_in_place(supplier_client, sent_round):
    purchase_order = sent_round.purchase_order
    grapes, eggs = grape_and_egg_lines(sent_round)
    response = supplier_client.post(
        url("supplier_purchase_order_acknowledge", purchase_order),
        {
            f"decline_{eggs.pk}": "on",
            f"reason_{eggs.pk}": "停产",
            f"decline_{grapes.pk}": "on",
            f"reason_{grapes.pk}": "停产",
        },
    )
    assert response.status_code == 200
    page = html_of(response)
    assert 'data-testid="form-errors"' in page
    assert "use Decline instead" in page
    assert reload(purchase_order).status == PurchaseOrderStatus.SENT
    assert not purchase_order.lines.filter(declined=True).exists()
    assert OrderLine.objects.filter(status=LineStatus.CANCELLED).count() == 0


def test_acknowledge_twice_is_refused_with_a_message(supplier_client, sent_round):
    purchase_order = sent_round.purchase_order
    supplier_client.post(url("supplier_purchase_order_acknowledge", purchase_order))
    changes = StateChange.objects.count()
    _grapes, eggs = grape_and_egg_lines(sent_round)
    response = supplier_client.post(
        url("supplier_purchase_order_acknowledge", purchase_order),
        {f"decline_{eggs.pk}": "on", f"reason_{eggs.pk}": "late"},
        follow=True,
    )
    assert error_messages(response)
    assert StateChange.objects.count() == changes
    assert not PurchaseOrderLine.objects.filter(declined=True).exists()
    assert reload(purchase_order).status == PurchaseOrderStatus.ACKNOWLEDGED


# Decline the whole order


def test_decline_whole_order_with_reason(supplier_client, sent_round):
    purchase_order = sent_round.purchase_order
    response = supplier_client.post(
        url("supplier_purchase_order_decline", purchase_order), {"reason": "冷库故障"}
    )
    assert response.status_code == 302
    purchase_order = reload(purchase_order)
    assert purchase_order.status == PurchaseOrderStatus.DECLINED
    assert purchase_order.decline_reason == "冷库故障"
    assert purchase_order.lines.filter(declined=True).count() == 2
    assert not OrderLine.objects.filter(
        order__schedule=sent_round.shop.schedule, status=LineStatus.ACTIVE
    ).exists()
    assert Notification.objects.filter(kind="purchase_order_declined").exists()
    page = html_of(supplier_client.get(url("supplier_purchase_order", purchase_order)))
    assert 'data-testid="po-decline-reason"' in page
    assert 'data-testid="acknowledge-form"' not in page
    assert 'data-testid="decline-form"' not in page
    # No longer an upcoming delivery, still in the list.
    listing = html_of(supplier_client.get(url("supplier_purchase_orders")))
    assert 'data-testid="upcoming-row"' not in listing
    assert 'data-testid="purchase-order-row"' in listing


def test_decline_without_reason_changes_nothing(supplier_client, sent_round):
    purchase_order = sent_round.purchase_order
    response = supplier_client.post(
        url("supplier_purchase_order_decline", purchase_order), {"reason": "  "}
    )
    assert response.status_code == 200
    page = html_of(response)
    assert 'data-testid="error-reason"' in page
    assert '<details class="decline-order" open>' in page
    assert reload(purchase_order).status == PurchaseOrderStatus.SENT
    assert not purchase_order.lines.filter(declined=True).exists()


def test_decline_after_acknowledge_is_refused(supplier_client, sent_round):
    purchase_order = sent_round.purchase_order
    supplier_client.post(url("supplier_purchase_order_acknowledge", purchase_order))
    response = supplier_client.post(
        url("supplier_purchase_order_decline", purchase_order), {"reason": "changed my mind"}
    )
    assert response.status_code == 302
    response = supplier_client.get(response["Location"])
    assert "Only a sent purchase order can be declined." in error_messages(response)
    purchase_order = reload(purchase_order)
    assert purchase_order.status == PurchaseOrderStatus.ACKNOWLEDGED
    assert purchase_order.decline_reason == ""


# Stocking up and ready / shipped


def test_start_stocking(supplier_client, sent_round):
    purchase_order = sent_round.purchase_order
    supplier_client.post(url("supplier_purchase_order_acknowledge", purchase_order))
    response = supplier_client.post(url("supplier_purchase_order_start_stocking", purchase_order))
    assert response.status_code == 302
    assert reload(purchase_order).status == PurchaseOrderStatus.STOCKING
    page = html_of(supplier_client.get(response["Location"]))
    assert 'data-testid="start-stocking"' not in page
    assert 'data-testid="ready-form"' in page


def test_start_stocking_before_acknowledging_is_refused(supplier_client, sent_round):
    purchase_order = sent_round.purchase_order
    response = supplier_client.post(
        url("supplier_purchase_order_start_stocking", purchase_order), follow=True
    )
    assert error_messages(response) == ["This is not possible in its current state."]
    assert reload(purchase_order).status == PurchaseOrderStatus.SENT


def test_mark_shipped_with_quantities_and_note(supplier_client, sent_round):
    purchase_order = sent_round.purchase_order
    grapes, eggs = grape_and_egg_lines(sent_round)
    supplier_client.post(url("supplier_purchase_order_acknowledge", purchase_order))
    supplier_client.post(url("supplier_purchase_order_start_stocking", purchase_order))
    response = supplier_client.post(
        url("supplier_purchase_order_mark_ready", purchase_order),
        {
            "dispatch": "shipped",
            f"shipped_{grapes.pk}": grapes.quantity - 1,
            f"shipped_{eggs.pk}": "",  # blank: as ordered
            "note": "沪A12345 司机 13900000000",
        },
    )
    assert response.status_code == 302
    purchase_order = reload(purchase_order)
    assert purchase_order.status == PurchaseOrderStatus.READY
    assert purchase_order.dispatch == "shipped"
    assert purchase_order.delivery_note == "沪A12345 司机 13900000000"
    grapes.refresh_from_db()
    eggs.refresh_from_db()
    assert grapes.shipped_quantity == grapes.quantity - 1
    assert eggs.shipped_quantity == eggs.quantity
    assert Notification.objects.filter(kind="purchase_order_ready").exists()
    page = html_of(supplier_client.get(url("supplier_purchase_order", purchase_order)))
    assert 'data-testid="po-delivery-note"' in page
    assert f'data-testid="line-shipped">{grapes.quantity - 1}<' in page
    assert 'data-testid="ready-form"' not in page


def test_mark_ready_for_collection_straight_after_acknowledging(supplier_client, sent_round):
    purchase_order = sent_round.purchase_order
    supplier_client.post(url("supplier_purchase_order_acknowledge", purchase_order))
    response = supplier_client.post(
        url("supplier_purchase_order_mark_ready", purchase_order), {"dispatch": "ready"}
    )
    assert response.status_code == 302
    purchase_order = reload(purchase_order)
    assert purchase_order.status == PurchaseOrderStatus.READY
    assert purchase_order.dispatch == "ready"
    assert all(line.shipped_quantity == line.quantity for line in purchase_order.lines.all())


@pytest.mark.parametrize("bad", ["more", "negative", "letters"])
def test_shipping_a_wrong_quantity_changes_nothing(supplier_client, sent_round, bad):
    purchase_order = sent_round.purchase_order
    grapes, _eggs = grape_and_egg_lines(sent_round)
    supplier_client.post(url("supplier_purchase_order_acknowledge", purchase_order))
    value = {"more": grapes.quantity + 1, "negative": -1, "letters": "many"}[bad]
    response = supplier_client.post(
        url("supplier_purchase_order_mark_ready", purchase_order),
        {"dispatch": "shipped", f"shipped_{grapes.pk}": value, "note": "note"},
    )
    assert response.status_code == 200
    assert f'data-testid="error-shipped_{grapes.pk}"' in html_of(response)
    assert error_messages(response)
    purchase_order = reload(purchase_order)
    assert purchase_order.status == PurchaseOrderStatus.ACKNOWLEDGED
    assert purchase_order.delivery_note == ""
    assert not purchase_order.lines.filter(shipped_quantity__isnull=False).exists()


def test_mark_ready_without_dispatch_changes_nothing(supplier_client, sent_round):
    purchase_order = sent_round.purchase_order
    supplier_client.post(url("supplier_purchase_order_acknowledge", purchase_order))
    response = supplier_client.post(
        url("supplier_purchase_order_mark_ready", purchase_order), {"dispatch": "teleported"}
    )
    assert response.status_code == 200
    assert 'data-testid="error-dispatch"' in html_of(response)
    assert reload(purchase_order).status == PurchaseOrderStatus.ACKNOWLEDGED


def test_mark_ready_before_acknowledging_is_refused(supplier_client, sent_round):
    purchase_order = sent_round.purchase_order
    response = supplier_client.post(
        url("supplier_purchase_order_mark_ready", purchase_order),
        {"dispatch": "shipped"},
        follow=True,
    )
    assert error_messages(response)
    purchase_order = reload(purchase_order)
    assert purchase_order.status == PurchaseOrderStatus.SENT
    assert purchase_order.dispatch == ""
    assert not purchase_order.lines.filter(shipped_quantity__isnull=False).exists()


def test_mark_ready_twice_is_refused(supplier_client, sent_round):
    purchase_order = sent_round.purchase_order
    supplier_client.post(url("supplier_purchase_order_acknowledge", purchase_order))
    supplier_client.post(
        url("supplier_purchase_order_mark_ready", purchase_order),
        {"dispatch": "shipped", "note": "first"},
    )
    response = supplier_client.post(
        url("supplier_purchase_order_mark_ready", purchase_order),
        {"dispatch": "ready", "note": "second"},
        follow=True,
    )
    assert error_messages(response)
    purchase_order = reload(purchase_order)
    assert (purchase_order.dispatch, purchase_order.delivery_note) == ("shipped", "first")


# Downloads


def test_downloads(supplier_client, sent_round):
    purchase_order = reload(sent_round.purchase_order)
    for kind, content_type, start in (
        ("pdf", "application/pdf", b"%PDF"),
        ("csv", "text/csv; charset=utf-8", "\ufeff".encode()),
        (
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            b"PK",
        ),
    ):
        response = supplier_client.get(url(f"supplier_purchase_order_{kind}", purchase_order))
        assert response.status_code == 200
        assert response["Content-Type"] == content_type
        assert response["Content-Disposition"] == (
            f'attachment; filename="{purchase_order.number}.{kind}"'
        )
        assert response.content.startswith(start)


# Pick list


def test_pick_list_totals_per_date_and_community(supplier_client, sent_round):
    base = sent_round.purchase_order.delivery_date
    other = CommunityFactory(name="阳光小区")
    # Same date, another community; a later date; a declined and a received order.
    clone_purchase_orders(sent_round, 1, communities=[other])
    clone_purchase_orders(sent_round, 1, first_date=base + timedelta(days=2))
    clone_purchase_orders(sent_round, 1, status=PurchaseOrderStatus.DECLINED)
    clone_purchase_orders(sent_round, 1, status=PurchaseOrderStatus.RECEIVED)
    grapes, eggs = grape_and_egg_lines(sent_round)
    response = supplier_client.get(url("supplier_pick_list"))
    assert response.status_code == 200
    days = response.context["days"]
    assert [day.delivery_date for day in days] == [base, base + timedelta(days=2)]
    first = days[0]
    assert first.purchase_order_count == 2
    by_name = {product.name: product for product in first.products}
    assert by_name[grapes.product_name].quantity == 2 * grapes.quantity
    assert by_name[grapes.product_name].cases == 2 * grapes.cases
    assert by_name[eggs.product_name].quantity == 2 * eggs.quantity
    communities = {part.community_name for part in by_name[grapes.product_name].communities}
    assert communities == {sent_round.purchase_order.community.name, "阳光小区"}
    assert days[1].purchase_order_count == 1
    page = html_of(response)
    assert page.count('data-testid="pick-day"') == 2
    assert page.count('data-testid="pick-product"') == 4
    assert "阳光小区" in page


def test_pick_list_leaves_out_declined_lines(supplier_client, sent_round):
    _grapes, eggs = grape_and_egg_lines(sent_round)
    purchasing.purchase_order_acknowledge(
        purchase_order=sent_round.purchase_order,
        actor=sent_round.supplier_user,
        declined_lines={eggs.pk: "停产"},
    )
    (day,) = supplier_client.get(url("supplier_pick_list")).context["days"]
    assert [product.name for product in day.products] != []
    assert eggs.product_name not in [product.name for product in day.products]


def test_pick_list_filters_by_date(supplier_client, sent_round):
    base = sent_round.purchase_order.delivery_date
    later = base + timedelta(days=2)
    clone_purchase_orders(sent_round, 1, first_date=later)
    response = supplier_client.get(url("supplier_pick_list"), {"date": later.isoformat()})
    assert [day.delivery_date for day in response.context["days"]] == [later]
    assert f'aria-current="page" data-testid="date-{later:%Y-%m-%d}"' in html_of(response)
    for junk in ("2001-01-01", "yesterday"):
        response = supplier_client.get(url("supplier_pick_list"), {"date": junk})
        assert len(response.context["days"]) == 2


def test_pick_list_empty(client):
    client.force_login(SupplierFactory(status="approved").members.get().user)
    response = client.get(url("supplier_pick_list"))
    assert response.status_code == 200
    assert 'data-testid="empty"' in html_of(response)


def test_pick_list_queries_do_not_grow(supplier_client, sent_round):
    communities = [sent_round.shop.schedule.community, CommunityFactory(), CommunityFactory()]

    def count():
        assert supplier_client.get(url("supplier_pick_list")).status_code == 200
        with CaptureQueriesContext(connection) as captured:
            page = html_of(supplier_client.get(url("supplier_pick_list")))
        return len(captured), page.count('data-testid="pick-community"')

    clone_purchase_orders(sent_round, 2, communities=communities)
    few, parts = count()
    assert parts == 3 * 2
    clone_purchase_orders(sent_round, 27, communities=communities)
    many, parts = count()
    assert parts == 30 * 2
    assert few == many, f"{few} queries for 3 orders but {many} for 30"


# Reviews


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, "PNG")
    return buffer.getvalue()


def add_reviews(round_, count, *, rating=4, photos=0):
    """``count`` reviews of the round's grapes offer, each on an order line of its own
    (copies of the first member's grapes line on cloned items)."""
    grapes_line = OrderLine.objects.get(order=round_.orders[0], item=round_.shop.grapes)
    purchase_orders = clone_purchase_orders(round_, count)
    items = [
        line.item_id
        for line in PurchaseOrderLine.objects.filter(
            purchase_order__in=purchase_orders, item__offer=round_.shop.grapes.offer
        )
    ]
    lines = OrderLine.objects.bulk_create([_copy(grapes_line, item_id=item) for item in items])
    reviews = Review.objects.bulk_create(
        [
            Review(
                order_line=line,
                member_id=grapes_line.order.member_id,
                offer_id=round_.shop.grapes.offer_id,
                rating=rating,
                text=f"很甜 {n}",
            )
            for n, line in enumerate(lines)
        ]
    )
    for review in reviews[:photos]:
        photo = ReviewPhoto(review=review)
        photo.image.save(f"r{review.pk}.png", ContentFile(_png()), save=False)
        photo.save()
    return reviews


def test_reviews_with_average_per_offer_and_photos(supplier_client, sent_round, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    add_reviews(sent_round, 2, rating=5, photos=1)
    add_reviews(sent_round, 1, rating=2)
    eggs_line = OrderLine.objects.get(order=sent_round.orders[1], item=sent_round.shop.eggs)
    Review.objects.create(
        order_line=eggs_line,
        member=sent_round.orders[1].member,
        offer=sent_round.shop.eggs.offer,
        rating=3,
        text="<b>一般</b>",
    )
    response = supplier_client.get(url("supplier_reviews"))
    assert response.status_code == 200
    ratings = {offer.pk: offer for offer in response.context["ratings"]}
    grapes = ratings[sent_round.shop.grapes.offer_id]
    assert (grapes.average, grapes.count) == (4.0, 3)
    assert ratings[sent_round.shop.eggs.offer_id].average == 3.0
    page = html_of(response)
    assert page.count('data-testid="review-row"') == 4
    assert page.count('data-testid="rating-row"') == 2
    assert 'data-testid="review-photos"' in page
    assert "&lt;b&gt;一般&lt;/b&gt;" in page  # escaped
    assert sent_round.orders[0].community.name in page


def test_reviews_of_another_suppliers_offers_are_not_shown(client, sent_round):
    add_reviews(sent_round, 2)
    client.force_login(SupplierFactory(status="approved").members.get().user)
    page = html_of(client.get(url("supplier_reviews")))
    assert 'data-testid="review-row"' not in page
    assert 'data-testid="rating-row"' not in page


def test_reviews_paginate_and_queries_do_not_grow(supplier_client, sent_round, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.PAGINATE_BY = 50

    def count():
        assert supplier_client.get(url("supplier_reviews")).status_code == 200
        with CaptureQueriesContext(connection) as captured:
            page = html_of(supplier_client.get(url("supplier_reviews")))
        return len(captured), page.count('data-testid="review-row"')

    add_reviews(sent_round, 3, photos=3)
    few, rows = count()
    assert rows == 3
    add_reviews(sent_round, 27, photos=5)
    many, rows = count()
    assert rows == 30
    assert few == many, f"{few} queries for 3 reviews but {many} for 30"
    settings.PAGINATE_BY = 20
    page = html_of(supplier_client.get(url("supplier_reviews"), {"page": 2}))
    assert page.count('data-testid="review-row"') == 10


# A supplier whose organisation is not approved yet holds no supplier role.


def test_pending_supplier_gets_403(client):
    client.force_login(SupplierFactory().members.get().user)
    assert client.get(url("supplier_purchase_orders")).status_code == 403
    assert client.get(url("supplier_pick_list")).status_code == 403
