import logging

from django.http import HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ..providers import get_provider
from ..providers.base import InvalidNotification
from ..services.payments import payment_notification_receive

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def payment_notify(request, provider):
    """The provider's asynchronous notification: verified, idempotent, amount-checked."""
    try:
        get_provider(provider)
    except LookupError:
        return HttpResponseBadRequest("unknown provider", content_type="text/plain")
    try:
        outcome = payment_notification_receive(
            provider_code=provider, body=request.body, headers=request.headers
        )
    except InvalidNotification as error:
        logger.warning("refused %s payment notification: %s", provider, error)
        return HttpResponseBadRequest(str(error), content_type="text/plain")
    logger.info("%s payment notification: %s", provider, outcome)
    return HttpResponse(get_provider(provider).notification_ack, content_type="text/plain")
