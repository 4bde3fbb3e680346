"""Purchase orders (fulfillment/services/purchasing.py): prepared from the confirmed lines
in whole cases at the agreed supply price, sent after the cut-off once every order is
reviewed, acknowledged (possibly declining lines, whose members are refunded) or declined,
stocked, and marked ready or shipped, each step by the right party only."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from accounts.models import ReviewStatus, SupplierMember
from fulfillment import tasks
from fulfillment.models import PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus
from fulfillment.services import purchasing
from fulfillment.services.purchasing import whole_cases
from groupbuy.exceptions import DomainError
from notifications.models import Notification
from orders.models import LineStatus, OrderStatus, PaymentMethod, Refund, RefundStatus
from orders.services.review import order_confirm, order_reject
from sandboxpay.models import ChargeRefund
from scheduling.models import ItemOutcome, Schedule, ScheduleItem, ScheduleStatus
from scheduling.services import schedules as schedule_services
from scheduling.services.schedules import schedule_close
from tests.catalog.conftest import make_listed_offer, make_product
from tests.factories import CommunityFactory, StaffFactory, SupplierFactory, UserFactory
from tests.fulfillment.conftest import make_round, pay_and_confirm
from tests.fulfillment.test_allocation import build_round
from tests.orders.conftest import Shop, make_shop
from tests.orders.test_ordering_services import changes, notices, pay, reload
from tests.scheduling.conftest import item_fields

pytestmark = pytest.mark.django_db

POS = PurchaseOrderStatus


def po_notices(user, kind: str, purchase_order: PurchaseOrder | None = None):
    found = Notification.objects.filter(recipient=user, kind=kind)
    if purchase_order is not None:
        found = found.filter(object_id=purchase_order.pk)
    return found


def add_supplier_item(shop: Shop, *, name: str = "有机菠菜", **fields) -> ScheduleItem:
    """An item of a second supplier added to the (published, still open) schedule."""
    supplier = SupplierFactory(status=ReviewStatus.APPROVED)
    offer = make_listed_offer(
        supplier,
        StaffFactory(),
        product=make_product(supplier, name=name, name_en="Spinach", spec="300 g"),
    )
    return schedule_services.schedule_item_add(
        schedule=shop.schedule,
        actor=shop.leader,
        offer=offer,
        **item_fields(member_price=Decimal("8.00"), display_order=2, **fields),
    )


def close(shop: Shop):
    assert schedule_close(
        schedule_id=shop.schedule.pk, now=shop.schedule.cutoff + timedelta(minutes=1)
    )


def prepare(shop: Shop, actor=None) -> list[PurchaseOrder]:
    return purchasing.purchase_orders_prepare(schedule=shop.schedule, actor=actor or shop.leader)


def lines_by_name(purchase_order: PurchaseOrder) -> dict[str, PurchaseOrderLine]:
    return {line.product_name: line for line in purchase_order.lines.all()}


def sent_round(**kwargs):
    round_ = make_round(**kwargs)
    round_.send()
    return round_


def acknowledge(round_, **kwargs) -> PurchaseOrder:
    round_.purchase_order = purchasing.purchase_order_acknowledge(
        purchase_order=round_.purchase_order, actor=round_.supplier_user, **kwargs
    )
    return round_.purchase_order


def wrong_actors(round_) -> dict:
    """Users who may not act for the supplier of ``round_``."""
    other = SupplierFactory(status=ReviewStatus.APPROVED)
    return {
        "other_supplier": other.members.get(is_owner=True).user,
        "member": round_.shop.member,
        "leader": round_.shop.leader,
        "other_leader": CommunityFactory().leader,
    }


# Preparing


def test_prepare_builds_one_draft_from_the_confirmed_lines(fulfil_round):
    shop, purchase_order = fulfil_round.shop, fulfil_round.purchase_order
    assert purchase_order.status == POS.DRAFT
    assert purchase_order.schedule == shop.schedule
    assert purchase_order.community == shop.schedule.community
    assert purchase_order.supplier == shop.grapes.offer.supplier
    assert purchase_order.delivery_date == shop.schedule.arrival_date
    assert shop.point.name in purchase_order.delivery_address
    assert shop.point.address in purchase_order.delivery_address
    assert purchase_order.contact_phone == shop.point.contact_phone
    assert purchase_order.number.startswith("PO") and len(purchase_order.number) == 14
    lines = lines_by_name(purchase_order)
    grapes, eggs = lines["阳光玫瑰葡萄"], lines["土鸡蛋"]
    # 2 members x (2 grapes + 1 egg tray), packed in cases of 6.
    assert (grapes.item, grapes.ordered_units, grapes.quantity, grapes.case_size) == (
        shop.grapes,
        4,
        6,
        6,
    )
    assert (eggs.item, eggs.ordered_units, eggs.quantity) == (shop.eggs, 2, 6)
    assert (grapes.spec, grapes.unit) == ("500 g x 2", "盒")
    assert grapes.unit_price == shop.grapes.supply_price == Decimal("10.00")
    assert grapes.amount == Decimal("60.00") and grapes.cases == 1
    assert not grapes.declined and grapes.shipped_quantity is None
    assert changes(purchase_order, "prepare").get().actor == shop.leader


@pytest.mark.parametrize(
    ("units", "case_size", "expected"),
    [(0, 6, 0), (1, 6, 6), (6, 6, 6), (7, 6, 12), (13, 6, 18), (5, 1, 5), (5, 0, 5)],
)
def test_whole_cases(units, case_size, expected):
    assert whole_cases(units, case_size) == expected


@pytest.mark.parametrize(("case_size", "expected"), [(1, 13), (4, 16), (6, 18), (13, 13)])
def test_prepare_rounds_up_to_whole_cases(case_size, expected):
    round_ = build_round([{"grapes": 5}, {"grapes": 5}, {"grapes": 3}], case_size=case_size)
    line = round_.line_of(round_.shop.grapes)
    assert (line.ordered_units, line.quantity, line.case_size) == (13, expected, case_size)
    assert line.cases == expected // case_size
    assert round_.purchase_order.lines.count() == 1  # nobody ordered eggs


def test_prepare_uses_the_items_agreed_supply_price(fulfil_round):
    shop = fulfil_round.shop
    # The item's terms come from an accepted proposal: not the offer's list price.
    ScheduleItem.objects.filter(pk=shop.grapes.pk).update(supply_price=Decimal("8.50"))
    (purchase_order,) = prepare(shop)
    assert purchase_order.pk == fulfil_round.purchase_order.pk
    grapes = purchase_order.lines.get(item=shop.grapes)
    assert grapes.unit_price == Decimal("8.50")
    assert shop.grapes.offer.supply_price == Decimal("10.00")


def test_one_purchase_order_per_supplier():
    shop = make_shop()
    spinach = add_supplier_item(shop)
    g, e, s = shop.grapes.pk, shop.eggs.pk, spinach.pk
    pay_and_confirm(shop, shop.order(quantities={g: 1, s: 2}))
    pay_and_confirm(shop, shop.order(shop.new_member(), quantities={e: 1, s: 3}))
    close(shop)
    purchase_orders = prepare(shop)
    assert len(purchase_orders) == 2
    by_supplier = {po.supplier_id: po for po in purchase_orders}
    ours = by_supplier[shop.grapes.offer.supplier_id]
    theirs = by_supplier[spinach.offer.supplier_id]
    assert {(line.item_id, line.ordered_units) for line in ours.lines.all()} == {(g, 1), (e, 1)}
    assert {(line.item_id, line.ordered_units) for line in theirs.lines.all()} == {(s, 5)}
    assert theirs.lines.get().quantity == 6
    # Preparing again refreshes the same two drafts.
    again = prepare(shop)
    assert sorted(po.pk for po in again) == sorted(po.pk for po in purchase_orders)
    assert PurchaseOrder.objects.filter(schedule=shop.schedule).count() == 2


def test_only_confirmed_orders_count():
    shop = make_shop(allow_pay_at_pickup=True)
    g = shop.grapes.pk
    confirmed = pay_and_confirm(shop, shop.order(quantities={g: 2}))
    at_pickup = shop.order(shop.new_member(), quantities={g: 1}, method=PaymentMethod.AT_PICKUP)
    paid_only = shop.order(shop.new_member(), quantities={g: 3})
    pay(paid_only)
    unpaid = shop.order(shop.new_member(), quantities={g: 4})
    cancelled = shop.order(shop.new_member(), quantities={g: 5})
    pay(cancelled)
    order_reject(order=reload(cancelled), actor=shop.leader, reason="Out of area")
    assert reload(at_pickup).status == OrderStatus.CONFIRMED
    assert reload(confirmed).status == OrderStatus.CONFIRMED
    close(shop)
    (purchase_order,) = prepare(shop)
    # The confirmed online order and the pay-at-pickup one; not the paid-but-unconfirmed,
    # unpaid or cancelled orders.
    assert purchase_order.lines.get(item_id=g).ordered_units == 3
    # Once the leader has reviewed them, the draft follows.
    order_confirm(order=reload(paid_only), actor=shop.leader)
    order_reject(order=reload(unpaid), actor=shop.leader, reason="Not paid")
    (purchase_order,) = prepare(shop)
    assert purchase_order.lines.get(item_id=g).ordered_units == 6


def test_failed_items_are_left_out():
    shop = make_shop(grapes={"min_group_qty": 50})
    round_ = build_round([{"grapes": 2, "eggs": 1}, {"eggs": 2}], shop=shop)
    assert ScheduleItem.objects.get(pk=shop.grapes.pk).outcome == ItemOutcome.FAILED
    lines = list(round_.purchase_order.lines.all())
    assert [(line.item_id, line.ordered_units) for line in lines] == [(shop.eggs.pk, 3)]


def test_a_draft_is_refreshed_from_the_orders(fulfil_round):
    shop = fulfil_round.shop
    first, second = fulfil_round.orders
    order_reject(order=second, actor=shop.leader, reason="Moved away")
    (purchase_order,) = prepare(shop)
    assert purchase_order.pk == fulfil_round.purchase_order.pk
    assert purchase_order.number == fulfil_round.purchase_order.number
    lines = lines_by_name(purchase_order)
    assert lines["阳光玫瑰葡萄"].ordered_units == 2
    assert lines["土鸡蛋"].ordered_units == 1
    assert PurchaseOrderLine.objects.filter(purchase_order=purchase_order).count() == 2
    # Nobody orders from the supplier any more: its draft goes away.
    order_reject(order=first, actor=shop.leader, reason="Moved away")
    assert prepare(shop) == []
    assert not PurchaseOrder.objects.filter(schedule=shop.schedule).exists()


def test_a_sent_purchase_order_does_not_change():
    round_ = sent_round()
    order_reject(order=round_.orders[1], actor=round_.shop.leader, reason="Moved away")
    assert prepare(round_.shop) == []
    purchase_order = PurchaseOrder.objects.get(pk=round_.purchase_order.pk)
    assert purchase_order.status == POS.SENT
    assert lines_by_name(purchase_order)["阳光玫瑰葡萄"].ordered_units == 4


@pytest.mark.parametrize("who", ["member", "other_leader", "supplier"])
def test_only_the_leader_prepares(fulfil_round, who):
    actor = {
        "member": fulfil_round.shop.member,
        "other_leader": CommunityFactory().leader,
        "supplier": fulfil_round.supplier_user,
    }[who]
    with pytest.raises(DomainError, match="Only the community's leader"):
        prepare(fulfil_round.shop, actor=actor)
    assert prepare(fulfil_round.shop, actor=StaffFactory())


@pytest.mark.parametrize("status", [ScheduleStatus.DRAFT, ScheduleStatus.CANCELLED])
def test_prepare_needs_a_published_or_closed_schedule(fulfil_round, status):
    Schedule.objects.filter(pk=fulfil_round.shop.schedule.pk).update(status=status)
    with pytest.raises(DomainError, match="published or closed"):
        prepare(fulfil_round.shop)


def test_leader_may_prepare_before_the_cut_off_but_not_send():
    shop = make_shop()
    pay_and_confirm(shop, shop.order())
    (purchase_order,) = prepare(shop)
    assert shop.schedule.status == ScheduleStatus.PUBLISHED
    with pytest.raises(DomainError, match="after the cut-off"):
        purchasing.purchase_order_send(
            purchase_order=purchase_order,
            actor=shop.leader,
            now=shop.schedule.cutoff - timedelta(minutes=1),
        )
    assert PurchaseOrder.objects.get(pk=purchase_order.pk).status == POS.DRAFT
    sent = purchasing.purchase_order_send(
        purchase_order=purchase_order, actor=shop.leader, now=shop.schedule.cutoff
    )
    assert sent.status == POS.SENT


# The beat


def test_beat_prepares_closed_schedules_without_purchase_orders():
    closed = make_shop()
    pay_and_confirm(closed, closed.order())
    close(closed)
    still_open = make_shop()
    pay_and_confirm(still_open, still_open.order())
    nobody = make_shop()
    close(nobody)
    assert purchasing.schedules_prepare_purchase_orders() == 1
    purchase_order = PurchaseOrder.objects.get(schedule=closed.schedule)
    assert purchase_order.lines.count() == 2
    assert changes(purchase_order, "prepare").get().actor is None
    assert not PurchaseOrder.objects.filter(
        schedule__in=[still_open.schedule, nobody.schedule]
    ).exists()
    # Idempotent: a schedule with its purchase orders is left alone.
    assert purchasing.schedules_prepare_purchase_orders() == 0
    tasks.prepare_purchase_orders.delay()
    assert PurchaseOrder.objects.count() == 1


# Sending


def test_send_after_the_cut_off_tells_the_supplier_team(fulfil_round):
    purchase_order = fulfil_round.purchase_order
    colleague = UserFactory()
    SupplierMember.objects.create(supplier=purchase_order.supplier, user=colleague)
    sent = fulfil_round.send()
    assert sent.status == POS.SENT
    assert sent.sent_at == fulfil_round.after_cutoff
    assert PurchaseOrder.objects.get(pk=sent.pk).status == POS.SENT
    change = changes(sent, "send").get()
    assert (change.from_state, change.to_state, change.actor) == (
        POS.DRAFT,
        POS.SENT,
        fulfil_round.shop.leader,
    )
    for user in (fulfil_round.supplier_user, colleague):
        notice = po_notices(user, "purchase_order_sent", sent).get()
        assert notice.context["number"] == sent.number
        assert notice.link == reverse("fulfillment:supplier_purchase_order", args=[sent.pk])
    assert not po_notices(fulfil_round.shop.leader, "purchase_order_sent").exists()
    assert not po_notices(fulfil_round.shop.member, "purchase_order_sent").exists()


def test_send_before_the_cut_off_is_refused(fulfil_round):
    with pytest.raises(DomainError, match="after the cut-off"):
        purchasing.purchase_order_send(
            purchase_order=fulfil_round.purchase_order,
            actor=fulfil_round.shop.leader,
            now=fulfil_round.shop.schedule.cutoff - timedelta(seconds=1),
        )
    assert PurchaseOrder.objects.get(pk=fulfil_round.purchase_order.pk).status == POS.DRAFT
    assert not Notification.objects.filter(kind="purchase_order_sent").exists()


@pytest.mark.parametrize("waiting", ["paid", "unpaid", "both"])
def test_send_waits_for_every_order_to_be_reviewed(waiting):
    shop = make_shop()
    pay_and_confirm(shop, shop.order())
    left = []
    if waiting in ("paid", "both"):
        paid_only = shop.order(shop.new_member())
        pay(paid_only)
        left.append(paid_only)
    if waiting in ("unpaid", "both"):
        left.append(shop.order(shop.new_member()))
    close(shop)
    (purchase_order,) = prepare(shop)
    after = shop.schedule.cutoff + timedelta(minutes=1)
    with pytest.raises(DomainError, match=f"Confirm or reject the {len(left)} paid or unpaid"):
        purchasing.purchase_order_send(purchase_order=purchase_order, actor=shop.leader, now=after)
    assert PurchaseOrder.objects.get(pk=purchase_order.pk).status == POS.DRAFT
    for order in left:
        order_reject(order=reload(order), actor=shop.leader, reason="Late")
    sent = purchasing.purchase_order_send(
        purchase_order=purchase_order, actor=shop.leader, now=after
    )
    assert sent.status == POS.SENT


def test_send_without_lines_is_refused(fulfil_round):
    fulfil_round.purchase_order.lines.all().delete()
    with pytest.raises(DomainError, match="no lines"):
        fulfil_round.send()


@pytest.mark.parametrize("who", ["member", "other_leader", "supplier"])
def test_only_the_leader_sends(fulfil_round, who):
    actor = {
        "member": fulfil_round.shop.member,
        "other_leader": CommunityFactory().leader,
        "supplier": fulfil_round.supplier_user,
    }[who]
    with pytest.raises(DomainError, match="Only the community's leader"):
        purchasing.purchase_order_send(
            purchase_order=fulfil_round.purchase_order,
            actor=actor,
            now=fulfil_round.after_cutoff,
        )
    assert PurchaseOrder.objects.get(pk=fulfil_round.purchase_order.pk).status == POS.DRAFT


def test_sending_twice_is_refused(fulfil_round):
    fulfil_round.send()
    with pytest.raises(TransitionNotAllowed):
        fulfil_round.send()
    assert po_notices(fulfil_round.supplier_user, "purchase_order_sent").count() == 1


# Acknowledging


def test_acknowledge_tells_the_leader():
    round_ = sent_round()
    purchase_order = acknowledge(round_)
    assert purchase_order.status == POS.ACKNOWLEDGED
    assert purchase_order.acknowledged_at is not None
    assert changes(purchase_order, "acknowledge").get().actor == round_.supplier_user
    notice = po_notices(round_.shop.leader, "purchase_order_acknowledged", purchase_order).get()
    assert notice.context["declined"] == "0"
    assert notice.context["supplier_name"] == purchase_order.supplier.name
    assert not purchase_order.lines.filter(declined=True).exists()


def test_declined_lines_cancel_and_refund_the_members_lines(django_capture_on_commit_callbacks):
    round_ = build_round([{"grapes": 2, "eggs": 1}, {"grapes": 3}, {"eggs": 2}])
    mixed, grapes_only, eggs_only = round_.orders
    round_.send()
    grapes = round_.line_of(round_.shop.grapes)
    with django_capture_on_commit_callbacks(execute=True):
        purchase_order = acknowledge(round_, declined_lines={grapes.pk: "  Hail damage  "})
    assert purchase_order.status == POS.ACKNOWLEDGED
    grapes.refresh_from_db()
    assert (grapes.declined, grapes.decline_reason) == (True, "Hail damage")
    assert not round_.line_of(round_.shop.eggs).declined

    # A line declined in an order that keeps other lines: cancelled, refunded on its own.
    order = reload(mixed)
    assert order.status == OrderStatus.CONFIRMED
    line = order.lines.get(item=round_.shop.grapes)
    assert line.status == LineStatus.CANCELLED
    assert "Hail damage" in line.cancel_reason
    assert line.refunded_amount == line.amount == Decimal("30.00")
    assert order.lines.get(item=round_.shop.eggs).status == LineStatus.ACTIVE
    refund = Refund.objects.get(order=order)
    assert (refund.line, refund.amount, refund.status) == (
        line,
        line.amount,
        RefundStatus.SUCCEEDED,
    )
    notice = notices(order.member, "order_item_unavailable", order).get()
    assert notice.context["item"] == "阳光玫瑰葡萄"
    assert notice.context["amount"] == "30.00"
    assert "Hail damage" in notice.context["reason"]

    # An order whose only line is declined is cancelled and refunded whole.
    order = reload(grapes_only)
    assert order.status == OrderStatus.CANCELLED
    assert order.refunded_total == order.total == Decimal("45.00")
    assert notices(order.member, "order_cancelled", order).exists()
    assert not notices(order.member, "order_item_unavailable", order).exists()

    # Other orders are untouched.
    order = reload(eggs_only)
    assert order.status == OrderStatus.CONFIRMED and order.refunded_total == 0
    assert not notices(order.member, "order_item_unavailable", order).exists()
    assert sorted(ChargeRefund.objects.values_list("amount", flat=True)) == [
        Decimal("30.00"),
        Decimal("45.00"),
    ]
    notice = po_notices(round_.shop.leader, "purchase_order_acknowledged", purchase_order).get()
    assert notice.context["declined"] == "1"


@pytest.mark.parametrize(
    ("declined", "message"),
    [
        ("blank", "Give a reason for each declined line"),
        ("unknown", "Choose lines of this purchase order"),
        ("all", "use Decline instead"),
    ],
)
def test_bad_declined_lines_are_refused(declined, message):
    round_ = sent_round()
    lines = list(round_.purchase_order.lines.order_by("id"))
    other = make_round(members=1).purchase_order.lines.first()
    declined_lines = {
        "blank": {lines[0].pk: "   "},
        "unknown": {other.pk: "no"},
        "all": {line.pk: "no stock" for line in lines},
    }[declined]
    with pytest.raises(DomainError, match=message):
        acknowledge(round_, declined_lines=declined_lines)
    assert PurchaseOrder.objects.get(pk=round_.purchase_order.pk).status == POS.SENT
    assert not PurchaseOrderLine.objects.filter(declined=True).exists()
    assert not Refund.objects.exists()
    assert {line.status for order in round_.orders for line in order.lines.all()} == {
        LineStatus.ACTIVE
    }


def test_only_a_sent_purchase_order_is_acknowledged(fulfil_round):
    with pytest.raises(DomainError, match="Only a sent purchase order"):
        acknowledge(fulfil_round)
    fulfil_round.send()
    acknowledge(fulfil_round)
    with pytest.raises(DomainError, match="Only a sent purchase order"):
        acknowledge(fulfil_round)


@pytest.mark.parametrize("who", ["other_supplier", "member", "leader", "other_leader"])
def test_only_the_supplier_team_acknowledges(who):
    round_ = sent_round()
    actor = wrong_actors(round_)[who]
    with pytest.raises(DomainError, match="Only the supplier's team"):
        purchasing.purchase_order_acknowledge(purchase_order=round_.purchase_order, actor=actor)
    assert PurchaseOrder.objects.get(pk=round_.purchase_order.pk).status == POS.SENT


def test_a_colleague_or_staff_may_answer():
    round_ = sent_round()
    colleague = UserFactory()
    SupplierMember.objects.create(supplier=round_.purchase_order.supplier, user=colleague)
    purchase_order = purchasing.purchase_order_acknowledge(
        purchase_order=round_.purchase_order, actor=colleague
    )
    purchase_order = purchasing.purchase_order_start_stocking(
        purchase_order=purchase_order, actor=StaffFactory()
    )
    assert purchase_order.status == POS.STOCKING


# Declining the whole purchase order


def test_decline_needs_a_reason():
    round_ = sent_round()
    for reason in ("", "   ", None):
        with pytest.raises(DomainError, match="Give a reason") as error:
            purchasing.purchase_order_decline(
                purchase_order=round_.purchase_order, actor=round_.supplier_user, reason=reason
            )
        assert error.value.field == "reason"
    assert PurchaseOrder.objects.get(pk=round_.purchase_order.pk).status == POS.SENT


def test_decline_cancels_and_refunds_every_member_line(django_capture_on_commit_callbacks):
    round_ = sent_round()
    with django_capture_on_commit_callbacks(execute=True):
        purchase_order = purchasing.purchase_order_decline(
            purchase_order=round_.purchase_order,
            actor=round_.supplier_user,
            reason=" Our truck broke down ",
        )
    assert purchase_order.status == POS.DECLINED
    assert purchase_order.decline_reason == "Our truck broke down"
    assert set(purchase_order.lines.values_list("declined", flat=True)) == {True}
    assert changes(purchase_order, "decline").get().reason == "Our truck broke down"
    for order in round_.orders:
        order = reload(order)
        assert order.status == OrderStatus.CANCELLED
        assert order.refunded_total == order.total
        assert notices(order.member, "order_cancelled", order).exists()
        # Line by line (the last line ends the order): together exactly what was paid.
        refunds = Refund.objects.filter(order=order)
        assert sum(refund.amount for refund in refunds) == order.total
        assert {refund.status for refund in refunds} == {RefundStatus.SUCCEEDED}
    notice = po_notices(round_.shop.leader, "purchase_order_declined", purchase_order).get()
    assert notice.context["reason"] == "Our truck broke down"


def test_only_a_sent_purchase_order_is_declined(fulfil_round):
    with pytest.raises(DomainError, match="Only a sent purchase order can be declined"):
        purchasing.purchase_order_decline(
            purchase_order=fulfil_round.purchase_order,
            actor=fulfil_round.supplier_user,
            reason="No",
        )
    fulfil_round.send()
    acknowledge(fulfil_round)
    with pytest.raises(DomainError, match="Only a sent purchase order can be declined"):
        purchasing.purchase_order_decline(
            purchase_order=fulfil_round.purchase_order,
            actor=fulfil_round.supplier_user,
            reason="No",
        )


@pytest.mark.parametrize("who", ["other_supplier", "member", "leader"])
def test_only_the_supplier_team_declines(who):
    round_ = sent_round()
    with pytest.raises(DomainError, match="Only the supplier's team"):
        purchasing.purchase_order_decline(
            purchase_order=round_.purchase_order, actor=wrong_actors(round_)[who], reason="No"
        )
    assert not Refund.objects.exists()


# Stocking up and ready


def test_stocking_follows_the_acknowledgement():
    round_ = sent_round()
    with pytest.raises(TransitionNotAllowed):
        purchasing.purchase_order_start_stocking(
            purchase_order=round_.purchase_order, actor=round_.supplier_user
        )
    acknowledge(round_)
    purchase_order = purchasing.purchase_order_start_stocking(
        purchase_order=round_.purchase_order, actor=round_.supplier_user
    )
    assert PurchaseOrder.objects.get(pk=purchase_order.pk).status == POS.STOCKING
    assert changes(purchase_order, "start_stocking").get().actor == round_.supplier_user


@pytest.mark.parametrize("who", ["other_supplier", "member", "leader"])
def test_only_the_supplier_team_stocks_up(who):
    round_ = sent_round()
    acknowledge(round_)
    with pytest.raises(DomainError, match="Only the supplier's team"):
        purchasing.purchase_order_start_stocking(
            purchase_order=round_.purchase_order, actor=wrong_actors(round_)[who]
        )
    assert PurchaseOrder.objects.get(pk=round_.purchase_order.pk).status == POS.ACKNOWLEDGED


def mark_ready(round_, **kwargs) -> PurchaseOrder:
    kwargs.setdefault("dispatch", "shipped")
    return purchasing.purchase_order_mark_ready(
        purchase_order=round_.purchase_order, actor=round_.supplier_user, **kwargs
    )


@pytest.mark.parametrize("stock_first", [False, True])
def test_mark_ready_records_the_quantities_and_tells_the_leader(stock_first):
    round_ = sent_round()
    acknowledge(round_)
    if stock_first:
        purchasing.purchase_order_start_stocking(
            purchase_order=round_.purchase_order, actor=round_.supplier_user
        )
    grapes = round_.line_of(round_.shop.grapes)
    before = timezone.now()
    purchase_order = mark_ready(
        round_, dispatch="ready", shipped={grapes.pk: 5}, note="  Gate 3, cold room  "
    )
    assert purchase_order.status == POS.READY
    assert (purchase_order.dispatch, purchase_order.delivery_note) == ("ready", "Gate 3, cold room")
    assert purchase_order.ready_at >= before
    shipped = dict(purchase_order.lines.values_list("product_name", "shipped_quantity"))
    # Lines not mentioned ship as ordered.
    assert shipped == {"阳光玫瑰葡萄": 5, "土鸡蛋": 6}
    notice = po_notices(round_.shop.leader, "purchase_order_ready", purchase_order).get()
    assert notice.context["dispatch"] == "ready"
    assert changes(purchase_order, "mark_ready").get().actor == round_.supplier_user


@pytest.mark.parametrize(("quantity", "ok"), [(-1, False), (0, True), (6, True), (7, False)])
def test_shipped_quantities_stay_within_the_order(quantity, ok):
    round_ = sent_round()
    acknowledge(round_)
    grapes = round_.line_of(round_.shop.grapes)
    if ok:
        mark_ready(round_, shipped={grapes.pk: quantity})
        grapes.refresh_from_db()
        assert grapes.shipped_quantity == quantity
        return
    with pytest.raises(DomainError, match="ship between 0 and 6") as error:
        mark_ready(round_, shipped={grapes.pk: quantity})
    assert error.value.field == "shipped"
    assert PurchaseOrder.objects.get(pk=round_.purchase_order.pk).status == POS.ACKNOWLEDGED
    assert set(round_.purchase_order.lines.values_list("shipped_quantity", flat=True)) == {None}


def test_shipped_quantities_of_other_or_declined_lines_are_refused():
    round_ = sent_round()
    grapes = round_.line_of(round_.shop.grapes)
    acknowledge(round_, declined_lines={grapes.pk: "Hail"})
    other = make_round(members=1).purchase_order.lines.first()
    for shipped in ({other.pk: 1}, {grapes.pk: 1}):
        with pytest.raises(DomainError, match="Choose lines of this purchase order"):
            mark_ready(round_, shipped=shipped)
    purchase_order = mark_ready(round_)
    # A declined line ships nothing.
    assert dict(purchase_order.lines.values_list("product_name", "shipped_quantity")) == {
        "阳光玫瑰葡萄": None,
        "土鸡蛋": 6,
    }


@pytest.mark.parametrize("dispatch", ["", "flying", None])
def test_mark_ready_needs_the_dispatch(dispatch):
    round_ = sent_round()
    acknowledge(round_)
    with pytest.raises(DomainError, match="ready or shipped") as error:
        mark_ready(round_, dispatch=dispatch)
    assert error.value.field == "dispatch"
    assert PurchaseOrder.objects.get(pk=round_.purchase_order.pk).status == POS.ACKNOWLEDGED


def test_mark_ready_needs_the_acknowledgement():
    round_ = sent_round()
    with pytest.raises(DomainError, match="Acknowledge the purchase order first"):
        mark_ready(round_)
    acknowledge(round_)
    mark_ready(round_)
    with pytest.raises(DomainError, match="Acknowledge the purchase order first"):
        mark_ready(round_)
    assert po_notices(round_.shop.leader, "purchase_order_ready").count() == 1


@pytest.mark.parametrize("who", ["other_supplier", "member", "leader", "other_leader"])
def test_only_the_supplier_team_marks_ready(who):
    round_ = sent_round()
    acknowledge(round_)
    with pytest.raises(DomainError, match="Only the supplier's team"):
        purchasing.purchase_order_mark_ready(
            purchase_order=round_.purchase_order,
            actor=wrong_actors(round_)[who],
            dispatch="shipped",
        )
    assert PurchaseOrder.objects.get(pk=round_.purchase_order.pk).status == POS.ACKNOWLEDGED
