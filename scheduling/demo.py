"""A demo negotiation and a published schedule for the first community (seed_demo)."""

from datetime import datetime, time, timedelta

from django.utils import timezone

from catalog.selectors import listed_offers

from .models import Proposal, ProposalStatus, Schedule, Side
from .services import proposals, schedules

DEMO_TITLE = "本周鲜果蔬菜团"


def seed_scheduling(*, community) -> Schedule | None:
    """Safe to run again: does nothing once the demo schedule exists."""
    existing = Schedule.objects.filter(community=community, title=DEMO_TITLE).first()
    if existing is not None:
        return existing
    offers = list(listed_offers().select_related("product", "supplier").order_by("id")[:3])
    if not offers:
        return None
    tz = timezone.get_current_timezone()
    today = timezone.localdate()
    arrival = today + timedelta(days=2)
    leader = community.leader

    first = offers[0]
    proposal = Proposal.objects.filter(
        offer=first, community=community, status=ProposalStatus.ACCEPTED
    ).first()
    if proposal is None:
        opening = proposals.proposal_create(
            offer=first,
            community=community,
            leader=leader,
            delivery_date=arrival,
            quantity=first.min_order_qty * 4,
            unit_price=first.supply_price,
            note="周末团购，量大请给优惠",
        )
        supplier_user = first.supplier.members.get(is_owner=True).user
        counter = proposals.proposal_counter(
            proposal=opening,
            actor=supplier_user,
            side=Side.SUPPLIER,
            quantity=first.min_order_qty * 4,
            unit_price=first.supply_price,
            note="价格已是最低，可保证品质",
        )
        proposal = proposals.proposal_accept(proposal=counter, actor=leader, side=Side.LEADER)

    schedule = schedules.schedule_create(
        community=community,
        actor=leader,
        pickup_points=community.pickup_points.filter(is_active=True),
        title=DEMO_TITLE,
        sale_start=timezone.now() - timedelta(minutes=5),
        cutoff=datetime.combine(arrival - timedelta(days=1), time(23, 0), tzinfo=tz),
        arrival_date=arrival,
        pickup_start=datetime.combine(arrival, time(15, 0), tzinfo=tz),
        pickup_end=datetime.combine(arrival, time(20, 0), tzinfo=tz),
        notes="请带好购物袋，按时到自提点取货。",
        delivery_option="pickup",
        delivery_fee=0,
        allow_pay_at_pickup=True,
    )
    for position, offer in enumerate(offers):
        agreed = proposal if offer.pk == proposal.offer_id else None
        cap = agreed.quantity if agreed else offer.min_order_qty * 5
        schedules.schedule_item_add(
            schedule=schedule,
            actor=leader,
            offer=offer,
            proposal=agreed,
            member_price=offer.retail_price,
            quantity_cap=cap,
            per_member_limit=5,
            min_group_qty=offer.min_order_qty if position == 0 else 0,
            display_order=position,
            highlight="产地直发" if position == 0 else "",
        )
    return schedules.schedule_publish(schedule=schedule, actor=leader)
