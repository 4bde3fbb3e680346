from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self):
        from . import notices  # noqa: F401  (registers the order notification kinds)
        from .services import signals  # noqa: F401  (connects to the scheduling signals)
