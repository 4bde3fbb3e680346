"""Forms of the leader's order review: the order list's filters and the rejection reason."""

from django import forms
from django.utils.translation import gettext_lazy as _

from scheduling.models import Schedule

from .models import OrderStatus
from .selectors import OrderFilters, PaymentFilter


class OrderFilterForm(forms.Form):
    """The filters of a schedule's order list (GET, all optional).

    An invalid field is shown with its error and left out; ``filters()`` gives the
    ``OrderFilters`` of ``selectors.leader_schedule_orders``.
    """

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=50,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Name, phone or order number")}
        ),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("All statuses")), *OrderStatus.choices],
        required=False,
    )
    item = forms.TypedChoiceField(
        label=_("Item"), coerce=int, empty_value=None, required=False, choices=()
    )
    payment = forms.ChoiceField(
        label=_("Payment"),
        choices=[("", _("Any payment")), *PaymentFilter.choices],
        required=False,
    )
    pickup_point = forms.TypedChoiceField(
        label=_("Pickup point"), coerce=int, empty_value=None, required=False, choices=()
    )
    flagged = forms.BooleanField(label=_("Flagged only"), required=False)

    def __init__(self, *args, schedule: Schedule, **kwargs):
        super().__init__(*args, **kwargs)
        items = schedule.items.select_related("offer__product").order_by("display_order", "id")
        self.fields["item"].choices = [
            ("", _("All items")),
            *((item.pk, item.offer.product.localized_name) for item in items),
        ]
        self.fields["pickup_point"].choices = [
            ("", _("All pickup points")),
            *((point.pk, point.name) for point in schedule.pickup_points.order_by("name", "id")),
        ]
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("data-testid", f"filter-{name}")

    def filters(self) -> OrderFilters:
        if not self.is_bound:
            return OrderFilters()
        self.is_valid()
        data = self.cleaned_data  # the valid fields only: one with an error is left out
        return OrderFilters(
            status=data.get("status") or "",
            item=data.get("item"),
            payment=data.get("payment") or "",
            pickup_point=data.get("pickup_point"),
            search=data.get("q") or "",
            flagged=bool(data.get("flagged")),
        )

    @property
    def filtered(self) -> bool:
        filters = self.filters()
        return bool(
            filters.status
            or filters.item
            or filters.payment
            or filters.pickup_point
            or filters.search
            or filters.flagged
        )


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for rejecting"),
        required=False,  # the service names the rule, shown next to the field
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 3, "data-testid": "reject-reason"}),
        help_text=_("The member sees it. Anything paid is refunded."),
    )
