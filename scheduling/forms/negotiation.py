"""Forms of the negotiation pages. They check shapes; the services check the business rules
(minimum order, whole cases, capacity, delivery days) and their errors are shown in place."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from ..models import ProposalStatus


class _TermsFields(forms.Form):
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1)
    unit_price = forms.DecimalField(
        label=_("Unit price (CNY)"),
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0.01"),
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ProposalCreateForm(_TermsFields):
    community = forms.ModelChoiceField(label=_("Community"), queryset=None, empty_label=None)
    delivery_date = forms.DateField(
        label=_("Delivery date"), widget=forms.DateInput(attrs={"type": "date"})
    )

    field_order = ["community", "delivery_date", "quantity", "unit_price", "note"]

    def __init__(self, *args, communities, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["community"]
        field.queryset = communities
        # One community: preselected. Several: the leader picks one on purpose.
        if len(communities) > 1:
            field.empty_label = "---------"
        elif communities:
            self.initial.setdefault("community", communities[0].pk)
        self.order_fields(self.field_order)


class CounterForm(_TermsFields):
    """Another quantity or price for the same offer and delivery day."""


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The other side sees it."),
    )


class ThreadFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), *ProposalStatus.choices],
    )

    def status_value(self) -> str:
        if self.is_valid():
            return self.cleaned_data["status"]
        return ""
