"""Negotiation services: terms checks, turns, threads, notifications, capacity, audit."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from groupbuy.exceptions import DomainError
from groupbuy.selectors import state_changes_for
from notifications.models import Notification
from scheduling.models import CapacityCommitment, Proposal, ProposalStatus, Side
from scheduling.selectors.negotiation import default_delivery_date
from scheduling.services.proposals import (
    check_terms,
    proposal_accept,
    proposal_counter,
    proposal_create,
    proposal_decline,
    proposal_withdraw,
)
from tests.catalog.conftest import make_listed_offer
from tests.factories import CommunityFactory, StaffFactory
from tests.scheduling.conftest import next_delivery_day

pytestmark = pytest.mark.django_db


def propose(offer, community, *, quantity=None, unit_price=None, day=None):
    return proposal_create(
        offer=offer,
        community=community,
        leader=community.leader,
        delivery_date=day or next_delivery_day(offer),
        quantity=quantity or offer.min_order_qty,
        unit_price=unit_price or offer.supply_price,
    )


def refreshed(proposal):
    return Proposal.objects.get(pk=proposal.pk)


# check_terms


def _check(offer, **overrides):
    terms = {
        "offer": offer,
        "delivery_date": next_delivery_day(offer),
        "quantity": offer.min_order_qty,
        "unit_price": offer.supply_price,
    }
    terms.update(overrides)
    check_terms(**terms)


def test_offer_terms_pass(listed_offer):
    _check(listed_offer)  # 12 units, whole cases of 6, within capacity, a delivery day


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"quantity": 6}, "quantity", "minimum order is 12"),
        ({"quantity": 15}, "quantity", "whole cases of 6"),
        ({"quantity": 306}, "quantity", "at most 300 per day"),
        ({"unit_price": Decimal("0.00")}, "unit_price", "must be positive"),
    ],
)
def test_check_terms_refuses_quantity_and_price(listed_offer, overrides, field, fragment):
    with pytest.raises(DomainError) as caught:
        _check(listed_offer, **overrides)
    assert caught.value.field == field
    assert fragment in str(caught.value.message)


def test_check_terms_refuses_a_day_without_delivery(listed_offer):
    supplier = listed_offer.supplier
    mondays_only = make_listed_offer(supplier, StaffFactory(), delivery_weekdays="0")
    day = next_delivery_day(mondays_only) + timedelta(days=1)  # a Tuesday
    with pytest.raises(DomainError) as caught:
        _check(mondays_only, delivery_date=day)
    assert caught.value.field == "delivery_date"
    assert "does not deliver" in str(caught.value.message)


def test_check_terms_refuses_outside_validity(listed_offer):
    with pytest.raises(DomainError) as caught:
        _check(listed_offer, delivery_date=listed_offer.valid_until + timedelta(days=1))
    assert caught.value.field == "delivery_date"
    assert "not valid" in str(caught.value.message)


def test_check_terms_refuses_inside_the_lead_time(listed_offer):
    with pytest.raises(DomainError) as caught:
        _check(listed_offer, delivery_date=timezone.localdate())  # lead time is one day
    assert caught.value.field == "delivery_date"
    assert "to prepare" in str(caught.value.message)


def test_default_delivery_date_is_the_first_day_after_the_lead_time(listed_offer):
    supplier = listed_offer.supplier
    mondays_only = make_listed_offer(supplier, StaffFactory(), delivery_weekdays="0")
    day = default_delivery_date(mondays_only)
    assert day.weekday() == 0
    assert (day - timezone.localdate()).days >= mondays_only.lead_time_days
    _check(mondays_only, delivery_date=day)
    _check(listed_offer, delivery_date=default_delivery_date(listed_offer))


def test_proposal_create_refuses_bad_terms_and_saves_nothing(listed_offer, community):
    with pytest.raises(DomainError):
        propose(listed_offer, community, quantity=15)
    assert not Proposal.objects.exists()


def test_proposal_create_refuses_a_community_the_leader_does_not_lead(listed_offer, community):
    other = CommunityFactory()
    with pytest.raises(DomainError):
        proposal_create(
            offer=listed_offer,
            community=other,
            leader=community.leader,
            delivery_date=next_delivery_day(listed_offer),
            quantity=12,
            unit_price=Decimal("10.00"),
        )


# Turns, threads, notifications


def test_proposal_create_notifies_the_supplier(listed_offer, community, supplier_user):
    proposal = propose(listed_offer, community)
    assert proposal.status == ProposalStatus.PROPOSED
    assert proposal.proposed_by == Side.LEADER
    assert proposal.supplier == listed_offer.supplier
    assert proposal.thread_id is None
    note = Notification.objects.get(kind="proposal_received")
    assert note.recipient == supplier_user
    assert note.link == f"/supplier/proposals/{proposal.pk}/"


def test_the_proposer_cannot_answer_its_own_proposal(listed_offer, community, leader):
    proposal = propose(listed_offer, community)
    for answer in (
        lambda: proposal_accept(proposal=proposal, actor=leader, side=Side.LEADER),
        lambda: proposal_decline(proposal=proposal, actor=leader, side=Side.LEADER, reason="x"),
        lambda: proposal_counter(
            proposal=proposal,
            actor=leader,
            side=Side.LEADER,
            quantity=24,
            unit_price=Decimal("9.00"),
        ),
    ):
        with pytest.raises(DomainError, match="other side's turn"):
            answer()
    assert refreshed(proposal).status == ProposalStatus.PROPOSED
    assert not CapacityCommitment.objects.exists()


def test_a_counter_flips_the_turn_and_keeps_the_thread(
    listed_offer, community, leader, supplier_user
):
    first = propose(listed_offer, community)
    counter = proposal_counter(
        proposal=first,
        actor=supplier_user,
        side=Side.SUPPLIER,
        quantity=24,
        unit_price=Decimal("9.50"),
        note="整箱优惠",
    )
    assert refreshed(first).status == ProposalStatus.COUNTERED
    assert counter.status == ProposalStatus.PROPOSED
    assert counter.thread_id == first.pk
    assert counter.parent_id == first.pk
    assert counter.proposed_by == Side.SUPPLIER
    assert counter.delivery_date == first.delivery_date
    assert counter.awaiting == Side.LEADER
    note = Notification.objects.get(kind="proposal_countered")
    assert note.recipient == leader
    assert note.link == f"/leader/proposals/{first.pk}/"

    # The supplier now waits; the leader answers.
    with pytest.raises(DomainError):
        proposal_accept(proposal=counter, actor=supplier_user, side=Side.SUPPLIER)
    again = proposal_counter(
        proposal=counter, actor=leader, side=Side.LEADER, quantity=18, unit_price=Decimal("9.80")
    )
    assert again.thread_id == first.pk
    assert again.parent_id == counter.pk
    assert refreshed(counter).status == ProposalStatus.COUNTERED
    assert Notification.objects.filter(kind="proposal_countered", recipient=supplier_user).exists()

    accepted = proposal_accept(proposal=again, actor=supplier_user, side=Side.SUPPLIER)
    assert accepted.status == ProposalStatus.ACCEPTED
    assert accepted.decided_at is not None
    assert Notification.objects.get(kind="proposal_accepted").recipient == leader
    assert Proposal.objects.filter(thread_id=first.pk).count() == 2


def test_a_counter_is_checked_against_the_terms(listed_offer, community, supplier_user):
    first = propose(listed_offer, community)
    with pytest.raises(DomainError) as caught:
        proposal_counter(
            proposal=first,
            actor=supplier_user,
            side=Side.SUPPLIER,
            quantity=13,
            unit_price=Decimal("9.50"),
        )
    assert caught.value.field == "quantity"
    assert refreshed(first).status == ProposalStatus.PROPOSED
    assert not Proposal.objects.filter(parent=first).exists()


def test_decline_requires_a_reason_and_tells_the_proposer(
    listed_offer, community, leader, supplier_user
):
    proposal = propose(listed_offer, community)
    with pytest.raises(DomainError) as caught:
        proposal_decline(proposal=proposal, actor=supplier_user, side=Side.SUPPLIER, reason="  ")
    assert caught.value.field == "reason"
    assert refreshed(proposal).status == ProposalStatus.PROPOSED

    declined = proposal_decline(
        proposal=proposal, actor=supplier_user, side=Side.SUPPLIER, reason="那天没有货"
    )
    assert declined.status == ProposalStatus.DECLINED
    assert declined.decline_reason == "那天没有货"
    note = Notification.objects.get(kind="proposal_declined")
    assert note.recipient == leader
    assert note.context["reason"] == "那天没有货"


def test_only_the_proposer_withdraws(listed_offer, community, leader, supplier_user):
    proposal = propose(listed_offer, community)
    with pytest.raises(DomainError, match="Only the side"):
        proposal_withdraw(proposal=proposal, actor=supplier_user, side=Side.SUPPLIER)
    withdrawn = proposal_withdraw(proposal=proposal, actor=leader, side=Side.LEADER)
    assert withdrawn.status == ProposalStatus.WITHDRAWN
    assert Notification.objects.get(kind="proposal_withdrawn").recipient == supplier_user


def test_a_supplier_counter_can_be_withdrawn_by_the_supplier(
    listed_offer, community, leader, supplier_user
):
    counter = proposal_counter(
        proposal=propose(listed_offer, community),
        actor=supplier_user,
        side=Side.SUPPLIER,
        quantity=24,
        unit_price=Decimal("9.50"),
    )
    with pytest.raises(DomainError):
        proposal_withdraw(proposal=counter, actor=leader, side=Side.LEADER)
    proposal_withdraw(proposal=counter, actor=supplier_user, side=Side.SUPPLIER)
    assert refreshed(counter).status == ProposalStatus.WITHDRAWN
    assert Notification.objects.get(kind="proposal_withdrawn").recipient == leader


@pytest.mark.parametrize("answer", ["accept", "decline", "counter", "withdraw"])
def test_an_answered_proposal_cannot_be_answered_again(
    listed_offer, community, leader, supplier_user, answer
):
    from django_fsm import TransitionNotAllowed

    proposal = propose(listed_offer, community)
    proposal_decline(proposal=proposal, actor=supplier_user, side=Side.SUPPLIER, reason="no")
    calls = {
        "accept": lambda: proposal_accept(
            proposal=proposal, actor=supplier_user, side=Side.SUPPLIER
        ),
        "decline": lambda: proposal_decline(
            proposal=proposal, actor=supplier_user, side=Side.SUPPLIER, reason="again"
        ),
        "counter": lambda: proposal_counter(
            proposal=proposal,
            actor=supplier_user,
            side=Side.SUPPLIER,
            quantity=24,
            unit_price=Decimal("9.00"),
        ),
        "withdraw": lambda: proposal_withdraw(proposal=proposal, actor=leader, side=Side.LEADER),
    }
    with pytest.raises(TransitionNotAllowed):
        calls[answer]()
    assert refreshed(proposal).status == ProposalStatus.DECLINED


# Capacity


def test_accepting_adds_to_the_days_commitment(listed_offer, community, supplier_user):
    proposal = propose(listed_offer, community, quantity=120)
    proposal_accept(proposal=proposal, actor=supplier_user, side=Side.SUPPLIER)
    commitment = CapacityCommitment.objects.get(
        offer=listed_offer, delivery_date=proposal.delivery_date
    )
    assert (commitment.capacity, commitment.committed, commitment.remaining) == (300, 120, 180)

    second = propose(listed_offer, CommunityFactory(), quantity=60)
    proposal_accept(proposal=second, actor=supplier_user, side=Side.SUPPLIER)
    commitment.refresh_from_db()
    assert commitment.committed == 180


def test_a_second_leader_cannot_over_commit_the_day(listed_offer, community, supplier_user):
    day = next_delivery_day(listed_offer)
    first = propose(listed_offer, community, quantity=180, day=day)
    second = propose(listed_offer, CommunityFactory(), quantity=180, day=day)
    proposal_accept(proposal=first, actor=supplier_user, side=Side.SUPPLIER)
    with pytest.raises(DomainError) as caught:
        proposal_accept(proposal=second, actor=supplier_user, side=Side.SUPPLIER)
    assert "Only 120 left" in str(caught.value.message)
    assert refreshed(second).status == ProposalStatus.PROPOSED
    assert refreshed(second).decided_at is None
    commitment = CapacityCommitment.objects.get(offer=listed_offer, delivery_date=day)
    assert commitment.committed == 180
    assert not Notification.objects.filter(
        kind="proposal_accepted", recipient=second.leader
    ).exists()
    # Another day is untouched by the first acceptance.
    other_day = next_delivery_day(listed_offer, after_days=(day - timezone.localdate()).days + 1)
    third = propose(listed_offer, CommunityFactory(), quantity=300, day=other_day)
    proposal_accept(proposal=third, actor=supplier_user, side=Side.SUPPLIER)
    assert CapacityCommitment.objects.get(delivery_date=other_day).committed == 300


def test_a_leader_accepting_a_counter_also_commits_capacity(
    listed_offer, community, leader, supplier_user
):
    counter = proposal_counter(
        proposal=propose(listed_offer, community),
        actor=supplier_user,
        side=Side.SUPPLIER,
        quantity=30,
        unit_price=Decimal("9.50"),
    )
    proposal_accept(proposal=counter, actor=leader, side=Side.LEADER)
    assert CapacityCommitment.objects.get().committed == 30
    assert Notification.objects.get(kind="proposal_accepted").recipient == supplier_user


# Audit trail


def test_state_changes_are_recorded(listed_offer, community, leader, supplier_user):
    first = propose(listed_offer, community)
    counter = proposal_counter(
        proposal=first,
        actor=supplier_user,
        side=Side.SUPPLIER,
        quantity=24,
        unit_price=Decimal("9.50"),
    )
    proposal_decline(proposal=counter, actor=leader, side=Side.LEADER, reason="太贵")
    assert [
        (c.transition, c.from_state, c.to_state, c.actor) for c in state_changes_for(first)
    ] == [
        ("propose", "", "proposed", leader),
        ("counter", "proposed", "countered", supplier_user),
    ]
    assert [
        (c.transition, c.from_state, c.to_state, c.actor, c.reason)
        for c in state_changes_for(counter)
    ] == [
        ("propose", "", "proposed", supplier_user, ""),
        ("decline", "proposed", "declined", leader, "太贵"),
    ]
