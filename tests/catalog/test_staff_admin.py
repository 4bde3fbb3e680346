"""The Django admin of the catalog: browsable and searchable, states read-only, and
transition buttons that run the same services as the staff pages."""

import pytest
from django.urls import reverse

from catalog import services
from catalog.models import Offer, OfferStatus
from groupbuy.selectors import state_changes_for
from tests.catalog.conftest import make_listed_offer, make_product, offer_terms
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(StaffFactory(is_superuser=True))
    return client


@pytest.fixture
def listed(approved_supplier, catalog_staff):
    return make_listed_offer(approved_supplier, catalog_staff)


@pytest.mark.parametrize("model", ["category", "product", "offer", "suppliercontract"])
def test_changelists_open_and_search(admin_client, listed, model):
    url = reverse(f"admin:catalog_{model}_changelist")
    assert admin_client.get(url).status_code == 200
    assert admin_client.get(url, {"q": "葡萄"}).status_code == 200


@pytest.mark.parametrize(
    ("model", "params"),
    [("offer", {"status__exact": "approved"}), ("suppliercontract", {"status__exact": "active"})],
)
def test_changelists_filter_by_status(admin_client, listed, model, params):
    response = admin_client.get(reverse(f"admin:catalog_{model}_changelist"), params)
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1


def test_offer_change_page_shows_status_read_only_with_service_transitions(admin_client, listed):
    response = admin_client.get(reverse("admin:catalog_offer_change", args=[listed.pk]))

    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="status"' not in body
    assert 'value="suspend"' in body  # the only staff decision on an approved offer
    assert 'value="withdraw"' not in body  # the supplier's, not the admin's
    # An approved offer never changes: its terms are read-only too.
    assert 'name="supply_price"' not in body


def test_contract_change_page_is_read_only_once_signed(admin_client, listed):
    contract = listed.supplier.contracts.get()
    response = admin_client.get(
        reverse("admin:catalog_suppliercontract_change", args=[contract.pk])
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="status"' not in body
    assert 'name="terms_text"' not in body
    assert 'value="terminate"' in body


def test_admin_approval_runs_the_service(admin_client, approved_supplier, supplier_owner):
    offer = services.offer_create(product=make_product(approved_supplier), **offer_terms())
    services.offer_submit(offer=offer, actor=supplier_owner)
    url = reverse("admin:catalog_offer_change", args=[offer.pk])

    admin_client.post(url, {"_fsm_transition_to": "approve"}, follow=True)

    offer.refresh_from_db()
    assert offer.status == OfferStatus.APPROVED
    change = state_changes_for(offer).last()
    assert (change.transition, change.to_state) == ("approve", "approved")
    assert change.actor is not None and change.actor.is_superuser
    assert supplier_owner.notifications.filter(kind="offer_approved").exists()
    assert approved_supplier.contracts.filter(status="pending_signature").count() == 1


def test_admin_suspension_asks_for_a_reason(admin_client, listed):
    change_url = reverse("admin:catalog_offer_change", args=[listed.pk])

    response = admin_client.post(change_url, {"_fsm_transition_to": "suspend"})
    assert response.status_code == 302
    form_url = response["Location"]
    assert admin_client.post(form_url, {"reason": ""}).status_code == 200  # form error
    assert Offer.objects.get(pk=listed.pk).status == OfferStatus.APPROVED

    admin_client.post(form_url, {"reason": "质检不合格"})
    listed.refresh_from_db()
    assert listed.status == OfferStatus.SUSPENDED
    assert listed.review_reason == "质检不合格"


def test_a_transition_without_a_service_is_refused(admin_client, listed):
    url = reverse("admin:catalog_offer_change", args=[listed.pk])

    admin_client.post(url, {"_fsm_transition_to": "withdraw"}, follow=True)

    assert Offer.objects.get(pk=listed.pk).status == OfferStatus.APPROVED


def test_offers_and_contracts_are_not_added_in_the_admin(admin_client):
    assert admin_client.get(reverse("admin:catalog_offer_add")).status_code == 403
    assert admin_client.get(reverse("admin:catalog_suppliercontract_add")).status_code == 403


def test_a_draft_offer_stays_editable(admin_client, approved_supplier):
    from catalog import services

    draft = services.offer_create(product=make_product(approved_supplier), **offer_terms())
    body = admin_client.get(reverse("admin:catalog_offer_change", args=[draft.pk])).content
    assert b'name="supply_price"' in body
    assert b'name="status"' not in body


def test_product_change_page_has_the_image_inline(admin_client, listed):
    response = admin_client.get(reverse("admin:catalog_product_change", args=[listed.product_id]))
    assert response.status_code == 200
    assert "images-TOTAL_FORMS" in response.content.decode()


def test_category_is_editable(admin_client):
    response = admin_client.get(reverse("admin:catalog_category_add"))
    assert response.status_code == 200
    assert 'name="code"' in response.content.decode()
