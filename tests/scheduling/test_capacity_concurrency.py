"""Two leaders accepting at once cannot over-commit a supplier's delivery day.

Each acceptance runs in its own thread, so on its own database connection and in its own
transaction; a barrier placed just before the capacity update makes both reach the
conditional UPDATE together. PostgreSQL only: SQLite serialises writers anyway.
"""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from groupbuy.exceptions import DomainError
from scheduling.models import CapacityCommitment, Proposal, ProposalStatus, Side
from scheduling.services import proposals as services
from tests.factories import CommunityFactory
from tests.scheduling.conftest import next_delivery_day

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _accept_both_at_once(monkeypatch, proposals, supplier_user):
    barrier = threading.Barrier(len(proposals), timeout=10)
    original = services.capacity_commit

    def commit_together(**kwargs):
        barrier.wait()  # both transactions hold their proposal locks and are about to commit
        return original(**kwargs)

    monkeypatch.setattr(services, "capacity_commit", commit_together)
    outcomes = {}

    def accept(proposal):
        try:
            services.proposal_accept(proposal=proposal, actor=supplier_user, side=Side.SUPPLIER)
            outcomes[proposal.pk] = "accepted"
        except DomainError as error:
            outcomes[proposal.pk] = str(error.message)
        except Exception as error:  # surfaced by the assertions below
            outcomes[proposal.pk] = repr(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(p,)) for p in proposals]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


def _proposals(offer, quantities, day):
    return [
        services.proposal_create(
            offer=offer,
            community=(community := CommunityFactory()),
            leader=community.leader,
            delivery_date=day,
            quantity=quantity,
            unit_price=Decimal("10.00"),
        )
        for quantity in quantities
    ]


@pytest.mark.parametrize("row_exists", [False, True], ids=["new-day", "existing-row"])
def test_two_leaders_accepting_at_once_cannot_over_commit(
    monkeypatch, listed_offer, supplier_user, row_exists
):
    day = next_delivery_day(listed_offer)
    if row_exists:
        CapacityCommitment.objects.create(
            offer=listed_offer, delivery_date=day, capacity=listed_offer.daily_capacity
        )
    first, second = _proposals(listed_offer, [180, 180], day)  # each fits; together 360 > 300

    outcomes = _accept_both_at_once(monkeypatch, [first, second], supplier_user)

    assert list(outcomes.values()).count("accepted") == 1, outcomes
    refused = next(v for v in outcomes.values() if v != "accepted")
    assert "120" in refused  # "Only 120 left", in whichever language the thread uses
    statuses = sorted(Proposal.objects.values_list("status", flat=True))
    assert statuses == [ProposalStatus.ACCEPTED, ProposalStatus.PROPOSED]
    commitment = CapacityCommitment.objects.get(offer=listed_offer, delivery_date=day)
    assert commitment.committed == 180
    assert commitment.committed <= commitment.capacity


@pytest.mark.parametrize("row_exists", [False, True], ids=["new-day", "existing-row"])
def test_two_leaders_filling_the_day_exactly_both_succeed(
    monkeypatch, listed_offer, supplier_user, row_exists
):
    day = next_delivery_day(listed_offer)
    if row_exists:
        CapacityCommitment.objects.create(
            offer=listed_offer, delivery_date=day, capacity=listed_offer.daily_capacity
        )
    proposals = _proposals(listed_offer, [150, 150], day)  # 300: exactly the capacity

    outcomes = _accept_both_at_once(monkeypatch, proposals, supplier_user)

    assert list(outcomes.values()) == ["accepted", "accepted"], outcomes
    assert set(Proposal.objects.values_list("status", flat=True)) == {ProposalStatus.ACCEPTED}
    commitment = CapacityCommitment.objects.get(offer=listed_offer, delivery_date=day)
    assert commitment.committed == commitment.capacity == 300
