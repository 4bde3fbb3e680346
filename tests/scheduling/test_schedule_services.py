"""Schedule services: timeline and item rules (each refused on the right field), supply
terms from proposals, publishing, adjusting a published schedule, closing at the cut-off,
cancelling and duplicating."""

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db.models import F
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from catalog import services as catalog_services
from groupbuy.exceptions import DomainError
from notifications.models import Notification
from scheduling.models import (
    ItemOutcome,
    Schedule,
    ScheduleChange,
    ScheduleItem,
    ScheduleStatus,
    Side,
)
from scheduling.services import proposals as proposal_services
from scheduling.services import schedules as services
from tests.catalog.conftest import make_listed_offer, make_product
from tests.factories import (
    CommunityFactory,
    MembershipFactory,
    PickupPointFactory,
    StaffFactory,
)
from tests.scheduling.conftest import item_fields, next_delivery_day, timeline

pytestmark = pytest.mark.django_db

TZ = timezone.get_current_timezone()


# Helpers shared by the scheduling builder tests


def schedule_fields(**overrides) -> dict:
    fields = {
        "title": "周末水果团",
        "notes": "",
        "delivery_option": "pickup",
        "delivery_fee": Decimal("0.00"),
        **timeline(),
    }
    fields.update(overrides)
    return fields


def make_schedule(community, leader, offer=None, *, item=None, **overrides) -> Schedule:
    """A draft of ``community`` at its pickup points, with one item of ``offer`` if given."""
    schedule = services.schedule_create(
        community=community,
        actor=leader,
        pickup_points=community.pickup_points.filter(is_active=True),
        **schedule_fields(**overrides),
    )
    if offer is not None:
        services.schedule_item_add(
            schedule=schedule, actor=leader, offer=offer, **item_fields(**(item or {}))
        )
    return schedule


def another_listed_offer(offer, *, name="赣南脐橙", **terms):
    supplier = offer.supplier
    product = make_product(supplier, name=name, name_en="")
    return make_listed_offer(supplier, StaffFactory(), product=product, **terms)


def accepted_proposal(offer, community, *, quantity=120, unit_price=Decimal("9.00")):
    proposal = proposal_services.proposal_create(
        offer=offer,
        community=community,
        leader=community.leader,
        delivery_date=next_delivery_day(offer),
        quantity=quantity,
        unit_price=unit_price,
    )
    owner = offer.supplier.members.get(is_owner=True).user
    return proposal_services.proposal_accept(proposal=proposal, actor=owner, side=Side.SUPPLIER)


def _refused(field, call, *args, **kwargs):
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)
    assert caught.value.field == field, caught.value.message
    return caught.value


def _members(community, n=3):
    return [MembershipFactory(community=community).user for _ in range(n)]


def _at(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=TZ)


# Timeline


def test_valid_timeline_creates_a_draft_with_its_pickup_points(community, leader):
    schedule = make_schedule(community, leader)
    assert schedule.status == ScheduleStatus.DRAFT
    assert list(schedule.pickup_points.all()) == list(community.pickup_points.all())
    assert schedule.share_token


def _shifted(**changes):
    fields = timeline()
    fields.update(changes)
    return fields


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        # sale start < cut-off
        ("cutoff", lambda t: {"cutoff": t["sale_start"]}),
        ("cutoff", lambda t: {"sale_start": t["cutoff"] + timedelta(minutes=1)}),
        # cut-off day <= arrival day
        ("arrival_date", lambda t: {"arrival_date": t["cutoff"].date() - timedelta(days=1)}),
        # arrival day <= pickup start day
        (
            "pickup_start",
            lambda t: {"arrival_date": timezone.localtime(t["pickup_start"]).date() + timedelta(1)},
        ),
        # cut-off <= pickup start (same day)
        (
            "pickup_start",
            lambda t: {
                "arrival_date": timezone.localtime(t["cutoff"]).date(),
                "pickup_start": t["cutoff"] - timedelta(minutes=30),
                "pickup_end": t["cutoff"] + timedelta(hours=1),
            },
        ),
        # pickup start < pickup end
        ("pickup_end", lambda t: {"pickup_end": t["pickup_start"]}),
    ],
)
def test_timeline_rules_name_their_field(community, leader, field, changes):
    fields = timeline()
    fields.update(changes(fields))
    _refused(
        field,
        services.schedule_create,
        community=community,
        actor=leader,
        pickup_points=community.pickup_points.all(),
        **schedule_fields(**fields),
    )
    assert not Schedule.objects.exists()


