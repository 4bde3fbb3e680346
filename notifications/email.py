"""Notification e-mail through Django's mail backend (``EMAIL_URL``).

Each message carries a Message-ID derived from the delivery's idempotency key, so a
retried send after an ambiguous failure produces the same Message-ID and mail clients
and servers that de-duplicate on it show the notice once.
"""

import re
import smtplib
from email.utils import parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.message import DNS_NAME

_NOT_ATOM = re.compile(r"[^A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]+")


class EmailSendError(Exception):
    """A mail could not be sent. ``retryable`` says whether to try again later."""

    def __init__(self, message: str, *, retryable: bool):
        super().__init__(message)
        self.retryable = retryable


def message_domain() -> str:
    """The domain on the right of our Message-IDs: the host of SITE_URL, else the domain
    of DEFAULT_FROM_EMAIL, else this machine's name."""
    domain = urlsplit(getattr(settings, "SITE_URL", "") or "").hostname or ""
    if not domain:
        _name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
        domain = address.rpartition("@")[2].strip().lower()
    return domain or str(DNS_NAME)


def message_id_for(idempotency_key: str) -> str:
    """``<tuangou.{key}@{domain}>``: the same key always gives the same Message-ID.

    (``email.utils.make_msgid`` mixes in the time, pid and a random number, so it would
    give a new id on every retry; the id here keeps only the parts that identify the
    message.) Characters not allowed in a msg-id's left part become '-'.
    """
    left = _NOT_ATOM.sub("-", idempotency_key).strip(".")
    left = re.sub(r"\.{2,}", ".", left)
    if not left:
        raise ValueError("email_send needs a non-empty idempotency_key")
    return f"<tuangou.{left}@{message_domain()}>"


def email_send(*, to: str, subject: str, body: str, idempotency_key: str) -> str:
    """Send one plain-text mail to ``to``; return its Message-ID. Raises EmailSendError."""
    message_id = message_id_for(idempotency_key)
    message = EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={"Message-ID": message_id},
    )
    try:
        message.send(fail_silently=False)
    except smtplib.SMTPRecipientsRefused as error:
        # The server refused the address itself: sending again will not help.
        raise EmailSendError(
            "the mail server refused the recipient address", retryable=False
        ) from error
    except (smtplib.SMTPException, OSError) as error:
        raise EmailSendError(f"mail not sent: {error}", retryable=True) from error
    return message_id
