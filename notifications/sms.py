"""SMS backends. The notifications issue adds a real provider adapter; login codes use
the same backend as every other text message.

``SMS_BACKEND`` names the class: console (embedded mode) or locmem (tests).
"""

import logging
import sys
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmsMessage:
    phone: str
    text: str
    purpose: str = "notification"
    sent_at: object = field(default_factory=timezone.now)


class BaseSmsBackend:
    def send(self, message: SmsMessage) -> str:
        """Send one text; return the provider's message id."""
        raise NotImplementedError


class ConsoleSmsBackend(BaseSmsBackend):
    """Prints texts to stdout so a developer can read login codes in the server log."""

    def send(self, message: SmsMessage) -> str:
        sys.stdout.write(f"[SMS to {message.phone}] {message.text}\n")
        sys.stdout.flush()
        return f"console-{message.sent_at.timestamp()}"


# Texts sent through LocmemSmsBackend, newest last; tests read and clear it.
outbox: list[SmsMessage] = []


class LocmemSmsBackend(BaseSmsBackend):
    def send(self, message: SmsMessage) -> str:
        outbox.append(message)
        return f"locmem-{len(outbox)}"


def get_sms_backend() -> BaseSmsBackend:
    return import_string(settings.SMS_BACKEND)()


def sms_send(*, phone: str, text: str, purpose: str = "notification") -> str:
    message = SmsMessage(phone=phone, text=text, purpose=purpose)
    message_id = get_sms_backend().send(message)
    logger.info("sms sent purpose=%s id=%s", purpose, message_id)
    return message_id
