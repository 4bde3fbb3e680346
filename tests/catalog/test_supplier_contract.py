"""The supplier's contract pages: list, detail, signing, printable page and PDF."""

import pytest
from django.urls import reverse

from catalog import services
from catalog.models import ContractStatus, SupplierContract
from groupbuy.models import StateChange
from tests.accounts.utils import by_testid, field_errors
from tests.catalog.conftest import make_listed_offer
from tests.factories import SupplierFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("catalog:supplier_contracts")


@pytest.fixture
def owner_client(client, supplier_owner):
    client.force_login(supplier_owner)
    return client


@pytest.fixture
def contract(approved_supplier, catalog_staff):
    return services.contract_issue(supplier=approved_supplier, actor=catalog_staff)


def _url(name, contract):
    return reverse(f"catalog:{name}", args=[contract.pk])


def _sign(client, contract, **overrides):
    data = {"typed_name": "王小明", "agreed": "on"}
    data.update(overrides)
    return client.post(_url("supplier_contract", contract), {k: v for k, v in data.items() if v})


def test_list(owner_client, contract):
    response = owner_client.get(LIST_URL)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count('data-testid="contract-row"') == 1
    assert _url("supplier_contract", contract) in body


def test_list_is_empty_before_the_first_approval(owner_client):
    response = owner_client.get(LIST_URL)
    assert 'data-testid="empty"' in response.content.decode()


def test_detail_shows_terms_and_sign_form_while_pending(owner_client, contract):
    response = owner_client.get(_url("supplier_contract", contract))

    body = response.content.decode()
    assert response.status_code == 200
    assert by_testid(response, "status").strip() == "Waiting for signature"
    assert contract.terms_version in body
    assert "供货义务" in by_testid(response, "contract-terms")
    assert "5.00%" in by_testid(response, "contract-details")
    assert 'data-testid="sign-form"' in body
    assert 'data-testid="sign-contract"' in body
    assert "Not signed yet." in by_testid(response, "signature")


def test_issued_with_the_first_approved_offer(owner_client, approved_supplier, catalog_staff):
    make_listed_offer(approved_supplier, catalog_staff)  # signs the contract as well
    contract = SupplierContract.objects.get(supplier=approved_supplier)
    response = owner_client.get(_url("supplier_contract", contract))
    assert by_testid(response, "status").strip() == "Active"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"typed_name": ""}, "typed_name", "Type your full name to sign."),
        ({"typed_name": "   "}, "typed_name", "Type your full name to sign."),
        ({"agreed": ""}, "agreed", "Tick the box to agree to the contract."),
    ],
)
def test_sign_without_name_or_agreement_shows_error_and_stays_pending(
    owner_client, contract, overrides, field, message
):
    response = _sign(owner_client, contract, **overrides)

    assert response.status_code == 200
    assert field_errors(response, field) == [message]
    contract.refresh_from_db()
    assert contract.status == ContractStatus.PENDING_SIGNATURE
    assert contract.signed_at is None
    assert contract.signed_name == ""


def test_sign_without_both_shows_both_errors(owner_client, contract):
    response = owner_client.post(_url("supplier_contract", contract), {})
    assert field_errors(response, "typed_name")
    assert field_errors(response, "agreed")


def test_sign(owner_client, contract, supplier_owner):
    response = _sign(owner_client, contract, typed_name="  王小明 ")

    assert response.status_code == 302
    assert response["Location"] == _url("supplier_contract", contract)
    contract.refresh_from_db()
    assert contract.status == ContractStatus.ACTIVE
    assert contract.signed_by == supplier_owner
    assert contract.signed_name == "王小明"
    assert contract.signed_at is not None
    assert contract.signed_ip == "127.0.0.1"
    assert StateChange.objects.filter(object_id=contract.pk, transition="sign").exists()

    page = owner_client.get(response["Location"])
    assert "王小明" in by_testid(page, "signature")
    assert "127.0.0.1" in by_testid(page, "signature")
    assert 'data-testid="sign-form"' not in page.content.decode()


def test_signing_twice_is_refused_with_a_message(owner_client, contract):
    _sign(owner_client, contract)
    contract.refresh_from_db()
    signed_at = contract.signed_at

    response = owner_client.post(
        _url("supplier_contract", contract), {"typed_name": "李四", "agreed": "on"}, follow=True
    )

    contract.refresh_from_db()
    assert contract.signed_name == "王小明"
    assert contract.signed_at == signed_at
    assert [m for m in response.context["messages"] if m.level_tag == "error"]


def test_print_page_shows_the_signer(owner_client, contract):
    _sign(owner_client, contract)

    response = owner_client.get(_url("supplier_contract_print", contract))

    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="contract-print"' in body
    assert "王小明" in by_testid(response, "signed-name")
    assert by_testid(response, "signed-ip").strip() == "127.0.0.1"
    assert contract.supplier.name in body
    assert 'class="topbar"' not in body  # no dashboard chrome on paper


def test_pdf_download(owner_client, contract):
    _sign(owner_client, contract)

    response = owner_client.get(_url("supplier_contract_pdf", contract))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="contract-{contract.pk}.pdf"'
    assert response.content.startswith(b"%PDF")
    assert b"STSong-Light" in response.content  # the CJK font, so Chinese renders


def test_pdf_of_an_unsigned_contract(owner_client, contract):
    response = owner_client.get(_url("supplier_contract_pdf", contract))
    assert response.content.startswith(b"%PDF")


def _contract_requests(contract):
    return [
        ("get", _url("supplier_contract", contract)),
        ("post", _url("supplier_contract", contract)),
        ("get", _url("supplier_contract_print", contract)),
        ("get", _url("supplier_contract_pdf", contract)),
    ]


def test_another_supplier_gets_404_and_cannot_sign(client, contract):
    client.force_login(SupplierFactory(status="approved").members.get().user)

    for method, url in _contract_requests(contract):
        if method == "post":
            response = client.post(url, {"typed_name": "外人", "agreed": "on"})
        else:
            response = client.get(url)
        assert response.status_code == 404, (method, url)

    contract.refresh_from_db()
    assert contract.status == ContractStatus.PENDING_SIGNATURE


def test_user_without_supplier_role_gets_403(client, member, contract):
    client.force_login(member)
    for method, url in [("get", LIST_URL), *_contract_requests(contract)]:
        assert getattr(client, method)(url).status_code == 403, (method, url)


def test_anonymous_is_sent_to_log_in(client, contract):
    for method, url in [("get", LIST_URL), *_contract_requests(contract)]:
        response = getattr(client, method)(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


def test_sidebar_links(owner_client):
    body = owner_client.get(LIST_URL).content.decode()
    for name in ("supplier_products", "supplier_offers", "supplier_contracts"):
        assert f'href="{reverse("catalog:" + name)}"' in body
