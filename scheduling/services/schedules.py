"""Schedules (团期): build, publish, adjust, close at the cut-off, complete or cancel."""

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.dispatch import Signal
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Community, PickupPoint, User
from catalog.models import Offer
from catalog.selectors import listed_offers
from groupbuy.exceptions import DomainError
from groupbuy.services import state_change_record
from notifications.services import notify

from ..models import (
    ItemOutcome,
    Proposal,
    ProposalStatus,
    Schedule,
    ScheduleChange,
    ScheduleItem,
    ScheduleStatus,
)

# Sent inside the closing transaction for each item that missed its minimum group
# quantity; the orders stage connects to refund and tell the item's orders.
schedule_item_failed = Signal()
# Sent inside the cancelling transaction; the orders stage cancels and refunds its orders.
schedule_cancelled = Signal()
# Asked whom a change concerns: a receiver returns the users to tell (the orders stage: the
# members holding orders of the schedule, or of the changed item) or None to tell everyone.
schedule_change_audience = Signal()

SCHEDULE_FIELDS = (
    "title",
    "sale_start",
    "cutoff",
    "arrival_date",
    "pickup_start",
    "pickup_end",
    "notes",
    "delivery_option",
    "delivery_fee",
    "allow_pay_at_pickup",
    "shortage_rule",
    "after_sales_hours",
)
ITEM_FIELDS = (
    "member_price",
    "quantity_cap",
    "per_member_limit",
    "min_group_qty",
    "display_order",
    "highlight",
)


def check_timeline(
    *,
    sale_start: datetime,
    cutoff: datetime,
    arrival_date,
    pickup_start: datetime,
    pickup_end: datetime,
    **_ignored,
) -> None:
    """sale start < cut-off <= arrival <= pickup start < pickup end (Asia/Shanghai days)."""
    if not sale_start < cutoff:
        raise DomainError(_("The cut-off must be after the sale starts."), field="cutoff")
    if timezone.localtime(cutoff).date() > arrival_date:
        raise DomainError(
            _("The goods must arrive on or after the cut-off day."), field="arrival_date"
        )
    if timezone.localtime(pickup_start).date() < arrival_date:
        raise DomainError(_("Pickup cannot start before the goods arrive."), field="pickup_start")
    if cutoff > pickup_start:
        raise DomainError(_("Pickup cannot start before the cut-off."), field="pickup_start")
    if not pickup_start < pickup_end:
        raise DomainError(_("The pickup window must end after it starts."), field="pickup_end")


def _check_pickup_points(community: Community, pickup_points) -> list[PickupPoint]:
    points = list(pickup_points)
    if not points:
        raise DomainError(_("Choose at least one pickup point."), field="pickup_points")
    if any(p.community_id != community.pk or not p.is_active for p in points):
        raise DomainError(_("Choose pickup points of this community."), field="pickup_points")
    return points


def _check_delivery(delivery_option: str, delivery_fee: Decimal) -> None:
    if delivery_fee < 0:
        raise DomainError(_("The delivery fee cannot be negative."), field="delivery_fee")


@transaction.atomic
def schedule_create(*, community: Community, actor: User, pickup_points, **fields) -> Schedule:
    check_timeline(**fields)
    _check_delivery(fields.get("delivery_option", ""), fields.get("delivery_fee", Decimal(0)))
    points = _check_pickup_points(community, pickup_points)
    schedule = Schedule.objects.create(
        community=community, **{key: fields[key] for key in SCHEDULE_FIELDS if key in fields}
    )
    schedule.pickup_points.set(points)
    state_change_record(
        subject=schedule,
        transition="create",
        from_state="",
        to_state=schedule.status,
        actor=actor,
    )
    return schedule


def _locked(schedule: Schedule) -> Schedule:
    return Schedule.objects.select_for_update().select_related("community").get(pk=schedule.pk)


