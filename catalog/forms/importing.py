"""Forms of the bulk import page: the upload, the export choice, and one spreadsheet row.

``OfferImportRowForm`` validates one row of an import file (product and offer columns);
the import logic in ``catalog.importing`` runs it over every row before anything is written.
"""

import re
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from groupbuy.exceptions import DomainError

from .. import services
from ..models import OfferStatus, Storage, barcode_validator

# Limits of the model fields the row maps to (PositiveSmallIntegerField, PositiveIntegerField).
SMALL_INT_MAX = 32767
INT_MAX = 2147483647

DATE_INPUT_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y-%m-%d %H:%M:%S"]

# Monday = 0, as in Python's date.weekday().
WEEKDAY_ABBREVIATIONS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_WEEKDAY_NAMES = {
    **{name.lower(): day for day, name in enumerate(WEEKDAY_ABBREVIATIONS)},
    "monday": 0,
    "tues": 1,
    "tuesday": 1,
    "wednesday": 2,
    "thur": 3,
    "thurs": 3,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
    **{f"周{c}": day for day, c in enumerate("一二三四五六日")},
    **{f"星期{c}": day for day, c in enumerate("一二三四五六日")},
    "周天": 6,
    "星期天": 6,
}
_WEEKDAY_SEPARATORS = re.compile(r"[\s,，、;；/|]+")

_STORAGE_ALIASES = {
    **{value: value for value in Storage.values},
    "常温": Storage.AMBIENT,
    "冷藏": Storage.CHILLED,
    "冷冻": Storage.FROZEN,
}


def weekdays_parse(text: str) -> str:
    """``"01234"``, ``"0,1,2"``, ``"Mon,Wed"`` or ``"周一、周三"`` -> ``"024"``-style digits."""
    text = text.strip()
    if re.fullmatch(r"[0-6]+", text):
        days = {int(c) for c in text}
    else:
        days = set()
        for token in _WEEKDAY_SEPARATORS.split(text):
            if not token:
                continue
            if re.fullmatch(r"[0-6]", token):
                days.add(int(token))
            elif token.lower() in _WEEKDAY_NAMES:
                days.add(_WEEKDAY_NAMES[token.lower()])
            else:
                raise forms.ValidationError(
                    _(
                        'Unknown delivery day "%(day)s". Use digits 0-6 (Monday = 0), '
                        'e.g. "01234", or day names, e.g. "Mon,Wed".'
                    ),
                    params={"day": token},
                    code="weekday",
                )
    if not days:
        raise forms.ValidationError(_("Choose at least one delivery day."), code="weekday")
    return "".join(str(day) for day in sorted(days))


def weekdays_format(digits: str) -> str:
    """``"024"`` -> ``"Mon,Wed,Fri"``: survives spreadsheets that drop a leading zero."""
    return ",".join(WEEKDAY_ABBREVIATIONS[int(day)] for day in sorted(set(digits)))


class _PriceField(forms.DecimalField):
    """CNY with at most two decimals; a leading ¥ is tolerated."""

    def __init__(self, **kwargs):
        super().__init__(
            max_digits=10, decimal_places=2, min_value=Decimal("0.01"), localize=False, **kwargs
        )

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip().lstrip("¥￥").strip()
        return super().to_python(value)

    def clean(self, value):
        value = super().clean(value)
        return value.quantize(Decimal("0.01")) if value is not None else value


