"""The merchant's client for the sandbox gateway (settings.PAYMENT_PROVIDERS["sandbox"])."""

import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.urls import reverse

from notifications.services import absolute_url
from orders.providers.base import (
    Checkout,
    InvalidNotification,
    PaymentProvider,
    PaymentReport,
    RefundReceipt,
)

from . import gateway, signing


class SandboxProvider(PaymentProvider):
    code = "sandbox"

    def create_payment(self, *, trade_number, amount, description, notify_url, return_url):
        charge = gateway.charge_open(
            trade_number=trade_number,
            amount=amount,
            description=description,
            notify_url=notify_url,
            return_url=return_url,
        )
        pay_url = absolute_url(reverse("sandboxpay:cashier", args=[charge.token]))
        return Checkout(pay_url=pay_url, qr_text=pay_url)

    def parse_notification(self, *, body: bytes, headers: Mapping[str, str]) -> PaymentReport:
        if not signing.verify(body, headers.get(signing.HEADER, "")):
            raise InvalidNotification("bad signature")
        try:
            data = json.loads(body)
            settled = data.get("settled_at")
            return PaymentReport(
                trade_number=str(data["trade_number"]),
                outcome=str(data["status"]),
                amount=Decimal(str(data["amount"])),
                provider_reference=str(data.get("reference", "")),
                settled_at=datetime.fromisoformat(settled) if settled else None,
            )
        except (ValueError, KeyError, TypeError, AttributeError, InvalidOperation) as error:
            raise InvalidNotification(f"malformed notification: {error}") from error

    def query_payment(self, *, trade_number):
        return gateway.charge_query(trade_number=trade_number)

    def close_payment(self, *, trade_number):
        return gateway.charge_close(trade_number=trade_number)

    def refund(self, *, trade_number, refund_number, amount, reason):
        refund = gateway.charge_refund(
            trade_number=trade_number, refund_number=refund_number, amount=amount, reason=reason
        )
        return RefundReceipt(
            refund_number=refund.refund_number, provider_reference=refund.reference
        )
