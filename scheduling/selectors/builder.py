"""Reads of the schedule builder, scoped by the leader asking."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import PickupPoint, ReviewStatus, User
from catalog.models import Offer
from catalog.selectors import listed_offers
from notifications.models import Broadcast

from ..models import (
    CapacityCommitment,
    Proposal,
    ProposalStatus,
    Schedule,
    ScheduleChange,
    ScheduleItem,
    ScheduleStatus,
)

PUBLISHED_KIND = "schedule_published"


def schedules_for_leader(
    user: User, *, status: str | None = None, community_id: int | None = None
) -> QuerySet[Schedule]:
    """Schedules of every community the user leads, newest first, with their item count."""
    schedules = Schedule.objects.filter(
        community__leader=user, community__status=ReviewStatus.APPROVED
    )
    if status in ScheduleStatus.values:
        schedules = schedules.filter(status=status)
    if community_id:
        schedules = schedules.filter(community_id=community_id)
    return (
        schedules.select_related("community")
        .annotate(item_count=Count("items"))
        .order_by("-sale_start", "-id")
    )


def schedule_for_leader(user: User, schedule_id: int) -> Schedule:
    """One schedule of a community the user leads; any other answers 404."""
    return get_object_or_404(
        Schedule.objects.select_related("community").prefetch_related(
            Prefetch("pickup_points", queryset=PickupPoint.objects.order_by("id"))
        ),
        pk=schedule_id,
        community__leader=user,
        community__status=ReviewStatus.APPROVED,
    )


def schedule_item_for_leader(user: User, schedule_id: int, item_id: int) -> ScheduleItem:
    return get_object_or_404(
        ScheduleItem.objects.select_related("schedule__community", "offer__product", "proposal"),
        pk=item_id,
        schedule_id=schedule_id,
        schedule__community__leader=user,
        schedule__community__status=ReviewStatus.APPROVED,
    )


def schedule_items(schedule: Schedule) -> QuerySet[ScheduleItem]:
    return schedule.items.select_related("offer__product", "offer__supplier", "proposal").order_by(
        "display_order", "id"
    )


def offers_for_schedule() -> QuerySet[Offer]:
    """Listed offers a leader can add, by product name."""
    return listed_offers().select_related("product", "supplier").order_by("product__name", "id")


def proposals_for_schedule(schedule: Schedule) -> QuerySet[Proposal]:
    """Accepted proposals of the schedule's community whose offer is still listed; the ones
    agreed for the schedule's arrival day first."""
    return (
        Proposal.objects.filter(
            community_id=schedule.community_id,
            status=ProposalStatus.ACCEPTED,
            offer__in=listed_offers(),
        )
        .select_related("offer__product")
        .order_by("-delivery_date", "-id")
    )


def schedule_changes(schedule: Schedule) -> QuerySet[ScheduleChange]:
    return schedule.changes.select_related("actor", "item__offer__product").order_by(
        "-created_at", "-id"
    )


def published_broadcast(schedule: Schedule) -> Broadcast | None:
    """The notice sent to the community when the schedule was published (for coverage)."""
    if schedule.published_at is None:
        return None
    return (
        Broadcast.objects.filter(
            kind=PUBLISHED_KIND,
            content_type=ContentType.objects.get_for_model(Schedule),
            object_id=schedule.pk,
            reminder_of__isnull=True,
        )
        .order_by("-created_at", "-id")
        .first()
    )


# Economics and warnings


@dataclass
class ItemRow:
    item: ScheduleItem
    unit_margin: Decimal
    revenue: Decimal
    cost: Decimal
    margin: Decimal
    supply_limit: int | None  # agreed quantity, or what the supplier can still deliver
    warnings: list[str] = field(default_factory=list)


@dataclass
class Economics:
    rows: list[ItemRow]
    revenue: Decimal
    cost: Decimal
    margin: Decimal
    warning_count: int

    @property
    def margin_percent(self) -> Decimal | None:
        if not self.revenue:
            return None
        return (self.margin * 100 / self.revenue).quantize(Decimal("0.1"))


