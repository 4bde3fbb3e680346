"""seed_demo loads every role's data, prints the log-ins and is safe to run again."""

from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import Community, Membership, ReviewStatus, SupplierOrganization, User
from catalog.models import Offer, OfferStatus, Product, SupplierContract
from catalog.selectors import listed_offers
from fulfillment.models import AfterSalesRequest, PurchaseOrder, Review, ShortageAllocation
from orders.models import Order, OrderStatus
from scheduling.models import Proposal, ProposalStatus, Schedule, ScheduleStatus

pytestmark = pytest.mark.django_db


def _counts():
    return {
        "users": User.objects.count(),
        "suppliers": SupplierOrganization.objects.count(),
        "communities": Community.objects.count(),
        "memberships": Membership.objects.count(),
        "products": Product.objects.count(),
        "offers": Offer.objects.count(),
        "contracts": SupplierContract.objects.count(),
        "schedules": Schedule.objects.count(),
        "proposals": Proposal.objects.count(),
        "orders": Order.objects.count(),
        "purchase_orders": PurchaseOrder.objects.count(),
        "after_sales": AfterSalesRequest.objects.count(),
    }


def test_seed_demo_is_complete_and_idempotent(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    out = StringIO()
    call_command("seed_demo", stdout=out)
    first = _counts()
    call_command("seed_demo", stdout=StringIO())
    assert _counts() == first

    text = out.getvalue()
    for login in ("staff@tuangou.local", "supplier1@tuangou.local", "leader1@tuangou.local"):
        assert login in text
    assert "+8613800000001" in text

    assert User.objects.filter(is_staff=True).exists()
    assert SupplierOrganization.objects.filter(status=ReviewStatus.APPROVED).count() == 2
    assert SupplierOrganization.objects.filter(status=ReviewStatus.PENDING).count() == 1
    assert Community.objects.filter(status=ReviewStatus.APPROVED).count() == 2
    assert Community.objects.filter(status=ReviewStatus.PENDING).count() == 1
    assert User.objects.filter(phone__startswith="+86138000000").count() == 20

    states = set(Offer.objects.values_list("status", flat=True))
    assert {
        OfferStatus.APPROVED,
        OfferStatus.SUBMITTED,
        OfferStatus.REJECTED,
        OfferStatus.CHANGES_REQUESTED,
        OfferStatus.DRAFT,
    } <= states
    assert listed_offers().count() == 4  # approved offers of suppliers with signed contracts
    assert all(product.images.exists() for product in Product.objects.all())

    schedule = Schedule.objects.get(status=ScheduleStatus.PUBLISHED)
    assert schedule.items.count() == 3
    assert schedule.items.filter(proposal__status=ProposalStatus.ACCEPTED).count() == 1

    # Orders in every early state on the live round.
    assert set(schedule.orders.values_list("status", flat=True)) == {
        OrderStatus.PENDING_PAYMENT,
        OrderStatus.PAID,
        OrderStatus.CONFIRMED,
    }
    # Last week's round went through every fulfilment step.
    past = Schedule.objects.get(status=ScheduleStatus.CLOSED)
    assert set(past.purchase_orders.values_list("status", flat=True)) == {"received"}
    assert ShortageAllocation.objects.filter(purchase_line__purchase_order__schedule=past).exists()
    assert set(past.orders.values_list("status", flat=True)) == {
        OrderStatus.READY_FOR_PICKUP,
        OrderStatus.PICKED_UP,
    }
    assert past.pickup_notices.get().broadcast.notifications.count() == 3
    assert Review.objects.count() == 1
    assert AfterSalesRequest.objects.get().status == "submitted"
