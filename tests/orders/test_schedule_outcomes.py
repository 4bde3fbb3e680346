"""What the schedule's outcome does to its orders (an item failing at the cut-off, the
schedule cancelled), and the leader's review: confirm, confirm in bulk, reject."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from groupbuy.exceptions import DomainError
from orders.models import (
    Fulfilment,
    LineStatus,
    Order,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from orders.services import ordering
from orders.services.ordering import order_cancel, order_expire_if_due
from orders.services.payments import payment_start
from orders.services.review import order_confirm, order_reject, orders_confirm
from sandboxpay.models import ChargeRefund, ChargeStatus
from scheduling.models import ItemOutcome, Schedule, ScheduleItem, ScheduleStatus
from scheduling.services.schedules import schedule_cancel, schedule_close
from tests.factories import CommunityFactory, StaffFactory
from tests.orders.conftest import make_shop
from tests.orders.test_ordering_services import (
    changes,
    charge_of,
    notices,
    pay,
    reload,
    reserved,
)

pytestmark = pytest.mark.django_db

ORDER_KINDS = (
    "order_cancelled",
    "order_item_failed",
    "order_refunded",
    "order_rejected",
    "order_confirmed",
)


def kinds_of(user, order) -> list[str]:
    return sorted(
        kind for kind in ORDER_KINDS for _notice in notices(user, kind, order).values("pk")
    )


# An item below its minimum group quantity at the cut-off


@pytest.fixture
def failing_grapes():
    """Grapes need 20 units to go ahead and reach 8; eggs have no minimum."""
    shop = make_shop(
        grapes={"min_group_qty": 20},
        delivery_option="pickup_and_delivery",
        delivery_fee=Decimal("6.00"),
        allow_pay_at_pickup=True,
    )
    g, e = shop.grapes.pk, shop.eggs.pk
    orders = {}
    orders["keeps_eggs"] = shop.order(quantities={g: 2, e: 1})
    orders["grapes_only"] = shop.order(
        shop.new_member(),
        quantities={g: 3},
        fulfilment=Fulfilment.DELIVERY,
        delivery_address="3 号楼 502",
    )
    orders["unpaid"] = shop.order(shop.new_member(), quantities={g: 1, e: 1})
    orders["at_pickup_grapes"] = shop.order(
        shop.new_member(), quantities={g: 1}, method=PaymentMethod.AT_PICKUP
    )
    orders["at_pickup_mixed"] = shop.order(
        shop.new_member(), quantities={g: 1, e: 2}, method=PaymentMethod.AT_PICKUP
    )
    orders["eggs_only"] = shop.order(shop.new_member(), quantities={e: 1})
    orders["cancelled_before"] = shop.order(shop.new_member(), quantities={g: 4})
    order_cancel(order=orders["cancelled_before"], actor=orders["cancelled_before"].member)
    for name in ("keeps_eggs", "grapes_only", "eggs_only"):
        pay(orders[name])
    orders["unpaid_payment"] = payment_start(order=orders["unpaid"], member=orders["unpaid"].member)
    assert reserved(shop.grapes, shop.eggs) == [8, 5]
    return shop, orders


def close(shop, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert schedule_close(
            schedule_id=shop.schedule.pk, now=shop.schedule.cutoff + timedelta(minutes=1)
        )


def test_failed_item_cancels_and_refunds_its_lines(
    failing_grapes, django_capture_on_commit_callbacks
):
    shop, orders = failing_grapes
    close(shop, django_capture_on_commit_callbacks)
    assert ScheduleItem.objects.get(pk=shop.grapes.pk).outcome == ItemOutcome.FAILED
    assert ScheduleItem.objects.get(pk=shop.eggs.pk).outcome == ItemOutcome.CONFIRMED
    reason = "阳光玫瑰葡萄 did not reach its minimum group quantity"

    # Paid, with another item: keeps the eggs, the grapes line is refunded on its own.
    order = reload(orders["keeps_eggs"])
    assert order.status == OrderStatus.PAID
    grapes = order.lines.get(item=shop.grapes)
    eggs = order.lines.get(item=shop.eggs)
    assert (grapes.status, grapes.cancel_reason) == (LineStatus.CANCELLED, reason)
    assert grapes.refunded_amount == grapes.amount == Decimal("30.00")
    assert (eggs.status, eggs.refunded_amount) == (LineStatus.ACTIVE, Decimal("0.00"))
    assert order.refunded_total == Decimal("30.00")
    refund = Refund.objects.get(order=order)
    assert (refund.line, refund.amount, refund.reason) == (grapes, Decimal("30.00"), reason)
    assert refund.status == RefundStatus.SUCCEEDED
    notice = notices(order.member, "order_item_failed", order).get()
    assert notice.context["item"] == "阳光玫瑰葡萄"
    assert notice.context["amount"] == "30.00"

    # Paid, nothing left: the whole order is cancelled, delivery fee included.
    order = reload(orders["grapes_only"])
    assert order.status == OrderStatus.CANCELLED
    assert order.cancel_reason == reason
    assert order.total == Decimal("51.00")  # 3 x 15.00 + 6.00 delivery
    assert order.refunded_total == order.total
    assert order.lines.get().status == LineStatus.CANCELLED
    refund = Refund.objects.get(order=order)
    assert (refund.amount, refund.status) == (Decimal("51.00"), RefundStatus.SUCCEEDED)
    assert notices(order.member, "order_cancelled", order).get().context["reason"] == reason

    # Two refunds reached the gateway, one per paid order touched.
    assert sorted(ChargeRefund.objects.values_list("amount", flat=True)) == [
        Decimal("30.00"),
        Decimal("51.00"),
    ]
    for name in ("keeps_eggs", "grapes_only"):
        assert notices(orders[name].member, "order_refunded", orders[name]).count() == 1


def test_failed_item_ends_unpaid_and_pay_at_pickup_orders(
    failing_grapes, django_capture_on_commit_callbacks
):
    shop, orders = failing_grapes
    close(shop, django_capture_on_commit_callbacks)

    # Not paid by the cut-off: expires whole and its payment is closed at the gateway.
    order = reload(orders["unpaid"])
    assert order.status == OrderStatus.EXPIRED
    payment = Payment.objects.get(pk=orders["unpaid_payment"].pk)
    assert payment.status == PaymentStatus.CLOSED
    assert charge_of(payment).status == ChargeStatus.CLOSED

    # Pay at pickup: nothing was paid, so nothing is refunded.
    order = reload(orders["at_pickup_grapes"])
    assert order.status == OrderStatus.CANCELLED
    assert order.refunded_total == Decimal("0.00")
    assert kinds_of(order.member, order) == ["order_cancelled", "order_confirmed"]
    order = reload(orders["at_pickup_mixed"])
    assert order.status == OrderStatus.CONFIRMED
    assert order.lines.get(item=shop.grapes).status == LineStatus.CANCELLED
    assert order.lines.get(item=shop.eggs).status == LineStatus.ACTIVE
    assert kinds_of(order.member, order) == ["order_confirmed", "order_item_failed"]
    for name in ("unpaid", "at_pickup_grapes", "at_pickup_mixed"):
        assert not Refund.objects.filter(order=orders[name]).exists()

    # The confirmed item and the orders that only hold it are untouched.
    order = reload(orders["eggs_only"])
    assert order.status == OrderStatus.PAID
    assert order.lines.get().status == LineStatus.ACTIVE
    assert order.refunded_total == Decimal("0.00")
    assert kinds_of(order.member, order) == []
    # An order cancelled before is left alone.
    order = reload(orders["cancelled_before"])
    assert kinds_of(order.member, order) == ["order_cancelled"]
    assert order.lines.get().status == LineStatus.ACTIVE

    # Stock: grapes all released; eggs keep the paid and confirmed orders' units.
    assert reserved(shop.grapes, shop.eggs) == [0, 1 + 2 + 1]


def test_closing_twice_changes_nothing(failing_grapes, django_capture_on_commit_callbacks):
    shop, _orders = failing_grapes
    close(shop, django_capture_on_commit_callbacks)
    refunds = Refund.objects.count()
    assert not schedule_close(
        schedule_id=shop.schedule.pk, now=shop.schedule.cutoff + timedelta(minutes=2)
    )
    assert Refund.objects.count() == refunds
    assert reserved(shop.grapes, shop.eggs) == [0, 4]


def test_item_reaching_its_minimum_is_confirmed(django_capture_on_commit_callbacks):
    shop = make_shop(grapes={"min_group_qty": 2})
    order = shop.order(quantities={shop.grapes.pk: 2})
    pay(order)
    close(shop, django_capture_on_commit_callbacks)
    assert ScheduleItem.objects.get(pk=shop.grapes.pk).outcome == ItemOutcome.CONFIRMED
    assert reload(order).status == OrderStatus.PAID
    assert not Refund.objects.exists()


# The leader cancels the schedule


def test_cancelling_the_schedule_cancels_and_refunds_its_open_orders(
    django_capture_on_commit_callbacks,
):
    shop = make_shop(allow_pay_at_pickup=True)
    pending = shop.order()
    pending_payment = payment_start(order=pending, member=pending.member)
    paid = shop.order(shop.new_member())
    pay(paid)
    confirmed = shop.order(shop.new_member())
    pay(confirmed)
    order_confirm(order=confirmed, actor=shop.leader)
    at_pickup = shop.order(shop.new_member(), method=PaymentMethod.AT_PICKUP)
    cancelled = shop.order(shop.new_member())
    order_cancel(order=cancelled, actor=cancelled.member)
    expired = shop.order(shop.new_member())
    order_expire_if_due(order_id=expired.pk, now=expired.payment_deadline)
    assert reserved(shop.grapes, shop.eggs) == [8, 4]

    reason = "The farm flooded"
    with django_capture_on_commit_callbacks(execute=True):
        schedule_cancel(schedule=shop.schedule, actor=shop.leader, reason=f"  {reason} ")

    assert Schedule.objects.get(pk=shop.schedule.pk).status == ScheduleStatus.CANCELLED
    for order in (pending, paid, confirmed, at_pickup):
        order = reload(order)
        assert order.status == OrderStatus.CANCELLED
        assert order.cancel_reason == reason
        assert order.cancelled_at is not None
        change = changes(order, "cancel").get()
        assert (change.actor, change.reason) == (shop.leader, reason)
        assert notices(order.member, "order_cancelled", order).get().context["reason"] == reason
    for order in (paid, confirmed):
        order = reload(order)
        assert order.refunded_total == order.total
        refund = Refund.objects.get(order=order)
        assert (refund.amount, refund.status, refund.reason) == (
            order.total,
            RefundStatus.SUCCEEDED,
            reason,
        )
    assert ChargeRefund.objects.count() == 2
    for order in (pending, at_pickup):
        assert not Refund.objects.filter(order=order).exists()
    assert Payment.objects.get(pk=pending_payment.pk).status == PaymentStatus.CLOSED
    assert charge_of(pending_payment).status == ChargeStatus.CLOSED
    assert reserved(shop.grapes, shop.eggs) == [0, 0]
    # Orders already ended are left as they were.
    assert reload(cancelled).cancel_reason == "Cancelled by the member"
    assert notices(cancelled.member, "order_cancelled", cancelled).count() == 1
    assert reload(expired).status == OrderStatus.EXPIRED
    assert not changes(expired, "cancel").exists()


def test_cancelling_the_schedule_needs_a_reason(shop):
    order = shop.order()
    with pytest.raises(DomainError) as caught:
        schedule_cancel(schedule=shop.schedule, actor=shop.leader, reason="  ")
    assert caught.value.field == "reason"
    assert reload(order).status == OrderStatus.PENDING_PAYMENT
    assert reserved(shop.grapes, shop.eggs) == [2, 1]


# The leader confirms


def test_leader_confirms_a_paid_order(shop):
    order = shop.order()
    pay(order)
    now = timezone.now()
    order_confirm(order=order, actor=shop.leader, now=now)
    order = reload(order)
    assert order.status == OrderStatus.CONFIRMED
    assert re.fullmatch(r"\d{8}", order.pickup_code)
    assert order.confirmed_at == now
    assert changes(order, "confirm").get().actor == shop.leader
    notice = notices(shop.member, "order_confirmed", order).get()
    assert shop.point.name in notice.context["receiving"]
    assert reserved(shop.grapes, shop.eggs) == [2, 1]


@pytest.mark.parametrize("state", ["pending", "confirmed", "cancelled"])
def test_only_paid_orders_are_confirmed(shop, state):
    order = shop.order()
    if state == "confirmed":
        pay(order)
        order_confirm(order=order, actor=shop.leader)
    elif state == "cancelled":
        order_cancel(order=order, actor=shop.member)
    before = reload(order)
    with pytest.raises(DomainError, match="Only paid orders"):
        order_confirm(order=order, actor=shop.leader)
    after = reload(order)
    assert (after.status, after.pickup_code) == (before.status, before.pickup_code)


def test_only_the_communitys_leader_or_staff_may_review(shop):
    order = shop.order()
    pay(order)
    for someone in (CommunityFactory().leader, shop.member):
        with pytest.raises(DomainError, match="community's leader"):
            order_confirm(order=order, actor=someone)
        with pytest.raises(DomainError, match="community's leader"):
            order_reject(order=order, actor=someone, reason="No")
        with pytest.raises(DomainError, match="community's leader"):
            orders_confirm(schedule=shop.schedule, order_ids=[order.pk], actor=someone)
    assert reload(order).status == OrderStatus.PAID
    order_confirm(order=order, actor=StaffFactory())
    assert reload(order).status == OrderStatus.CONFIRMED


def _codes(monkeypatch, *codes) -> list[int]:
    """Make the pickup code draws return ``codes`` in turn; returns the draws left."""
    left = list(codes)
    monkeypatch.setattr(ordering.secrets, "randbelow", lambda _n: left.pop(0))
    return left


def test_pickup_code_is_drawn_again_on_a_collision(shop, monkeypatch):
    first, second = shop.order(), shop.order(shop.new_member())
    pay(first)
    pay(second)
    _codes(monkeypatch, 12345678)
    order_confirm(order=first, actor=shop.leader)
    assert reload(first).pickup_code == "12345678"
    left = _codes(monkeypatch, 12345678, 42, 7)
    order_confirm(order=second, actor=shop.leader)
    assert reload(second).pickup_code == "00000042"
    assert left == [7]  # drawn twice: the first draw collided


def test_pickup_code_is_unique_among_open_orders_only(shop, monkeypatch):
    first, second = shop.order(), shop.order(shop.new_member())
    pay(first)
    pay(second)
    _codes(monkeypatch, 12345678)
    order_confirm(order=first, actor=shop.leader)
    order_reject(order=first, actor=shop.leader, reason="Out of stock")
    left = _codes(monkeypatch, 12345678, 1)
    order_confirm(order=second, actor=shop.leader)
    assert reload(second).pickup_code == "12345678"  # the first order is closed
    assert left == [1]
    # Another community may use the same code.
    other = make_shop()
    elsewhere = other.order()
    pay(elsewhere)
    left = _codes(monkeypatch, 12345678, 1)
    order_confirm(order=elsewhere, actor=other.leader)
    assert reload(elsewhere).pickup_code == "12345678"
    assert left == [1]


def test_no_free_pickup_code_leaves_the_order_paid(shop, monkeypatch):
    first, second = shop.order(), shop.order(shop.new_member())
    pay(first)
    pay(second)
    _codes(monkeypatch, 12345678)
    order_confirm(order=first, actor=shop.leader)
    _codes(monkeypatch, *[12345678] * ordering.PICKUP_CODE_ATTEMPTS)
    with pytest.raises(DomainError, match="pickup code"):
        order_confirm(order=second, actor=shop.leader)
    second = reload(second)
    assert (second.status, second.pickup_code) == (OrderStatus.PAID, "")
    assert not notices(second.member, "order_confirmed", second).exists()


def test_bulk_confirm_skips_orders_not_paid(shop):
    a, b = shop.order(), shop.order(shop.new_member())
    pending = shop.order(shop.new_member())
    pay(a)
    pay(b)
    other = make_shop(community=shop.schedule.community)  # another schedule, same leader
    elsewhere = other.order(shop.member)
    pay(elsewhere)
    ids = [a.pk, b.pk, pending.pk, elsewhere.pk]
    assert orders_confirm(schedule=shop.schedule, order_ids=ids, actor=shop.leader) == 2
    a, b = reload(a), reload(b)
    assert a.status == b.status == OrderStatus.CONFIRMED
    assert a.pickup_code != b.pickup_code
    assert reload(pending).status == OrderStatus.PENDING_PAYMENT
    assert reload(elsewhere).status == OrderStatus.PAID
    assert notices(a.member, "order_confirmed", a).count() == 1
    # Again: nothing left to confirm.
    assert orders_confirm(schedule=shop.schedule, order_ids=ids, actor=shop.leader) == 0


# The leader rejects


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_reject_needs_a_reason(shop, reason):
    order = shop.order()
    pay(order)
    with pytest.raises(DomainError) as caught:
        order_reject(order=order, actor=shop.leader, reason=reason)
    assert caught.value.field == "reason"
    assert reload(order).status == OrderStatus.PAID
    assert not Refund.objects.exists()


@pytest.mark.parametrize("confirmed", [False, True])
def test_reject_refunds_a_paid_order(shop, confirmed, django_capture_on_commit_callbacks):
    order = shop.order()
    payment = pay(order)
    if confirmed:
        order_confirm(order=order, actor=shop.leader)
    with django_capture_on_commit_callbacks(execute=True):
        order_reject(order=order, actor=shop.leader, reason="  Address outside our area ")
    order = reload(order)
    assert order.status == OrderStatus.CANCELLED
    assert order.cancel_reason == "Address outside our area"
    assert order.refunded_total == order.total
    refund = Refund.objects.get(order=order)
    assert (refund.status, refund.amount, refund.payment) == (
        RefundStatus.SUCCEEDED,
        order.total,
        payment,
    )
    assert ChargeRefund.objects.get().amount == order.total
    assert reserved(shop.grapes, shop.eggs) == [0, 0]
    notice = notices(shop.member, "order_rejected", order).get()
    assert notice.context["reason"] == "Address outside our area"
    assert not notices(shop.member, "order_cancelled", order).exists()
    assert changes(order, "cancel").get().actor == shop.leader


def test_reject_an_unpaid_order_releases_stock_without_refund(shop):
    order = shop.order()
    order_reject(order=order, actor=shop.leader, reason="Duplicate order")
    assert reload(order).status == OrderStatus.CANCELLED
    assert not Refund.objects.exists()
    assert reserved(shop.grapes, shop.eggs) == [0, 0]


@pytest.mark.parametrize("status", ["expired", "ready_for_pickup", "completed"])
def test_ended_or_handed_over_orders_cannot_be_rejected(shop, status):
    order = shop.order()
    Order.objects.filter(pk=order.pk).update(status=status)
    with pytest.raises(DomainError, match="can no longer be rejected"):
        order_reject(order=order, actor=shop.leader, reason="Too late")
    assert reload(order).status == status
    assert reserved(shop.grapes, shop.eggs) == [2, 1]
