"""Forms of the leader's fulfilment pages: the receipt counts per purchase order line and
the pickup notice. Business rules live in the services; their DomainErrors are shown next
to the field they name (``groupbuy.forms.add_domain_error``)."""

from dataclasses import dataclass

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import PurchaseOrderLine

# Datetime-local inputs are read and shown in the current time zone (Asia/Shanghai).
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def _datetime_field(label):
    return forms.DateTimeField(
        label=label,
        input_formats=[DATETIME_LOCAL, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )


def _count_field(label, line: PurchaseOrderLine) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        min_value=0,
        max_value=line.quantity,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "count-input"}),
    )


@dataclass
class ReceiptRow:
    line: PurchaseOrderLine
    expected: int  # shipped, or ordered when the supplier did not say
    received: forms.BoundField
    short: forms.BoundField
    damaged: forms.BoundField

    @property
    def errors(self) -> list[str]:
        return [*self.received.errors, *self.short.errors, *self.damaged.errors]


class ReceiptForm(forms.Form):
    """What arrived of each (not declined) line: received, short, damaged.

    Prefilled with what the supplier shipped (the rest short); the three must add up to
    the line's quantity.
    """

    KINDS = ("received", "short", "damaged")

    def __init__(self, *args, lines: list[PurchaseOrderLine], **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = [line for line in lines if not line.declined]
        labels = {"received": _("Received"), "short": _("Short"), "damaged": _("Damaged")}
        for line in self.lines:
            expected = self.expected(line)
            initial = {"received": expected, "short": line.quantity - expected, "damaged": 0}
            for kind in self.KINDS:
                field = _count_field(labels[kind], line)
                field.initial = initial[kind]
                self.fields[self.field_name(kind, line)] = field

    @staticmethod
    def expected(line: PurchaseOrderLine) -> int:
        if line.shipped_quantity is not None:
            return min(line.shipped_quantity, line.quantity)
        return line.quantity

    @staticmethod
    def field_name(kind: str, line: PurchaseOrderLine) -> str:
        return f"{kind}_{line.pk}"

    @property
    def rows(self) -> list[ReceiptRow]:
        return [
            ReceiptRow(
                line,
                self.expected(line),
                *(self[self.field_name(kind, line)] for kind in self.KINDS),
            )
            for line in self.lines
        ]

    def clean(self):
        cleaned = super().clean()
        for line in self.lines:
            values = [cleaned.get(self.field_name(kind, line)) for kind in self.KINDS]
            if any(value is None for value in values):
                continue
            if sum(values) != line.quantity:
                self.add_error(
                    self.field_name("received", line),
                    _(
                        "Received, short and damaged must add up to the %(n)s ordered"
                        " (%(shipped)s shipped)."
                    )
                    % {"n": line.quantity, "shipped": self.expected(line)},
                )
        return cleaned

    def counts(self) -> dict[int, tuple[int, int, int]]:
        return {
            line.pk: tuple(self.cleaned_data[self.field_name(kind, line)] for kind in self.KINDS)
            for line in self.lines
        }


class PickupNoticeForm(forms.Form):
    window_start = _datetime_field(_("From"))
    window_end = _datetime_field(_("Until"))
    place = forms.CharField(
        label=_("Place"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Where members collect their goods (or that the goods are delivered)."),
    )
    notes = forms.CharField(
        label=_("Notes"),
        max_length=500,
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 2, "placeholder": _("e.g. Please bring a shopping bag.")}
        ),
    )
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=20, required=False)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("window_start"), cleaned.get("window_end")
        if start and end and not start < end:
            self.add_error("window_end", _("The pickup window must end after it starts."))
        return cleaned