def test_timeline_boundaries_are_allowed(community, leader):
    """Cut-off on the arrival day and pickup starting right at the cut-off are fine."""
    day = timezone.localdate() + timedelta(days=2)
    schedule = make_schedule(
        community,
        leader,
        cutoff=_at(day, 8),
        arrival_date=day,
        pickup_start=_at(day, 8),
        pickup_end=_at(day, 8, 1),
    )
    assert schedule.arrival_date == day


def test_pickup_points_must_belong_to_the_community(community, leader):
    other = CommunityFactory()
    for points in ([], list(other.pickup_points.all())):
        _refused(
            "pickup_points",
            services.schedule_create,
            community=community,
            actor=leader,
            pickup_points=points,
            **schedule_fields(),
        )
    closed = PickupPointFactory(community=community, is_active=False)
    _refused(
        "pickup_points",
        services.schedule_create,
        community=community,
        actor=leader,
        pickup_points=[closed],
        **schedule_fields(),
    )


# Items


@pytest.mark.parametrize(
    ("field", "overrides"),
    [
        ("member_price", {"member_price": Decimal("0.00")}),
        ("member_price", {"member_price": Decimal("-1.00")}),
        ("quantity_cap", {"quantity_cap": 0, "per_member_limit": 0}),
        ("per_member_limit", {"per_member_limit": 0}),
        ("per_member_limit", {"quantity_cap": 4, "per_member_limit": 5}),
        ("min_group_qty", {"quantity_cap": 10, "min_group_qty": 11}),
    ],
)
def test_item_rules_name_their_field(community, leader, listed_offer, field, overrides):
    schedule = make_schedule(community, leader)
    _refused(
        field,
        services.schedule_item_add,
        schedule=schedule,
        actor=leader,
        offer=listed_offer,
        **item_fields(**overrides),
    )
    assert not schedule.items.exists()


def test_item_takes_the_offer_list_terms(community, leader, listed_offer):
    schedule = make_schedule(community, leader, listed_offer)
    item = schedule.items.get()
    assert item.supply_price == listed_offer.supply_price
    assert item.agreed_quantity is None
    assert item.unit_margin == Decimal("15.00") - listed_offer.supply_price


def test_offer_must_be_listed_and_added_once(community, leader, listed_offer):
    schedule = make_schedule(community, leader, listed_offer)
    _refused(
        "offer",
        services.schedule_item_add,
        schedule=schedule,
        actor=leader,
        offer=listed_offer,
        **item_fields(),
    )
    other = another_listed_offer(listed_offer)
    owner = other.supplier.members.get(is_owner=True).user
    catalog_services.offer_withdraw(offer=other, actor=owner)
    _refused(
        "offer",
        services.schedule_item_add,
        schedule=schedule,
        actor=leader,
        offer=other,
        **item_fields(),
    )
    assert schedule.items.count() == 1


def test_item_takes_the_terms_of_an_accepted_proposal(community, leader, listed_offer):
    proposal = accepted_proposal(listed_offer, community)
    schedule = make_schedule(community, leader)
    item = services.schedule_item_add(
        schedule=schedule, actor=leader, offer=listed_offer, proposal=proposal, **item_fields()
    )
    assert item.supply_price == Decimal("9.00")
    assert item.agreed_quantity == 120
    assert item.proposal == proposal


def test_proposal_terms_are_refused_unless_accepted_for_this_community_and_offer(
    community, leader, listed_offer
):
    schedule = make_schedule(community, leader)
    # Another community's accepted proposal.
    other_community = CommunityFactory()
    foreign = accepted_proposal(listed_offer, other_community)
    # This community's proposal still open.
    open_one = proposal_services.proposal_create(
        offer=listed_offer,
        community=community,
        leader=leader,
        delivery_date=next_delivery_day(listed_offer),
        quantity=12,
        unit_price=Decimal("9.50"),
    )
    # This community's accepted proposal about another offer.
    other_offer = another_listed_offer(listed_offer)
    wrong_offer = accepted_proposal(other_offer, community)
    for proposal in (foreign, open_one, wrong_offer):
        _refused(
            "proposal",
            services.schedule_item_add,
            schedule=schedule,
            actor=leader,
            offer=listed_offer,
            proposal=proposal,
            **item_fields(),
        )
    assert not schedule.items.exists()


