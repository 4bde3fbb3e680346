"""Forms of the pickup, review and after-sales pages. They only shape the input: the
services decide (code format and rate limit, photo checks, deadlines, amounts)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import AfterSalesReason, AfterSalesStatus


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Any number of files; the service checks how many and that they are images."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*"}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


# Pickup


class PickupCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Pickup code"),
        max_length=20,
        error_messages={"required": _("Type the member's 8-digit pickup code.")},
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "off",
                "autocapitalize": "off",
                "spellcheck": "false",
                "maxlength": "8",
                "class": "pickup-code-input",
                "aria-describedby": "id_code_helptext",
                "data-testid": "pickup-code-input",
            }
        ),
        help_text=_("8 digits, shown on the member's order page."),
    )


class HandOverForm(forms.Form):
    """The lines to hand over (pre-checked) and, when money is due, that it was taken."""

    lines = forms.TypedMultipleChoiceField(
        label=_("Items to hand over"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    settled = forms.BooleanField(label=_("Payment taken"), required=False)

    def __init__(self, *args, line_ids=(), selected=(), **kwargs):
        """``line_ids``: the order's active lines (a stale choice reaches the service,
        which says why it is refused); ``selected``: those still to hand over."""
        super().__init__(*args, **kwargs)
        self.fields["lines"].choices = [(pk, str(pk)) for pk in line_ids]
        if not self.is_bound:
            self.initial.setdefault("lines", list(selected))


class DeliveredForm(forms.Form):
    settled = forms.BooleanField(label=_("Payment taken"), required=False)


# Member


RATING_CHOICES = [(value, str(value)) for value in range(1, 6)]


class ReviewForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("Your rating"),
        choices=RATING_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Give 1 to 5 stars."),
            "invalid_choice": _("Give 1 to 5 stars."),
        },
    )
    text = forms.CharField(
        label=_("Your review (optional)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 500}),
    )
    photos = MultipleFileField(
        label=_("Photos (optional)"),
    )


class AfterSalesForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Reason"),
        choices=AfterSalesReason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a reason.")},
    )
    description = forms.CharField(
        label=_("What happened"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 1000}),
        error_messages={"required": _("Describe the problem.")},
    )
    amount = forms.DecimalField(
        label=_("Amount to refund (¥)"),
        max_digits=10,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0.01", "inputmode": "decimal"}),
        error_messages={"required": _("Ask for an amount above zero.")},
    )
    photos = MultipleFileField(
        label=_("Photos (optional)"),
    )


# Leader and staff decisions


class ApproveForm(forms.Form):
    prefix = "approve"
    note = forms.CharField(
        label=_("Note to the member (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 1000}),
    )


class RejectForm(forms.Form):
    prefix = "reject"
    # Required by the service, which says why (shown in place).
    reason = forms.CharField(
        label=_("Reason (the member sees it)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 1000}),
    )


class EscalateForm(forms.Form):
    prefix = "escalate"
    reason = forms.CharField(
        label=_("Why the platform should decide (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 1000}),
    )


class AfterSalesFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), *AfterSalesStatus.choices],
    )