def _remaining_capacity(items: list[ScheduleItem], day: date) -> dict[int, int]:
    """Per offer, what the supplier can still promise for ``day`` (one query)."""
    offer_ids = {item.offer_id for item in items}
    remaining = {item.offer_id: item.offer.daily_capacity for item in items}
    if offer_ids:
        for commitment in CapacityCommitment.objects.filter(
            offer_id__in=offer_ids, delivery_date=day
        ):
            remaining[commitment.offer_id] = commitment.remaining
    return remaining


def _warnings(item: ScheduleItem, schedule: Schedule, remaining: dict[int, int], today: date):
    offer = item.offer
    warnings = []
    supply_limit = None
    if item.proposal_id is not None and item.agreed_quantity is not None:
        supply_limit = item.agreed_quantity
        if item.quantity_cap > item.agreed_quantity:
            warnings.append(
                _("The cap (%(cap)s) is more than the agreed quantity (%(agreed)s).")
                % {"cap": item.quantity_cap, "agreed": item.agreed_quantity}
            )
        if item.proposal and item.proposal.delivery_date != schedule.arrival_date:
            warnings.append(
                _("The proposal was agreed for delivery on %(day)s, not the arrival date.")
                % {"day": item.proposal.delivery_date.isoformat()}
            )
    else:
        supply_limit = remaining.get(item.offer_id, offer.daily_capacity)
        if item.quantity_cap > supply_limit:
            warnings.append(
                _(
                    "The cap (%(cap)s) is more than the supplier can still deliver "
                    "on the arrival date (%(available)s)."
                )
                % {"cap": item.quantity_cap, "available": supply_limit}
            )
    if str(schedule.arrival_date.weekday()) not in offer.delivery_weekdays:
        warnings.append(_("The supplier does not deliver on the arrival date's weekday."))
    still_open = schedule.status in (ScheduleStatus.DRAFT, ScheduleStatus.PUBLISHED)
    if still_open and (schedule.arrival_date - today).days < offer.lead_time_days:
        warnings.append(
            _("The supplier needs %(days)s day(s) of lead time; the arrival date is too soon.")
            % {"days": offer.lead_time_days}
        )
    return supply_limit, warnings


def schedule_economics(
    schedule: Schedule, items: list[ScheduleItem] | None = None, *, today: date | None = None
) -> Economics:
    """Unit margins, expected revenue/cost/margin if every cap sells, and per-item warnings.

    ``items`` should come from ``schedule_items`` (offer and proposal joined); the only
    further query reads the capacity commitments of the arrival day.
    """
    if items is None:
        items = list(schedule_items(schedule))
    today = today or timezone.localdate()
    remaining = _remaining_capacity(items, schedule.arrival_date)
    rows = []
    for item in items:
        supply_limit, warnings = _warnings(item, schedule, remaining, today)
        revenue = item.member_price * item.quantity_cap
        cost = item.supply_price * item.quantity_cap
        rows.append(
            ItemRow(
                item=item,
                unit_margin=item.unit_margin,
                revenue=revenue,
                cost=cost,
                margin=revenue - cost,
                supply_limit=supply_limit,
                warnings=warnings,
            )
        )
    revenue = sum((row.revenue for row in rows), Decimal("0.00"))
    cost = sum((row.cost for row in rows), Decimal("0.00"))
    return Economics(
        rows=rows,
        revenue=revenue,
        cost=cost,
        margin=revenue - cost,
        warning_count=sum(len(row.warnings) for row in rows),
    )


def change_field_labels() -> list[tuple[str, str]]:
    """Labels of the fields a ScheduleChange names."""
    from django.utils.translation import gettext as _

    from ..models import ScheduleItem
    from ..services.schedules import ITEM_FIELDS, SCHEDULE_FIELDS

    labels = [(name, Schedule._meta.get_field(name).verbose_name) for name in SCHEDULE_FIELDS]
    labels += [(name, ScheduleItem._meta.get_field(name).verbose_name) for name in ITEM_FIELDS]
    return [*labels, ("item_added", _("Item added"))]
