"""Placing, cancelling and expiring orders (orders/services/ordering.py, and the expiry
sweep in payments.py): totals from stored prices, snapshotted lines, stock reserved and
released, bad input refused with nothing written."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from groupbuy.exceptions import DomainError
from groupbuy.models import StateChange
from notifications.models import Notification
from orders.models import (
    Fulfilment,
    LineStatus,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from orders.providers import get_provider
from orders.providers.base import PaymentReport, ProviderError
from orders.services.ordering import (
    member_orders_expire_overdue,
    order_cancel,
    order_expire_if_due,
    order_place,
)
from orders.services.payments import orders_sweep_due, payment_report_apply, payment_start
from sandboxpay.gateway import charge_settle
from sandboxpay.models import Charge, ChargeRefund, ChargeStatus
from scheduling.models import Schedule, ScheduleItem
from scheduling.services.schedules import schedule_cancel
from tests.factories import CommunityFactory, MembershipFactory, UserFactory
from tests.orders.conftest import make_shop

pytestmark = pytest.mark.django_db

GRAPES = Decimal("15.00")
EGGS = Decimal("29.90")
DEFAULT_TOTAL = 2 * GRAPES + EGGS  # the fixture's default cart: 2 grapes, 1 egg tray


# Helpers shared by the other orders test modules.


def pay(order: Order, *, settle_at_gateway: bool = True) -> Payment:
    """Pay an online order through the sandbox as the notify endpoint would apply it.

    With ``settle_at_gateway`` the sandbox charge is paid too, so the gateway accepts
    refunds of it. Returns the payment; reload the order to see it paid.
    """
    payment = payment_start(order=order, member=order.member)
    if settle_at_gateway:
        charge_settle(token=charge_of(payment).token, paid=True)
    with transaction.atomic():
        outcome = payment_report_apply(
            report=PaymentReport(
                trade_number=payment.trade_number, outcome="paid", amount=payment.amount
            ),
            provider_code="sandbox",
        )
    assert outcome == "paid"
    return Payment.objects.get(pk=payment.pk)


def charge_of(payment: Payment) -> Charge:
    return Charge.objects.get(trade_number=payment.trade_number)


def reserved(*items: ScheduleItem) -> list[int]:
    return [ScheduleItem.objects.get(pk=item.pk).reserved_qty for item in items]


def reload(order: Order) -> Order:
    return Order.objects.get(pk=order.pk)


def notices(user, kind: str, order: Order | None = None):
    found = Notification.objects.filter(recipient=user, kind=kind)
    if order is not None:
        found = found.filter(
            content_type=ContentType.objects.get_for_model(Order), object_id=order.pk
        )
    return found


def changes(subject, transition: str | None = None):
    found = StateChange.objects.filter(
        content_type=ContentType.objects.get_for_model(subject), object_id=subject.pk
    )
    return found.filter(transition=transition) if transition else found


# Placing an order


def test_place_snapshots_the_lines_and_computes_the_totals(shop):
    order = shop.order(note="  Ring twice  ")
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert order.member == shop.member
    assert order.community == shop.schedule.community
    assert order.goods_total == DEFAULT_TOTAL == Decimal("59.90")
    assert order.delivery_fee == Decimal("0.00")
    assert order.total == DEFAULT_TOTAL
    assert order.refunded_total == Decimal("0.00")
    assert order.pickup_point == shop.point
    assert order.note == "Ring twice"
    assert re.fullmatch(r"\d{14}", order.number)
    lines = {line.item_id: line for line in order.lines.all()}
    grapes, eggs = lines[shop.grapes.pk], lines[shop.eggs.pk]
    assert (grapes.product_name, grapes.spec, grapes.unit) == ("阳光玫瑰葡萄", "500 g x 2", "盒")
    assert (grapes.unit_price, grapes.quantity, grapes.amount) == (GRAPES, 2, Decimal("30.00"))
    assert (eggs.product_name, eggs.spec) == ("土鸡蛋", "30 枚")
    assert (eggs.unit_price, eggs.quantity, eggs.amount) == (EGGS, 1, EGGS)
    assert {line.status for line in lines.values()} == {LineStatus.ACTIVE}
    assert reserved(shop.grapes, shop.eggs) == [2, 1]
    change = changes(order, "place").get()
    assert (change.from_state, change.to_state, change.actor) == (
        "",
        OrderStatus.PENDING_PAYMENT,
        shop.member,
    )


def test_lines_keep_what_the_member_agreed_to(shop):
    order = shop.order()
    product = shop.grapes.offer.product
    type(product).objects.filter(pk=product.pk).update(name="改名", spec="1 kg", unit="箱")
    ScheduleItem.objects.filter(pk=shop.grapes.pk).update(member_price=Decimal("99.00"))
    line = order.lines.get(item=shop.grapes)
    assert (line.product_name, line.spec, line.unit) == ("阳光玫瑰葡萄", "500 g x 2", "盒")
    assert line.unit_price == GRAPES
    assert reload(order).total == DEFAULT_TOTAL


def test_amounts_that_floats_cannot_hold_are_stored_exactly():
    """SQLite computes decimals as floats: 29.90 * 3 and 0.10 + 0.20 must still pass the
    money CheckConstraints."""
    shop = make_shop(
        grapes={"member_price": Decimal("0.10")},
        delivery_option="pickup_and_delivery",
        delivery_fee=Decimal("0.20"),
    )
    order = shop.order(quantities={shop.eggs.pk: 3})
    assert order.lines.get().amount == Decimal("89.70")
    order = shop.order(
        shop.new_member(),
        quantities={shop.grapes.pk: 1},
        fulfilment=Fulfilment.DELIVERY,
        delivery_address="3 号楼",
    )
    assert reload(order).total == Decimal("0.30")


def test_payment_window_is_fifteen_minutes_by_default(shop):
    now = timezone.now()
    order = shop.order(now=now)
    assert order.payment_deadline == now + timedelta(minutes=15)


def test_payment_window_is_configurable(shop, settings):
    settings.ORDER_PAYMENT_WINDOW_MINUTES = 40
    now = timezone.now()
    assert shop.order(now=now).payment_deadline == now + timedelta(minutes=40)


def test_payment_window_never_passes_the_cutoff(shop):
    now = shop.schedule.cutoff - timedelta(minutes=5)
    order = shop.order(now=now)
    assert order.payment_deadline == shop.schedule.cutoff


def test_right_total_is_accepted(shop):
    order = shop.order(expected_total=Decimal("59.90"))
    assert order.total == Decimal("59.90")


def test_delivery_order_adds_the_fee():
    shop = make_shop(delivery_option="pickup_and_delivery", delivery_fee=Decimal("6.00"))
    order = shop.order(
        fulfilment=Fulfilment.DELIVERY, delivery_address="  花木路 100 弄 3 号 502  "
    )
    assert order.fulfilment == Fulfilment.DELIVERY
    assert order.goods_total == DEFAULT_TOTAL
    assert order.delivery_fee == Decimal("6.00")
    assert order.total == DEFAULT_TOTAL + Decimal("6.00")
    assert order.delivery_address == "花木路 100 弄 3 号 502"
    assert order.pickup_point is None  # the fixture passes one; delivery drops it
    pickup = shop.order(shop.new_member())
    assert (pickup.delivery_fee, pickup.total) == (Decimal("0.00"), DEFAULT_TOTAL)


def test_pay_at_pickup_is_confirmed_with_a_pickup_code():
    shop = make_shop(allow_pay_at_pickup=True)
    now = timezone.now()
    order = shop.order(method=PaymentMethod.AT_PICKUP, now=now)
    order = reload(order)
    assert order.status == OrderStatus.CONFIRMED
    assert re.fullmatch(r"\d{8}", order.pickup_code)
    assert order.confirmed_at == now
    assert order.payment_deadline is None
    assert order.paid_at is None
    assert not order.payments.exists()
    assert reserved(shop.grapes, shop.eggs) == [2, 1]
    assert changes(order, "accept_pay_at_pickup").get().actor == shop.member
    notice = notices(shop.member, "order_confirmed", order).get()
    assert notice.context["number"] == order.number


# Bad input: refused on the right field with nothing written


def _written(shop) -> tuple:
    return (
        Order.objects.count(),
        OrderLine.objects.count(),
        Payment.objects.count(),
        StateChange.objects.filter(content_type=ContentType.objects.get_for_model(Order)).count(),
        Notification.objects.filter(kind__startswith="order_").count(),
        tuple(reserved(shop.grapes, shop.eggs)),
    )


def refused(shop, *, field, member=None, **kwargs) -> DomainError:
    before = _written(shop)
    with pytest.raises(DomainError) as caught:
        shop.order(member, **kwargs)
    assert caught.value.field == field, caught.value.message
    assert _written(shop) == before
    return caught.value


@pytest.mark.parametrize(
    "cart",
    [
        pytest.param(lambda g, e: {g: 0}, id="zero"),
        pytest.param(lambda g, e: {g: 0, e: 0}, id="all-zero"),
        pytest.param(lambda g, e: {g: -1, e: 1}, id="negative"),
        pytest.param(lambda g, e: {g: "two", e: 1}, id="words"),
        pytest.param(lambda g, e: {g: "1.5"}, id="fraction"),
        pytest.param(lambda g, e: {g: None}, id="none"),
        pytest.param(lambda g, e: {"grapes": 1}, id="bad-item-id"),
        pytest.param(lambda g, e: {g: 1, 999_999: 1}, id="unknown-item"),
        pytest.param(lambda g, e: {g: 6}, id="above-limit"),
    ],
)
def test_bad_quantities_are_refused(shop, cart):
    refused(shop, field="quantities", quantities=cart(shop.grapes.pk, shop.eggs.pk))


def test_item_of_another_schedule_is_refused(shop):
    other = make_shop()
    error = refused(shop, field="quantities", quantities={other.grapes.pk: 1})
    assert "not part of this group buy" in error.message
    assert reserved(other.grapes) == [0]


def test_limit_counts_the_members_earlier_orders(shop):
    first = shop.order(quantities={shop.grapes.pk: 3})
    error = refused(shop, field="quantities", quantities={shop.grapes.pk: 3})
    assert "limited to 5 per member (you already have 3)" in error.message
    assert "Shine Muscat grapes" in error.message
    # Up to the limit is fine, and another member has her own allowance.
    shop.order(quantities={shop.grapes.pk: 2})
    shop.order(shop.new_member(), quantities={shop.grapes.pk: 5})
    # An order that no longer holds stock no longer counts.
    order_cancel(order=first, actor=shop.member)
    shop.order(quantities={shop.grapes.pk: 3})
    assert reserved(shop.grapes) == [2 + 5 + 3]


def test_sold_out_names_every_short_item_at_once():
    shop = make_shop(
        grapes={"quantity_cap": 3, "per_member_limit": 3},
        eggs={"quantity_cap": 4, "per_member_limit": 4},
    )
    shop.order(shop.new_member(), quantities={shop.grapes.pk: 3, shop.eggs.pk: 3})
    error = refused(shop, field="quantities", quantities={shop.grapes.pk: 1, shop.eggs.pk: 2})
    assert error.message == (
        "Not enough stock: Shine Muscat grapes is sold out; only 1 of Free-range eggs left."
    )
    assert reserved(shop.grapes, shop.eggs) == [3, 3]


def test_a_short_item_rolls_back_the_items_reserved_before_it():
    shop = make_shop(
        grapes={"quantity_cap": 3, "per_member_limit": 3},
        eggs={"quantity_cap": 2, "per_member_limit": 2},
    )
    assert shop.grapes.pk < shop.eggs.pk  # grapes are reserved first
    shop.order(shop.new_member(), quantities={shop.grapes.pk: 2, shop.eggs.pk: 2})
    error = refused(shop, field="quantities", quantities={shop.grapes.pk: 1, shop.eggs.pk: 1})
    assert error.message == "Not enough stock: Free-range eggs is sold out."
    assert reserved(shop.grapes, shop.eggs) == [2, 2]
    # The last grape tray is still for sale.
    shop.order(quantities={shop.grapes.pk: 1})
    assert reserved(shop.grapes) == [3]


@pytest.mark.parametrize(
    "when",
    [
        pytest.param(lambda s: s.cutoff, id="at-cutoff"),
        pytest.param(lambda s: s.cutoff + timedelta(minutes=1), id="after-cutoff"),
        pytest.param(lambda s: s.sale_start - timedelta(minutes=1), id="before-sale"),
    ],
)
def test_orders_only_within_the_sale_window(shop, when):
    error = refused(shop, field=None, now=when(shop.schedule))
    assert "not taking orders" in error.message


@pytest.mark.parametrize("status", ["draft", "closed", "completed"])
def test_schedule_not_published_is_refused(shop, status):
    Schedule.objects.filter(pk=shop.schedule.pk).update(status=status)
    refused(shop, field=None)


def test_cancelled_schedule_is_refused(shop):
    schedule_cancel(schedule=shop.schedule, actor=shop.leader, reason="Supplier let us down")
    refused(shop, field=None)


def test_only_members_of_the_community_may_order(shop):
    error = refused(shop, field=None, member=UserFactory())
    assert "Join this community" in error.message
    elsewhere = UserFactory()
    MembershipFactory(user=elsewhere, community=CommunityFactory())
    refused(shop, field=None, member=elsewhere)


def test_another_communitys_schedule_is_refused(shop):
    other = make_shop()
    before = Order.objects.count()
    with pytest.raises(DomainError, match="Join this community"):
        order_place(
            member=shop.member,
            schedule=other.schedule,
            quantities={other.grapes.pk: 1},
            payment_method=PaymentMethod.ONLINE,
            pickup_point=other.point,
        )
    assert Order.objects.count() == before
    assert reserved(other.grapes) == [0]


@pytest.mark.parametrize("seen", [Decimal("1.00"), Decimal("59.89"), Decimal("0")])
def test_tampered_total_is_refused(shop, seen):
    error = refused(shop, field="expected_total", expected_total=seen)
    assert "¥59.90" in error.message


def test_tampered_total_with_delivery_fee_is_refused():
    shop = make_shop(delivery_option="pickup_and_delivery", delivery_fee=Decimal("6.00"))
    refused(
        shop,
        field="expected_total",
        fulfilment=Fulfilment.DELIVERY,
        delivery_address="3 号楼",
        expected_total=DEFAULT_TOTAL,  # without the fee
    )


def test_pay_at_pickup_only_where_the_leader_allows_it(shop):
    assert not shop.schedule.allow_pay_at_pickup
    refused(shop, field="payment_method", method=PaymentMethod.AT_PICKUP)
    refused(shop, field="payment_method", method="cash")


def test_delivery_only_where_offered(shop):
    refused(shop, field="fulfilment", fulfilment=Fulfilment.DELIVERY, delivery_address="3 号楼")
    refused(shop, field="fulfilment", fulfilment="drone")


@pytest.mark.parametrize("address", ["", "   "])
def test_delivery_needs_an_address(address):
    shop = make_shop(delivery_option="pickup_and_delivery", delivery_fee=Decimal("6.00"))
    refused(
        shop, field="delivery_address", fulfilment=Fulfilment.DELIVERY, delivery_address=address
    )


def test_pickup_point_must_be_the_schedules(shop):
    other = make_shop()
    refused(shop, field="pickup_point", pickup_point=other.point)
    refused(shop, field="pickup_point", pickup_point=None)


# The member cancels


def test_member_cancels_a_pending_order(shop, django_capture_on_commit_callbacks):
    order = shop.order()
    payment = payment_start(order=order, member=shop.member)
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(order=order, actor=shop.member)
    order = reload(order)
    assert order.status == OrderStatus.CANCELLED
    assert order.cancel_reason == "Cancelled by the member"
    assert order.cancelled_at is not None
    assert reserved(shop.grapes, shop.eggs) == [0, 0]
    assert not Refund.objects.exists()
    assert order.refunded_total == Decimal("0.00")
    # The open payment is closed at the gateway so it can no longer be paid.
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.CLOSED
    assert charge_of(payment).status == ChargeStatus.CLOSED
    assert changes(order, "cancel").get().actor == shop.member
    assert notices(shop.member, "order_cancelled", order).count() == 1


def test_member_cancels_a_paid_order_and_is_refunded(shop, django_capture_on_commit_callbacks):
    order = shop.order()
    payment = pay(order)
    assert reload(order).status == OrderStatus.PAID
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        order_cancel(order=order, actor=shop.member, reason="  Going away  ")
        refund = Refund.objects.get(order=order)
        assert refund.status == RefundStatus.REQUESTED  # sent only after commit
    assert callbacks
    order = reload(order)
    assert order.status == OrderStatus.CANCELLED
    assert order.cancel_reason == "Going away"
    assert order.refunded_total == order.total
    assert reserved(shop.grapes, shop.eggs) == [0, 0]
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    assert (refund.amount, refund.payment, refund.line) == (order.total, payment, None)
    assert refund.booked_on_order
    sent = ChargeRefund.objects.get(refund_number=refund.refund_number)
    assert sent.amount == order.total
    assert sent.charge == charge_of(payment)
    assert notices(shop.member, "order_refunded", order).count() == 1


def test_member_cancels_a_pay_at_pickup_order_without_refund():
    shop = make_shop(allow_pay_at_pickup=True)
    order = shop.order(method=PaymentMethod.AT_PICKUP)
    order_cancel(order=order, actor=shop.member)
    assert reload(order).status == OrderStatus.CANCELLED
    assert not Refund.objects.exists()
    assert reserved(shop.grapes, shop.eggs) == [0, 0]


def test_no_cancel_after_the_cutoff(shop):
    order = shop.order()
    pay(order)
    with pytest.raises(DomainError, match="cut-off has passed"):
        order_cancel(order=order, actor=shop.member, now=shop.schedule.cutoff)
    assert reload(order).status == OrderStatus.PAID
    assert reserved(shop.grapes, shop.eggs) == [2, 1]
    assert not Refund.objects.exists()


def test_nobody_else_may_cancel_the_order(shop):
    order = shop.order()
    for someone in (shop.new_member(), shop.leader):
        with pytest.raises(DomainError, match="Only the member who placed"):
            order_cancel(order=order, actor=someone)
    assert reload(order).status == OrderStatus.PENDING_PAYMENT
    assert reserved(shop.grapes, shop.eggs) == [2, 1]


def test_an_ended_order_cannot_be_cancelled(shop):
    order = shop.order()
    order_cancel(order=order, actor=shop.member)
    with pytest.raises(DomainError, match="can no longer be cancelled"):
        order_cancel(order=order, actor=shop.member)
    assert reserved(shop.grapes, shop.eggs) == [0, 0]  # released once only


# Expiry


def test_overdue_order_without_payment_expires_at_once(shop):
    order = shop.order()
    deadline = order.payment_deadline
    assert not order_expire_if_due(order_id=order.pk, now=deadline - timedelta(seconds=1))
    assert reload(order).status == OrderStatus.PENDING_PAYMENT
    assert order_expire_if_due(order_id=order.pk, now=deadline)
    order = reload(order)
    assert order.status == OrderStatus.EXPIRED
    assert reserved(shop.grapes, shop.eggs) == [0, 0]
    assert changes(order, "expire").get().reason == "Not paid in time"
    assert not order_expire_if_due(order_id=order.pk, now=deadline)  # once only
    assert reserved(shop.grapes, shop.eggs) == [0, 0]


def test_order_with_a_payment_in_progress_waits_for_the_grace(shop, settings):
    order = shop.order()
    payment_start(order=order, member=shop.member)
    deadline = order.payment_deadline
    grace = timedelta(minutes=settings.ORDER_PAYMENT_GRACE_MINUTES)
    assert not order_expire_if_due(order_id=order.pk, now=deadline + timedelta(minutes=1))
    assert not order_expire_if_due(order_id=order.pk, now=deadline + grace - timedelta(seconds=1))
    assert reload(order).status == OrderStatus.PENDING_PAYMENT
    assert reserved(shop.grapes, shop.eggs) == [2, 1]
    assert order_expire_if_due(order_id=order.pk, now=deadline + grace)
    assert reload(order).status == OrderStatus.EXPIRED
    assert reserved(shop.grapes, shop.eggs) == [0, 0]


def test_force_expires_an_order_with_a_payment_in_progress(shop):
    order = shop.order()
    payment_start(order=order, member=shop.member)
    later = order.payment_deadline + timedelta(minutes=1)
    assert order_expire_if_due(order_id=order.pk, now=later, force=True)
    assert reload(order).status == OrderStatus.EXPIRED


def test_paid_order_never_expires(shop):
    order = shop.order()
    pay(order)
    assert not order_expire_if_due(
        order_id=order.pk, now=order.payment_deadline + timedelta(hours=1), force=True
    )
    assert reload(order).status == OrderStatus.PAID
    assert reserved(shop.grapes, shop.eggs) == [2, 1]


def test_sweep_applies_a_payment_the_gateway_took(shop):
    order = shop.order()
    payment = payment_start(order=order, member=shop.member)
    # The member paid, but the notification has not arrived.
    charge_settle(token=charge_of(payment).token, paid=True)
    assert orders_sweep_due(now=order.payment_deadline + timedelta(minutes=1)) == 0
    order = reload(order)
    assert order.status == OrderStatus.PAID
    assert order.paid_at is not None
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.SUCCEEDED
    assert charge_of(payment).status == ChargeStatus.PAID
    assert reserved(shop.grapes, shop.eggs) == [2, 1]
    assert notices(shop.member, "order_paid", order).count() == 1


@pytest.mark.parametrize("tapped", [None, "fail"])
def test_sweep_closes_an_unpaid_charge_then_expires(shop, tapped):
    order = shop.order()
    payment = payment_start(order=order, member=shop.member)
    if tapped == "fail":
        charge_settle(token=charge_of(payment).token, paid=False)
    other = shop.order(shop.new_member(), quantities={shop.grapes.pk: 1})  # not due yet
    Order.objects.filter(pk=other.pk).update(
        payment_deadline=order.payment_deadline + timedelta(minutes=10)
    )
    assert orders_sweep_due(now=order.payment_deadline + timedelta(minutes=1)) == 1
    assert charge_of(payment).status == ChargeStatus.CLOSED
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.CLOSED
    assert reload(order).status == OrderStatus.EXPIRED
    assert reload(other).status == OrderStatus.PENDING_PAYMENT
    assert reserved(shop.grapes, shop.eggs) == [1, 0]


def test_sweep_waits_while_the_provider_does_not_answer(shop, settings, monkeypatch):
    order = shop.order()
    payment = payment_start(order=order, member=shop.member)

    def down(**kwargs):
        raise ProviderError("gateway timeout")

    monkeypatch.setattr(get_provider("sandbox"), "close_payment", down)
    deadline = order.payment_deadline
    assert orders_sweep_due(now=deadline + timedelta(minutes=1)) == 0
    assert reload(order).status == OrderStatus.PENDING_PAYMENT
    assert reserved(shop.grapes, shop.eggs) == [2, 1]
    # After the grace it expires anyway; a payment arriving later is handled as late.
    grace = timedelta(minutes=settings.ORDER_PAYMENT_GRACE_MINUTES)
    assert orders_sweep_due(now=deadline + grace + timedelta(seconds=1)) == 1
    assert reload(order).status == OrderStatus.EXPIRED
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.PENDING


def test_lazy_expiry_of_a_members_overdue_orders(shop):
    past = timezone.now() - timedelta(minutes=1)
    overdue = shop.order(quantities={shop.grapes.pk: 1})
    current = shop.order(quantities={shop.eggs.pk: 1})
    someone_elses = shop.order(shop.new_member(), quantities={shop.grapes.pk: 2})
    Order.objects.filter(pk__in=[overdue.pk, someone_elses.pk]).update(payment_deadline=past)
    assert member_orders_expire_overdue(member=shop.member) == 1
    assert reload(overdue).status == OrderStatus.EXPIRED
    assert reload(current).status == OrderStatus.PENDING_PAYMENT
    assert reload(someone_elses).status == OrderStatus.PENDING_PAYMENT
    assert reserved(shop.grapes, shop.eggs) == [2, 1]
    assert member_orders_expire_overdue(member=shop.member) == 0
