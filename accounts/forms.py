from allauth.account.forms import LoginForm
from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from notifications.wechat import validate_webhook_url

from .models import Community, PickupPoint, SupplierOrganization, User


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["display_name", "preferred_language"]


class SupplierRegistrationForm(forms.ModelForm):
    class Meta:
        model = SupplierOrganization
        fields = ["name", "licence_number", "contact_name", "contact_phone", "address"]

    def clean_licence_number(self):
        value = self.cleaned_data["licence_number"].strip().upper()
        if not value.isalnum() or not 15 <= len(value) <= 18:
            raise forms.ValidationError(
                _("A licence number has 15 to 18 letters and digits (18 for a unified code).")
            )
        return value


class SupplierResubmitForm(forms.ModelForm):
    class Meta:
        model = SupplierOrganization
        fields = ["name", "contact_name", "contact_phone", "address"]


class SupplierMemberAddForm(forms.Form):
    login = forms.CharField(
        label=_("Colleague's phone number or e-mail"),
        max_length=254,
        help_text=_("Phone numbers in international format, e.g. +8613800138000."),
    )


class CommunityForm(forms.ModelForm):
    class Meta:
        model = Community
        fields = ["name", "area", "contact_phone", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


def _https_url_field(model_field, **kwargs):
    if model_field.name == "wechat_robot_webhook":
        kwargs["assume_scheme"] = "https"
    return model_field.formfield(**kwargs)


class CommunityEditForm(CommunityForm):
    class Meta(CommunityForm.Meta):
        fields = [*CommunityForm.Meta.fields, "wechat_robot_webhook"]
        formfield_callback = _https_url_field

    def clean_wechat_robot_webhook(self):
        url = self.cleaned_data["wechat_robot_webhook"].strip()
        if url:
            validate_webhook_url(url)
        return url


class PickupPointForm(forms.ModelForm):
    class Meta:
        model = PickupPoint
        fields = ["name", "address", "opening_hours", "contact_phone"]


class PickupPointEditForm(forms.ModelForm):
    class Meta:
        model = PickupPoint
        fields = ["name", "address", "opening_hours", "contact_phone", "is_active"]


class BasePickupPointFormSet(forms.BaseFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        filled = [f for f in self.forms if f.has_changed() and not self._should_delete_form(f)]
        if not filled:
            raise forms.ValidationError(_("Add at least one pickup point."))


PickupPointFormSet = forms.formset_factory(
    PickupPointForm, formset=BasePickupPointFormSet, extra=2, max_num=5, validate_max=True
)


class ReviewDecisionForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=1000,
        help_text=_("Required when rejecting; the applicant sees it."),
    )


class JoinCommunityForm(forms.Form):
    code = forms.CharField(
        label=_("Invite code"),
        min_length=6,
        max_length=6,
        help_text=_("Six letters and digits from your leader's invitation."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )

    def clean_code(self):
        return self.cleaned_data["code"].strip().upper()


class RoleSwitchForm(forms.Form):
    role = forms.CharField()


class LanguageForm(forms.Form):
    language = forms.ChoiceField(choices=settings.LANGUAGES)
    next = forms.CharField(required=False)


class PhoneOrPasswordLoginForm(LoginForm):
    """Phone or e-mail, then either a password or, left empty, a one-time code.

    allauth drops the password field when sign-up asks for none (members sign up with a
    phone and a code); suppliers, leaders and staff may still log in with a password.
    """

    def _setup_password_field(self) -> None:
        password = self.fields["password"]
        password.required = False
        password.help_text = _("Leave empty to get a one-time sign-in code instead.")
