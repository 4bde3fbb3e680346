"""The PurchaseOrder and AfterSalesRequest state machines: every allowed and every forbidden
(state, transition) pair against an explicit table, the table against the @transition
metadata, protected status fields and optimistic locking against stale copies.

The Order transitions of this stage (make_ready, pick_up, complete) are in the Order table
of tests/orders/test_state_machines.py.

The tables are written out on purpose: changing a machine must change this file too.
"""

import pytest
from django.db import transaction
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from fulfillment.models import (
    AfterSalesRequest,
    AfterSalesStatus,
    PurchaseOrder,
    PurchaseOrderStatus,
)
from tests.fsm_tables import (
    assert_table_matches_model,
    assert_transition_reaches,
    assert_transition_refused,
    transition_pairs,
)

POS, AS = PurchaseOrderStatus, AfterSalesStatus

PURCHASE_ORDER_ALLOWED = {
    (POS.DRAFT, "send"): POS.SENT,
    (POS.SENT, "acknowledge"): POS.ACKNOWLEDGED,
    (POS.SENT, "decline"): POS.DECLINED,
    (POS.ACKNOWLEDGED, "start_stocking"): POS.STOCKING,
    (POS.ACKNOWLEDGED, "mark_ready"): POS.READY,
    (POS.STOCKING, "mark_ready"): POS.READY,
    (POS.READY, "receive"): POS.RECEIVED,
    (POS.RECEIVED, "close"): POS.CLOSED,
}
AFTER_SALES_ALLOWED = {
    (AS.SUBMITTED, "escalate"): AS.ESCALATED,
    (AS.SUBMITTED, "approve"): AS.APPROVED,
    (AS.ESCALATED, "approve"): AS.APPROVED,
    (AS.SUBMITTED, "reject"): AS.REJECTED,
    (AS.ESCALATED, "reject"): AS.REJECTED,
    (AS.APPROVED, "mark_refunded"): AS.REFUNDED,
}

MACHINES = {
    "purchase_order": (PurchaseOrder, PurchaseOrderStatus, PURCHASE_ORDER_ALLOWED),
    "after_sales": (AfterSalesRequest, AfterSalesStatus, AFTER_SALES_ALLOWED),
}
TRANSITIONS = {
    "purchase_order": [
        "send",
        "acknowledge",
        "decline",
        "start_stocking",
        "mark_ready",
        "receive",
        "close",
    ],
    "after_sales": ["escalate", "approve", "reject", "mark_refunded"],
}
FINAL_STATES = {
    "purchase_order": [POS.CLOSED, POS.DECLINED],
    "after_sales": [AS.REFUNDED, AS.REJECTED],
}


ALLOWED_PAIRS, FORBIDDEN_PAIRS = transition_pairs(MACHINES, TRANSITIONS)
ALL_PAIRS = ALLOWED_PAIRS + FORBIDDEN_PAIRS


def test_matrix_covers_every_pair():
    assert len(POS.values) == 8 and len(AS.values) == 5
    assert len(ALL_PAIRS) == 8 * 7 + 5 * 4 == 76
    assert len(ALLOWED_PAIRS) == 8 + 6
    assert len(FORBIDDEN_PAIRS) == 76 - 14


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
        (PurchaseOrder, POS.DRAFT, POS.SENT),
        (PurchaseOrder, POS.READY, POS.RECEIVED),
        (AfterSalesRequest, AS.SUBMITTED, AS.APPROVED),
        (AfterSalesRequest, AS.APPROVED, AS.REFUNDED),
    ],
    ids=["po-draft", "po-ready", "as-submitted", "as-approved"],
)
def test_status_is_protected(model, state, other):
    instance = model(status=state)
    with pytest.raises(AttributeError):
        instance.status = other
    assert instance.status == state


def test_new_records_start_at_the_first_state():
    assert PurchaseOrder().status == POS.DRAFT
    assert AfterSalesRequest().status == AS.SUBMITTED


@pytest.mark.parametrize("machine", list(MACHINES))
def test_final_states_allow_nothing(machine):
    model = MACHINES[machine][0]
    for state in FINAL_STATES[machine]:
        for name in TRANSITIONS[machine]:
            with pytest.raises(TransitionNotAllowed):
                getattr(model(status=state), name)()


def test_every_state_is_reachable_from_the_first():
    for machine, (_model, states, allowed) in MACHINES.items():
        first = states.values[0]
        reached, frontier = {first}, [first]
        while frontier:
            state = frontier.pop()
            for (source, _name), target in allowed.items():
                if source == state and target not in reached:
                    reached.add(target)
                    frontier.append(target)
        assert reached == set(states.values), machine


# Saved records: a stale copy cannot overwrite a newer state (ConcurrentTransitionMixin).


@pytest.mark.django_db
def test_purchase_order_transition_changes_nothing_until_saved(fulfil_round):
    purchase_order = PurchaseOrder.objects.get(pk=fulfil_round.purchase_order.pk)
    purchase_order.send()
    assert PurchaseOrder.objects.get(pk=purchase_order.pk).status == POS.DRAFT
    purchase_order.save()
    assert PurchaseOrder.objects.get(pk=purchase_order.pk).status == POS.SENT


@pytest.mark.django_db
@pytest.mark.parametrize("first", ["acknowledge", "decline"])
@pytest.mark.parametrize("second", ["acknowledge", "decline"])
def test_stale_purchase_order_copy_raises_concurrent_transition(fulfil_round, first, second):
    fulfil_round.send()
    pk = fulfil_round.purchase_order.pk
    fresh = PurchaseOrder.objects.get(pk=pk)
    stale = PurchaseOrder.objects.get(pk=pk)
    getattr(fresh, first)()
    fresh.save()
    getattr(stale, second)()  # in memory the stale copy still looks sent
    with pytest.raises(ConcurrentTransition), transaction.atomic():
        stale.save()
    assert PurchaseOrder.objects.get(pk=pk).status == PURCHASE_ORDER_ALLOWED[(POS.SENT, first)]


@pytest.mark.django_db
@pytest.mark.parametrize("first", ["approve", "reject", "escalate"])
def test_stale_after_sales_copy_raises_concurrent_transition(fulfil_round, first):
    order = fulfil_round.orders[0]
    line = order.lines.first()
    request = AfterSalesRequest.objects.create(
        order=order,
        order_line=line,
        member=order.member,
        community=order.community,
        reason="quality",
        description="soft",
        requested_amount=line.unit_price,
    )
    fresh = AfterSalesRequest.objects.get(pk=request.pk)
    stale = AfterSalesRequest.objects.get(pk=request.pk)
    getattr(fresh, first)()
    fresh.save()
    # In memory the stale copy still looks submitted.
    if first == "approve":
        stale.reject()
    else:
        stale.approve()
    with pytest.raises(ConcurrentTransition), transaction.atomic():
        stale.save()
    expected = AFTER_SALES_ALLOWED[(AS.SUBMITTED, first)]
    assert AfterSalesRequest.objects.get(pk=request.pk).status == expected
