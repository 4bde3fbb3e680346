"""Forms of the leaders' catalog."""

from decimal import Decimal

from django import forms
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

from ..models import Category, Storage
from ..selectors import catalog_suppliers

# One choice per key of selectors.CATALOG_SORTS (a test checks they match).
SORT_CHOICES = [
    ("newest", _("Newest first")),
    ("price", _("Supply price: low to high")),
    ("-price", _("Supply price: high to low")),
    ("margin", _("Margin: high to low")),
]


# A text input, not type=number: the browser would blank a value it cannot parse, and the
# leader should see what she typed next to its error.
_PRICE_INPUT = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})


class CatalogFilterForm(forms.Form):
    """The catalog's filters (GET, all optional).

    An invalid field is shown with its error and left out of the search; the valid
    fields still filter. ``search_kwargs()`` gives the arguments of
    ``selectors.catalog_search``.
    """

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Product name or brand")}),
    )
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=Category.objects.all(),
        required=False,
        empty_label=_("All categories"),
    )
    supplier = forms.ModelChoiceField(
        label=_("Supplier"),
        queryset=None,  # set per request: suppliers listed today
        required=False,
        empty_label=_("All suppliers"),
    )
    storage = forms.ChoiceField(
        label=_("Storage"),
        choices=[("", _("All storage types")), *Storage.choices],
        required=False,
    )
    price_min = forms.DecimalField(
        label=_("Supply price from (CNY)"),
        required=False,
        min_value=Decimal("0"),
        max_digits=10,
        decimal_places=2,
        widget=_PRICE_INPUT,
    )
    price_max = forms.DecimalField(
        label=_("Supply price to (CNY)"),
        required=False,
        min_value=Decimal("0"),
        max_digits=10,
        decimal_places=2,
        widget=_PRICE_INPUT,
    )
    weekday = forms.TypedChoiceField(
        label=_("Delivers on"),
        choices=[("", _("Any day")), *WEEKDAYS.items()],
        coerce=int,
        empty_value=None,
        required=False,
    )
    sort = forms.ChoiceField(label=_("Sort by"), choices=SORT_CHOICES, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["supplier"].queryset = catalog_suppliers()

    def clean(self):
        cleaned = super().clean()
        price_min = cleaned.get("price_min")
        price_max = cleaned.get("price_max")
        if price_min is not None and price_max is not None and price_min > price_max:
            # Neither bound is trusted: the range is left out of the search.
            self.add_error("price_max", _("The highest price must not be below the lowest price."))
            cleaned.pop("price_min", None)
        return cleaned

    def search_kwargs(self) -> dict:
        """Arguments of ``catalog_search`` from the fields that are valid."""
        self.is_valid()
        data = self.cleaned_data
        category = data.get("category")
        supplier = data.get("supplier")
        return {
            "query": data.get("q") or "",
            "category_id": category.pk if category else None,
            "supplier_id": supplier.pk if supplier else None,
            "storage": data.get("storage") or "",
            "price_min": data.get("price_min"),
            "price_max": data.get("price_max"),
            "weekday": data.get("weekday"),
            "sort": data.get("sort") or "newest",
        }

    @property
    def has_filters(self) -> bool:
        """Whether the leader narrowed the list (sorting alone does not narrow it)."""
        return any(self.data.get(name) not in (None, "") for name in self.fields if name != "sort")
