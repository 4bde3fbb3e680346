"""Forms of the schedule builder. Business rules live in the services; their DomainErrors
are shown next to the field they name (``groupbuy.forms.add_domain_error``)."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.selectors import active_pickup_points

from ..models import DeliveryOption, ScheduleStatus, ShortageRule

# Datetime-local inputs are read and shown in the current time zone (settings.TIME_ZONE,
# Asia/Shanghai): Django's DateTimeField makes naive input aware in it.
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def _datetime_field(label):
    return forms.DateTimeField(
        label=label,
        input_formats=[DATETIME_LOCAL, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )


def _to_minute(value):
    return value.replace(second=0, microsecond=0)


_PRICE_INPUT = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})

# What a published schedule may no longer change (the service refuses them too).
FROZEN_WHEN_PUBLISHED = (
    "sale_start",
    "arrival_date",
    "pickup_start",
    "pickup_end",
    "pickup_points",
    "delivery_option",
    "delivery_fee",
    "allow_pay_at_pickup",
    "shortage_rule",
)


class ScheduleForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=100)
    sale_start = _datetime_field(_("Sale starts"))
    cutoff = _datetime_field(_("Cut-off"))
    arrival_date = forms.DateField(
        label=_("Arrival date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    pickup_start = _datetime_field(_("Pickup starts"))
    pickup_end = _datetime_field(_("Pickup ends"))
    pickup_points = forms.ModelMultipleChoiceField(
        label=_("Pickup points"),
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        required=False,  # the service names the rule ("choose at least one")
    )
    notes = forms.CharField(
        label=_("Notes for members"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    delivery_option = forms.ChoiceField(label=_("Delivery"), choices=DeliveryOption.choices)
    delivery_fee = forms.DecimalField(
        label=_("Home delivery fee (CNY)"),
        max_digits=8,
        decimal_places=2,
        required=False,
        widget=_PRICE_INPUT,
        help_text=_("Only used with home delivery."),
    )
    shortage_rule = forms.ChoiceField(
        label=_("Shortage rule"),
        choices=ShortageRule.choices,
        initial=ShortageRule.LATEST_PAID_FIRST,
        required=False,
        help_text=_("Who loses units that do not arrive; members see the rule."),
    )
    after_sales_hours = forms.IntegerField(
        label=_("After-sales window (hours)"),
        min_value=1,
        max_value=720,
        initial=48,
        required=False,
        help_text=_("How long after pickup members may ask for after-sales."),
    )
    allow_pay_at_pickup = forms.BooleanField(
        label=_("Members may pay at pickup"),
        required=False,
        help_text=_("Orders paid at pickup are accepted unpaid and settled when collected."),
    )

    def __init__(self, *args, community, schedule=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.community = community
        self.schedule = schedule
        self.fields["pickup_points"].queryset = active_pickup_points(community)
        if schedule is not None and schedule.status == ScheduleStatus.PUBLISHED:
            for name in FROZEN_WHEN_PUBLISHED:
                self.fields[name].disabled = True
                self.fields[name].help_text = _("Cannot change once published.")

    @classmethod
    def initial_for(cls, schedule) -> dict:
        return {
            "title": schedule.title,
            "sale_start": schedule.sale_start,
            "cutoff": schedule.cutoff,
            "arrival_date": schedule.arrival_date,
            "pickup_start": schedule.pickup_start,
            "pickup_end": schedule.pickup_end,
            "pickup_points": list(schedule.pickup_points.all()),
            "notes": schedule.notes,
            "delivery_option": schedule.delivery_option,
            "delivery_fee": schedule.delivery_fee,
            "allow_pay_at_pickup": schedule.allow_pay_at_pickup,
            "shortage_rule": schedule.shortage_rule,
            "after_sales_hours": schedule.after_sales_hours,
        }

    def clean(self):
        data = super().clean()
        if self.schedule is not None:
            # The inputs have minutes only: an unchanged time keeps its stored seconds, so
            # it is not taken (and logged) as a change.
            for name in ("sale_start", "cutoff", "pickup_start", "pickup_end"):
                stored, value = getattr(self.schedule, name), data.get(name)
                if value is not None and _to_minute(value) == _to_minute(stored):
                    data[name] = stored
        data["shortage_rule"] = data.get("shortage_rule") or ShortageRule.LATEST_PAID_FIRST
        if data.get("after_sales_hours") is None and "after_sales_hours" not in self.errors:
            data["after_sales_hours"] = 48
        pickup_only = data.get("delivery_option") == DeliveryOption.PICKUP
        no_fee = data.get("delivery_fee") is None and "delivery_fee" not in self.errors
        if pickup_only or no_fee:
            data["delivery_fee"] = Decimal("0.00")
        return data

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)


class ItemFieldsForm(forms.Form):
    """The item terms a leader sets (ScheduleItem's ITEM_FIELDS)."""

    member_price = forms.DecimalField(
        label=_("Member price (CNY)"), max_digits=10, decimal_places=2, widget=_PRICE_INPUT
    )
    quantity_cap = forms.IntegerField(label=_("Quantity cap"), min_value=0)
    per_member_limit = forms.IntegerField(label=_("Limit per member"), min_value=0)
    min_group_qty = forms.IntegerField(
        label=_("Minimum group quantity"),
        min_value=0,
        initial=0,
        help_text=_("The item goes ahead only if this many are ordered; 0 = no minimum."),
    )
    display_order = forms.IntegerField(
        label=_("Display order"), min_value=0, max_value=32767, initial=0
    )
    highlight = forms.CharField(label=_("Highlight"), max_length=60, required=False)

    def item_fields(self) -> dict:
        return {
            key: self.cleaned_data[key]
            for key in (
                "member_price",
                "quantity_cap",
                "per_member_limit",
                "min_group_qty",
                "display_order",
                "highlight",
            )
        }


class ItemAddForm(ItemFieldsForm):
    """Add a listed offer. Empty price/cap/limit take defaults: the offer's suggested retail
    price, the agreed quantity (or the minimum order quantity), and at most 5 per member."""

    offer = forms.ModelChoiceField(
        label=_("Offer"), queryset=None, required=False, empty_label=_("Choose an offer")
    )
    proposal = forms.ModelChoiceField(
        label=_("Supply terms"),
        queryset=None,
        required=False,
        empty_label=_("The offer's list terms"),
        help_text=_("Use the price and quantity agreed in an accepted proposal."),
    )
    field_order = ["offer", "proposal"]

    def __init__(self, *args, offers, proposals, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["offer"].queryset = offers
        self.fields["offer"].label_from_instance = _offer_label
        self.fields["proposal"].queryset = proposals
        self.fields["proposal"].label_from_instance = _proposal_label
        for name in ("member_price", "quantity_cap", "per_member_limit"):
            self.fields[name].required = False
        self.fields["member_price"].help_text = _("Empty: the suggested retail price.")
        self.fields["quantity_cap"].help_text = _(
            "Empty: the agreed quantity, or the minimum order quantity."
        )
        self.fields["per_member_limit"].help_text = _("Empty: up to 5, within the cap.")

    def clean(self):
        data = super().clean()
        offer, proposal = data.get("offer"), data.get("proposal")
        if offer is None and proposal is not None:
            offer = data["offer"] = proposal.offer
        if offer is None:
            if "offer" not in self.errors:
                self.add_error("offer", _("Choose an offer."))
            return data
        if data.get("member_price") is None and "member_price" not in self.errors:
            data["member_price"] = offer.retail_price
        if data.get("quantity_cap") is None and "quantity_cap" not in self.errors:
            matching = proposal is not None and proposal.offer_id == offer.pk
            data["quantity_cap"] = proposal.quantity if matching else offer.min_order_qty
        if data.get("per_member_limit") is None and "per_member_limit" not in self.errors:
            data["per_member_limit"] = max(1, min(5, data.get("quantity_cap") or 1))
        return data


def _offer_label(offer) -> str:
    return (
        f"{offer.product.name} {offer.product.spec} · {offer.supplier.name} · ¥{offer.supply_price}"
    )


def _proposal_label(proposal) -> str:
    return _("%(product)s: ¥%(price)s x %(qty)s, delivery %(day)s") % {
        "product": proposal.offer.product.localized_name,
        "price": proposal.unit_price,
        "qty": proposal.quantity,
        "day": proposal.delivery_date.isoformat(),
    }


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for cancelling"),
        required=False,  # the service names the rule
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Members see it."),
    )


class StatusFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("All statuses")), *ScheduleStatus.choices],
        required=False,
    )
