"""Every read of the negotiation pages, scoped by who is asking.

A thread is identified by its first proposal: counters point at it through ``thread``. A
leader sees only proposals she made or received (``leader=user``); a supplier only those on
its own offers (``supplier=supplier``). Anything else answers 404.
"""

from datetime import date, timedelta

from django.db.models import (
    Count,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import SupplierOrganization, User
from catalog.models import Offer

from ..models import CapacityCommitment, Proposal, ProposalStatus


def default_delivery_date(offer: Offer, *, today: date | None = None) -> date | None:
    """The first day the supplier delivers once the lead time has passed, within validity."""
    today = today or timezone.localdate()
    day = max(today + timedelta(days=offer.lead_time_days), offer.valid_from)
    while day <= offer.valid_until:
        if str(day.weekday()) in offer.delivery_weekdays:
            return day
        day += timedelta(days=1)
    return None


def _thread_items(root_ref) -> QuerySet[Proposal]:
    return Proposal.objects.filter(Q(pk=root_ref) | Q(thread_id=root_ref))


def _threads(proposals: QuerySet[Proposal], *, status: str = "") -> QuerySet[Proposal]:
    """First proposals of threads, each annotated with the latest step of its thread."""
    latest = _thread_items(OuterRef("pk")).order_by("-created_at", "-id")
    counters = (
        Proposal.objects.filter(thread_id=OuterRef("pk"))
        .order_by()
        .values("thread_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    threads = proposals.filter(thread__isnull=True).annotate(
        latest_id=Subquery(latest.values("pk")[:1]),
        latest_status=Subquery(latest.values("status")[:1]),
        latest_proposed_by=Subquery(latest.values("proposed_by")[:1]),
        latest_quantity=Subquery(latest.values("quantity")[:1]),
        latest_unit_price=Subquery(latest.values("unit_price")[:1]),
        latest_at=Subquery(latest.values("created_at")[:1]),
        step_count=Coalesce(Subquery(counters, output_field=IntegerField()), Value(0)) + Value(1),
    )
    if status in ProposalStatus.values:
        threads = threads.filter(latest_status=status)
    return threads.select_related("offer__product", "community", "supplier", "leader").order_by(
        "-latest_at", "-id"
    )


# Leaders


def threads_for_leader(user: User, *, status: str = "") -> QuerySet[Proposal]:
    return _threads(Proposal.objects.filter(leader=user), status=status)


def thread_root_for_leader(user: User, thread_id: int) -> Proposal:
    return get_object_or_404(Proposal, pk=thread_id, thread__isnull=True, leader=user)


def proposal_for_leader(user: User, proposal_id: int) -> Proposal:
    return get_object_or_404(Proposal, pk=proposal_id, leader=user)


# Suppliers


def threads_for_supplier(supplier: SupplierOrganization, *, status: str = "") -> QuerySet[Proposal]:
    return _threads(Proposal.objects.filter(supplier=supplier), status=status)


def thread_root_for_supplier(supplier: SupplierOrganization, thread_id: int) -> Proposal:
    return get_object_or_404(Proposal, pk=thread_id, thread__isnull=True, supplier=supplier)


def proposal_for_supplier(supplier: SupplierOrganization, proposal_id: int) -> Proposal:
    return get_object_or_404(Proposal, pk=proposal_id, supplier=supplier)


# Both sides


def thread_steps(root: Proposal) -> list[Proposal]:
    """Every step of the thread, oldest first, with who proposed what."""
    return list(
        _thread_items(root.pk)
        .select_related("offer__product", "supplier", "leader", "community", "author")
        .order_by("created_at", "id")
    )


def open_step(steps: list[Proposal]) -> Proposal | None:
    """The proposal waiting for an answer, if any (at most one per thread)."""
    for step in reversed(steps):
        if step.status == ProposalStatus.PROPOSED:
            return step
    return None


def capacity_for_day(offer: Offer, delivery_date: date) -> CapacityCommitment | None:
    return CapacityCommitment.objects.filter(offer=offer, delivery_date=delivery_date).first()


def upcoming_capacity_for_offer(offer: Offer, *, today: date | None = None):
    today = today or timezone.localdate()
    return CapacityCommitment.objects.filter(offer=offer, delivery_date__gte=today).order_by(
        "delivery_date"
    )


def capacity_for_supplier(
    supplier: SupplierOrganization,
    *,
    offer_id: int | None = None,
    today: date | None = None,
) -> QuerySet[CapacityCommitment]:
    """Committed vs capacity per offer and upcoming delivery day, with the quantity still
    under negotiation (open proposals) for the same day."""
    today = today or timezone.localdate()
    pending = (
        Proposal.objects.filter(
            offer_id=OuterRef("offer_id"),
            delivery_date=OuterRef("delivery_date"),
            status=ProposalStatus.PROPOSED,
        )
        .order_by()
        .values("offer_id")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    rows = CapacityCommitment.objects.filter(
        offer__supplier=supplier, delivery_date__gte=today
    ).annotate(
        pending=Coalesce(Subquery(pending, output_field=IntegerField()), Value(0)),
    )
    if offer_id:
        rows = rows.filter(offer_id=offer_id)
    return rows.select_related("offer__product").order_by("delivery_date", "offer_id")


def capacity_offers_for_supplier(supplier: SupplierOrganization) -> QuerySet[Offer]:
    """Offers of the supplier with upcoming commitments, for the capacity page's filter."""
    today = timezone.localdate()
    return (
        Offer.objects.filter(supplier=supplier, capacity_commitments__delivery_date__gte=today)
        .select_related("product")
        .distinct()
        .order_by("id")
    )
