from celery import shared_task

from . import services


@shared_task(name="catalog.expire_due", ignore_result=True)
def expire_due() -> None:
    """Offers and contracts past their validity become expired."""
    services.offers_expire_due()
    services.contracts_expire_due()
