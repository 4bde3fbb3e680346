"""Changes a leader makes after publishing are shown to members on the schedule."""

import pytest
from django.urls import reverse

from scheduling.services import schedules
from tests.factories import MembershipFactory
from tests.scheduling.conftest import item_fields
from tests.scheduling.test_member_pages import make_schedule

pytestmark = pytest.mark.django_db


def test_member_sees_what_changed(client, community, leader, listed_offer):
    schedule = make_schedule(community, leader, listed_offer)
    item = schedule.items.get()
    member = MembershipFactory(community=community).user
    client.force_login(member)
    url = reverse("scheduling:member_schedule", args=[schedule.pk])
    assert 'data-testid="member-changes"' not in client.get(url).content.decode()

    schedules.schedule_item_update(item=item, actor=leader, **item_fields(quantity_cap=90))

    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="member-changes"' in page
    assert "60 → 90" in page
    assert member.notifications.filter(kind="schedule_changed").exists()
