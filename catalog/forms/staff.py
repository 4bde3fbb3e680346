"""Forms of the platform staff's offer review and contract pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import SupplierOrganization

from ..models import Category


class OfferQueueFilterForm(forms.Form):
    """The review queue's filters; an unknown id is ignored rather than an error page."""

    supplier = forms.ModelChoiceField(
        label=_("Supplier"),
        queryset=SupplierOrganization.objects.none(),
        required=False,
        empty_label=_("All suppliers"),
    )
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=Category.objects.none(),
        required=False,
        empty_label=_("All categories"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Suppliers that have offered something; the queue is filtered by these.
        self.fields["supplier"].queryset = (
            SupplierOrganization.objects.filter(offers__isnull=False)
            .distinct()
            .order_by("name", "id")
        )
        self.fields["category"].queryset = Category.objects.order_by("position", "id")

    def filters(self) -> dict:
        """Keyword arguments for ``selectors.review_queue``."""
        self.is_valid()  # a junk value drops only its own filter
        supplier = self.cleaned_data.get("supplier")
        category = self.cleaned_data.get("category")
        return {
            "supplier_id": supplier.pk if supplier else None,
            "category_id": category.pk if category else None,
        }


class ReasonForm(forms.Form):
    """The reason a staff decision carries; the services say when it is required."""

    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=1000,
        help_text=_(
            "Required when rejecting, requesting changes or suspending; the supplier sees it."
        ),
    )


class ContractTerminateForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=1000,
        help_text=_("Required; the supplier sees it."),
    )
