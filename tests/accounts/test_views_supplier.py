"""Supplier registration, its review status page and the supplier's team page."""

import pytest
from django.urls import reverse

from accounts.models import ReviewStatus, SupplierMember, SupplierOrganization
from tests.accounts.utils import by_testid, field_errors
from tests.factories import StaffFactory, SupplierFactory, UserFactory

pytestmark = pytest.mark.django_db

REGISTER_URL = reverse("accounts:supplier_register")
STATUS_URL = reverse("accounts:supplier_status")
HOME_URL = reverse("accounts:supplier_home")


def _registration(**overrides):
    data = {
        "name": "鲜果供应链有限公司",
        "licence_number": "91310000MA1FL1XQ2K",
        "contact_name": "李四",
        "contact_phone": "+8613900009999",
        "address": "上海市闵行区 1 号",
    }
    data.update(overrides)
    return data


def _nothing_saved(user, suppliers_before):
    assert SupplierOrganization.objects.count() == suppliers_before
    assert not SupplierMember.objects.filter(user=user).exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("contact_phone", "13900009999"),  # not international format
        ("contact_phone", "+86 139 0000"),
        ("licence_number", "91310000"),  # too short
        ("licence_number", "91310000MA1FL1XQ2K99"),  # too long
        ("licence_number", "913100-00MA1FL1XQ"),  # not letters and digits
        ("name", ""),
    ],
)
def test_register_with_bad_field_shows_error_next_to_it(client, member, field, value):
    before = SupplierOrganization.objects.count()
    client.force_login(member)

    response = client.post(REGISTER_URL, _registration(**{field: value}))

    assert response.status_code == 200
    assert field_errors(response, field), f"no error shown next to {field}"
    _nothing_saved(member, before)


def test_too_short_licence_error_text(client, member):
    client.force_login(member)
    response = client.post(REGISTER_URL, _registration(licence_number="ABC123"))
    assert field_errors(response, "licence_number") == [
        "A licence number has 15 to 18 letters and digits (18 for a unified code)."
    ]


def test_invalid_phone_error_text(client, member):
    client.force_login(member)
    response = client.post(REGISTER_URL, _registration(contact_phone="12345"))
    assert field_errors(response, "contact_phone") == [
        "Enter a phone number in international format, e.g. +8613800138000."
    ]


def test_duplicate_licence_shows_error_next_to_licence(client, member):
    SupplierFactory(licence_number="91310000MA1FL1XQ2K")
    before = SupplierOrganization.objects.count()
    client.force_login(member)

    # Lower case and padded: the same licence once normalised.
    response = client.post(REGISTER_URL, _registration(licence_number=" 91310000ma1fl1xq2k "))

    assert response.status_code == 200
    errors = field_errors(response, "licence_number")
    assert errors
    assert any("already" in error for error in errors)
    _nothing_saved(member, before)


def test_register_happy_path_shows_pending_status(client, member):
    client.force_login(member)

    response = client.post(REGISTER_URL, _registration(licence_number="91310000ma1fl1xq2k"))

    assert response.status_code == 302
    assert response["Location"] == STATUS_URL
    supplier = SupplierOrganization.objects.get()
    assert supplier.licence_number == "91310000MA1FL1XQ2K"
    assert supplier.members.get().user == member
    status_page = client.get(STATUS_URL)
    assert status_page.status_code == 200
    assert by_testid(status_page, "status").strip() == "Pending review"
    assert "鲜果供应链有限公司" in by_testid(status_page, "supplier-status")
    # Not approved yet: no supplier dashboard.
    assert client.get(HOME_URL).status_code == 403


def test_staff_approval_opens_the_supplier_dashboard(client, member):
    client.force_login(member)
    client.post(REGISTER_URL, _registration())
    supplier = SupplierOrganization.objects.get()
    staff = StaffFactory()

    client.force_login(staff)
    response = client.post(reverse("accounts:staff_supplier_approve", args=[supplier.pk]))
    assert response.status_code == 302

    client.force_login(member)
    home = client.get(HOME_URL)
    assert home.status_code == 200
    assert "鲜果供应链有限公司" in home.content.decode()
    # The status page now forwards to the dashboard.
    status_page = client.get(STATUS_URL)
    assert status_page.status_code == 302
    assert status_page["Location"] == HOME_URL