def test_remove_item_only_from_a_draft(community, leader, listed_offer):
    schedule = make_schedule(community, leader, listed_offer)
    second = services.schedule_item_add(
        schedule=schedule, actor=leader, offer=another_listed_offer(listed_offer), **item_fields()
    )
    services.schedule_item_remove(item=second, actor=leader)
    services.schedule_publish(schedule=schedule, actor=leader)
    with pytest.raises(DomainError):
        services.schedule_item_remove(item=schedule.items.get(), actor=leader)
    assert schedule.items.count() == 1


# Publishing


def test_publish_needs_items(community, leader):
    schedule = make_schedule(community, leader)
    with pytest.raises(DomainError):
        services.schedule_publish(schedule=schedule, actor=leader)
    schedule.refresh_from_db()
    assert schedule.status == ScheduleStatus.DRAFT


def test_publish_needs_a_future_cutoff(community, leader, listed_offer):
    now = timezone.now()
    today = timezone.localdate()
    schedule = make_schedule(
        community,
        leader,
        listed_offer,
        sale_start=now - timedelta(days=2),
        cutoff=now - timedelta(minutes=1),
        arrival_date=today + timedelta(days=1),
        pickup_start=_at(today + timedelta(days=1), 15),
        pickup_end=_at(today + timedelta(days=1), 20),
    )
    _refused("cutoff", services.schedule_publish, schedule=schedule, actor=leader)
    schedule.refresh_from_db()
    assert schedule.status == ScheduleStatus.DRAFT


def test_publish_tells_every_member_once(community, leader, listed_offer):
    members = _members(community)
    schedule = make_schedule(community, leader, listed_offer)
    services.schedule_publish(schedule=schedule, actor=leader)
    schedule.refresh_from_db()
    assert schedule.status == ScheduleStatus.PUBLISHED
    assert schedule.published_at is not None
    told = Notification.objects.filter(kind="schedule_published")
    everyone = set(community.memberships.values_list("user_id", flat=True))
    assert {m.pk for m in members} <= everyone
    assert sorted(told.values_list("recipient_id", flat=True)) == sorted(everyone)
    # Publishing again is refused and tells nobody twice.
    with pytest.raises(TransitionNotAllowed):
        services.schedule_publish(schedule=schedule, actor=leader)
    assert told.count() == len(everyone)


def test_publish_refuses_items_no_longer_listed(community, leader, listed_offer):
    schedule = make_schedule(community, leader, listed_offer)
    owner = listed_offer.supplier.members.get(is_owner=True).user
    catalog_services.offer_withdraw(offer=listed_offer, actor=owner)
    with pytest.raises(DomainError):
        services.schedule_publish(schedule=schedule, actor=leader)


# Adjusting a published schedule


@pytest.fixture
def published(community, leader, listed_offer):
    _members(community, 2)
    schedule = make_schedule(community, leader, listed_offer)
    services.schedule_publish(schedule=schedule, actor=leader)
    return Schedule.objects.get(pk=schedule.pk)


def _item_update(item, leader, **overrides):
    fields = {key: getattr(item, key) for key in services.ITEM_FIELDS}
    fields.update(overrides)
    return services.schedule_item_update(item=item, actor=leader, **fields)


def _schedule_update(schedule, leader, **overrides):
    fields = {key: getattr(schedule, key) for key in services.SCHEDULE_FIELDS}
    fields.update(overrides)
    return services.schedule_update(
        schedule=schedule, actor=leader, pickup_points=schedule.pickup_points.all(), **fields
    )


def _changed_notices():
    return Notification.objects.filter(kind="schedule_changed")


def test_published_cap_raise_is_logged_and_told(published, leader):
    item = published.items.get()
    _item_update(item, leader, quantity_cap=80)
    item.refresh_from_db()
    assert item.quantity_cap == 80
    change = ScheduleChange.objects.get(schedule=published)
    assert (change.field, change.before, change.after, change.actor) == (
        "quantity_cap",
        "60",
        "80",
        leader,
    )
    assert change.item == item
    members = published.community.memberships.count()
    assert _changed_notices().count() == members


def test_published_cap_cannot_go_below_reserved(published, leader):
    item = published.items.get()
    ScheduleItem.objects.filter(pk=item.pk).update(reserved_qty=30)
    item.refresh_from_db()
    _refused("quantity_cap", _item_update, item, leader, quantity_cap=29)
    _item_update(item, leader, quantity_cap=30)  # down to exactly what is reserved is fine
    assert ScheduleItem.objects.get(pk=item.pk).quantity_cap == 30


