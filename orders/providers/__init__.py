"""The configured payment providers, by code (settings.PAYMENT_PROVIDERS)."""

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from .base import PaymentProvider


@cache
def get_provider(code: str | None = None) -> PaymentProvider:
    code = code or settings.PAYMENT_PROVIDER
    try:
        path = settings.PAYMENT_PROVIDERS[code]
    except KeyError:
        raise LookupError(f"no payment provider {code!r}") from None
    return import_string(path)()


def default_provider() -> PaymentProvider:
    return get_provider(settings.PAYMENT_PROVIDER)