def test_register_page_forwards_existing_supplier_to_status(client):
    owner = SupplierFactory().members.get().user
    client.force_login(owner)

    assert client.get(REGISTER_URL)["Location"] == STATUS_URL
    response = client.post(REGISTER_URL, _registration(licence_number="91310000MA00000001"))
    assert response.status_code == 302
    assert response["Location"] == STATUS_URL
    assert SupplierOrganization.objects.count() == 1


def test_register_requires_login(client):
    response = client.get(REGISTER_URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_rejected_registration_shows_reason_and_owner_resubmits(client):
    supplier = SupplierFactory(status=ReviewStatus.REJECTED)
    owner = supplier.members.get().user
    client.force_login(owner)

    page = client.get(STATUS_URL)
    assert "营业执照模糊" in page.content.decode()

    response = client.post(
        STATUS_URL,
        {
            "name": "改正后的公司",
            "contact_name": "王五",
            "contact_phone": "+8613900007777",
            "address": "新地址",
        },
    )

    assert response.status_code == 302
    supplier.refresh_from_db()
    assert supplier.status == ReviewStatus.PENDING
    assert supplier.name == "改正后的公司"


def test_resubmit_with_bad_phone_shows_error_and_keeps_rejection(client):
    supplier = SupplierFactory(status=ReviewStatus.REJECTED)
    client.force_login(supplier.members.get().user)

    response = client.post(
        STATUS_URL,
        {"name": "改正后的公司", "contact_name": "王五", "contact_phone": "123", "address": "x"},
    )

    assert response.status_code == 200
    assert field_errors(response, "contact_phone")
    supplier.refresh_from_db()
    assert supplier.status == ReviewStatus.REJECTED
    assert supplier.name != "改正后的公司"


def test_colleague_cannot_resubmit_through_the_status_page(client):
    supplier = SupplierFactory(status=ReviewStatus.REJECTED)
    colleague = UserFactory()
    SupplierMember.objects.create(supplier=supplier, user=colleague, is_owner=False)
    client.force_login(colleague)

    response = client.post(
        STATUS_URL,
        {
            "name": "改正后的公司",
            "contact_name": "王五",
            "contact_phone": "+8613900007777",
            "address": "x",
        },
    )

    # Refused by the service; the page (which shows no form to a colleague) is re-rendered.
    assert response.status_code == 200
    supplier.refresh_from_db()
    assert supplier.status == ReviewStatus.REJECTED


# Team


def test_owner_adds_colleague(client, supplier, supplier_user):
    colleague = UserFactory(display_name="新同事")
    client.force_login(supplier_user)

    response = client.post(reverse("accounts:supplier_member_add"), {"login": colleague.phone})

    assert response.status_code == 302
    assert response["Location"] == HOME_URL
    assert SupplierMember.objects.get(user=colleague).supplier == supplier
    assert "新同事" in by_testid(client.get(HOME_URL), "supplier-team")


def test_adding_unknown_login_shows_field_error(client, supplier, supplier_user):
    client.force_login(supplier_user)

    response = client.post(reverse("accounts:supplier_member_add"), {"login": "+8613800000000"})

    assert response.status_code == 200
    assert any("No account" in error for error in field_errors(response, "login"))
    assert supplier.members.count() == 1


def test_colleague_sees_dashboard_but_cannot_add(client, supplier):
    colleague = UserFactory()
    SupplierMember.objects.create(supplier=supplier, user=colleague, is_owner=False)
    newcomer = UserFactory()
    client.force_login(colleague)

    home = client.get(HOME_URL)
    assert home.status_code == 200
    assert 'name="login"' not in home.content.decode()

    response = client.post(reverse("accounts:supplier_member_add"), {"login": newcomer.phone})
    assert response.status_code == 200
    assert not SupplierMember.objects.filter(user=newcomer).exists()