def schedule_is_open_for_orders(schedule: Schedule, *, now: datetime | None = None) -> bool:
    """Published and within the sale window, whether or not the closing task has run."""
    now = now or timezone.now()
    return schedule.status == ScheduleStatus.PUBLISHED and schedule.sale_start <= now < (
        schedule.cutoff
    )


def _log(schedule, actor, field, before, after, item=None) -> None:
    ScheduleChange.objects.create(
        schedule=schedule,
        item=item,
        actor=actor,
        field=field,
        before=str(before)[:200],
        after=str(after)[:200],
    )


@transaction.atomic
def schedule_update(*, schedule: Schedule, actor: User, pickup_points, **fields) -> Schedule:
    """Drafts change freely; a published schedule may only extend its cut-off (up to the
    arrival day) and edit texts, each change recorded and members told."""
    schedule = _locked(schedule)
    if schedule.status not in (ScheduleStatus.DRAFT, ScheduleStatus.PUBLISHED):
        raise DomainError(_("A closed or cancelled schedule cannot change."))
    if schedule.status == ScheduleStatus.PUBLISHED and timezone.now() >= schedule.cutoff:
        raise DomainError(_("The cut-off has passed; this schedule no longer changes."))
    check_timeline(**fields)
    points = _check_pickup_points(schedule.community, pickup_points)
    published = schedule.status == ScheduleStatus.PUBLISHED
    if published:
        for key in (
            "sale_start",
            "arrival_date",
            "pickup_start",
            "pickup_end",
            "delivery_option",
            "delivery_fee",
            "allow_pay_at_pickup",
            "shortage_rule",
        ):
            if key in fields and fields[key] != getattr(schedule, key):
                raise DomainError(
                    _("This cannot change once the schedule is published."), field=key
                )
        if fields["cutoff"] < schedule.cutoff:
            raise DomainError(_("A published cut-off can only be extended."), field="cutoff")
        if set(points) != set(schedule.pickup_points.all()):
            raise DomainError(
                _("Pickup points cannot change once the schedule is published."),
                field="pickup_points",
            )
    changed = []
    for key in SCHEDULE_FIELDS:
        if key in fields and fields[key] != getattr(schedule, key):
            if published:
                _log(schedule, actor, key, getattr(schedule, key), fields[key])
            changed.append(key)
            setattr(schedule, key, fields[key])
    schedule.save()
    if not published:
        schedule.pickup_points.set(points)
    elif changed:
        _notify_change(schedule, actor)
    return schedule


def _item_terms(offer: Offer, proposal: Proposal | None, schedule: Schedule):
    if proposal is None:
        return offer.supply_price, None
    if (
        proposal.offer_id != offer.pk
        or proposal.status != ProposalStatus.ACCEPTED
        or proposal.community_id != schedule.community_id
    ):
        raise DomainError(_("Choose an accepted proposal for this offer."), field="proposal")
    return proposal.unit_price, proposal.quantity


def _check_item(fields: dict) -> None:
    if fields["member_price"] <= 0:
        raise DomainError(_("The member price must be positive."), field="member_price")
    if fields["quantity_cap"] < 1:
        raise DomainError(_("The cap must be at least 1."), field="quantity_cap")
    if not 1 <= fields["per_member_limit"] <= fields["quantity_cap"]:
        raise DomainError(
            _("The limit per member must be between 1 and the cap."), field="per_member_limit"
        )
    if fields["min_group_qty"] > fields["quantity_cap"]:
        raise DomainError(
            _("The minimum group quantity cannot exceed the cap."), field="min_group_qty"
        )