class OfferImportRowForm(forms.Form):
    """One row of the import file: the product's columns and the offer's terms.

    ``categories`` maps lower-cased codes and names to Category objects (looked up once per
    file, not once per row).
    """

    product_name = forms.CharField(label=_("name"), max_length=120)
    product_name_en = forms.CharField(label=_("English name"), max_length=120, required=False)
    spec = forms.CharField(label=_("specification"), max_length=60)
    unit = forms.CharField(label=_("unit"), max_length=10)
    category = forms.CharField(label=_("category"), max_length=60)
    brand = forms.CharField(label=_("brand"), max_length=60, required=False)
    origin = forms.CharField(label=_("origin"), max_length=60)
    barcode = forms.CharField(
        label=_("barcode"), max_length=14, required=False, validators=[barcode_validator]
    )
    storage = forms.CharField(label=_("storage"), max_length=20)
    shelf_life_days = forms.IntegerField(
        label=_("shelf life (days)"), min_value=1, max_value=SMALL_INT_MAX
    )
    description = forms.CharField(label=_("description"), required=False)
    supply_price = _PriceField(label=_("supply price"))
    retail_price = _PriceField(label=_("suggested retail price"))
    min_order_qty = forms.IntegerField(
        label=_("minimum order quantity"), min_value=1, max_value=INT_MAX
    )
    case_size = forms.IntegerField(label=_("case size"), min_value=1, max_value=INT_MAX)
    daily_capacity = forms.IntegerField(
        label=_("capacity per delivery day"), min_value=1, max_value=INT_MAX
    )
    lead_time_days = forms.IntegerField(
        label=_("lead time (days)"), min_value=0, max_value=SMALL_INT_MAX
    )
    delivery_weekdays = forms.CharField(label=_("delivery days"), max_length=60)
    valid_from = forms.DateField(label=_("valid from"), input_formats=DATE_INPUT_FORMATS)
    valid_until = forms.DateField(label=_("valid until"), input_formats=DATE_INPUT_FORMATS)
    notes = forms.CharField(label=_("notes"), required=False)

    TERM_KEYS = (
        "supply_price",
        "retail_price",
        "min_order_qty",
        "case_size",
        "daily_capacity",
        "lead_time_days",
        "delivery_weekdays",
        "valid_from",
        "valid_until",
        "notes",
    )

    def __init__(self, *args, categories: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.categories = categories
        self.warnings: list[str] = []

    def clean_category(self):
        value = self.cleaned_data["category"]
        category = self.categories.get(value.lower())
        if category is None:
            codes = sorted({c.code for c in self.categories.values()})
            raise forms.ValidationError(
                _('Unknown category "%(value)s". Use one of: %(codes)s.'),
                params={"value": value, "codes": ", ".join(codes)},
                code="category",
            )
        return category

    def clean_storage(self):
        value = self.cleaned_data["storage"]
        storage = _STORAGE_ALIASES.get(value.lower())
        if storage is None:
            raise forms.ValidationError(
                _('Unknown storage "%(value)s". Use one of: %(choices)s.'),
                params={"value": value, "choices": ", ".join(Storage.values)},
                code="storage",
            )
        return storage

    def clean_delivery_weekdays(self):
        return weekdays_parse(self.cleaned_data["delivery_weekdays"])

    def clean(self):
        cleaned = super().clean()
        needed = (
            "supply_price",
            "retail_price",
            "min_order_qty",
            "case_size",
            "daily_capacity",
            "valid_from",
            "valid_until",
        )
        if all(cleaned.get(key) is not None for key in needed):
            try:
                self.warnings = services.offer_check_terms(**{key: cleaned[key] for key in needed})
            except DomainError as error:
                field = error.field if error.field in self.fields else None
                self.add_error(field, error.message)
        return cleaned

    def product_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["product_name"],
            "name_en": data["product_name_en"],
            "spec": data["spec"],
            "unit": data["unit"],
            "category": data["category"],
            "brand": data["brand"],
            "origin": data["origin"],
            "barcode": data["barcode"],
            "storage": data["storage"],
            "shelf_life_days": data["shelf_life_days"],
            "description": data["description"],
        }

    def offer_terms(self) -> dict:
        return {key: self.cleaned_data[key] for key in self.TERM_KEYS}


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_("A .csv or .xlsx file of at most 2 MB and 1,000 rows."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )


FORMAT_CHOICES = [("xlsx", _("Excel (.xlsx)")), ("csv", _("CSV (.csv)"))]


class ExportForm(forms.Form):
    """The export's filter (GET): which offers, in which format."""

    status = forms.ChoiceField(
        label=_("Offers"),
        required=False,
        choices=[("", _("All offers")), *OfferStatus.choices],
    )
    format = forms.ChoiceField(label=_("Format"), choices=FORMAT_CHOICES, initial="xlsx")
