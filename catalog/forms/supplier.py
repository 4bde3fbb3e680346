"""Forms of the supplier's catalog pages: products, product images, offers, contract signing.

Forms only validate input; the services in ``catalog.services`` write and enforce the
business rules (their ``DomainError`` is shown next to the field it names).
"""

from decimal import Decimal

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from groupbuy import images

from .. import services
from ..models import Offer, Product

WEEKDAY_CHOICES = [
    ("0", _("Monday")),
    ("1", _("Tuesday")),
    ("2", _("Wednesday")),
    ("3", _("Thursday")),
    ("4", _("Friday")),
    ("5", _("Saturday")),
    ("6", _("Sunday")),
]

# Upper bounds that keep numbers inside their database columns and within reason.
MAX_QUANTITY = 1_000_000
MAX_LEAD_TIME_DAYS = 365
MAX_SHELF_LIFE_DAYS = 3650


def _label(model, name: str):
    return capfirst(model._meta.get_field(name).verbose_name)


def _help(model, name: str):
    return model._meta.get_field(name).help_text


class ProductForm(forms.ModelForm):
    """A product's information; the supplier is set by the view, never by the client."""

    shelf_life_days = forms.IntegerField(
        label=_label(Product, "shelf_life_days"), min_value=1, max_value=MAX_SHELF_LIFE_DAYS
    )

    class Meta:
        model = Product
        fields = list(services.PRODUCT_FIELDS)
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "description_en": forms.Textarea(attrs={"rows": 4}),
        }
        help_texts = {
            "name_en": _("Optional; shown to people reading in English."),
            "barcode": _("Optional; 8 to 14 digits."),
        }

    def clean_barcode(self):
        return self.cleaned_data["barcode"].strip().replace(" ", "")


class ImageUploadForm(forms.Form):
    image = forms.ImageField(
        label=_("Add an image"),
        help_text=_("JPEG, PNG or WebP, at most 5 MB; a product has at most 6 images."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )

    def clean_image(self):
        upload = self.cleaned_data["image"]
        if upload.size > images.MAX_IMAGE_BYTES:
            raise forms.ValidationError(_("An image may be at most 5 MB."))
        return upload


def _price_field(name: str) -> forms.DecimalField:
    return forms.DecimalField(
        label=_label(Offer, name),
        help_text=_help(Offer, name),
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0.01"),
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )


def _quantity_field(name: str, *, min_value: int = 1, max_value: int = MAX_QUANTITY):
    return forms.IntegerField(
        label=_label(Offer, name),
        help_text=_help(Offer, name),
        min_value=min_value,
        max_value=max_value,
    )


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class OfferForm(forms.Form):
    """The terms of an offer (``Offer.TERM_FIELDS``)."""

    supply_price = _price_field("supply_price")
    retail_price = _price_field("retail_price")
    min_order_qty = _quantity_field("min_order_qty")
    case_size = _quantity_field("case_size")
    daily_capacity = _quantity_field("daily_capacity")
    lead_time_days = _quantity_field("lead_time_days", min_value=0, max_value=MAX_LEAD_TIME_DAYS)
    delivery_weekdays = forms.MultipleChoiceField(
        label=_label(Offer, "delivery_weekdays"),
        help_text=_help(Offer, "delivery_weekdays"),
        choices=WEEKDAY_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one delivery day.")},
    )
    valid_from = forms.DateField(label=_label(Offer, "valid_from"), widget=DateInput())
    valid_until = forms.DateField(label=_label(Offer, "valid_until"), widget=DateInput())
    notes = forms.CharField(
        label=_label(Offer, "notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    # Fields grouped for the page, in order.
    SECTIONS = (
        (_("Prices"), ("supply_price", "retail_price")),
        (_("Quantities"), ("min_order_qty", "case_size", "daily_capacity")),
        (_("Delivery"), ("lead_time_days", "delivery_weekdays")),
        (_("Validity"), ("valid_from", "valid_until")),
        (None, ("notes",)),
    )

    @classmethod
    def initial_from(cls, offer: Offer) -> dict:
        initial = {name: getattr(offer, name) for name in Offer.TERM_FIELDS}
        initial["delivery_weekdays"] = list(offer.delivery_weekdays)
        return initial

    def clean_delivery_weekdays(self):
        return "".join(sorted(set(self.cleaned_data["delivery_weekdays"])))

    def clean(self):
        cleaned = super().clean()
        valid_from, valid_until = cleaned.get("valid_from"), cleaned.get("valid_until")
        if valid_from and valid_until and valid_until < valid_from:
            self.add_error("valid_until", _("The validity must end on or after its start."))
        return cleaned

    def sections(self):
        """(title, bound fields) pairs for the template."""
        return [(title, [self[name] for name in names]) for title, names in self.SECTIONS]


class ContractSignForm(forms.Form):
    typed_name = forms.CharField(
        label=_("Your full name"),
        max_length=60,
        help_text=_("Typing your name signs the contract on behalf of your company."),
        error_messages={"required": _("Type your full name to sign.")},
    )
    agreed = forms.BooleanField(
        label=_("I have read the contract and agree to it on behalf of my company."),
        error_messages={"required": _("Tick the box to agree to the contract.")},
    )
