from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SandboxPayConfig(AppConfig):
    """A stand-in payment gateway with a hosted cashier, for the embedded run and tests.

    It behaves like the real providers do from the merchant's side: the member pays on the
    gateway's own page, the gateway tells the merchant with a signed HTTP POST (retried
    until answered), and it answers queries, closes unpaid charges and refunds
    idempotently by refund number.
    """

    name = "sandboxpay"
    verbose_name = _("Sandbox payment gateway")
