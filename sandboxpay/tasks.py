import urllib.error
import urllib.request

from celery import shared_task

from . import gateway, signing
from .models import Charge

TIMEOUT_SECONDS = 10


@shared_task(name="sandboxpay.send_notification", ignore_result=True)
def send_notification(charge_id: int) -> None:
    """POST the signed notification to the merchant; anything but "success" is retried
    later by ``resend_due_notifications``."""
    charge = Charge.objects.filter(pk=charge_id, notified_at__isnull=True).first()
    if charge is None:
        return
    body = gateway.notification_body(charge)
    request = urllib.request.Request(
        charge.notify_url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", signing.HEADER: signing.sign(body)},
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            answer = response.read(100).decode(errors="replace").strip()
    except (urllib.error.URLError, OSError) as error:
        gateway.notification_failed(charge_id=charge_id, error=str(error))
        return
    if answer == "success":
        gateway.notification_delivered(charge_id=charge_id)
    else:
        gateway.notification_failed(charge_id=charge_id, error=f"merchant answered {answer!r}")


@shared_task(name="sandboxpay.resend_due_notifications", ignore_result=True)
def resend_due_notifications() -> None:
    gateway.notifications_resend_due()