@transaction.atomic
def schedule_item_add(
    *,
    schedule: Schedule,
    actor: User,
    offer: Offer,
    proposal: Proposal | None = None,
    **fields,
) -> ScheduleItem:
    schedule = _locked(schedule)
    if schedule.status not in (ScheduleStatus.DRAFT, ScheduleStatus.PUBLISHED):
        raise DomainError(_("Items can only be added to a draft or published schedule."))
    if schedule.status == ScheduleStatus.PUBLISHED and timezone.now() >= schedule.cutoff:
        raise DomainError(_("The cut-off has passed; this schedule no longer changes."))
    if not listed_offers().filter(pk=offer.pk).exists():
        raise DomainError(_("This offer is not listed."), field="offer")
    if schedule.items.filter(offer=offer).exists():
        raise DomainError(_("This offer is already in the schedule."), field="offer")
    _check_item(fields)
    supply_price, agreed = _item_terms(offer, proposal, schedule)
    item = ScheduleItem.objects.create(
        schedule=schedule,
        offer=offer,
        proposal=proposal,
        supply_price=supply_price,
        agreed_quantity=agreed,
        **{key: fields[key] for key in ITEM_FIELDS if key in fields},
    )
    if schedule.status == ScheduleStatus.PUBLISHED:
        _log(schedule, actor, "item_added", "", offer.product.name, item=item)
        _notify_change(schedule, actor)
    return item


@transaction.atomic
def schedule_item_update(*, item: ScheduleItem, actor: User, **fields) -> ScheduleItem:
    item = ScheduleItem.objects.select_for_update().select_related("schedule").get(pk=item.pk)
    schedule = _locked(item.schedule)
    if schedule.status not in (ScheduleStatus.DRAFT, ScheduleStatus.PUBLISHED):
        raise DomainError(_("A closed or cancelled schedule cannot change."))
    _check_item(fields)
    published = schedule.status == ScheduleStatus.PUBLISHED
    if published:
        if timezone.now() >= schedule.cutoff:
            raise DomainError(_("The cut-off has passed; this schedule no longer changes."))
        if fields["member_price"] > item.member_price and item.reserved_qty:
            raise DomainError(
                _("The price cannot go up once members have ordered."), field="member_price"
            )
        if fields["quantity_cap"] < item.reserved_qty:
            raise DomainError(
                _("The cap cannot go below the %(n)s already reserved.") % {"n": item.reserved_qty},
                field="quantity_cap",
            )
    changed = False
    for key in ITEM_FIELDS:
        if key in fields and fields[key] != getattr(item, key):
            if published:
                _log(schedule, actor, key, getattr(item, key), fields[key], item=item)
            setattr(item, key, fields[key])
            changed = True
    item.save()
    if published and changed:
        _notify_change(schedule, actor, item)
    return item


@transaction.atomic
def schedule_item_remove(*, item: ScheduleItem, actor: User) -> None:
    schedule = _locked(item.schedule)
    if schedule.status != ScheduleStatus.DRAFT:
        raise DomainError(_("Items can only be removed from a draft."))
    item.delete()


@transaction.atomic
def schedule_duplicate(*, schedule: Schedule, actor: User, **timeline) -> Schedule:
    """A new draft with the same texts, pickup points and items (still listed offers)."""
    fields = {key: getattr(schedule, key) for key in SCHEDULE_FIELDS}
    fields.update(timeline)
    copy = schedule_create(
        community=schedule.community,
        actor=actor,
        pickup_points=schedule.pickup_points.filter(is_active=True),
        **fields,
    )
    copy.duplicated_from = schedule
    copy.save(update_fields=["duplicated_from"])
    listed = set(listed_offers().values_list("pk", flat=True))
    for item in schedule.items.select_related("offer"):
        if item.offer_id not in listed:
            continue
        ScheduleItem.objects.create(
            schedule=copy,
            offer=item.offer,
            supply_price=item.offer.supply_price,
            **{key: getattr(item, key) for key in ITEM_FIELDS},
        )
    return copy


def _transition(schedule: Schedule, name: str, actor: User | None, reason: str = "") -> None:
    from_state = schedule.status
    getattr(schedule, name)()
    schedule.save()
    state_change_record(
        subject=schedule,
        transition=name,
        from_state=from_state,
        to_state=schedule.status,
        actor=actor,
        reason=reason,
    )


