"""The leader's schedule builder pages: create with errors in place, items with defaults
and proposal terms, economics and warnings on the page, lifecycle buttons, adjusting a
published schedule, duplicate, permissions and a query count flat in the items."""

import re
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog.models import Offer, OfferStatus, Product
from notifications.models import Broadcast, Notification
from scheduling.models import Schedule, ScheduleChange, ScheduleItem, ScheduleStatus
from scheduling.services import schedules as services
from scheduling.views.builder import shifted_timeline
from tests.accounts.utils import by_testid, field_errors
from tests.factories import CommunityFactory, MembershipFactory
from tests.scheduling.conftest import item_fields
from tests.scheduling.test_schedule_services import (
    accepted_proposal,
    another_listed_offer,
    make_schedule,
)

pytestmark = pytest.mark.django_db

TZ = timezone.get_current_timezone()


def _url(name, *args):
    return reverse(f"scheduling:{name}", args=args)


def _local(value: datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def leader_client(client, leader):
    client.force_login(leader)
    return client


def _form_data(community, **overrides):
    today = timezone.localdate()
    arrival = today + timedelta(days=3)
    data = {
        "title": "周末水果团",
        "sale_start": f"{today:%Y-%m-%d}T08:00",
        "cutoff": f"{(arrival - timedelta(days=1)):%Y-%m-%d}T22:00",
        "arrival_date": f"{arrival:%Y-%m-%d}",
        "pickup_start": f"{arrival:%Y-%m-%d}T15:00",
        "pickup_end": f"{arrival:%Y-%m-%d}T20:00",
        "pickup_points": [p.pk for p in community.pickup_points.all()],
        "notes": "自提时请出示提货码",
        "delivery_option": "pickup",
        "delivery_fee": "",
    }
    data.update(overrides)
    return data


def _item_post(offer, **overrides):
    data = {
        "item-offer": offer.pk,
        "item-proposal": "",
        "item-member_price": "",
        "item-quantity_cap": "",
        "item-per_member_limit": "",
        "item-min_group_qty": "0",
        "item-display_order": "0",
        "item-highlight": "",
    }
    data.update({f"item-{key}": value for key, value in overrides.items()})
    return data


# Create


def test_create_form_lists_the_community_points(leader_client, community):
    response = leader_client.get(_url("leader_schedule_create", community.pk))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="schedule-form"' in body
    assert 'type="datetime-local"' in body
    for point in community.pickup_points.all():
        assert f'value="{point.pk}"' in body


def test_create_shows_timeline_errors_in_place(leader_client, community):
    data = _form_data(community)
    data["cutoff"] = data["sale_start"]
    response = leader_client.post(_url("leader_schedule_create", community.pk), data)
    assert response.status_code == 200
    assert field_errors(response, "cutoff") == ["The cut-off must be after the sale starts."]
    data = _form_data(community, pickup_points=[])
    response = leader_client.post(_url("leader_schedule_create", community.pk), data)
    assert field_errors(response, "pickup_points") == ["Choose at least one pickup point."]
    other_point = CommunityFactory().pickup_points.get()
    data = _form_data(community, pickup_points=[other_point.pk])
    response = leader_client.post(_url("leader_schedule_create", community.pk), data)
    assert field_errors(response, "pickup_points")  # not one of the choices
    assert not Schedule.objects.exists()


def test_create_reads_times_in_shanghai(leader_client, community):
    data = _form_data(community, delivery_option="pickup_and_delivery", delivery_fee="3.50")
    response = leader_client.post(_url("leader_schedule_create", community.pk), data)
    schedule = Schedule.objects.get()
    assert response.status_code == 302
    assert response.url == _url("leader_schedule", schedule.pk)
    arrival = timezone.localdate() + timedelta(days=3)
    assert schedule.cutoff == datetime.combine(arrival - timedelta(days=1), time(22, 0), tzinfo=TZ)
    assert schedule.pickup_start.astimezone(TZ).hour == 15
    assert schedule.delivery_fee == Decimal("3.50")
    assert list(schedule.pickup_points.all()) == list(community.pickup_points.all())
    page = leader_client.get(response.url)
    assert "Draft" in by_testid(page, "schedule-status")


def test_pickup_only_ignores_the_fee(leader_client, community):
    data = _form_data(community, delivery_fee="5.00")
    leader_client.post(_url("leader_schedule_create", community.pk), data)
    assert Schedule.objects.get().delivery_fee == Decimal("0.00")


# Items, economics, warnings


def test_add_item_with_defaults(leader_client, community, leader, listed_offer):
    schedule = make_schedule(community, leader)
    response = leader_client.post(
        _url("leader_schedule_item_add", schedule.pk), _item_post(listed_offer)
    )
    assert response.status_code == 302
    item = schedule.items.get()
    assert item.member_price == listed_offer.retail_price
    assert item.quantity_cap == listed_offer.min_order_qty
    assert item.per_member_limit == 5
    assert item.supply_price == listed_offer.supply_price


def test_add_item_with_proposal_terms(leader_client, community, leader, listed_offer):
    proposal = accepted_proposal(listed_offer, community, quantity=120)
    schedule = make_schedule(community, leader, arrival_date=proposal.delivery_date)
    page = leader_client.get(_url("leader_schedule", schedule.pk))
    assert f'<option value="{proposal.pk}">' in page.content.decode()
    data = _item_post(listed_offer, proposal=proposal.pk)
    data["item-offer"] = ""  # the proposal names its offer
    leader_client.post(_url("leader_schedule_item_add", schedule.pk), data)
    item = schedule.items.get()
    assert (item.proposal, item.supply_price, item.agreed_quantity, item.quantity_cap) == (
        proposal,
        Decimal("9.00"),
        120,
        120,
    )


def test_add_item_errors_in_place(leader_client, community, leader, listed_offer):
    schedule = make_schedule(community, leader)
    url = _url("leader_schedule_item_add", schedule.pk)
    response = leader_client.post(url, _item_post(listed_offer, member_price="0"))
    assert response.status_code == 200
    assert field_errors(response, "item-member_price") == ["The member price must be positive."]
    response = leader_client.post(
        url, _item_post(listed_offer, quantity_cap="10", per_member_limit="11")
    )
    assert field_errors(response, "item-per_member_limit")
    response = leader_client.post(
        url, _item_post(listed_offer, quantity_cap="10", min_group_qty="11")
    )
    assert field_errors(response, "item-min_group_qty")
    data = _item_post(listed_offer)
    data["item-offer"] = ""
    response = leader_client.post(url, data)
    assert field_errors(response, "item-offer") == ["Choose an offer."]
    assert not schedule.items.exists()
    other = CommunityFactory()
    foreign = accepted_proposal(listed_offer, other)
    response = leader_client.post(url, _item_post(listed_offer, proposal=foreign.pk))
    assert field_errors(response, "item-proposal")  # not among this community's proposals
    make_schedule(community, leader)  # unrelated
    leader_client.post(url, _item_post(listed_offer))
    response = leader_client.post(url, _item_post(listed_offer))
    assert field_errors(response, "item-offer") == ["This offer is already in the schedule."]


def test_economics_on_the_page(leader_client, community, leader, listed_offer):
    schedule = make_schedule(community, leader, listed_offer)  # 60 x 15.00, supply 10.00
    services.schedule_item_add(
        schedule=schedule,
        actor=leader,
        offer=another_listed_offer(listed_offer, supply_price=Decimal("8.00")),
        **item_fields(member_price=Decimal("12.50"), quantity_cap=40),
    )
    response = leader_client.get(_url("leader_schedule", schedule.pk))
    assert response.status_code == 200
    economics = by_testid(response, "economics")
    assert "¥1400.00" in economics  # 60*15 + 40*12.50
    assert "¥920.00" in economics  # 60*10 + 40*8
    assert "¥480.00" in economics
    body = response.content.decode()
    assert len(re.findall(r'data-testid="item-row"', body)) == 2
    margins = re.findall(r'data-testid="item-unit-margin">¥([\d.-]+)<', body)
    assert margins == ["5.00", "4.50"]
    assert 'data-testid="warnings"' not in body


def test_warnings_on_the_page(leader_client, community, leader, listed_offer):
    arrival = timezone.localdate() + timedelta(days=2)
    other_days = "".join(str(d) for d in range(7) if d != arrival.weekday())
    wrong_day = another_listed_offer(listed_offer, name="山东樱桃", delivery_weekdays=other_days)
    slow = another_listed_offer(listed_offer, name="大连海参", lead_time_days=5)
    schedule = make_schedule(community, leader, wrong_day)
    services.schedule_item_add(schedule=schedule, actor=leader, offer=slow, **item_fields())
    services.schedule_item_add(
        schedule=schedule,
        actor=leader,
        offer=listed_offer,
        **item_fields(quantity_cap=301),  # daily capacity 300
    )
    response = leader_client.get(_url("leader_schedule", schedule.pk))
    warnings = by_testid(response, "warnings")
    assert "山东樱桃: The supplier does not deliver on the arrival date's weekday." in warnings
    assert "大连海参: The supplier needs 5 day(s) of lead time" in warnings
    assert "more than the supplier can still deliver on the arrival date (300)" in warnings


def test_remove_item_from_a_draft(leader_client, community, leader, listed_offer):
    schedule = make_schedule(community, leader, listed_offer)
    item = schedule.items.get()
    response = leader_client.post(_url("leader_schedule_item_remove", schedule.pk, item.pk))
    assert response.status_code == 302
    assert not schedule.items.exists()


# Publishing, coverage, adjusting


def test_publish_notifies_and_links_coverage(leader_client, community, leader, listed_offer):
    for _ in range(3):
        MembershipFactory(community=community)
    schedule = make_schedule(community, leader, listed_offer)
    page = leader_client.get(_url("leader_schedule", schedule.pk))
    assert 'data-testid="publish-schedule"' in page.content.decode()
    assert 'data-testid="coverage-link"' not in page.content.decode()
    response = leader_client.post(_url("leader_schedule_publish", schedule.pk))
    assert response.status_code == 302
    schedule.refresh_from_db()
    assert schedule.status == ScheduleStatus.PUBLISHED
    members = community.memberships.count()
    assert Notification.objects.filter(kind="schedule_published").count() == members
    broadcast = Broadcast.objects.get(
        kind="schedule_published",
        content_type=ContentType.objects.get_for_model(Schedule),
        object_id=schedule.pk,
    )
    page = leader_client.get(_url("leader_schedule", schedule.pk))
    body = page.content.decode()
    assert "Published" in by_testid(page, "schedule-status")
    assert 'data-testid="publish-schedule"' not in body
    coverage_url = reverse("notifications:coverage", args=[community.pk, broadcast.pk])
    assert f'href="{coverage_url}" data-testid="coverage-link"' in body
    assert by_testid(page, "coverage-total").strip() == str(members)
    assert by_testid(page, "coverage-not-yet").strip() == str(members)
    assert f'href="{reverse("scheduling:share", args=[schedule.share_token])}"' in body
    assert leader_client.get(coverage_url).status_code == 200
    # Publishing again is refused with a message, nobody told twice.
    response = leader_client.post(_url("leader_schedule_publish", schedule.pk), follow=True)
    assert 'data-testid="message-error"' in response.content.decode()
    assert Notification.objects.filter(kind="schedule_published").count() == members


def test_publish_without_items_shows_the_reason(leader_client, community, leader):
    schedule = make_schedule(community, leader)
    response = leader_client.post(_url("leader_schedule_publish", schedule.pk), follow=True)
    assert "Add at least one item before publishing." in response.content.decode()
    schedule.refresh_from_db()
    assert schedule.status == ScheduleStatus.DRAFT


@pytest.fixture
def published(community, leader, listed_offer):
    MembershipFactory(community=community)
    schedule = make_schedule(community, leader, listed_offer)
    services.schedule_publish(schedule=schedule, actor=leader)
    return Schedule.objects.get(pk=schedule.pk)


def test_published_edit_extends_cutoff_and_logs_it(leader_client, published):
    url = _url("leader_schedule_edit", published.pk)
    page = leader_client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert re.search(r'name="sale_start"[^>]*disabled', body)
    later = published.cutoff + timedelta(minutes=30)
    data = {"title": "周末水果团（延长）", "cutoff": _local(later), "notes": "晚到半小时"}
    response = leader_client.post(url, data)
    assert response.status_code == 302, response.content.decode()
    published.refresh_from_db()
    assert published.cutoff == later
    assert set(ScheduleChange.objects.values_list("field", flat=True)) == {
        "title",
        "cutoff",
        "notes",
    }
    assert Notification.objects.filter(kind="schedule_changed").exists()
    page = leader_client.get(_url("leader_schedule", published.pk))
    log = by_testid(page, "change-log")
    assert "周末水果团（延长）" in log and "晚到半小时" in log
    # Shortening is refused next to the field.
    data["cutoff"] = _local(later - timedelta(hours=1))
    response = leader_client.post(url, data)
    assert field_errors(response, "cutoff") == ["A published cut-off can only be extended."]


def test_published_item_edit_keeps_reserved(leader_client, published):
    item = published.items.get()
    ScheduleItem.objects.filter(pk=item.pk).update(reserved_qty=20)
    url = _url("leader_schedule_item_edit", published.pk, item.pk)
    page = leader_client.get(url)
    assert 'data-testid="item-form"' in page.content.decode()
    data = {
        "item-member_price": "15.00",
        "item-quantity_cap": "19",
        "item-per_member_limit": "5",
        "item-min_group_qty": "0",
        "item-display_order": "0",
        "item-highlight": "",
    }
    response = leader_client.post(url, data)
    assert field_errors(response, "item-quantity_cap") == [
        "The cap cannot go below the 20 already reserved."
    ]
    data.update({"item-quantity_cap": "60", "item-member_price": "16.00"})
    response = leader_client.post(url, data)
    assert field_errors(response, "item-member_price") == [
        "The price cannot go up once members have ordered."
    ]
    data.update({"item-quantity_cap": "90", "item-member_price": "15.00"})
    assert leader_client.post(url, data).status_code == 302
    assert ScheduleItem.objects.get(pk=item.pk).quantity_cap == 90
    page = leader_client.get(_url("leader_schedule", published.pk))
    assert "90" in by_testid(page, "change-log")


def test_cancel_needs_a_reason_in_place(leader_client, published):
    url = _url("leader_schedule_cancel", published.pk)
    response = leader_client.post(url, {"reason": " "})
    assert response.status_code == 200
    assert field_errors(response, "reason") == ["Give a reason; members see it."]
    response = leader_client.post(url, {"reason": "供货商缺货"})
    assert response.status_code == 302
    published.refresh_from_db()
    assert published.status == ScheduleStatus.CANCELLED
    page = leader_client.get(_url("leader_schedule", published.pk))
    body = page.content.decode()
    assert 'data-testid="cancel-form"' not in body
    assert 'data-testid="item-form"' not in body
    assert "供货商缺货" in body  # in the history


def test_after_cutoff_no_changes_and_complete_closes_first(leader_client, published):
    now = timezone.now()
    Schedule.objects.filter(pk=published.pk).update(
        sale_start=now - timedelta(hours=2), cutoff=now - timedelta(minutes=1)
    )
    page = leader_client.get(_url("leader_schedule", published.pk))
    body = page.content.decode()
    assert 'data-testid="cutoff-passed"' in body
    assert 'data-testid="item-form"' not in body
    assert 'data-testid="edit-schedule"' not in body
    assert 'data-testid="complete-schedule"' in body
    response = leader_client.post(
        _url("leader_schedule_item_add", published.pk),
        _item_post(another_listed_offer(published.items.get().offer)),
        follow=True,
    )
    assert "The cut-off has passed" in response.content.decode()
    assert published.items.count() == 1
    leader_client.post(_url("leader_schedule_complete", published.pk))
    published.refresh_from_db()
    assert published.status == ScheduleStatus.COMPLETED
    assert published.items.get().outcome == "confirmed"


def test_complete_is_refused_before_the_cutoff(leader_client, published):
    response = leader_client.post(_url("leader_schedule_complete", published.pk), follow=True)
    assert 'data-testid="message-error"' in response.content.decode()
    published.refresh_from_db()
    assert published.status == ScheduleStatus.PUBLISHED


# Duplicate


def test_duplicate_moves_the_timeline_on_by_whole_weeks(leader_client, published):
    response = leader_client.post(_url("leader_schedule_duplicate", published.pk))
    copy = Schedule.objects.exclude(pk=published.pk).get()
    assert response.url == _url("leader_schedule", copy.pk)
    assert copy.status == ScheduleStatus.DRAFT
    assert copy.duplicated_from == published
    assert copy.cutoff == published.cutoff + timedelta(days=7)
    assert copy.arrival_date == published.arrival_date + timedelta(days=7)
    assert copy.items.count() == 1


def test_shifted_timeline_lands_after_now(community, leader):
    schedule = make_schedule(community, leader)
    now = schedule.cutoff + timedelta(days=20)
    shifted = shifted_timeline(schedule, now=now)
    assert shifted["cutoff"] == schedule.cutoff + timedelta(weeks=3)
    assert shifted["cutoff"] > now
    assert shifted["arrival_date"] == schedule.arrival_date + timedelta(weeks=3)


# List


def test_list_filters_by_status_and_paginates(
    leader_client, settings, community, leader, listed_offer
):
    settings.PAGINATE_BY = 2
    drafts = [make_schedule(community, leader, title=f"草稿{n}") for n in range(3)]
    published = make_schedule(community, leader, listed_offer, title="已发布")
    services.schedule_publish(schedule=published, actor=leader)
    make_schedule(CommunityFactory(), None, title="别人的团")
    response = leader_client.get(_url("leader_schedules"))
    assert response.status_code == 200
    assert response.context["page_obj"].paginator.count == 4
    assert 'data-testid="pagination"' in response.content.decode()
    response = leader_client.get(_url("leader_schedules"), {"status": "published"})
    assert [s.pk for s in response.context["page_obj"]] == [published.pk]
    response = leader_client.get(_url("leader_schedules"), {"status": "draft", "page": 2})
    assert len(response.context["page_obj"]) == 1
    assert {s.pk for s in response.context["page_obj"]} <= {d.pk for d in drafts}
    body = response.content.decode()
    assert "别人的团" not in body
    assert 'data-testid="nav-schedules"' in body
    assert _url("leader_schedule_create", community.pk) in body


# Permissions


def _every_url(schedule, item):
    s, i = schedule.pk, item.pk
    return [
        ("get", _url("leader_schedule_create", schedule.community_id)),
        ("post", _url("leader_schedule_create", schedule.community_id)),
        ("get", _url("leader_schedule", s)),
        ("get", _url("leader_schedule_edit", s)),
        ("post", _url("leader_schedule_edit", s)),
        ("post", _url("leader_schedule_item_add", s)),
        ("get", _url("leader_schedule_item_edit", s, i)),
        ("post", _url("leader_schedule_item_edit", s, i)),
        ("post", _url("leader_schedule_item_remove", s, i)),
        ("post", _url("leader_schedule_publish", s)),
        ("post", _url("leader_schedule_cancel", s)),
        ("post", _url("leader_schedule_complete", s)),
        ("post", _url("leader_schedule_duplicate", s)),
    ]


def test_another_leader_gets_404_everywhere(client, community, leader, listed_offer):
    schedule = make_schedule(community, leader, listed_offer)
    item = schedule.items.get()
    other = CommunityFactory()
    client.force_login(other.leader)
    for method, url in _every_url(schedule, item):
        assert getattr(client, method)(url).status_code == 404, url
    # Her list shows only her communities' schedules.
    response = client.get(_url("leader_schedules"))
    assert response.context["page_obj"].paginator.count == 0
    # Nothing changed.
    schedule.refresh_from_db()
    assert schedule.status == ScheduleStatus.DRAFT
    assert Schedule.objects.count() == 1 and schedule.items.count() == 1


@pytest.mark.parametrize("role_user", ["member", "supplier_user"])
def test_members_and_suppliers_get_403(request, client, community, leader, listed_offer, role_user):
    schedule = make_schedule(community, leader, listed_offer)
    client.force_login(request.getfixturevalue(role_user))
    assert client.get(_url("leader_schedules")).status_code == 403
    for method, url in _every_url(schedule, schedule.items.get()):
        assert getattr(client, method)(url).status_code == 403, url


def test_anonymous_is_sent_to_log_in(client, community, leader, listed_offer):
    schedule = make_schedule(community, leader, listed_offer)
    for method, url in [
        ("get", _url("leader_schedules")),
        *_every_url(schedule, schedule.items.get()),
    ]:
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("account_login")), url


