"""Platform staff review queues and decisions."""

import pytest
from django.urls import reverse

from accounts.models import Membership, ReviewStatus
from groupbuy.models import StateChange
from tests.accounts.utils import by_testid, field_errors
from tests.factories import CommunityFactory, SupplierFactory

pytestmark = pytest.mark.django_db

KINDS = {
    "supplier": {
        "factory": lambda: SupplierFactory(name="待审公司"),
        "detail": "accounts:staff_supplier",
        "approve": "accounts:staff_supplier_approve",
        "reject": "accounts:staff_supplier_reject",
        "queue": "accounts:staff_suppliers",
        "table": "supplier-queue",
    },
    "community": {
        "factory": lambda: CommunityFactory(name="待审小区", status=ReviewStatus.PENDING),
        "detail": "accounts:staff_leader",
        "approve": "accounts:staff_leader_approve",
        "reject": "accounts:staff_leader_reject",
        "queue": "accounts:staff_leaders",
        "table": "leader-queue",
    },
}


@pytest.fixture(params=list(KINDS))
def kind(request):
    return KINDS[request.param]


@pytest.mark.parametrize("reason", ["", "   "])
def test_reject_with_empty_reason_shows_error_and_keeps_status(client, staff, kind, reason):
    obj = kind["factory"]()
    audit_rows = StateChange.objects.count()
    client.force_login(staff)

    response = client.post(reverse(kind["reject"], args=[obj.pk]), {"reason": reason})

    assert response.status_code == 200
    assert field_errors(response, "reason") == ["Give a reason for the rejection."]
    # The decision form is still offered.
    assert 'data-testid="decision"' in response.content.decode()
    obj.refresh_from_db()
    assert obj.status == ReviewStatus.PENDING
    assert StateChange.objects.count() == audit_rows


def test_reject_with_reason(client, staff, kind):
    obj = kind["factory"]()
    client.force_login(staff)

    response = client.post(reverse(kind["reject"], args=[obj.pk]), {"reason": "资料不全"})

    assert response.status_code == 302
    assert response["Location"] == reverse(kind["queue"])
    obj.refresh_from_db()
    assert obj.status == ReviewStatus.REJECTED
    assert obj.review_reason == "资料不全"
    assert obj.reviewed_by == staff
    detail = client.get(reverse(kind["detail"], args=[obj.pk]))
    history = by_testid(detail, "history")
    assert "资料不全" in history
    assert str(staff) in history
    assert 'data-testid="decision"' not in detail.content.decode()


def test_approve(client, staff, kind):
    obj = kind["factory"]()
    client.force_login(staff)

    response = client.post(reverse(kind["approve"], args=[obj.pk]), follow=True)

    assert response.redirect_chain == [(reverse(kind["queue"]), 302)]
    assert f"Approved {obj.name}." in response.content.decode()
    obj.refresh_from_db()
    assert obj.status == ReviewStatus.APPROVED
    assert obj.reviewed_by == staff
    change = StateChange.objects.filter(object_id=obj.pk, transition="approve").get()
    assert change.actor == staff


def test_approving_a_community_makes_its_leader_a_member(client, staff):
    community = CommunityFactory(status=ReviewStatus.PENDING)
    client.force_login(staff)

    client.post(reverse("accounts:staff_leader_approve", args=[community.pk]))

    assert Membership.objects.filter(user=community.leader, community=community).exists()


def test_queue_shows_pending_by_default_and_filters_by_status(client, staff, kind):
    pending = kind["factory"]()
    client.force_login(staff)
    queue_url = reverse(kind["queue"])

    body = by_testid(client.get(queue_url), kind["table"])
    assert pending.name in body

    client.post(reverse(kind["reject"], args=[pending.pk]), {"reason": "不符合"})

    assert pending.name not in by_testid(client.get(queue_url), kind["table"])
    rejected_page = client.get(queue_url, {"status": "rejected"})
    assert pending.name in by_testid(rejected_page, kind["table"])
    # An unknown status falls back to the pending queue.
    junk = client.get(queue_url, {"status": "bogus"})
    assert junk.status_code == 200
    assert pending.name not in by_testid(junk, kind["table"])


def test_staff_home_counts_pending_work(client, staff):
    SupplierFactory()
    SupplierFactory()
    SupplierFactory(status=ReviewStatus.APPROVED)
    CommunityFactory(status=ReviewStatus.PENDING)
    CommunityFactory()
    client.force_login(staff)

    response = client.get(reverse("accounts:staff_home"))

    assert by_testid(response, "pending-suppliers").split()[0] == "2"
    assert by_testid(response, "pending-leaders").split()[0] == "1"


def test_supplier_detail_shows_registration_and_history(client, staff):
    supplier = SupplierFactory(licence_number="91310000MA1FL1XQ2K")
    client.force_login(staff)

    response = client.get(reverse("accounts:staff_supplier", args=[supplier.pk]))

    assert "91310000MA1FL1XQ2K" in by_testid(response, "supplier-details")
    assert by_testid(response, "history").strip()
    assert 'data-testid="decision"' in response.content.decode()
