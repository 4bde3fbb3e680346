"""Forms of the supplier's purchase order page. They check shapes (a reason for each declined
line, quantities between 0 and what was ordered); ``fulfillment.services.purchasing`` checks
the rules and its errors are shown in place."""

from dataclasses import dataclass

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Dispatch, PurchaseOrderLine


@dataclass
class LineFields:
    line: PurchaseOrderLine
    fields: dict


class AcknowledgeForm(forms.Form):
    """Acknowledge the order; each line may be declined with a reason."""

    def __init__(self, *args, lines: list[PurchaseOrderLine], **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = [line for line in lines if not line.declined]
        for line in self.lines:
            self.fields[f"decline_{line.pk}"] = forms.BooleanField(
                label=_("Decline %(product)s") % {"product": line.product_name},
                required=False,
            )
            self.fields[f"reason_{line.pk}"] = forms.CharField(
                label=_("Reason for declining %(product)s") % {"product": line.product_name},
                required=False,
                max_length=200,
            )

    def line_rows(self) -> list[LineFields]:
        return [
            LineFields(
                line, {"decline": self[f"decline_{line.pk}"], "reason": self[f"reason_{line.pk}"]}
            )
            for line in self.lines
        ]

    def clean(self):
        cleaned = super().clean()
        declined = {}
        for line in self.lines:
            if not cleaned.get(f"decline_{line.pk}"):
                continue
            reason = (cleaned.get(f"reason_{line.pk}") or "").strip()
            if not reason:
                self.add_error(
                    f"reason_{line.pk}", _("Say why you cannot deliver it; the leader sees it.")
                )
                continue
            declined[line.pk] = reason
        cleaned["declined_lines"] = declined
        return cleaned


class DeclineForm(forms.Form):
    """Decline the whole order."""

    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The leader sees it; every member's order of these goods is refunded."),
    )


class MarkReadyForm(forms.Form):
    """Goods ready for collection or shipped, with the quantity per line."""

    dispatch = forms.ChoiceField(
        label=_("The goods are"),
        choices=Dispatch.choices,
        widget=forms.RadioSelect,
        initial=Dispatch.SHIPPED,
    )
    note = forms.CharField(
        label=_("Delivery note"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Optional: vehicle, driver's phone, arrival time, anything the leader needs."),
    )

    def __init__(self, *args, lines: list[PurchaseOrderLine], **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = [line for line in lines if not line.declined]
        for line in self.lines:
            self.fields[f"shipped_{line.pk}"] = forms.IntegerField(
                label=_("Quantity of %(product)s") % {"product": line.product_name},
                min_value=0,
                max_value=line.quantity,
                required=False,
                initial=line.quantity,
                widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
            )

    def line_rows(self) -> list[LineFields]:
        return [LineFields(line, {"shipped": self[f"shipped_{line.pk}"]}) for line in self.lines]

    def clean(self):
        cleaned = super().clean()
        cleaned["shipped"] = {
            line.pk: (
                line.quantity
                if cleaned.get(f"shipped_{line.pk}") is None
                else cleaned[f"shipped_{line.pk}"]
            )
            for line in self.lines
            if f"shipped_{line.pk}" not in self.errors
        }
        return cleaned
