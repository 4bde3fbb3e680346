"""Receiving a purchase order (fulfillment/services/receiving.py): the plan shown first
writes nothing; applying it records the counts, allocates what is missing, refunds it,
tells the members what they will get, and makes ready the orders whose goods have all
arrived (or cancels and refunds an order left with nothing)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from fulfillment.models import (
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    ShortageAllocation,
)
from fulfillment.services import purchasing, receiving
from groupbuy.exceptions import DomainError
from notifications.models import Notification
from orders.models import (
    Fulfilment,
    LineStatus,
    Order,
    OrderLine,
    OrderStatus,
    PaymentMethod,
    Refund,
    RefundStatus,
)
from sandboxpay.models import ChargeRefund
from tests.factories import CommunityFactory, StaffFactory
from tests.fulfillment.conftest import pay_and_confirm
from tests.fulfillment.test_allocation import build_round, grapes_line
from tests.fulfillment.test_purchasing_services import add_supplier_item, close, prepare
from tests.orders.conftest import make_shop
from tests.orders.test_ordering_services import changes, notices, reload

pytestmark = pytest.mark.django_db

POS = PurchaseOrderStatus
GRAPES = Decimal("15.00")


def ready(round_, **kwargs) -> PurchaseOrder:
    return round_.ready(**kwargs)


def apply(round_, counts, actor=None, **kwargs):
    return receiving.receipt_apply(
        purchase_order=round_.purchase_order,
        actor=actor or round_.shop.leader,
        counts=counts,
        **kwargs,
    )


def snapshot():
    """What a receipt writes."""
    return (
        list(PurchaseOrder.objects.values_list("pk", "status", "received_at")),
        list(
            PurchaseOrderLine.objects.values_list(
                "pk", "received_quantity", "short_quantity", "damaged_quantity"
            )
        ),
        list(OrderLine.objects.values_list("pk", "short_units", "refunded_amount", "status")),
        list(Order.objects.order_by("pk").values_list("pk", "status", "refunded_total")),
        Refund.objects.count(),
        ShortageAllocation.objects.count(),
        Order.objects.filter(ready_at__isnull=False).count(),
        Notification.objects.count(),
    )


@pytest.fixture
def three_members(db):
    """Three members with 2 grapes + 1 egg tray each: grapes fill one case of 6 exactly."""
    round_ = build_round([{"grapes": 2, "eggs": 1}] * 3)
    ready(round_)
    return round_


# The plan


def test_plan_shows_the_result_and_writes_nothing(three_members):
    round_ = three_members
    before = snapshot()
    plan = receiving.receipt_plan(
        purchase_order=round_.purchase_order, counts=round_.counts(grapes=(2, 1))
    )
    assert snapshot() == before
    assert plan.rule == "latest_paid_first"
    grapes, eggs = sorted(
        plan.items, key=lambda item: item.purchase_line.product_name != "阳光玫瑰葡萄"
    )
    assert (grapes.received, grapes.short, grapes.damaged) == (3, 2, 1)
    assert grapes.missing_for_members == 3
    last, middle = grapes_line(round_.orders[2]), grapes_line(round_.orders[1])
    assert [(loss.order_line, loss.units, loss.amount) for loss in grapes.losses] == [
        (middle, 1, GRAPES),
        (last, 2, 2 * GRAPES),
    ]
    assert grapes.refund_total == 3 * GRAPES
    assert (eggs.missing_for_members, eggs.losses) == (0, [])
    assert plan.refund_total == 3 * GRAPES
    assert plan.affected_orders == 2


# Applying


def test_apply_records_allocates_refunds_and_tells(
    three_members, django_capture_on_commit_callbacks
):
    round_ = three_members
    first, middle, last = round_.orders
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        plan = apply(round_, round_.counts(grapes=(2, 1)), now=now)
    assert plan.refund_total == 3 * GRAPES

    purchase_order = PurchaseOrder.objects.get(pk=round_.purchase_order.pk)
    assert (purchase_order.status, purchase_order.received_at) == (POS.RECEIVED, now)
    assert changes(purchase_order, "receive").get().actor == round_.shop.leader
    grapes = round_.line_of(round_.shop.grapes)
    assert (grapes.received_quantity, grapes.short_quantity, grapes.damaged_quantity) == (3, 2, 1)
    eggs = round_.line_of(round_.shop.eggs)
    assert (eggs.received_quantity, eggs.short_quantity, eggs.damaged_quantity) == (6, 0, 0)

    allocations = {a.order_line_id: a for a in ShortageAllocation.objects.all()}
    assert {pk: (a.units, a.amount) for pk, a in allocations.items()} == {
        grapes_line(middle).pk: (1, GRAPES),
        grapes_line(last).pk: (2, 2 * GRAPES),
    }
    for allocation in allocations.values():
        assert allocation.purchase_line == grapes
        refund = allocation.refund
        assert (refund.amount, refund.line_id) == (allocation.amount, allocation.order_line_id)
        assert refund.status == RefundStatus.SUCCEEDED
        assert "did not arrive" in refund.reason
    assert sorted(ChargeRefund.objects.values_list("amount", flat=True)) == [GRAPES, 2 * GRAPES]

    assert [grapes_line(order).short_units for order in round_.orders] == [0, 1, 2]
    assert [grapes_line(order).units_to_hand_over for order in round_.orders] == [2, 1, 0]
    assert [reload(order).refunded_total for order in round_.orders] == [0, GRAPES, 2 * GRAPES]

    # Members who lost units are told what they get and what is refunded.
    assert not notices(first.member, "order_shortage", first).exists()
    notice = notices(middle.member, "order_shortage", middle).get()
    assert notice.context["missing"] == "阳光玫瑰葡萄 × 1"
    assert notice.context["receiving_items"] == "阳光玫瑰葡萄 × 1; 土鸡蛋 × 1"
    assert notice.context["amount"] == "15.00"
    assert notice.context["rule"] == "Latest paid order loses first"
    assert notice.link == reverse("orders:member_order", args=[middle.number])
    notice = notices(last.member, "order_shortage", last).get()
    assert notice.context["missing"] == "阳光玫瑰葡萄 × 2"
    assert notice.context["receiving_items"] == "土鸡蛋 × 1"
    assert notice.context["amount"] == "30.00"
    assert notices(last.member, "order_refunded", last).count() == 1

    # Every order still has goods coming: all ready for pickup.
    for order in round_.orders:
        order = reload(order)
        assert (order.status, order.ready_at) == (OrderStatus.READY_FOR_PICKUP, now)
        assert changes(order, "make_ready").get().actor == round_.shop.leader


def test_proportional_rule_is_named_to_the_members(django_capture_on_commit_callbacks):
    round_ = build_round([{"grapes": 3}, {"grapes": 3}], shortage_rule="proportional")
    ready(round_)
    with django_capture_on_commit_callbacks(execute=True):
        apply(round_, round_.counts(grapes=(2, 0)))
    assert [grapes_line(order).short_units for order in round_.orders] == [1, 1]
    for order in round_.orders:
        notice = notices(order.member, "order_shortage", order).get()
        assert notice.context["rule"] == "Shared in proportion to the quantities ordered"


def test_an_order_that_lost_everything_is_cancelled_and_refunded_whole(
    django_capture_on_commit_callbacks,
):
    shop = make_shop(delivery_option="pickup_and_delivery", delivery_fee=Decimal("6.00"))
    round_ = build_round(
        [
            {"grapes": 2},
            {"grapes": 1, "fulfilment": Fulfilment.DELIVERY, "delivery_address": "3 号楼 502"},
        ],
        shop=shop,
    )
    keeps, loses = round_.orders
    assert loses.total == Decimal("21.00")
    ready(round_)
    with django_capture_on_commit_callbacks(execute=True):
        apply(round_, round_.counts(grapes=(4, 0)))  # 2 of the 3 ordered arrived
    order = reload(loses)
    assert order.status == OrderStatus.CANCELLED
    assert order.cancel_reason == "None of the goods arrived"
    assert order.refunded_total == order.total
    refunds = Refund.objects.filter(order=order).order_by("pk")
    # The missing unit, then the rest of the order (the delivery fee).
    assert [refund.amount for refund in refunds] == [GRAPES, Decimal("6.00")]
    assert {refund.status for refund in refunds} == {RefundStatus.SUCCEEDED}
    assert sum(
        ChargeRefund.objects.filter(
            refund_number__in=[refund.refund_number for refund in refunds]
        ).values_list("amount", flat=True)
    ) == Decimal("21.00")
    assert notices(order.member, "order_shortage", order).get().context["receiving_items"] == (
        "nothing"
    )
    assert notices(order.member, "order_cancelled", order).exists()
    assert reload(keeps).status == OrderStatus.READY_FOR_PICKUP


def test_pay_at_pickup_lines_lose_units_without_a_refund(django_capture_on_commit_callbacks):
    shop = make_shop(allow_pay_at_pickup=True)
    round_ = build_round(
        [{"grapes": 3}, {"grapes": 3, "method": PaymentMethod.AT_PICKUP}], shop=shop
    )
    online, cash = round_.orders
    ready(round_)
    with django_capture_on_commit_callbacks(execute=True):
        apply(round_, round_.counts(grapes=(2, 0)))
    allocation = ShortageAllocation.objects.get()
    assert allocation.order_line == grapes_line(cash)
    assert (allocation.units, allocation.amount, allocation.refund) == (2, 2 * GRAPES, None)
    assert not Refund.objects.exists()
    line = grapes_line(cash)
    assert (line.short_units, line.units_to_hand_over, line.refunded_amount) == (2, 1, 0)
    assert reload(cash).status == OrderStatus.READY_FOR_PICKUP
    assert reload(online).status == OrderStatus.READY_FOR_PICKUP


def test_orders_wait_for_every_supplier(django_capture_on_commit_callbacks):
    """An order is ready for pickup only once every purchase order it depends on arrived."""
    shop = make_shop()
    spinach = add_supplier_item(shop)
    g, e, s = shop.grapes.pk, shop.eggs.pk, spinach.pk
    ours_only = pay_and_confirm(shop, shop.order(quantities={g: 2, e: 1}))
    both = pay_and_confirm(shop, shop.order(shop.new_member(), quantities={g: 1, s: 2}))
    theirs_only = pay_and_confirm(shop, shop.order(shop.new_member(), quantities={s: 1}))
    close(shop)
    purchase_orders = {po.supplier_id: po for po in prepare(shop)}
    after = shop.schedule.cutoff + timedelta(minutes=1)
    for supplier_id, purchase_order in list(purchase_orders.items()):
        supplier_user = purchase_order.supplier.members.get(is_owner=True).user
        purchase_order = purchasing.purchase_order_send(
            purchase_order=purchase_order, actor=shop.leader, now=after
        )
        purchase_order = purchasing.purchase_order_acknowledge(
            purchase_order=purchase_order, actor=supplier_user
        )
        purchase_orders[supplier_id] = purchasing.purchase_order_mark_ready(
            purchase_order=purchase_order, actor=supplier_user, dispatch="shipped"
        )
    ours = purchase_orders[shop.grapes.offer.supplier_id]
    theirs = purchase_orders[spinach.offer.supplier_id]

    def receive_all(purchase_order):
        counts = {line.pk: (line.quantity, 0, 0) for line in purchase_order.lines.all()}
        with django_capture_on_commit_callbacks(execute=True):
            receiving.receipt_apply(purchase_order=purchase_order, actor=shop.leader, counts=counts)

    receive_all(ours)
    assert reload(ours_only).status == OrderStatus.READY_FOR_PICKUP
    assert reload(both).status == OrderStatus.CONFIRMED  # the spinach has not arrived
    assert reload(theirs_only).status == OrderStatus.CONFIRMED
    receive_all(theirs)
    for order in (ours_only, both, theirs_only):
        assert reload(order).status == OrderStatus.READY_FOR_PICKUP
    assert reload(ours_only).ready_at < reload(both).ready_at


def test_declined_lines_are_not_counted_and_do_not_hold_orders_back(
    django_capture_on_commit_callbacks,
):
    round_ = build_round([{"grapes": 2, "eggs": 1}, {"eggs": 2}])
    round_.send()
    grapes = round_.line_of(round_.shop.grapes)
    eggs = round_.line_of(round_.shop.eggs)
    with django_capture_on_commit_callbacks(execute=True):
        round_.purchase_order = purchasing.purchase_order_acknowledge(
            purchase_order=round_.purchase_order,
            actor=round_.supplier_user,
            declined_lines={grapes.pk: "Hail"},
        )
    round_.purchase_order = purchasing.purchase_order_mark_ready(
        purchase_order=round_.purchase_order, actor=round_.supplier_user, dispatch="ready"
    )
    with pytest.raises(DomainError, match="Count every line"):
        apply(round_, {grapes.pk: (6, 0, 0), eggs.pk: (6, 0, 0)})
    with django_capture_on_commit_callbacks(execute=True):
        plan = apply(round_, {eggs.pk: (6, 0, 0)})
    assert [item.purchase_line for item in plan.items] == [eggs]
    for order in round_.orders:
        assert reload(order).status == OrderStatus.READY_FOR_PICKUP
    line = round_.orders[0].lines.get(item=round_.shop.grapes)
    assert line.status == LineStatus.CANCELLED


# Refused receipts


@pytest.mark.parametrize(
    ("counts", "message"),
    [
        ({"grapes": (5, 0, 0)}, "must add up to the 6 ordered"),
        ({"grapes": (6, 1, 0)}, "must add up to the 6 ordered"),
        ({"grapes": (7, -1, 0)}, "cannot be negative"),
        ({"grapes": (6, 1, -1)}, "cannot be negative"),
        ({"grapes": (-1, 7, 0)}, "cannot be negative"),
        ({}, "Count every line"),
        ({"extra": True}, "Count every line"),
    ],
    ids=[
        "short_of_total",
        "over_total",
        "neg_short",
        "neg_damaged",
        "neg_received",
        "missing",
        "extra",
    ],
)
def test_counts_that_do_not_add_up_are_refused(three_members, counts, message):
    round_ = three_members
    grapes = round_.line_of(round_.shop.grapes)
    eggs = round_.line_of(round_.shop.eggs)
    given = {eggs.pk: (6, 0, 0)}
    if "grapes" in counts:
        given[grapes.pk] = counts["grapes"]
    if "extra" in counts:
        given = {grapes.pk: (6, 0, 0), eggs.pk: (6, 0, 0), eggs.pk + 1000: (1, 0, 0)}
    before = snapshot()
    with pytest.raises(DomainError, match=message) as error:
        receiving.receipt_plan(purchase_order=round_.purchase_order, counts=given)
    assert error.value.field == "counts"
    with pytest.raises(DomainError, match=message):
        apply(round_, given)
    assert snapshot() == before


@pytest.mark.parametrize("stage", ["sent", "acknowledged", "stocking"])
def test_goods_are_received_only_once_ready(stage):
    round_ = build_round([{"grapes": 2, "eggs": 1}])
    round_.send()
    if stage in ("acknowledged", "stocking"):
        round_.purchase_order = purchasing.purchase_order_acknowledge(
            purchase_order=round_.purchase_order, actor=round_.supplier_user
        )
    if stage == "stocking":
        round_.purchase_order = purchasing.purchase_order_start_stocking(
            purchase_order=round_.purchase_order, actor=round_.supplier_user
        )
    before = snapshot()
    with pytest.raises(DomainError, match="once the supplier has marked them ready"):
        apply(round_, round_.counts())
    assert snapshot() == before


@pytest.mark.parametrize("who", ["member", "supplier", "other_leader"])
def test_only_the_leader_receives(three_members, who):
    round_ = three_members
    actor = {
        "member": round_.shop.member,
        "supplier": round_.supplier_user,
        "other_leader": CommunityFactory().leader,
    }[who]
    before = snapshot()
    with pytest.raises(DomainError, match="Only the community's leader can receive"):
        apply(round_, round_.counts(grapes=(1, 0)), actor=actor)
    assert snapshot() == before


def test_staff_may_receive(three_members, django_capture_on_commit_callbacks):
    round_ = three_members
    with django_capture_on_commit_callbacks(execute=True):
        apply(round_, round_.counts(), actor=StaffFactory())
    assert PurchaseOrder.objects.get(pk=round_.purchase_order.pk).status == POS.RECEIVED
    assert not ShortageAllocation.objects.exists()


def test_making_orders_ready_again_changes_nothing(
    three_members, django_capture_on_commit_callbacks
):
    round_ = three_members
    with django_capture_on_commit_callbacks(execute=True):
        apply(round_, round_.counts(grapes=(2, 0)))
    before = snapshot()
    assert (
        receiving.orders_make_ready(
            schedule_id=round_.shop.schedule.pk, actor=None, now=round_.after_cutoff
        )
        == 0
    )
    assert snapshot() == before
