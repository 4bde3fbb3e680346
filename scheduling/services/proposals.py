"""Negotiation between a leader and a supplier about one offer and delivery date."""

from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Community, ReviewStatus, User
from catalog.models import Offer
from catalog.selectors import listed_offers
from groupbuy.exceptions import DomainError
from groupbuy.services import state_change_record
from notifications.services import notify

from ..models import CapacityCommitment, Proposal, Side


def check_terms(*, offer: Offer, delivery_date: date, quantity: int, unit_price: Decimal) -> None:
    """Refuse a quantity, price or day the offer cannot take."""
    if unit_price <= 0:
        raise DomainError(_("The unit price must be positive."), field="unit_price")
    if quantity < offer.min_order_qty:
        raise DomainError(
            _("The minimum order is %(moq)s.") % {"moq": offer.min_order_qty}, field="quantity"
        )
    if quantity % offer.case_size:
        raise DomainError(
            _("Order whole cases of %(size)s.") % {"size": offer.case_size}, field="quantity"
        )
    if quantity > offer.daily_capacity:
        raise DomainError(
            _("The supplier delivers at most %(capacity)s per day.")
            % {"capacity": offer.daily_capacity},
            field="quantity",
        )
    if not offer.valid_from <= delivery_date <= offer.valid_until:
        raise DomainError(_("The offer is not valid on that day."), field="delivery_date")
    if str(delivery_date.weekday()) not in offer.delivery_weekdays:
        raise DomainError(_("The supplier does not deliver on that day."), field="delivery_date")
    earliest = timezone.localdate().toordinal() + offer.lead_time_days
    if delivery_date.toordinal() < earliest:
        raise DomainError(
            _("The supplier needs %(days)s days to prepare.") % {"days": offer.lead_time_days},
            field="delivery_date",
        )


def _notify(proposal: Proposal, *, kind: str, to_side: str, actor: User) -> None:
    if to_side == Side.SUPPLIER:
        recipients = User.objects.filter(supplier_membership__supplier=proposal.supplier)
        link = reverse("scheduling:supplier_proposal", args=[proposal.thread_id or proposal.pk])
    else:
        recipients = User.objects.filter(pk=proposal.leader_id)
        link = reverse("scheduling:leader_proposal", args=[proposal.thread_id or proposal.pk])
    notify(
        recipients=recipients,
        kind=kind,
        about=proposal,
        sender=actor,
        context={
            "product_name": proposal.offer.product.name,
            "quantity": proposal.quantity,
            "unit_price": str(proposal.unit_price),
            "delivery_date": proposal.delivery_date.isoformat(),
            "reason": proposal.decline_reason,
        },
        link=link,
    )


def _record(proposal: Proposal, name: str, from_state: str, actor: User, reason: str = ""):
    state_change_record(
        subject=proposal,
        transition=name,
        from_state=from_state,
        to_state=proposal.status,
        actor=actor,
        reason=reason,
    )


@transaction.atomic
def proposal_create(
    *,
    offer: Offer,
    community: Community,
    leader: User,
    delivery_date: date,
    quantity: int,
    unit_price: Decimal,
    note: str = "",
) -> Proposal:
    """The leader opens a negotiation on a listed offer."""
    if community.leader_id != leader.pk or community.status != ReviewStatus.APPROVED:
        raise DomainError(_("You do not lead this community."))
    if not listed_offers().filter(pk=offer.pk).exists():
        raise DomainError(_("This offer is no longer listed."))
    check_terms(offer=offer, delivery_date=delivery_date, quantity=quantity, unit_price=unit_price)
    proposal = Proposal.objects.create(
        offer=offer,
        supplier=offer.supplier,
        leader=leader,
        community=community,
        proposed_by=Side.LEADER,
        author=leader,
        delivery_date=delivery_date,
        quantity=quantity,
        unit_price=unit_price,
        note=note.strip(),
    )
    _record(proposal, "propose", "", leader)
    _notify(proposal, kind="proposal_received", to_side=Side.SUPPLIER, actor=leader)
    return proposal


def _locked(proposal: Proposal) -> Proposal:
    return (
        # of=("self",): lock only the proposal; the capacity update guards the offer's day.
        Proposal.objects.select_for_update(of=("self",))
        .select_related("offer", "offer__product")
        .get(pk=proposal.pk)
    )


