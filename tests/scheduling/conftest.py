"""Scheduling fixtures: a leader with a community, a listed offer, timelines."""

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import ReviewStatus
from tests.catalog.conftest import make_listed_offer, make_product
from tests.factories import CommunityFactory, StaffFactory, SupplierFactory


def next_delivery_day(offer, *, after_days: int = 2):
    """The first day on or after today + after_days that the offer can be delivered."""
    day = timezone.localdate() + timedelta(days=max(after_days, offer.lead_time_days))
    while str(day.weekday()) not in offer.delivery_weekdays:
        day += timedelta(days=1)
    return day


def timeline(*, days_ahead: int = 2):
    """A valid schedule timeline: sale now, cut-off tonight + n days, pickup next day."""
    tz = timezone.get_current_timezone()
    today = timezone.localdate()
    cutoff_day = today + timedelta(days=days_ahead - 1)
    arrival = today + timedelta(days=days_ahead)
    return {
        "sale_start": timezone.now() - timedelta(minutes=5),
        "cutoff": datetime.combine(cutoff_day, time(23, 0), tzinfo=tz),
        "arrival_date": arrival,
        "pickup_start": datetime.combine(arrival, time(15, 0), tzinfo=tz),
        "pickup_end": datetime.combine(arrival, time(20, 0), tzinfo=tz),
    }


def item_fields(**overrides):
    fields = {
        "member_price": Decimal("15.00"),
        "quantity_cap": 60,
        "per_member_limit": 5,
        "min_group_qty": 0,
        "display_order": 0,
        "highlight": "",
    }
    fields.update(overrides)
    return fields


@pytest.fixture
def community(db):
    return CommunityFactory()


@pytest.fixture
def leader(community):
    return community.leader


@pytest.fixture
def listed_offer(db):
    supplier = SupplierFactory(status=ReviewStatus.APPROVED)
    return make_listed_offer(supplier, StaffFactory(), product=make_product(supplier))


@pytest.fixture
def supplier_user(listed_offer):
    return listed_offer.supplier.members.get(is_owner=True).user
