"""Builder reads: scoping by leader, usable proposals, the published broadcast, and the
economics with their warnings computed in a fixed number of queries."""

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from catalog import services as catalog_services
from scheduling.models import CapacityCommitment, ScheduleItem
from scheduling.selectors import builder as selectors
from scheduling.services import schedules as services
from tests.factories import CommunityFactory
from tests.scheduling.conftest import item_fields
from tests.scheduling.test_schedule_services import (
    accepted_proposal,
    another_listed_offer,
    make_schedule,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """The warnings are compared as English text."""
    with translation.override("en"):
        yield


def test_schedules_are_scoped_to_the_leader(community, leader, listed_offer):
    mine = make_schedule(community, leader)
    other = CommunityFactory()
    theirs = make_schedule(other, other.leader)
    assert list(selectors.schedules_for_leader(leader)) == [mine]
    assert selectors.schedules_for_leader(leader)[0].item_count == 0
    assert selectors.schedule_for_leader(leader, mine.pk) == mine
    with pytest.raises(Http404):
        selectors.schedule_for_leader(leader, theirs.pk)
    item = services.schedule_item_add(
        schedule=theirs, actor=other.leader, offer=listed_offer, **item_fields()
    )
    with pytest.raises(Http404):
        selectors.schedule_item_for_leader(leader, theirs.pk, item.pk)
    with pytest.raises(Http404):
        selectors.schedule_item_for_leader(leader, mine.pk, item.pk)


def test_usable_proposals_are_this_communitys_accepted_ones_of_listed_offers(
    community, leader, listed_offer
):
    usable = accepted_proposal(listed_offer, community)
    accepted_proposal(listed_offer, CommunityFactory())
    withdrawn_offer = another_listed_offer(listed_offer)
    gone = accepted_proposal(withdrawn_offer, community)
    owner = withdrawn_offer.supplier.members.get(is_owner=True).user
    catalog_services.offer_withdraw(offer=withdrawn_offer, actor=owner)
    schedule = make_schedule(community, leader)
    proposals = list(selectors.proposals_for_schedule(schedule))
    assert proposals == [usable]
    assert gone not in proposals


def test_published_broadcast(community, leader, listed_offer):
    schedule = make_schedule(community, leader, listed_offer)
    assert selectors.published_broadcast(schedule) is None
    services.schedule_publish(schedule=schedule, actor=leader)
    schedule.refresh_from_db()
    broadcast = selectors.published_broadcast(schedule)
    assert broadcast.kind == "schedule_published"
    assert broadcast.about == schedule
    assert broadcast.recipient_count == community.memberships.count()


def test_economics_totals(community, leader, listed_offer):
    schedule = make_schedule(community, leader, listed_offer)  # 60 x (15.00 - 10.00)
    services.schedule_item_add(
        schedule=schedule,
        actor=leader,
        offer=another_listed_offer(listed_offer, supply_price=Decimal("12.00")),
        **item_fields(member_price=Decimal("11.00"), quantity_cap=10, per_member_limit=2),
    )
    economics = selectors.schedule_economics(schedule)
    assert [row.unit_margin for row in economics.rows] == [Decimal("5.00"), Decimal("-1.00")]
    assert economics.revenue == Decimal("1010.00")
    assert economics.cost == Decimal("720.00")
    assert economics.margin == Decimal("290.00")
    assert economics.margin_percent == Decimal("28.7")
    assert economics.warning_count == 0


def test_warning_cap_over_agreed_quantity(community, leader, listed_offer):
    proposal = accepted_proposal(listed_offer, community, quantity=120)
    schedule = make_schedule(community, leader, arrival_date=proposal.delivery_date)
    services.schedule_item_add(
        schedule=schedule,
        actor=leader,
        offer=listed_offer,
        proposal=proposal,
        **item_fields(quantity_cap=121),
    )
    row = selectors.schedule_economics(schedule).rows[0]
    assert row.supply_limit == 120
    assert row.warnings == ["The cap (121) is more than the agreed quantity (120)."]
    ScheduleItem.objects.update(quantity_cap=120)
    assert selectors.schedule_economics(schedule).rows[0].warnings == []


def test_warning_proposal_for_another_day(community, leader, listed_offer):
    proposal = accepted_proposal(listed_offer, community, quantity=120)
    arrival = proposal.delivery_date + timedelta(days=1)
    tz = timezone.get_current_timezone()
    schedule = make_schedule(
        community,
        leader,
        arrival_date=arrival,
        pickup_start=datetime.combine(arrival, time(15), tzinfo=tz),
        pickup_end=datetime.combine(arrival, time(20), tzinfo=tz),
    )
    services.schedule_item_add(
        schedule=schedule, actor=leader, offer=listed_offer, proposal=proposal, **item_fields()
    )
    warnings = selectors.schedule_economics(schedule).rows[0].warnings
    assert any("agreed for delivery on" in w for w in warnings)


def test_warning_cap_over_remaining_capacity_of_the_day(community, leader, listed_offer):
    schedule = make_schedule(community, leader, listed_offer, item={"quantity_cap": 200})
    assert selectors.schedule_economics(schedule).rows[0].supply_limit == 300  # daily capacity
    # Other leaders' accepted proposals already hold 150 of the 300 for the arrival day.
    CapacityCommitment.objects.create(
        offer=listed_offer, delivery_date=schedule.arrival_date, capacity=300, committed=150
    )
    row = selectors.schedule_economics(schedule).rows[0]
    assert row.supply_limit == 150
    assert row.warnings == [
        "The cap (200) is more than the supplier can still deliver on the arrival date (150)."
    ]


def test_warnings_delivery_day_and_lead_time(community, leader, listed_offer):
    schedule = make_schedule(community, leader)
    arrival = schedule.arrival_date
    other_days = "".join(str(d) for d in range(7) if d != arrival.weekday())
    offer = another_listed_offer(listed_offer, delivery_weekdays=other_days, lead_time_days=3)
    services.schedule_item_add(schedule=schedule, actor=leader, offer=offer, **item_fields())
    today = timezone.localdate()
    assert (arrival - today).days == 2
    warnings = selectors.schedule_economics(schedule, today=today).rows[0].warnings
    assert warnings == [
        "The supplier does not deliver on the arrival date's weekday.",
        "The supplier needs 3 day(s) of lead time; the arrival date is too soon.",
    ]
    # Asked a day earlier, the lead time is met.
    warnings = selectors.schedule_economics(schedule, today=today - timedelta(days=1)).rows[0]
    assert len(warnings.warnings) == 1


def test_economics_queries_do_not_grow_with_items(community, leader, listed_offer):
    schedule = make_schedule(community, leader, listed_offer)
    for n in range(4):
        services.schedule_item_add(
            schedule=schedule,
            actor=leader,
            offer=another_listed_offer(listed_offer, name=f"商品{n}"),
            **item_fields(),
        )
    with CaptureQueriesContext(connection) as captured:
        economics = selectors.schedule_economics(schedule)
        for row in economics.rows:
            row.item.offer.product.name  # noqa: B018 - joined, no query
    assert len(economics.rows) == 5
    assert len(captured.captured_queries) == 2  # items, capacity commitments