def _require_turn(proposal: Proposal, side: str) -> None:
    if proposal.awaiting != side:
        raise DomainError(_("It is the other side's turn to answer this proposal."))


@transaction.atomic
def proposal_counter(
    *,
    proposal: Proposal,
    actor: User,
    side: str,
    quantity: int,
    unit_price: Decimal,
    note: str = "",
) -> Proposal:
    """Answer an open proposal with other quantity or price; the other side answers next."""
    proposal = _locked(proposal)
    _require_turn(proposal, side)
    check_terms(
        offer=proposal.offer,
        delivery_date=proposal.delivery_date,
        quantity=quantity,
        unit_price=unit_price,
    )
    from_state = proposal.status
    proposal.counter()
    proposal.decided_at = timezone.now()
    proposal.save()
    _record(proposal, "counter", from_state, actor)
    counter = Proposal.objects.create(
        offer=proposal.offer,
        supplier=proposal.supplier,
        leader=proposal.leader,
        community=proposal.community,
        thread_id=proposal.thread_id or proposal.pk,
        parent=proposal,
        proposed_by=side,
        author=actor,
        delivery_date=proposal.delivery_date,
        quantity=quantity,
        unit_price=unit_price,
        note=note.strip(),
    )
    _record(counter, "propose", "", actor)
    other = Side.LEADER if side == Side.SUPPLIER else Side.SUPPLIER
    _notify(counter, kind="proposal_countered", to_side=other, actor=actor)
    return counter


def capacity_commit(*, offer: Offer, delivery_date: date, quantity: int) -> CapacityCommitment:
    """Add to the day's committed quantity, or refuse: one conditional UPDATE, so
    concurrent acceptances by different leaders can never pass the capacity together."""
    try:
        with transaction.atomic():
            CapacityCommitment.objects.get_or_create(
                offer=offer,
                delivery_date=delivery_date,
                defaults={"capacity": offer.daily_capacity},
            )
    except IntegrityError:
        pass  # created by a concurrent acceptance
    updated = CapacityCommitment.objects.filter(
        offer=offer,
        delivery_date=delivery_date,
        committed__lte=F("capacity") - quantity,
    ).update(committed=F("committed") + quantity)
    commitment = CapacityCommitment.objects.get(offer=offer, delivery_date=delivery_date)
    if not updated:
        raise DomainError(
            _("Only %(remaining)s left for that day; the supplier cannot promise more.")
            % {"remaining": commitment.remaining},
            field="quantity",
        )
    return commitment


@transaction.atomic
def proposal_accept(*, proposal: Proposal, actor: User, side: str) -> Proposal:
    proposal = _locked(proposal)
    _require_turn(proposal, side)
    from_state = proposal.status
    proposal.accept()
    proposal.decided_at = timezone.now()
    capacity_commit(
        offer=proposal.offer, delivery_date=proposal.delivery_date, quantity=proposal.quantity
    )
    proposal.save()
    _record(proposal, "accept", from_state, actor)
    _notify(proposal, kind="proposal_accepted", to_side=proposal.proposed_by, actor=actor)
    return proposal


@transaction.atomic
def proposal_decline(*, proposal: Proposal, actor: User, side: str, reason: str) -> Proposal:
    reason = reason.strip()
    if not reason:
        raise DomainError(_("Give a reason; the other side sees it."), field="reason")
    proposal = _locked(proposal)
    _require_turn(proposal, side)
    from_state = proposal.status
    proposal.decline()
    proposal.decline_reason = reason
    proposal.decided_at = timezone.now()
    proposal.save()
    _record(proposal, "decline", from_state, actor, reason)
    _notify(proposal, kind="proposal_declined", to_side=proposal.proposed_by, actor=actor)
    return proposal


@transaction.atomic
def proposal_withdraw(*, proposal: Proposal, actor: User, side: str) -> Proposal:
    """The side that made an open proposal takes it back."""
    proposal = _locked(proposal)
    if proposal.proposed_by != side:
        raise DomainError(_("Only the side that made a proposal can withdraw it."))
    from_state = proposal.status
    proposal.withdraw()
    proposal.decided_at = timezone.now()
    proposal.save()
    _record(proposal, "withdraw", from_state, actor)
    _notify(proposal, kind="proposal_withdrawn", to_side=proposal.awaiting, actor=actor)
    return proposal
