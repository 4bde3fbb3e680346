from allauth.account.adapter import DefaultAccountAdapter
from django.contrib.sites.shortcuts import get_current_site
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from notifications.sms import sms_send

from .models import User


class AccountAdapter(DefaultAccountAdapter):
    """Stores phone numbers on our User and sends codes through our SMS backend."""

    def _get_login_attempts_cache_key(self, request, **credentials):
        # allauth keys failed log-ins by e-mail or username only; a phone log-in would
        # share one counter with every other phone log-in on the site.
        login = (
            credentials.get("phone") or credentials.get("email") or credentials.get("username", "")
        )
        return f"{get_current_site(request).domain}:{login.lower()}"

    def save_user(self, request, user, form, commit=True):
        # The row needs its phone before the first save: a user has an e-mail or a phone.
        phone = form.cleaned_data.get("phone")
        if phone:
            user.phone = phone
            user.phone_verified = False
        if request is not None and not user.preferred_language:
            user.preferred_language = translation.get_language() or ""
        return super().save_user(request, user, form, commit=commit)

    def send_verification_code_sms(self, user, phone: str, code: str, **kwargs) -> None:
        text = _("[Tuangou] Your verification code is %(code)s. Do not share it with anyone.") % {
            "code": code
        }
        sms_send(
            phone=phone,
            text=text,
            purpose="verification_code",
            template="verification_code",
            params={"code": code},
        )

    def send_unknown_account_sms(self, phone: str, **kwargs) -> None:
        text = _(
            "[Tuangou] Someone asked for a log-in code for this number, but it has no account. "
            "Sign up first."
        )
        # Same purpose (sign-in traffic) but no code: its own provider template.
        sms_send(phone=phone, text=text, purpose="verification_code", template="unknown_account")

    def set_phone(self, user: User, phone: str, verified: bool) -> None:
        user.phone = phone
        user.phone_verified = verified
        user.save(update_fields=["phone", "phone_verified"])

    def get_phone(self, user: User) -> tuple[str, bool] | None:
        if not user.phone:
            return None
        return user.phone, user.phone_verified

    def set_phone_verified(self, user: User, phone: str) -> None:
        self.set_phone(user, phone, True)

    def get_user_by_phone(self, phone: str) -> User | None:
        return User.objects.filter(phone=phone).first()

    def get_login_redirect_url(self, request):
        return reverse("home")

    def get_signup_redirect_url(self, request):
        return reverse("home")
