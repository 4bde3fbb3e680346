"""Supplier offer pages: create and edit with errors in place, warnings, submit, revise,
withdraw, delete, history, status tabs, permissions and the list's query budget."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog import services
from catalog.models import Offer, OfferStatus
from groupbuy.models import StateChange
from tests.accounts.utils import by_testid, field_errors
from tests.catalog.conftest import make_listed_offer, make_product, offer_terms
from tests.factories import SupplierFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("catalog:supplier_offers")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def owner_client(client, supplier_owner):
    client.force_login(supplier_owner)
    return client


@pytest.fixture
def draft(product):
    return services.offer_create(product=product, **offer_terms())


def _create_url(product):
    return reverse("catalog:supplier_offer_create", args=[product.pk])


def _url(name, offer):
    return reverse(f"catalog:{name}", args=[offer.pk])


def _form_data(**overrides):
    today = timezone.localdate()
    data = {
        "supply_price": "10.00",
        "retail_price": "15.80",
        "min_order_qty": "12",
        "case_size": "6",
        "daily_capacity": "300",
        "lead_time_days": "1",
        "delivery_weekdays": ["0", "2", "4", "6"],
        "valid_from": today.isoformat(),
        "valid_until": (today + timedelta(days=30)).isoformat(),
        "notes": "冷链配送",
    }
    data.update(overrides)
    return data


def _messages(response, level):
    return [str(m) for m in response.context["messages"] if m.level_tag == level]


# Create


def test_create_form_page(owner_client, product):
    response = owner_client.get(_create_url(product))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="offer-form"' in body
    assert 'type="checkbox" name="delivery_weekdays" value="6"' in body
    assert "Sunday" in body


def test_create_offer_saves_a_draft(owner_client, product):
    response = owner_client.post(_create_url(product), _form_data())

    offer = Offer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == _url("supplier_offer", offer)
    assert offer.status == OfferStatus.DRAFT
    assert offer.product == product
    assert offer.supplier == product.supplier
    assert str(offer.supply_price) == "10.00"
    assert str(offer.retail_price) == "15.80"
    assert offer.delivery_weekdays == "0246"
    assert offer.notes == "冷链配送"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("supply_price", "10.005"),  # three decimals
        ("supply_price", "0"),
        ("supply_price", "-1"),
        ("retail_price", "0.00"),
        ("retail_price", "abc"),
        ("supply_price", "123456789.00"),  # more than 10 digits
        ("min_order_qty", "0"),
        ("case_size", "0"),
        ("daily_capacity", ""),
        ("lead_time_days", "-1"),
        ("valid_from", "2026-02-30"),
        ("delivery_weekdays", []),
        ("delivery_weekdays", ["7"]),
    ],
)
def test_create_with_bad_field_shows_error_in_place_and_saves_nothing(
    owner_client, product, field, value
):
    response = owner_client.post(_create_url(product), _form_data(**{field: value}))

    assert response.status_code == 200
    assert field_errors(response, field), f"no error shown next to {field}"
    assert not Offer.objects.exists()


def test_error_texts(owner_client, product):
    today = timezone.localdate()
    response = owner_client.post(
        _create_url(product),
        _form_data(
            supply_price="10.005",
            retail_price="0",
            valid_until=(today - timedelta(days=1)).isoformat(),
            delivery_weekdays=[],
        ),
    )

    assert field_errors(response, "supply_price") == [
        "Ensure that there are no more than 2 decimal places."
    ]
    assert field_errors(response, "retail_price") == [
        "Ensure this value is greater than or equal to 0.01."
    ]
    assert field_errors(response, "valid_until") == ["The validity must end on or after its start."]
    assert field_errors(response, "delivery_weekdays") == ["Choose at least one delivery day."]
    assert not Offer.objects.exists()


def test_valid_until_before_valid_from(owner_client, product):
    today = timezone.localdate()
    response = owner_client.post(
        _create_url(product),
        _form_data(
            valid_from=today.isoformat(), valid_until=(today - timedelta(days=1)).isoformat()
        ),
    )
    assert field_errors(response, "valid_until")
    assert not field_errors(response, "valid_from")
    assert not Offer.objects.exists()


def test_capacity_below_minimum_order_is_refused_by_the_service_in_place(owner_client, product):
    response = owner_client.post(
        _create_url(product), _form_data(min_order_qty="50", case_size="10", daily_capacity="20")
    )
    assert field_errors(response, "daily_capacity") == [
        "The daily capacity must be at least the minimum order quantity."
    ]
    assert not Offer.objects.exists()


def test_retail_below_supply_saves_with_a_warning(owner_client, product):
    response = owner_client.post(
        _create_url(product), _form_data(supply_price="12.00", retail_price="9.90"), follow=True
    )

    offer = Offer.objects.get()
    assert offer.retail_price < offer.supply_price
    warnings = _messages(response, "warning")
    assert any("below the supply price" in text for text in warnings)
    assert 'data-testid="message-warning"' in response.content.decode()
    assert by_testid(response, "margin").strip() == "¥-2.10 (-21.2%)"


def test_minimum_order_not_whole_cases_warns(owner_client, product):
    response = owner_client.post(
        _create_url(product), _form_data(min_order_qty="10", case_size="6"), follow=True
    )
    assert Offer.objects.exists()
    assert any("rounded up to 12" in text for text in _messages(response, "warning"))


def test_no_warning_for_sound_terms(owner_client, product):
    response = owner_client.post(_create_url(product), _form_data(), follow=True)
    assert _messages(response, "warning") == []


# Detail


def test_detail_shows_terms_margin_and_actions_of_a_draft(owner_client, draft):
    response = owner_client.get(_url("supplier_offer", draft))

    body = response.content.decode()
    assert by_testid(response, "status").strip() == "Draft"
    assert by_testid(response, "margin").strip() == "¥5.00 (33.3%)"
    for testid in ("edit-offer", "submit-offer", "delete-offer"):
        assert f'data-testid="{testid}"' in body
    for testid in ("withdraw-offer", "revise-offer"):
        assert f'data-testid="{testid}"' not in body


# Edit


def test_edit_draft(owner_client, draft):
    url = _url("supplier_offer_edit", draft)
    page = owner_client.get(url)
    assert page.status_code == 200
    assert 'value="10.00"' in page.content.decode()

    response = owner_client.post(url, _form_data(supply_price="11.50", delivery_weekdays=["1"]))

    draft.refresh_from_db()
    assert response.status_code == 302
    assert str(draft.supply_price) == "11.50"
    assert draft.delivery_weekdays == "1"


def test_edit_with_errors_changes_nothing(owner_client, draft):
    response = owner_client.post(
        _url("supplier_offer_edit", draft), _form_data(supply_price="0", retail_price="1.234")
    )

    assert field_errors(response, "supply_price")
    assert field_errors(response, "retail_price")
    draft.refresh_from_db()
    assert str(draft.supply_price) == "10.00"


def test_edit_of_a_submitted_offer_is_refused(owner_client, draft, supplier_owner):
    services.offer_submit(offer=draft, actor=supplier_owner)
    url = _url("supplier_offer_edit", draft)

    page = owner_client.get(url)
    assert page.status_code == 302
    assert page["Location"] == _url("supplier_offer", draft)

    response = owner_client.post(url, _form_data(supply_price="1.00"), follow=True)
    draft.refresh_from_db()
    assert str(draft.supply_price) == "10.00"
    assert draft.status == OfferStatus.SUBMITTED
    assert _messages(response, "error")


def test_changes_requested_shows_reason_and_can_be_edited_and_resubmitted(
    owner_client, draft, supplier_owner, catalog_staff
):
    services.offer_submit(offer=draft, actor=supplier_owner)
    services.offer_request_changes(offer=draft, actor=catalog_staff, reason="请补充冷链说明")

    detail = owner_client.get(_url("supplier_offer", draft))
    assert "请补充冷链说明" in by_testid(detail, "review-reason")
    assert 'data-testid="edit-offer"' in detail.content.decode()

    edit = owner_client.post(_url("supplier_offer_edit", draft), _form_data(notes="全程冷链"))
    assert edit.status_code == 302
    owner_client.post(_url("supplier_offer_submit", draft))
    draft.refresh_from_db()
    assert draft.status == OfferStatus.SUBMITTED
    assert draft.notes == "全程冷链"


def test_rejected_offer_shows_reason(owner_client, draft, supplier_owner, catalog_staff):
    services.offer_submit(offer=draft, actor=supplier_owner)
    services.offer_reject(offer=draft, actor=catalog_staff, reason="价格过高")

    response = owner_client.get(_url("supplier_offer", draft))

    assert "价格过高" in by_testid(response, "review-reason")
    assert 'data-testid="edit-offer"' not in response.content.decode()


# Submit


def test_submit_records_history(owner_client, draft, supplier_owner):
    response = owner_client.post(_url("supplier_offer_submit", draft), follow=True)

    draft.refresh_from_db()
    assert draft.status == OfferStatus.SUBMITTED
    assert draft.submitted_at is not None
    change = StateChange.objects.get(object_id=draft.pk, transition="submit")
    assert (change.from_state, change.to_state, change.actor) == (
        "draft",
        "submitted",
        supplier_owner,
    )
    assert "Submitted for review" in by_testid(response, "history")
    assert _messages(response, "success")


def test_submit_with_past_validity_is_refused_with_a_message(owner_client, product):
    past = timezone.localdate() - timedelta(days=10)
    offer = services.offer_create(
        product=product, **offer_terms(valid_from=past, valid_until=past + timedelta(days=1))
    )

    response = owner_client.post(_url("supplier_offer_submit", offer), follow=True)

    offer.refresh_from_db()
    assert offer.status == OfferStatus.DRAFT
    assert any("validity has already ended" in text for text in _messages(response, "error"))


def test_submit_twice_is_refused_with_a_message(owner_client, draft):
    owner_client.post(_url("supplier_offer_submit", draft))
    response = owner_client.post(_url("supplier_offer_submit", draft), follow=True)
    assert response.status_code == 200
    assert _messages(response, "error")
    assert StateChange.objects.filter(object_id=draft.pk, transition="submit").count() == 1


def test_actions_need_post(owner_client, draft):
    for name in (
        "supplier_offer_submit",
        "supplier_offer_withdraw",
        "supplier_offer_revise",
        "supplier_offer_delete",
    ):
        assert owner_client.get(_url(name, draft)).status_code == 405
    draft.refresh_from_db()
    assert draft.status == OfferStatus.DRAFT


# Revise, withdraw, delete


def test_revise_an_approved_offer(owner_client, approved_supplier, catalog_staff):
    approved = make_listed_offer(approved_supplier, catalog_staff)
    detail = owner_client.get(_url("supplier_offer", approved)).content.decode()
    assert 'data-testid="revise-offer"' in detail
    assert 'data-testid="withdraw-offer"' in detail
    assert 'data-testid="edit-offer"' not in detail

    response = owner_client.post(_url("supplier_offer_revise", approved))

    revision = Offer.objects.get(revision_of=approved)
    assert response.status_code == 302
    assert response["Location"] == _url("supplier_offer_edit", revision)
    assert revision.status == OfferStatus.DRAFT
    assert revision.supply_price == approved.supply_price
    approved.refresh_from_db()
    assert approved.status == OfferStatus.APPROVED

    # Edit the revision; the approved one is untouched and links to it.
    owner_client.post(_url("supplier_offer_edit", revision), _form_data(supply_price="9.50"))
    approved.refresh_from_db()
    assert str(approved.supply_price) == "10.00"
    approved_page = owner_client.get(_url("supplier_offer", approved)).content.decode()
    assert 'data-testid="revisions"' in approved_page
    assert f'href="{_url("supplier_offer", revision)}"' in approved_page
    revision_page = owner_client.get(_url("supplier_offer", revision)).content.decode()
    assert 'data-testid="revision-of"' in revision_page
    assert _url("supplier_offer", approved) in revision_page

    # A second click opens the same open revision.
    again = owner_client.post(_url("supplier_offer_revise", approved))
    assert again["Location"] == _url("supplier_offer_edit", revision)
    assert Offer.objects.filter(revision_of=approved).count() == 1


def test_approving_the_revision_supersedes_the_old_offer(
    owner_client, approved_supplier, supplier_owner, catalog_staff
):
    approved = make_listed_offer(approved_supplier, catalog_staff)
    owner_client.post(_url("supplier_offer_revise", approved))
    revision = Offer.objects.get(revision_of=approved)
    owner_client.post(_url("supplier_offer_submit", revision))
    services.offer_approve(offer=revision, actor=catalog_staff)

    response = owner_client.get(_url("supplier_offer", approved))

    assert by_testid(response, "status").strip() == "Superseded"
    assert 'data-testid="revise-offer"' not in response.content.decode()


def test_revise_a_draft_is_refused(owner_client, draft):
    response = owner_client.post(_url("supplier_offer_revise", draft), follow=True)
    assert _messages(response, "error")
    assert not Offer.objects.filter(revision_of=draft).exists()


def test_withdraw_an_approved_offer(owner_client, approved_supplier, catalog_staff, supplier_owner):
    approved = make_listed_offer(approved_supplier, catalog_staff)

    response = owner_client.post(_url("supplier_offer_withdraw", approved), follow=True)

    approved.refresh_from_db()
    assert approved.status == OfferStatus.WITHDRAWN
    change = StateChange.objects.get(object_id=approved.pk, transition="withdraw")
    assert change.actor == supplier_owner
    assert by_testid(response, "status").strip() == "Withdrawn"


def test_withdraw_a_draft_is_refused(owner_client, draft):
    response = owner_client.post(_url("supplier_offer_withdraw", draft), follow=True)
    draft.refresh_from_db()
    assert draft.status == OfferStatus.DRAFT
    assert _messages(response, "error")


def test_delete_draft(owner_client, draft, product):
    response = owner_client.post(_url("supplier_offer_delete", draft))
    assert response.status_code == 302
    assert response["Location"] == reverse("catalog:supplier_product", args=[product.pk])
    assert not Offer.objects.exists()


def test_delete_submitted_offer_is_refused(owner_client, draft, supplier_owner):
    services.offer_submit(offer=draft, actor=supplier_owner)
    response = owner_client.post(_url("supplier_offer_delete", draft), follow=True)
    assert Offer.objects.filter(pk=draft.pk).exists()
    assert _messages(response, "error") == ["Only a draft can be deleted."]


# List


def test_list_with_status_tabs(owner_client, product, supplier_owner):
    first = services.offer_create(product=product, **offer_terms())
    services.offer_create(product=product, **offer_terms())
    services.offer_submit(offer=first, actor=supplier_owner)

    everything = owner_client.get(LIST_URL)
    submitted = owner_client.get(LIST_URL, {"status": "submitted"})
    junk = owner_client.get(LIST_URL, {"status": "nonsense"})

    assert everything.content.decode().count('data-testid="offer-row"') == 2
    assert submitted.content.decode().count('data-testid="offer-row"') == 1
    assert junk.content.decode().count('data-testid="offer-row"') == 2
    assert 'aria-current="page" data-testid="filter-submitted"' in submitted.content.decode()
    assert by_testid(everything, "filter-draft").split() == ["Draft", "1"]


def test_list_shows_only_own_offers(owner_client, draft):
    other = SupplierFactory(status="approved")
    services.offer_create(product=make_product(other), **offer_terms())
    response = owner_client.get(LIST_URL)
    assert response.content.decode().count('data-testid="offer-row"') == 1


def test_list_prompts_to_sign_a_pending_contract(owner_client, approved_supplier, catalog_staff):
    services.contract_issue(supplier=approved_supplier, actor=catalog_staff)
    response = owner_client.get(LIST_URL)
    assert 'data-testid="contract-to-sign"' in response.content.decode()


def test_list_queries_do_not_grow_with_rows(owner_client, approved_supplier, settings):
    settings.PAGINATE_BY = 50

    def add(n):
        for _ in range(n):
            services.offer_create(product=make_product(approved_supplier), **offer_terms())

    def count():
        assert owner_client.get(LIST_URL).status_code == 200
        with CaptureQueriesContext(connection) as captured:
            body = owner_client.get(LIST_URL).content.decode()
        return len(captured), body.count('data-testid="offer-row"')

    add(3)
    few, rows = count()
    assert rows == 3
    add(27)
    many, rows = count()
    assert rows == 30
    assert few == many, f"{few} queries for 3 rows but {many} for 30"


# Permissions


def _offer_requests(offer):
    return [
        ("get", _url("supplier_offer", offer)),
        ("get", _url("supplier_offer_edit", offer)),
        ("post", _url("supplier_offer_edit", offer)),
        ("post", _url("supplier_offer_submit", offer)),
        ("post", _url("supplier_offer_withdraw", offer)),
        ("post", _url("supplier_offer_revise", offer)),
        ("post", _url("supplier_offer_delete", offer)),
    ]


def test_another_supplier_gets_404_and_changes_nothing(client, draft):
    client.force_login(SupplierFactory(status="approved").members.get().user)

    for method, url in _offer_requests(draft):
        if method == "post":
            response = client.post(url, _form_data(supply_price="1.00"))
        else:
            response = client.get(url)
        assert response.status_code == 404, (method, url)

    draft.refresh_from_db()
    assert draft.status == OfferStatus.DRAFT
    assert str(draft.supply_price) == "10.00"


def test_another_supplier_cannot_withdraw_or_revise_an_approved_offer(
    client, approved_supplier, catalog_staff
):
    approved = make_listed_offer(approved_supplier, catalog_staff)
    client.force_login(SupplierFactory(status="approved").members.get().user)

    assert client.post(_url("supplier_offer_withdraw", approved)).status_code == 404
    assert client.post(_url("supplier_offer_revise", approved)).status_code == 404
    approved.refresh_from_db()
    assert approved.status == OfferStatus.APPROVED
    assert not approved.revisions.exists()


def test_user_without_supplier_role_gets_403(client, member, draft):
    client.force_login(member)
    for method, url in [("get", LIST_URL), *_offer_requests(draft)]:
        assert getattr(client, method)(url).status_code == 403, (method, url)
    draft.refresh_from_db()
    assert draft.status == OfferStatus.DRAFT


def test_anonymous_is_sent_to_log_in(client, draft):
    for method, url in [("get", LIST_URL), *_offer_requests(draft)]:
        response = getattr(client, method)(url)
        assert response.status_code == 302, (method, url)
        assert response["Location"].startswith(reverse("account_login"))
    assert Offer.objects.filter(pk=draft.pk, status=OfferStatus.DRAFT).exists()