def test_published_price_cannot_rise_once_reserved(published, leader):
    item = published.items.get()
    _item_update(item, leader, member_price=Decimal("16.00"))  # nothing reserved yet
    ScheduleItem.objects.filter(pk=item.pk).update(reserved_qty=1)
    item.refresh_from_db()
    _refused("member_price", _item_update, item, leader, member_price=Decimal("16.50"))
    _item_update(item, leader, member_price=Decimal("14.00"))  # lowering is fine
    assert ScheduleItem.objects.get(pk=item.pk).member_price == Decimal("14.00")
    assert list(
        ScheduleChange.objects.filter(schedule=published)
        .order_by("id")
        .values_list("field", "before", "after")
    ) == [("member_price", "15.00", "16.00"), ("member_price", "16.00", "14.00")]


def test_published_add_item_is_logged_and_told(published, leader, listed_offer):
    other = another_listed_offer(listed_offer)
    services.schedule_item_add(schedule=published, actor=leader, offer=other, **item_fields())
    change = ScheduleChange.objects.get(schedule=published)
    assert change.field == "item_added"
    assert change.after == other.product.name
    assert _changed_notices().count() == published.community.memberships.count()


def test_published_cutoff_extends_but_does_not_shorten(published, leader):
    later = published.cutoff + timedelta(minutes=30)
    _schedule_update(published, leader, cutoff=later, title="周末水果团（延长）")
    published.refresh_from_db()
    assert published.cutoff == later
    fields = set(ScheduleChange.objects.filter(schedule=published).values_list("field", flat=True))
    assert fields == {"cutoff", "title"}
    assert _changed_notices().count() == published.community.memberships.count()
    _refused("cutoff", _schedule_update, published, leader, cutoff=later - timedelta(minutes=1))


def test_published_sale_start_and_dates_cannot_change(published, leader):
    _refused(
        "sale_start",
        _schedule_update,
        published,
        leader,
        sale_start=published.sale_start - timedelta(hours=1),
    )
    _refused(
        "delivery_option",
        _schedule_update,
        published,
        leader,
        delivery_option="pickup_and_delivery",
        delivery_fee=Decimal("3.00"),
    )
    assert not ScheduleChange.objects.exists()
    assert not _changed_notices().exists()


def test_changes_are_refused_after_the_cutoff_before_the_close_task(
    published, leader, listed_offer
):
    now = timezone.now()
    Schedule.objects.filter(pk=published.pk).update(
        sale_start=now - timedelta(hours=2), cutoff=now - timedelta(minutes=1)
    )
    published.refresh_from_db()
    assert published.status == ScheduleStatus.PUBLISHED  # the task has not run
    item = published.items.get()
    with pytest.raises(DomainError):
        _item_update(item, leader, quantity_cap=80)
    with pytest.raises(DomainError):
        _schedule_update(published, leader, title="新标题")
    with pytest.raises(DomainError):
        services.schedule_item_add(
            schedule=published,
            actor=leader,
            offer=another_listed_offer(listed_offer),
            **item_fields(),
        )
    assert not services.schedule_is_open_for_orders(published)
    assert not ScheduleChange.objects.exists()


def test_draft_changes_are_not_logged(community, leader, listed_offer):
    schedule = make_schedule(community, leader, listed_offer)
    _schedule_update(
        schedule, leader, title="改个名字", cutoff=schedule.cutoff - timedelta(hours=1)
    )
    _item_update(schedule.items.get(), leader, member_price=Decimal("20.00"))
    assert not ScheduleChange.objects.exists()
    assert not _changed_notices().exists()


# Closing at the cut-off


def test_close_fails_items_below_their_minimum(published, leader, listed_offer):
    first = published.items.get()
    ScheduleItem.objects.filter(pk=first.pk).update(min_group_qty=10, reserved_qty=3)
    enough = services.schedule_item_add(
        schedule=published,
        actor=leader,
        offer=another_listed_offer(listed_offer),
        **item_fields(min_group_qty=10),
    )
    ScheduleItem.objects.filter(pk=enough.pk).update(reserved_qty=10)
    no_minimum = services.schedule_item_add(
        schedule=published,
        actor=leader,
        offer=another_listed_offer(listed_offer, name="丹东草莓"),
        **item_fields(),
    )
    failed = []

    def receiver(sender, item, **kwargs):
        failed.append(item.pk)

    services.schedule_item_failed.connect(receiver, weak=False)
    try:
        # Before the cut-off nothing closes.
        assert (
            services.schedule_close(
                schedule_id=published.pk, now=published.cutoff - timedelta(seconds=1)
            )
            is False
        )
        assert services.schedule_close(schedule_id=published.pk, now=published.cutoff) is True
        assert services.schedule_close(schedule_id=published.pk, now=published.cutoff) is False
    finally:
        services.schedule_item_failed.disconnect(receiver)
    assert failed == [first.pk]
    outcomes = dict(published.items.values_list("pk", "outcome"))
    assert outcomes == {
        first.pk: ItemOutcome.FAILED,
        enough.pk: ItemOutcome.CONFIRMED,
        no_minimum.pk: ItemOutcome.CONFIRMED,
    }
    published.refresh_from_db()
    assert published.status == ScheduleStatus.CLOSED
    assert published.closed_at == published.cutoff


