from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FulfillmentConfig(AppConfig):
    name = "fulfillment"
    verbose_name = _("Fulfilment")

    def ready(self):
        from . import notices  # noqa: F401  (registers the fulfilment notification kinds)
        from .services import signals  # noqa: F401  (follows refunds of after-sales requests)
