"""Approving and rejecting in the admin runs the same services as the staff pages."""

import pytest
from django.urls import reverse

from accounts.models import ReviewStatus
from groupbuy.selectors import state_changes_for
from tests.admin_forms import change_form_data
from tests.factories import CommunityFactory, StaffFactory, SupplierFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(StaffFactory(is_superuser=True))
    return client


def test_admin_approves_a_supplier_through_the_service(admin_client):
    supplier = SupplierFactory()
    url = reverse("admin:accounts_supplierorganization_change", args=[supplier.pk])
    assert 'value="approve"' in admin_client.get(url).content.decode()

    admin_client.post(url, {**change_form_data(admin_client, url), "_fsm_transition_to": "approve"})

    supplier.refresh_from_db()
    assert supplier.status == ReviewStatus.APPROVED
    assert state_changes_for(supplier).filter(transition="approve").exists()
    owner = supplier.members.get().user
    assert owner.notifications.filter(kind="supplier_approved").exists()


def test_admin_rejection_needs_a_reason(admin_client):
    community = CommunityFactory(status=ReviewStatus.PENDING)
    url = reverse("admin:accounts_community_change", args=[community.pk])

    data = {**change_form_data(admin_client, url), "_fsm_transition_to": "reject"}
    form_url = admin_client.post(url, data)["Location"]
    admin_client.post(form_url, {"reason": ""})
    community.refresh_from_db()
    assert community.status == ReviewStatus.PENDING

    admin_client.post(form_url, {"reason": "自提点地址不完整"})
    community.refresh_from_db()
    assert community.status == ReviewStatus.REJECTED
    assert community.review_reason == "自提点地址不完整"
    assert community.leader.notifications.filter(kind="leader_rejected").exists()
