"""Leaders' catalog: the listed offers of every supplier, and one offer's product page."""

from decimal import ROUND_HALF_UP, Decimal

from django.shortcuts import render
from django.utils.dates import WEEKDAYS, WEEKDAYS_ABBR
from django.views import View

from groupbuy.pagination import paginate
from groupbuy.roles import LeaderRequiredMixin

from .. import selectors
from ..forms.leader import CatalogFilterForm
from ..models import Offer


def _margin_percent(offer: Offer) -> Decimal | None:
    """The margin as a share of the suggested retail price, in whole percent."""
    if not offer.retail_price:
        return None
    share = offer.margin * 100 / offer.retail_price
    return share.quantize(Decimal("1"), rounding=ROUND_HALF_UP)


def _decorate(offer: Offer, *, day_names) -> Offer:
    """Display values computed in Python from the row itself (no queries)."""
    offer.delivery_day_labels = [day_names[day] for day in offer.weekday_numbers]
    offer.margin_percent = _margin_percent(offer)
    offer.margin_abs = abs(offer.margin)
    # Orders are rounded up to whole cases, so the smallest order is this many cases.
    offer.min_order_cases = -(-offer.min_order_qty // offer.case_size)
    offer.min_order_units = offer.min_order_cases * offer.case_size
    return offer


class LeaderCatalogView(LeaderRequiredMixin, View):
    template_name = "catalog/leader/catalog.html"

    def get(self, request):
        form = CatalogFilterForm(request.GET)
        offers = selectors.catalog_search(**form.search_kwargs())
        page_obj = paginate(request, offers)
        for offer in page_obj:
            _decorate(offer, day_names=WEEKDAYS_ABBR)
        return render(
            request,
            self.template_name,
            {
                "form": form,
                "page_obj": page_obj,
                "filtered": form.has_filters,
            },
        )


class LeaderOfferView(LeaderRequiredMixin, View):
    """A listed offer's product page; any other offer answers 404."""

    template_name = "catalog/leader/offer_detail.html"

    def get(self, request, offer_id: int):
        offer = _decorate(selectors.listed_offer_for_leader(offer_id), day_names=WEEKDAYS)
        return render(
            request,
            self.template_name,
            {
                "offer": offer,
                "product": offer.product,
                "images": list(offer.product.images.all()),
                "back_query": request.GET.urlencode(),
            },
        )
