"""The Order, OrderLine, Payment and Refund state machines: every allowed and every
forbidden (state, transition) pair against an explicit table, protected status fields and
optimistic locking against stale copies.

The tables are written out on purpose: changing a machine must change this file too.
"""

import pytest
from django.db import transaction
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from orders.models import (
    LineStatus,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from tests.fsm_tables import (
    assert_table_matches_model,
    assert_transition_reaches,
    assert_transition_refused,
    transition_pairs,
)

OS, PS, RS, LS = OrderStatus, PaymentStatus, RefundStatus, LineStatus

ORDER_ALLOWED = {
    (OS.PENDING_PAYMENT, "mark_paid"): OS.PAID,
    (OS.EXPIRED, "reinstate"): OS.PAID,
    (OS.PENDING_PAYMENT, "accept_pay_at_pickup"): OS.CONFIRMED,
    (OS.PAID, "confirm"): OS.CONFIRMED,
    (OS.CONFIRMED, "make_ready"): OS.READY_FOR_PICKUP,
    (OS.READY_FOR_PICKUP, "pick_up"): OS.PICKED_UP,
    (OS.PICKED_UP, "complete"): OS.COMPLETED,
    (OS.PENDING_PAYMENT, "expire"): OS.EXPIRED,
    (OS.PENDING_PAYMENT, "cancel"): OS.CANCELLED,
    (OS.PAID, "cancel"): OS.CANCELLED,
    (OS.CONFIRMED, "cancel"): OS.CANCELLED,
}
LINE_ALLOWED = {(LS.ACTIVE, "cancel"): LS.CANCELLED}
PAYMENT_ALLOWED = {
    (PS.CREATED, "start"): PS.PENDING,
    (PS.CREATED, "succeed"): PS.SUCCEEDED,
    (PS.PENDING, "succeed"): PS.SUCCEEDED,
    # Money the provider reports taken is never ignored, even after we gave up on it.
    (PS.FAILED, "succeed"): PS.SUCCEEDED,
    (PS.CLOSED, "succeed"): PS.SUCCEEDED,
    (PS.CREATED, "fail"): PS.FAILED,
    (PS.PENDING, "fail"): PS.FAILED,
    (PS.CREATED, "close"): PS.CLOSED,
    (PS.PENDING, "close"): PS.CLOSED,
    (PS.FAILED, "close"): PS.CLOSED,
}
REFUND_ALLOWED = {
    (RS.REQUESTED, "succeed"): RS.SUCCEEDED,
    (RS.REQUESTED, "fail"): RS.FAILED,
}

MACHINES = {
    "order": (Order, OrderStatus, ORDER_ALLOWED),
    "line": (OrderLine, LineStatus, LINE_ALLOWED),
    "payment": (Payment, PaymentStatus, PAYMENT_ALLOWED),
    "refund": (Refund, RefundStatus, REFUND_ALLOWED),
}
TRANSITIONS = {
    "order": [
        "mark_paid",
        "reinstate",
        "accept_pay_at_pickup",
        "confirm",
        "make_ready",
        "pick_up",
        "complete",
        "expire",
        "cancel",
    ],
    "line": ["cancel"],
    "payment": ["start", "succeed", "fail", "close"],
    "refund": ["succeed", "fail"],
}


ALLOWED_PAIRS, FORBIDDEN_PAIRS = transition_pairs(MACHINES, TRANSITIONS)
ALL_PAIRS = ALLOWED_PAIRS + FORBIDDEN_PAIRS


def test_matrix_covers_every_pair():
    assert len(ALL_PAIRS) == 8 * 9 + 2 * 1 + 5 * 4 + 3 * 2 == 100
    assert len(ALLOWED_PAIRS) == 11 + 1 + 10 + 2
    assert len(FORBIDDEN_PAIRS) == 100 - 24


@pytest.mark.parametrize("machine", list(MACHINES))
def test_table_matches_the_declared_transitions(machine):
    model, _states, allowed = MACHINES[machine]
    assert_table_matches_model(model, allowed, TRANSITIONS[machine])


@pytest.mark.parametrize(("machine", "state", "name", "target"), ALLOWED_PAIRS)
def test_allowed_transition_reaches_its_target(machine, state, name, target):
    assert_transition_reaches(MACHINES[machine][0], state, name, target)


@pytest.mark.parametrize(("machine", "state", "name", "target"), FORBIDDEN_PAIRS)
def test_forbidden_transition_raises_and_keeps_the_state(machine, state, name, target):
    assert_transition_refused(MACHINES[machine][0], state, name)


@pytest.mark.parametrize(
    ("model", "state", "other"),
    [
        (Order, OS.PENDING_PAYMENT, OS.PAID),
        (OrderLine, LS.ACTIVE, LS.CANCELLED),
        (Payment, PS.PENDING, PS.SUCCEEDED),
        (Refund, RS.REQUESTED, RS.SUCCEEDED),
    ],
    ids=["order", "line", "payment", "refund"],
)
def test_status_is_protected(model, state, other):
    instance = model(status=state)
    with pytest.raises(AttributeError):
        instance.status = other
    assert instance.status == state


def test_new_records_start_at_the_first_state():
    assert Order().status == OS.PENDING_PAYMENT
    assert OrderLine().status == LS.ACTIVE
    assert Payment().status == PS.CREATED
    assert Refund().status == RS.REQUESTED


def test_final_order_states_allow_nothing():
    for state in (OS.COMPLETED, OS.CANCELLED):
        for name in TRANSITIONS["order"]:
            with pytest.raises(TransitionNotAllowed):
                getattr(Order(status=state), name)()


# Saved records: a transition changes memory only until saved, and a stale copy cannot
# overwrite a newer state (ConcurrentTransitionMixin).


@pytest.mark.django_db
def test_transition_changes_nothing_until_saved(shop):
    order = shop.order()
    order.mark_paid()
    assert Order.objects.get(pk=order.pk).status == OS.PENDING_PAYMENT
    order.save()
    assert Order.objects.get(pk=order.pk).status == OS.PAID


@pytest.mark.django_db
@pytest.mark.parametrize("first", ["mark_paid", "expire", "cancel"])
@pytest.mark.parametrize("second", ["mark_paid", "expire", "cancel"])
def test_stale_order_copy_raises_concurrent_transition(shop, first, second):
    order = shop.order()
    fresh = Order.objects.get(pk=order.pk)
    stale = Order.objects.get(pk=order.pk)
    getattr(fresh, first)()
    fresh.save()
    getattr(stale, second)()  # in memory the stale copy still looks pending
    with pytest.raises(ConcurrentTransition), transaction.atomic():
        stale.save()
    assert Order.objects.get(pk=order.pk).status == ORDER_ALLOWED[(OS.PENDING_PAYMENT, first)]


@pytest.mark.django_db
def test_stale_line_copy_raises_concurrent_transition(shop):
    line = shop.order().lines.first()
    fresh = OrderLine.objects.get(pk=line.pk)
    stale = OrderLine.objects.get(pk=line.pk)
    fresh.cancel()
    fresh.save()
    stale.cancel()
    with pytest.raises(ConcurrentTransition), transaction.atomic():
        stale.save()


@pytest.mark.django_db
def test_stale_payment_copy_raises_concurrent_transition(shop):
    order = shop.order()
    payment = Payment.objects.create(order=order, provider="sandbox", amount=order.total)
    fresh = Payment.objects.get(pk=payment.pk)
    stale = Payment.objects.get(pk=payment.pk)
    fresh.fail()
    fresh.save()
    stale.start()
    with pytest.raises(ConcurrentTransition), transaction.atomic():
        stale.save()
    assert Payment.objects.get(pk=payment.pk).status == PS.FAILED


@pytest.mark.django_db
def test_stale_refund_copy_raises_concurrent_transition(shop):
    order = shop.order()
    payment = Payment.objects.create(order=order, provider="sandbox", amount=order.total)
    refund = Refund.objects.create(payment=payment, order=order, amount=order.total, reason="x")
    fresh = Refund.objects.get(pk=refund.pk)
    stale = Refund.objects.get(pk=refund.pk)
    fresh.fail()
    fresh.save()
    stale.succeed()
    with pytest.raises(ConcurrentTransition), transaction.atomic():
        stale.save()
    assert Refund.objects.get(pk=refund.pk).status == RS.FAILED