# Query budget


def _bulk_items(schedule, template_offer, n):
    """``n`` listed offers of the template's (contracted) supplier, each on the schedule."""
    supplier = template_offer.supplier
    today = timezone.localdate()
    products = Product.objects.bulk_create(
        Product(
            supplier=supplier,
            name=f"商品{k}",
            spec="500 g",
            unit="份",
            category=template_offer.product.category,
            origin="云南",
            storage="chilled",
            shelf_life_days=7,
        )
        for k in range(n)
    )
    offers = Offer.objects.bulk_create(
        Offer(
            supplier=supplier,
            product=product,
            supply_price=Decimal("10.00") + k % 50,
            retail_price=Decimal("15.00") + k % 70,
            min_order_qty=6,
            case_size=6,
            daily_capacity=100 + k % 3 * 100,
            lead_time_days=k % 4,
            delivery_weekdays="0246" if k % 2 else "0123456",
            valid_from=today,
            valid_until=today + timedelta(days=30),
            status=OfferStatus.APPROVED,
            decided_at=timezone.now(),
        )
        for k, product in enumerate(products)
    )
    ScheduleItem.objects.bulk_create(
        ScheduleItem(
            schedule=schedule,
            offer=offer,
            supply_price=offer.supply_price,
            member_price=offer.retail_price,
            quantity_cap=60 + k * 3,
            per_member_limit=5,
            min_group_qty=k % 5,
            display_order=k,
        )
        for k, offer in enumerate(offers)
    )


def _builder_queries(client, url) -> tuple[int, int]:
    client.get(url)  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    rows = len(re.findall(r'data-testid="item-row"', response.content.decode()))
    return len(captured.captured_queries), rows


@pytest.mark.parametrize("published_state", [False, True])
def test_builder_query_count_is_flat_in_the_items(
    leader_client, community, leader, listed_offer, published_state
):
    accepted_proposal(listed_offer, community)
    few = make_schedule(community, leader, listed_offer)
    _bulk_items(few, listed_offer, 2)
    many = make_schedule(community, leader, listed_offer)
    _bulk_items(many, listed_offer, 199)
    if published_state:
        MembershipFactory(community=community)
        for schedule in (few, many):
            services.schedule_publish(schedule=schedule, actor=leader)
            services.schedule_item_update(
                item=schedule.items.first(),
                actor=leader,
                **item_fields(quantity_cap=70),
            )
    few_queries, few_rows = _builder_queries(leader_client, _url("leader_schedule", few.pk))
    many_queries, many_rows = _builder_queries(leader_client, _url("leader_schedule", many.pk))
    assert (few_rows, many_rows) == (3, 200)
    assert few_queries == many_queries
    assert many_queries <= 25