def test_close_due_touches_only_due_published_schedules(community, leader, listed_offer):
    now = timezone.now()
    due, later, draft = (make_schedule(community, leader, listed_offer) for _ in range(3))
    for schedule in (due, later):
        services.schedule_publish(schedule=schedule, actor=leader)
    Schedule.objects.filter(pk__in=[due.pk, draft.pk]).update(
        sale_start=now - timedelta(hours=2), cutoff=now - timedelta(minutes=1)
    )
    assert services.schedules_close_due() == 1
    assert services.schedules_close_due() == 0
    statuses = dict(Schedule.objects.values_list("pk", "status"))
    assert statuses == {
        due.pk: ScheduleStatus.CLOSED,
        later.pk: ScheduleStatus.PUBLISHED,
        draft.pk: ScheduleStatus.DRAFT,
    }


def test_close_task_runs_the_service(community, leader, listed_offer):
    from scheduling.tasks import close_due_schedules

    schedule = make_schedule(community, leader, listed_offer)
    services.schedule_publish(schedule=schedule, actor=leader)
    now = timezone.now()
    Schedule.objects.filter(pk=schedule.pk).update(
        sale_start=now - timedelta(hours=2), cutoff=now - timedelta(minutes=1)
    )
    close_due_schedules()
    close_due_schedules()
    schedule.refresh_from_db()
    assert schedule.status == ScheduleStatus.CLOSED


# Cancel and duplicate


def test_cancel_requires_a_reason(published, leader):
    _refused("reason", services.schedule_cancel, schedule=published, actor=leader, reason="  ")
    services.schedule_cancel(schedule=published, actor=leader, reason="供货商缺货")
    published.refresh_from_db()
    assert published.status == ScheduleStatus.CANCELLED


def test_duplicate_copies_items_of_still_listed_offers(community, leader, listed_offer):
    schedule = make_schedule(community, leader, listed_offer, item={"highlight": "甜"})
    gone = another_listed_offer(listed_offer)
    services.schedule_item_add(schedule=schedule, actor=leader, offer=gone, **item_fields())
    services.schedule_publish(schedule=schedule, actor=leader)
    owner = gone.supplier.members.get(is_owner=True).user
    catalog_services.offer_withdraw(offer=gone, actor=owner)
    week = timedelta(days=7)
    copy = services.schedule_duplicate(
        schedule=schedule,
        actor=leader,
        sale_start=schedule.sale_start + week,
        cutoff=schedule.cutoff + week,
        arrival_date=schedule.arrival_date + week,
        pickup_start=schedule.pickup_start + week,
        pickup_end=schedule.pickup_end + week,
    )
    assert copy.status == ScheduleStatus.DRAFT
    assert copy.duplicated_from == schedule
    assert copy.title == schedule.title
    assert copy.cutoff == schedule.cutoff + week
    assert set(copy.pickup_points.all()) == set(schedule.pickup_points.all())
    item = copy.items.get()
    assert (item.offer, item.highlight, item.reserved_qty, item.outcome) == (
        listed_offer,
        "甜",
        0,
        ItemOutcome.OPEN,
    )
    assert copy.share_token != schedule.share_token


def test_duplicate_checks_the_new_timeline(published, leader):
    _refused(
        "cutoff",
        services.schedule_duplicate,
        schedule=published,
        actor=leader,
        cutoff=published.sale_start,
    )
    assert Schedule.objects.count() == 1


def test_reserved_never_exceeds_cap_in_the_database(published):
    from django.db import IntegrityError, transaction

    item = published.items.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        ScheduleItem.objects.filter(pk=item.pk).update(reserved_qty=F("quantity_cap") + 1)