def _members(schedule: Schedule):
    return User.objects.filter(memberships__community_id=schedule.community_id)


@transaction.atomic
def schedule_publish(*, schedule: Schedule, actor: User):
    schedule = _locked(schedule)
    if not schedule.items.exists():
        raise DomainError(_("Add at least one item before publishing."))
    if timezone.now() >= schedule.cutoff:
        raise DomainError(_("The cut-off has already passed."), field="cutoff")
    unlisted = schedule.items.exclude(offer__in=listed_offers()).select_related("offer__product")
    if unlisted:
        raise DomainError(
            _("No longer listed: %(names)s.")
            % {"names": ", ".join(item.offer.product.name for item in unlisted)}
        )
    _transition(schedule, "publish", actor)
    schedule.published_at = timezone.now()
    schedule.save(update_fields=["published_at"])
    notify(
        recipients=_members(schedule),
        kind="schedule_published",
        about=schedule,
        community=schedule.community,
        sender=actor,
        context={
            "title": schedule.title,
            "community_name": schedule.community.name,
            "cutoff": timezone.localtime(schedule.cutoff).strftime("%m-%d %H:%M"),
            "item_count": schedule.items.count(),
        },
        link=reverse("scheduling:member_schedule", args=[schedule.pk]),
    )
    return schedule


def _notify_change(schedule: Schedule, actor: User, item: ScheduleItem | None = None) -> None:
    # Members with orders are the ones a change concerns; until orders exist, everyone
    # who can see the schedule is told.
    audiences = [
        audience
        for _receiver, audience in schedule_change_audience.send(
            sender=Schedule, schedule=schedule, item=item
        )
        if audience is not None
    ]
    notify(
        recipients=audiences[0] if audiences else _members(schedule),
        kind="schedule_changed",
        about=schedule,
        community=schedule.community,
        sender=actor,
        context={"title": schedule.title},
        link=reverse("scheduling:member_schedule", args=[schedule.pk]),
    )


@transaction.atomic
def schedule_cancel(*, schedule: Schedule, actor: User, reason: str) -> Schedule:
    reason = reason.strip()
    if not reason:
        raise DomainError(_("Give a reason; members see it."), field="reason")
    schedule = _locked(schedule)
    _transition(schedule, "cancel", actor, reason)
    schedule_cancelled.send(sender=Schedule, schedule=schedule, actor=actor, reason=reason)
    return schedule


def schedule_close(*, schedule_id: int, now: datetime | None = None) -> bool:
    """Close one published schedule whose cut-off has passed; items below their minimum
    group quantity fail (``schedule_item_failed``). Idempotent and row-locked."""
    now = now or timezone.now()
    with transaction.atomic():
        schedule = (
            Schedule.objects.select_for_update(skip_locked=True)
            .filter(pk=schedule_id, status=ScheduleStatus.PUBLISHED, cutoff__lte=now)
            .first()
        )
        if schedule is None:
            return False
        _transition(schedule, "close", None)
        schedule.closed_at = now
        schedule.save(update_fields=["closed_at"])
        for item in schedule.items.select_for_update():
            failed = item.min_group_qty and item.reserved_qty < item.min_group_qty
            item.outcome = ItemOutcome.FAILED if failed else ItemOutcome.CONFIRMED
            item.save(update_fields=["outcome", "updated_at"])
            if failed:
                schedule_item_failed.send(sender=ScheduleItem, item=item)
        return True


def schedules_close_due(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    due = Schedule.objects.filter(status=ScheduleStatus.PUBLISHED, cutoff__lte=now)
    return sum(schedule_close(schedule_id=pk, now=now) for pk in due.values_list("pk", flat=True))


@transaction.atomic
def schedule_complete(*, schedule: Schedule, actor: User) -> Schedule:
    schedule = _locked(schedule)
    _transition(schedule, "complete", actor)
    return schedule
