"""The Proposal state machine: every allowed and every forbidden (state, transition) pair,
the protected status field and optimistic locking against stale copies."""

import pytest
from django.db import transaction
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from scheduling.models import Proposal, ProposalStatus
from scheduling.services.proposals import proposal_create
from tests.scheduling.conftest import next_delivery_day

TRANSITIONS = {
    "accept": ProposalStatus.ACCEPTED,
    "decline": ProposalStatus.DECLINED,
    "counter": ProposalStatus.COUNTERED,
    "withdraw": ProposalStatus.WITHDRAWN,
}

ALLOWED = {(ProposalStatus.PROPOSED, name): target for name, target in TRANSITIONS.items()}

PAIRS = [(state, name) for state in ProposalStatus.values for name in TRANSITIONS]


@pytest.fixture
def proposal(listed_offer, community, leader):
    return proposal_create(
        offer=listed_offer,
        community=community,
        leader=leader,
        delivery_date=next_delivery_day(listed_offer),
        quantity=listed_offer.min_order_qty,
        unit_price=listed_offer.supply_price,
    )


def _in_state(proposal: Proposal, state: str) -> Proposal:
    Proposal.objects.filter(pk=proposal.pk).update(status=state)
    return Proposal.objects.get(pk=proposal.pk)


def test_matrix_covers_every_pair():
    assert len(PAIRS) == len(ProposalStatus.values) * len(TRANSITIONS) == 20
    assert len(ALLOWED) == 4


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("state", "name"), [pair for pair in PAIRS if pair in ALLOWED], ids=lambda v: str(v)
)
def test_allowed_transition(proposal, state, name):
    proposal = _in_state(proposal, state)
    getattr(proposal, name)()
    proposal.save()
    assert Proposal.objects.get(pk=proposal.pk).status == ALLOWED[(state, name)]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("state", "name"), [pair for pair in PAIRS if pair not in ALLOWED], ids=lambda v: str(v)
)
def test_forbidden_transition(proposal, state, name):
    proposal = _in_state(proposal, state)
    with pytest.raises(TransitionNotAllowed):
        getattr(proposal, name)()
    assert proposal.status == state
    assert Proposal.objects.get(pk=proposal.pk).status == state


@pytest.mark.django_db
def test_only_proposed_is_open(proposal):
    assert proposal.status == ProposalStatus.PROPOSED
    for state in ProposalStatus.values:
        if state == ProposalStatus.PROPOSED:
            continue
        closed = _in_state(proposal, state)
        for name in TRANSITIONS:
            with pytest.raises(TransitionNotAllowed):
                getattr(closed, name)()


@pytest.mark.django_db
def test_status_is_protected(proposal):
    with pytest.raises(AttributeError):
        proposal.status = ProposalStatus.ACCEPTED
    assert Proposal.objects.get(pk=proposal.pk).status == ProposalStatus.PROPOSED


@pytest.mark.django_db
@pytest.mark.parametrize("first", list(TRANSITIONS))
@pytest.mark.parametrize("second", list(TRANSITIONS))
def test_stale_copy_raises_concurrent_transition(proposal, first, second):
    fresh = Proposal.objects.get(pk=proposal.pk)
    stale = Proposal.objects.get(pk=proposal.pk)
    getattr(fresh, first)()
    fresh.save()
    getattr(stale, second)()  # in memory the stale copy still looks open
    with pytest.raises(ConcurrentTransition), transaction.atomic():
        stale.save()
    assert Proposal.objects.get(pk=proposal.pk).status == TRANSITIONS[first]
