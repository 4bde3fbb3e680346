"""Sign-up and log-in by phone + SMS code through allauth, and e-mail + password."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.urls import reverse

from accounts.adapter import AccountAdapter
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()
PHONE = "+8613712345678"
SIGNUP_URL = reverse("account_signup")
VERIFY_URL = reverse("account_verify_phone")
REQUEST_CODE_URL = reverse("account_request_login_code")
CONFIRM_CODE_URL = reverse("account_confirm_login_code")


def _code_from(message) -> str:
    codes = re.findall(r"(?<!\d)\d{6}(?!\d)", message.text)
    assert len(codes) == 1, message.text
    return codes[0]


def _signed_in_user(client):
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


# Sign-up


def test_sign_up_by_phone_sends_code_and_verifies(client, sms_outbox):
    assert VERIFY_URL == "/accounts/phone/verify/"
    response = client.post(SIGNUP_URL, {"phone": PHONE})

    assert response.status_code == 302
    assert response["Location"] == VERIFY_URL
    (message,) = sms_outbox
    assert message.phone == PHONE
    assert message.purpose == "verification_code"
    code = _code_from(message)
    user = User.objects.get(phone=PHONE)
    assert not user.phone_verified
    assert user.email is None
    assert _signed_in_user(client) is None

    response = client.post(VERIFY_URL, {"code": code})

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    user.refresh_from_db()
    assert user.phone_verified
    assert _signed_in_user(client) == user
    # Signed in as a member: home forwards to the member pages.
    home = client.get(reverse("home"))
    assert home["Location"] == reverse("accounts:member_home")
    assert client.get(home["Location"]).status_code == 200


def test_sign_up_remembers_the_language_in_use(client, sms_outbox):
    client.post(SIGNUP_URL, {"phone": PHONE}, HTTP_ACCEPT_LANGUAGE="en")
    assert User.objects.get(phone=PHONE).preferred_language == "en"
    assert "verification code" in sms_outbox[0].text


def test_sign_up_with_wrong_code_does_not_log_in(client, sms_outbox):
    client.post(SIGNUP_URL, {"phone": PHONE})
    code = _code_from(sms_outbox[0])

    response = client.post(VERIFY_URL, {"code": _wrong(code)})

    assert response.status_code == 200
    assert response.context["form"].errors["code"]
    assert _signed_in_user(client) is None
    assert not User.objects.get(phone=PHONE).phone_verified


@pytest.mark.parametrize("phone", ["13712345678", "+86 abc", ""])
def test_sign_up_with_invalid_phone_creates_nobody(client, sms_outbox, phone):
    response = client.post(SIGNUP_URL, {"phone": phone})

    assert response.status_code == 200
    assert response.context["form"].errors["phone"]
    assert not User.objects.exists()
    assert sms_outbox == []


def test_sign_up_with_taken_phone_creates_nobody_new(client, sms_outbox):
    UserFactory(phone=PHONE)

    client.post(SIGNUP_URL, {"phone": PHONE})

    assert User.objects.filter(phone=PHONE).count() == 1
    assert _signed_in_user(client) is None


def test_sign_up_from_invite_link_then_join(client, sms_outbox, community):
    invite_url = reverse("accounts:invite", args=[community.invite_code])

    client.post(f"{SIGNUP_URL}?next={invite_url}", {"phone": PHONE, "next": invite_url})
    response = client.post(VERIFY_URL, {"code": _code_from(sms_outbox[0])})

    assert response.status_code == 302
    user = _signed_in_user(client)
    assert user is not None
    client.post(invite_url)
    assert user.memberships.filter(community=community).exists()


# Log-in by code


def test_log_in_by_code_for_existing_user(client, sms_outbox):
    user = UserFactory(phone=PHONE)

    assert client.get(REQUEST_CODE_URL).status_code == 200
    response = client.post(REQUEST_CODE_URL, {"phone": PHONE})

    assert response.status_code == 302
    assert response["Location"] == CONFIRM_CODE_URL
    (message,) = sms_outbox
    assert message.phone == PHONE
    assert _signed_in_user(client) is None

    response = client.post(CONFIRM_CODE_URL, {"code": _code_from(message)})

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert _signed_in_user(client) == user


def test_log_in_by_code_with_wrong_code_shows_error(client, sms_outbox):
    UserFactory(phone=PHONE)
    client.post(REQUEST_CODE_URL, {"phone": PHONE})
    code = _code_from(sms_outbox[0])

    response = client.post(CONFIRM_CODE_URL, {"code": _wrong(code)})

    assert response.status_code == 200
    assert response.context["form"].errors["code"]
    assert _signed_in_user(client) is None


def test_log_in_by_code_for_unknown_number_does_not_log_in(client, sms_outbox):
    response = client.post(REQUEST_CODE_URL, {"phone": PHONE})

    # Either refused outright or (enumeration prevention) told by SMS there is no account.
    assert response.status_code in (200, 302)
    assert not User.objects.exists()
    assert all(not re.search(r"(?<!\d)\d{6}(?!\d)", m.text) for m in sms_outbox)
    assert _signed_in_user(client) is None


def test_log_in_page_with_phone_and_no_password_sends_code(client, sms_outbox):
    user = UserFactory(phone=PHONE)

    response = client.post(reverse("account_login"), {"login": PHONE})

    assert response.status_code == 302
    assert response["Location"] == CONFIRM_CODE_URL
    client.post(CONFIRM_CODE_URL, {"code": _code_from(sms_outbox[0])})
    assert _signed_in_user(client) == user


# E-mail + password


def test_email_and_password_log_in(client):
    user = UserFactory(email="lin@example.com", password="correct-horse-9")

    response = client.post(
        reverse("account_login"), {"login": "lin@example.com", "password": "correct-horse-9"}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert _signed_in_user(client) == user


def test_email_with_wrong_password_does_not_log_in(client):
    UserFactory(email="lin@example.com", password="correct-horse-9")

    response = client.post(
        reverse("account_login"), {"login": "lin@example.com", "password": "wrong-horse-9"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors
    assert _signed_in_user(client) is None


# The adapter's phone methods


@pytest.fixture
def adapter():
    return AccountAdapter(RequestFactory().get("/"))


def test_adapter_get_phone(adapter):
    assert adapter.get_phone(UserFactory(phone=PHONE, phone_verified=False)) == (PHONE, False)
    assert adapter.get_phone(UserFactory(phone=None, email="x@example.com")) is None


def test_adapter_set_phone_saves(adapter):
    user = UserFactory(phone=None, email="x@example.com")

    adapter.set_phone(user, PHONE, False)

    user.refresh_from_db()
    assert (user.phone, user.phone_verified) == (PHONE, False)


def test_adapter_set_phone_verified(adapter):
    user = UserFactory(phone=PHONE, phone_verified=False)

    adapter.set_phone_verified(user, PHONE)

    user.refresh_from_db()
    assert user.phone_verified


def test_adapter_get_user_by_phone(adapter):
    user = UserFactory(phone=PHONE)
    assert adapter.get_user_by_phone(PHONE) == user
    assert adapter.get_user_by_phone("+8613700000000") is None


def test_adapter_send_verification_code_sms(adapter, sms_outbox):
    adapter.send_verification_code_sms(UserFactory(), PHONE, "123456")

    (message,) = sms_outbox
    assert message.phone == PHONE
    assert message.purpose == "verification_code"
    assert "123456" in message.text


def test_adapter_send_unknown_account_sms(adapter, sms_outbox):
    adapter.send_unknown_account_sms(PHONE)

    (message,) = sms_outbox
    assert message.phone == PHONE
    assert not re.search(r"\d{6}", message.text)


def test_failed_phone_log_ins_count_per_phone_number(client, settings):
    """Wrong passwords for one number lock that number, not every phone log-in."""
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "5/5m/key"}
    UserFactory(phone="+8613900001111", password="correct-horse-9")
    UserFactory(phone="+8613900002222", password="correct-horse-9")
    url = reverse("account_login")
    for _attempt in range(6):
        client.post(url, {"login": "+8613900001111", "password": "wrong-horse-9"})
    locked = client.post(url, {"login": "+8613900001111", "password": "correct-horse-9"})
    assert "_auth_user_id" not in client.session
    assert locked.status_code in (200, 429)

    response = client.post(url, {"login": "+8613900002222", "password": "correct-horse-9"})
    assert response.status_code == 302
    assert client.session["_auth_user_id"]
