"""Forms of the orders stage. They check the shape of what was sent; the business rules
(limits, stock, cut-off, prices, receiving and payment options) are the services'."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import PickupPoint

from .models import Fulfilment, PaymentMethod

# Member

QUANTITY_PREFIX = "q_"


def quantity_field_name(item_id: int) -> str:
    return f"{QUANTITY_PREFIX}{item_id}"


def _max_quantity_message(item, allowance: int) -> str:
    if allowance:
        return _("You can add at most %(limit_value)s more.")
    if item.remaining <= 0:
        return _("%(name)s is sold out.") % {"name": item.offer.product.localized_name}
    return _("You cannot add any more of this item.")


class CartForm(forms.Form):
    """The quantities of a schedule's items, one ``q_<item id>`` field each, as the
    schedule page's cart (GET) and the checkout page (POST) send them.

    ``cleaned_data["quantities"]`` is ``{item_id: quantity}`` of the non-zero ones; a
    ``q_`` key naming no item of the schedule is passed on as sent, so the ordering service
    refuses it with its own message.
    """

    # Carries the errors about the cart as a whole (never rendered as an input).
    quantities = forms.Field(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, items, allowances: dict[int, int], **kwargs):
        super().__init__(*args, **kwargs)
        self.items = list(items)
        for item in self.items:
            allowance = allowances.get(item.pk, 0)
            self.fields[quantity_field_name(item.pk)] = forms.IntegerField(
                label=item.offer.product.localized_name,
                required=False,
                min_value=0,
                max_value=allowance,
                error_messages={
                    "invalid": _("Enter a whole number."),
                    "min_value": _("Quantities cannot be negative."),
                    "max_value": _max_quantity_message(item, allowance),
                },
            )
            self.fields[quantity_field_name(item.pk)].allowance = allowance

    def quantity_names(self) -> list[str]:
        return [quantity_field_name(item.pk) for item in self.items]

    def _stray_quantities(self) -> dict[str, str]:
        """``q_`` keys sent for items this schedule does not have."""
        return {
            key[len(QUANTITY_PREFIX) :]: self.data.get(key)
            for key in self.data
            if key.startswith(QUANTITY_PREFIX) and key not in self.fields
        }

    def clean(self):
        cleaned = super().clean()
        quantities = {}
        for item in self.items:
            quantity = cleaned.get(quantity_field_name(item.pk))
            if quantity:
                quantities[item.pk] = quantity
        quantities.update(self._stray_quantities())
        cleaned["quantities"] = quantities
        return cleaned

    def cart_quantities(self) -> dict | None:
        """The cart when every quantity is well formed (other fields may still be wrong),
        else None."""
        if not self.is_bound or any(name in self.errors for name in self.quantity_names()):
            return None
        if "quantities" in self.errors:
            return None
        return self.cleaned_data.get("quantities")


class PickupPointChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class CheckoutForm(CartForm):
    """The checkout page: the cart plus receiving, payment, a note and the total the
    member saw (the service refuses the order when its own total differs)."""

    fulfilment = forms.ChoiceField(
        label=_("Receiving"),
        choices=Fulfilment.choices,
        initial=Fulfilment.PICKUP,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose pickup or home delivery.")},
    )
    pickup_point = PickupPointChoiceField(
        label=_("Pickup point"),
        queryset=PickupPoint.objects.none(),
        required=False,
        empty_label=None,
        widget=forms.RadioSelect,
    )
    delivery_address = forms.CharField(
        label=_("Delivery address"),
        required=False,
        max_length=255,
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    payment_method = forms.ChoiceField(
        label=_("Payment"),
        choices=PaymentMethod.choices,
        initial=PaymentMethod.ONLINE,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a payment method.")},
    )
    note = forms.CharField(
        label=_("Note to the leader"),
        required=False,
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    expected_total = forms.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=0,
        widget=forms.HiddenInput,
        error_messages={
            "required": _("Check the total and confirm again."),
            "invalid": _("Check the total and confirm again."),
        },
    )

    def __init__(self, *args, schedule, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pickup_point"].queryset = schedule.pickup_points.order_by("id")


class OrderCancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional)"),
        required=False,
        max_length=200,
        widget=forms.TextInput,
    )
