from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = _("Catalog")

    def ready(self):
        from groupbuy.dashboards import StaffCard, register_staff_card

        from . import notices  # noqa: F401  (registers the catalog's notification kinds)
        from .selectors import review_queue

        register_staff_card(
            StaffCard(
                testid="pending-offers",
                label=_("offers waiting for review"),
                url_name="catalog:staff_offer_queue",
                count=lambda: review_queue().count(),
            )
        )
