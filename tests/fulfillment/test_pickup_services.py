"""Pickup (fulfillment/services/pickup.py): the pickup notice reaches the members with a
ready order; pickup codes are looked up by the community's leader only and wrong codes are
rate-limited; goods are handed over (all or some lines, cash taken first for pay at
pickup) or delivered; the member confirms receipt, or the order completes by itself."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from fulfillment import tasks
from fulfillment.models import PickupAttempt, PickupNotice
from fulfillment.services import pickup
from groupbuy.exceptions import DomainError
from notifications.models import Broadcast, Notification
from orders.models import Fulfilment, Order, OrderStatus, PaymentMethod
from orders.services.review import order_reject
from tests.factories import CommunityFactory, MembershipFactory, StaffFactory, UserFactory
from tests.fulfillment.conftest import Round, make_round
from tests.fulfillment.test_allocation import build_round, grapes_line
from tests.orders.conftest import make_shop
from tests.orders.test_ordering_services import changes, reload

pytestmark = pytest.mark.django_db

OS = OrderStatus


def received(round_: Round, capture, **missing) -> Round:
    with capture(execute=True):
        round_.receive(**missing)
    round_.orders = [reload(order) for order in round_.orders]
    return round_


@pytest.fixture
def ready_round(django_capture_on_commit_callbacks) -> Round:
    """Two members (2 grapes + 1 egg tray each) whose goods all arrived."""
    return received(make_round(), django_capture_on_commit_callbacks)


def window(round_: Round):
    start = timezone.localtime(round_.shop.schedule.pickup_start)
    return start, start + timedelta(hours=3)


def send_notice(round_: Round, **kwargs) -> PickupNotice:
    start, end = window(round_)
    fields = {
        "schedule": round_.shop.schedule,
        "actor": round_.shop.leader,
        "window_start": start,
        "window_end": end,
        "place": "  1 号楼大堂  ",
        "notes": "  Bring a bag  ",
        "contact_phone": " +8613900003333 ",
    }
    fields.update(kwargs)
    return pickup.pickup_notice_send(**fields)


def lookup(round_: Round, code: str, *, verifier=None, community=None) -> Order:
    return pickup.pickup_code_lookup(
        verifier=verifier or round_.shop.leader,
        community=community or round_.shop.schedule.community,
        code=code,
    )


def hand_over(order: Order, actor, **kwargs) -> Order:
    return pickup.pickup_hand_over(order=order, actor=actor, **kwargs)


def unused_code(round_: Round) -> str:
    taken = set(Order.objects.values_list("pickup_code", flat=True))
    return next(f"{n:08d}" for n in range(12345678, 10**8) if f"{n:08d}" not in taken)


# The pickup notice


def test_notice_reaches_the_members_with_a_ready_order(django_capture_on_commit_callbacks):
    round_ = build_round([{"grapes": 2}, {"grapes": 2}, {"grapes": 2}])
    ready_one, ready_two, rejected = round_.orders
    order_reject(order=rejected, actor=round_.shop.leader, reason="Moved away")
    bystander = round_.shop.new_member()
    received(round_, django_capture_on_commit_callbacks)
    assert set(pickup.pickup_notice_recipients(round_.shop.schedule)) == {
        ready_one.member,
        ready_two.member,
    }

    notice = send_notice(round_)
    start, end = window(round_)
    assert (notice.window_start, notice.window_end) == (start, end)
    assert (notice.place, notice.notes, notice.contact_phone) == (
        "1 号楼大堂",
        "Bring a bag",
        "+8613900003333",
    )
    assert (notice.schedule, notice.sent_by) == (round_.shop.schedule, round_.shop.leader)
    broadcast = Broadcast.objects.get(pk=notice.broadcast_id)
    assert PickupNotice.objects.get(pk=notice.pk).broadcast == broadcast
    assert (broadcast.kind, broadcast.recipient_count) == ("pickup_notice", 2)
    assert broadcast.community == round_.shop.schedule.community
    assert broadcast.sender == round_.shop.leader
    sent = Notification.objects.filter(broadcast=broadcast)
    assert {n.recipient for n in sent} == {ready_one.member, ready_two.member}
    for notification in sent:
        assert notification.kind == "pickup_notice"
        assert notification.context["place"] == "1 号楼大堂"
        assert notification.context["notes"] == "Bring a bag"
        assert notification.context["contact_phone"] == "+8613900003333"
        assert notification.context["window"] == f"{start:%m-%d %H:%M}–{end:%H:%M}"
        assert notification.link == reverse("orders:member_orders")
    for user in (rejected.member, bystander, round_.shop.leader):
        assert not Notification.objects.filter(recipient=user, kind="pickup_notice").exists()


def test_a_member_with_two_ready_orders_gets_one_notice(django_capture_on_commit_callbacks):
    shop_round = build_round([{"grapes": 1}, {"eggs": 1}])
    # The second order belongs to the same member.
    Order.objects.filter(pk=shop_round.orders[1].pk).update(member=shop_round.orders[0].member)
    received(shop_round, django_capture_on_commit_callbacks)
    notice = send_notice(shop_round)
    assert notice.broadcast.recipient_count == 1
    assert Notification.objects.filter(broadcast=notice.broadcast).count() == 1


@pytest.mark.parametrize("place", ["", "   ", None])
def test_notice_needs_a_place(ready_round, place):
    with pytest.raises(DomainError, match="Say where") as error:
        send_notice(ready_round, place=place)
    assert error.value.field == "place"
    assert not PickupNotice.objects.exists()
    assert not Broadcast.objects.filter(kind="pickup_notice").exists()


@pytest.mark.parametrize("hours", [0, -1])
def test_notice_window_must_end_after_it_starts(ready_round, hours):
    start, _end = window(ready_round)
    with pytest.raises(DomainError, match="must end after it starts") as error:
        send_notice(ready_round, window_start=start, window_end=start + timedelta(hours=hours))
    assert error.value.field == "window_end"
    assert not PickupNotice.objects.exists()


def test_notice_waits_for_ready_orders(fulfil_round):
    assert not pickup.pickup_notice_recipients(fulfil_round.shop.schedule).exists()
    with pytest.raises(DomainError, match="No order is ready for pickup yet"):
        send_notice(fulfil_round)
    assert not PickupNotice.objects.exists()


@pytest.mark.parametrize("who", ["member", "other_leader", "supplier"])
def test_only_the_leader_sends_the_notice(ready_round, who):
    actor = {
        "member": ready_round.shop.member,
        "other_leader": CommunityFactory().leader,
        "supplier": ready_round.supplier_user,
    }[who]
    with pytest.raises(DomainError, match="Only the community's leader"):
        send_notice(ready_round, actor=actor)
    assert not PickupNotice.objects.exists()
    assert send_notice(ready_round, actor=StaffFactory()).broadcast.recipient_count == 2


# Pickup codes


def test_the_right_code_finds_the_ready_order(ready_round):
    order = ready_round.orders[0]
    assert order.status == OS.READY_FOR_PICKUP and len(order.pickup_code) == 8
    assert lookup(ready_round, order.pickup_code) == order
    spaced = f" {order.pickup_code[:4]} {order.pickup_code[4:]} "
    assert lookup(ready_round, spaced) == order
    assert list(PickupAttempt.objects.values_list("succeeded", flat=True)) == [True, True]


def test_a_wrong_code_is_refused_and_counted(ready_round):
    with pytest.raises(DomainError, match="No order waiting for pickup has this code") as error:
        lookup(ready_round, unused_code(ready_round))
    assert error.value.field == "code"
    attempt = PickupAttempt.objects.get()
    assert (attempt.verifier, attempt.succeeded) == (ready_round.shop.leader, False)
    assert attempt.community == ready_round.shop.schedule.community


@pytest.mark.parametrize(
    "code",
    ["1234567", "123456789", "1234abcd", "abcdefgh", "", None, "１２３４５６７８", "1234-5678"],
)
def test_a_malformed_code_is_refused(ready_round, code):
    with pytest.raises(DomainError, match="A pickup code has 8 digits") as error:
        lookup(ready_round, code)
    assert error.value.field == "code"


def test_another_communitys_code_is_refused(ready_round, django_capture_on_commit_callbacks):
    elsewhere = received(make_round(members=1), django_capture_on_commit_callbacks)
    their_order = elsewhere.orders[0]
    assert their_order.status == OS.READY_FOR_PICKUP
    with pytest.raises(DomainError, match="No order waiting for pickup has this code"):
        lookup(ready_round, their_order.pickup_code)
    # Nor can our leader verify in the other community.
    with pytest.raises(DomainError, match="Only the community's leader"):
        lookup(ready_round, their_order.pickup_code, community=elsewhere.shop.schedule.community)
    assert lookup(elsewhere, their_order.pickup_code) == their_order


@pytest.mark.parametrize("who", ["member", "supplier"])
def test_only_the_leader_or_staff_verify(ready_round, who):
    actor = {"member": ready_round.shop.member, "supplier": ready_round.supplier_user}[who]
    code = ready_round.orders[0].pickup_code
    with pytest.raises(DomainError, match="Only the community's leader"):
        lookup(ready_round, code, verifier=actor)
    assert not PickupAttempt.objects.exists()
    assert lookup(ready_round, code, verifier=StaffFactory()) == ready_round.orders[0]


def test_a_confirmed_orders_code_says_the_goods_have_not_arrived(fulfil_round):
    order = fulfil_round.orders[0]
    assert order.status == OS.CONFIRMED
    with pytest.raises(DomainError, match="goods have not been received yet"):
        lookup(fulfil_round, order.pickup_code)


def test_a_code_cannot_be_used_again_after_pickup(ready_round):
    order = ready_round.orders[0]
    hand_over(lookup(ready_round, order.pickup_code), ready_round.shop.leader)
    with pytest.raises(DomainError, match="No order waiting for pickup has this code"):
        lookup(ready_round, order.pickup_code)
    with pytest.raises(DomainError, match="not waiting for pickup"):
        hand_over(order, ready_round.shop.leader)


def test_wrong_codes_are_rate_limited(ready_round, settings):
    settings.PICKUP_CODE_MAX_FAILURES = 4
    settings.PICKUP_CODE_LOCK_MINUTES = 15
    leader, order = ready_round.shop.leader, ready_round.orders[0]
    wrong = unused_code(ready_round)
    for _attempt in range(3):
        with pytest.raises(DomainError, match="No order waiting"):
            lookup(ready_round, wrong)
    # Successes do not count and do not reset: one more wrong code is allowed.
    assert lookup(ready_round, order.pickup_code) == order
    with pytest.raises(DomainError, match="No order waiting"):
        lookup(ready_round, wrong)
    # Locked: even the right code is refused, and waiting is not counted as a failure.
    for code in (order.pickup_code, wrong):
        with pytest.raises(DomainError, match=r"Too many wrong codes\. Wait 15 minutes") as error:
            lookup(ready_round, code)
        assert error.value.field == "code"
    assert PickupAttempt.objects.filter(verifier=leader, succeeded=False).count() == 4
    # Another verifier (staff) is not locked out by the leader's failures.
    assert lookup(ready_round, order.pickup_code, verifier=StaffFactory()) == order

    # Just inside the window: still locked.
    PickupAttempt.objects.filter(verifier=leader).update(
        created_at=timezone.now() - timedelta(minutes=14)
    )
    with pytest.raises(DomainError, match="Too many wrong codes"):
        lookup(ready_round, order.pickup_code)
    # The failures age out of the window: free again.
    PickupAttempt.objects.filter(verifier=leader).update(
        created_at=timezone.now() - timedelta(minutes=16)
    )
    assert lookup(ready_round, order.pickup_code) == order


def test_the_default_limit_is_enforced(ready_round, settings):
    wrong = unused_code(ready_round)
    for _attempt in range(settings.PICKUP_CODE_MAX_FAILURES):
        with pytest.raises(DomainError, match="No order waiting"):
            lookup(ready_round, wrong)
    with pytest.raises(DomainError, match="Too many wrong codes"):
        lookup(ready_round, ready_round.orders[0].pickup_code)


# Handing over


def test_hand_over_every_line(ready_round):
    order, leader = ready_round.orders[0], ready_round.shop.leader
    now = timezone.now()
    order = hand_over(order, leader, now=now)
    assert (order.status, order.picked_up_at) == (OS.PICKED_UP, now)
    assert reload(order).status == OS.PICKED_UP
    assert set(order.lines.values_list("picked_up_at", flat=True)) == {now}
    assert changes(order, "pick_up").get().actor == leader
    assert order.paid_at is not None  # paid online long before
    assert reload(ready_round.orders[1]).status == OS.READY_FOR_PICKUP


def test_hand_over_some_lines_then_the_rest(ready_round):
    order, leader = ready_round.orders[0], ready_round.shop.leader
    grapes, eggs = grapes_line(order), order.lines.exclude(pk=grapes_line(order).pk).get()
    order = hand_over(order, leader, line_ids=[str(grapes.pk)])
    assert order.status == OS.READY_FOR_PICKUP and order.picked_up_at is None
    grapes.refresh_from_db()
    eggs.refresh_from_db()
    assert grapes.picked_up_at is not None and eggs.picked_up_at is None
    # The handed-over line cannot be chosen again, nor another order's line.
    other_line = ready_round.orders[1].lines.first()
    for line_ids in ([grapes.pk], [other_line.pk], [], [eggs.pk, other_line.pk]):
        with pytest.raises(DomainError, match="Choose lines of this order") as error:
            hand_over(order, leader, line_ids=line_ids)
        assert error.value.field == "lines"
    order = hand_over(order, leader, line_ids=[eggs.pk])
    assert order.status == OS.PICKED_UP


def test_a_line_with_nothing_left_does_not_hold_the_order(django_capture_on_commit_callbacks):
    round_ = build_round([{"grapes": 3, "eggs": 1}, {"grapes": 3, "eggs": 1}])
    received(round_, django_capture_on_commit_callbacks, grapes=(3, 0))
    order = round_.orders[1]  # paid last: lost all 3 grapes
    assert grapes_line(order).units_to_hand_over == 0
    eggs = order.lines.exclude(pk=grapes_line(order).pk).get()
    order = hand_over(order, round_.shop.leader, line_ids=[eggs.pk])
    assert order.status == OS.PICKED_UP


def test_only_a_ready_order_is_handed_over(fulfil_round):
    with pytest.raises(DomainError, match="not waiting for pickup"):
        hand_over(fulfil_round.orders[0], fulfil_round.shop.leader)
    assert reload(fulfil_round.orders[0]).status == OS.CONFIRMED


@pytest.mark.parametrize("who", ["member", "other_leader", "supplier"])
def test_only_the_leader_hands_over(ready_round, who):
    actor = {
        "member": ready_round.shop.member,
        "other_leader": CommunityFactory().leader,
        "supplier": ready_round.supplier_user,
    }[who]
    with pytest.raises(DomainError, match="Only the community's leader"):
        hand_over(ready_round.orders[0], actor)
    assert reload(ready_round.orders[0]).status == OS.READY_FOR_PICKUP
    assert hand_over(ready_round.orders[0], StaffFactory()).status == OS.PICKED_UP


@pytest.fixture
def cash_round(django_capture_on_commit_callbacks) -> Round:
    """An online order, then a pay-at-pickup home delivery that loses 2 of its 3 grapes."""
    shop = make_shop(
        allow_pay_at_pickup=True,
        delivery_option="pickup_and_delivery",
        delivery_fee=Decimal("6.00"),
    )
    round_ = build_round(
        [
            {"grapes": 3},
            {
                "grapes": 3,
                "eggs": 1,
                "method": PaymentMethod.AT_PICKUP,
                "fulfilment": Fulfilment.DELIVERY,
                "delivery_address": "3 号楼 502",
            },
        ],
        shop=shop,
    )
    return received(round_, django_capture_on_commit_callbacks, grapes=(2, 0))


def test_amount_due_at_pickup_leaves_out_units_that_did_not_arrive(cash_round):
    online, cash = cash_round.orders
    assert pickup.amount_due_at_pickup(online) == 0
    assert cash.total == Decimal("80.90")  # 3 x 15.00 + 29.90 + 6.00 delivery
    assert grapes_line(cash).short_units == 2
    # 1 grape + the egg tray + the delivery fee.
    assert pickup.amount_due_at_pickup(cash) == Decimal("50.90")


def test_pay_at_pickup_needs_the_money_taken_first(cash_round):
    _online, cash = cash_round.orders
    leader = cash_round.shop.leader
    pickup.order_out_for_delivery(order=cash, actor=leader)
    with pytest.raises(DomainError, match=r"Take the payment of ¥50\.90 first") as error:
        pickup.order_delivered(order=cash, actor=leader)
    assert error.value.field == "settled"
    assert reload(cash).paid_at is None
    now = timezone.now()
    order = pickup.order_delivered(order=cash, actor=leader, settled=True, now=now)
    assert (order.status, order.paid_at, order.picked_up_at) == (OS.PICKED_UP, now, now)
    assert pickup.amount_due_at_pickup(reload(order)) == 0


def test_pay_at_pickup_partial_hand_over_is_paid_once(django_capture_on_commit_callbacks):
    shop = make_shop(allow_pay_at_pickup=True)
    round_ = build_round([{"grapes": 2, "eggs": 1, "method": PaymentMethod.AT_PICKUP}], shop=shop)
    received(round_, django_capture_on_commit_callbacks)
    order, leader = round_.orders[0], round_.shop.leader
    grapes = grapes_line(order)
    with pytest.raises(DomainError, match=r"Take the payment of ¥59\.90 first"):
        hand_over(order, leader, line_ids=[grapes.pk])
    first = timezone.now()
    order = hand_over(order, leader, line_ids=[grapes.pk], settled=True, now=first)
    assert reload(order).paid_at == first
    assert pickup.amount_due_at_pickup(reload(order)) == 0
    # The rest needs no second payment.
    order = hand_over(order, leader)
    assert order.status == OS.PICKED_UP and reload(order).paid_at == first


# Home delivery


def test_delivery_goes_out_then_arrives(django_capture_on_commit_callbacks):
    shop = make_shop(delivery_option="pickup_and_delivery", delivery_fee=Decimal("6.00"))
    round_ = build_round(
        [
            {"grapes": 1, "fulfilment": Fulfilment.DELIVERY, "delivery_address": "3 号楼 502"},
            {"grapes": 1},
        ],
        shop=shop,
    )
    delivery, collect = round_.orders
    leader = round_.shop.leader
    with pytest.raises(DomainError, match="home-delivery order that is ready"):
        pickup.order_out_for_delivery(order=delivery, actor=leader)  # not received yet
    received(round_, django_capture_on_commit_callbacks)
    delivery, collect = round_.orders
    with pytest.raises(DomainError, match="Mark the order out for delivery first"):
        pickup.order_delivered(order=delivery, actor=leader)
    with pytest.raises(DomainError, match="home-delivery order that is ready"):
        pickup.order_out_for_delivery(order=collect, actor=leader)
    with pytest.raises(DomainError, match="Only the community's leader"):
        pickup.order_out_for_delivery(order=delivery, actor=delivery.member)
    out_at = timezone.now()
    order = pickup.order_out_for_delivery(order=delivery, actor=leader, now=out_at)
    assert (order.status, reload(order).out_for_delivery_at) == (OS.READY_FOR_PICKUP, out_at)
    with pytest.raises(DomainError, match="Only the community's leader"):
        pickup.order_delivered(order=delivery, actor=CommunityFactory().leader)
    delivered_at = out_at + timedelta(minutes=40)
    order = pickup.order_delivered(order=delivery, actor=leader, now=delivered_at)
    order = reload(order)
    assert (order.status, order.picked_up_at) == (OS.PICKED_UP, delivered_at)
    with pytest.raises(DomainError, match="home-delivery order that is ready"):
        pickup.order_out_for_delivery(order=order, actor=leader)


# After pickup


def test_member_confirms_receipt_of_her_own_collected_order(ready_round):
    order, member = ready_round.orders[0], ready_round.orders[0].member
    with pytest.raises(DomainError, match="Only an order you have collected"):
        pickup.order_confirm_receipt(order=order, member=member)
    hand_over(order, ready_round.shop.leader)
    for stranger in (ready_round.orders[1].member, ready_round.shop.leader, UserFactory()):
        with pytest.raises(DomainError, match="This is not your order"):
            pickup.order_confirm_receipt(order=order, member=stranger)
    now = timezone.now()
    order = pickup.order_confirm_receipt(order=order, member=member, now=now)
    assert (order.status, order.completed_at) == (OS.COMPLETED, now)
    assert reload(order).status == OS.COMPLETED
    assert changes(order, "complete").get().actor == member
    with pytest.raises(DomainError, match="Only an order you have collected"):
        pickup.order_confirm_receipt(order=order, member=member)


def test_unconfirmed_orders_complete_after_the_set_days(ready_round, settings):
    settings.ORDER_AUTO_COMPLETE_DAYS = 2
    leader = ready_round.shop.leader
    picked = timezone.now() - timedelta(days=3)
    old = hand_over(ready_round.orders[0], leader, now=picked)
    recent = hand_over(ready_round.orders[1], leader, now=picked + timedelta(days=1, hours=1))
    now = picked + timedelta(days=2)  # exactly N days after the first pickup
    assert pickup.orders_auto_complete(now=now) == 1
    old, recent = reload(old), reload(recent)
    assert (old.status, old.completed_at) == (OS.COMPLETED, now)
    change = changes(old, "complete").get()
    assert change.actor is None and "automatically" in change.reason
    assert recent.status == OS.PICKED_UP
    # Idempotent; the other order follows once its time has come.
    assert pickup.orders_auto_complete(now=now) == 0
    assert pickup.orders_auto_complete(now=now + timedelta(days=1, hours=1)) == 1
    assert reload(recent).status == OS.COMPLETED
    assert changes(old, "complete").count() == 1


def test_auto_complete_leaves_other_statuses_alone(ready_round, settings):
    settings.ORDER_AUTO_COMPLETE_DAYS = 2
    # Ready but never picked up, however old: not completed.
    Order.objects.filter(pk=ready_round.orders[0].pk).update(
        picked_up_at=timezone.now() - timedelta(days=30)
    )
    assert pickup.orders_auto_complete() == 0
    tasks.auto_complete_orders.delay()
    assert {reload(order).status for order in ready_round.orders} == {OS.READY_FOR_PICKUP}


def test_a_member_of_the_community_without_orders_is_not_told(ready_round):
    outsider = UserFactory()
    MembershipFactory(user=outsider, community=ready_round.shop.schedule.community)
    notice = send_notice(ready_round)
    assert not Notification.objects.filter(recipient=outsider, broadcast=notice.broadcast).exists()
