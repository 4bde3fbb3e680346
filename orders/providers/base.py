"""What the orders stage needs from a payment provider (WeChat Pay, Alipay, the sandbox).

Modelled on django-payments' provider split (create / process the callback / refund) but
without its payment model: our Payment and Refund records and their state machines stay in
``orders``, and providers are stateless clients configured in settings.
"""

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


class ProviderError(Exception):
    """The provider could not do what was asked; ``retryable`` says whether to try again."""

    def __init__(self, message: str, *, retryable: bool = True):
        super().__init__(message)
        self.retryable = retryable


class InvalidNotification(Exception):
    """A notification whose signature or shape is wrong: answer 400 and change nothing."""


# The outcomes a provider reports for a payment.
PAID = "paid"
FAILED = "failed"
OPEN = "open"
CLOSED = "closed"


@dataclass(frozen=True)
class Checkout:
    """Where to send the member: a hosted cashier page (``pay_url``) or a QR of it."""

    pay_url: str
    qr_text: str = ""


@dataclass(frozen=True)
class PaymentReport:
    """A verified notification or the answer to a query."""

    trade_number: str
    outcome: str  # PAID | FAILED | OPEN | CLOSED
    amount: Decimal
    provider_reference: str = ""
    settled_at: datetime | None = None


@dataclass(frozen=True)
class RefundReceipt:
    refund_number: str
    provider_reference: str


class PaymentProvider(ABC):
    code: str = ""

    @abstractmethod
    def create_payment(
        self,
        *,
        trade_number: str,
        amount: Decimal,
        description: str,
        notify_url: str,
        return_url: str,
    ) -> Checkout:
        """Open a payment at the provider; raises ProviderError."""

    @abstractmethod
    def parse_notification(self, *, body: bytes, headers: Mapping[str, str]) -> PaymentReport:
        """Verify and read an asynchronous notification; raises InvalidNotification."""

    @abstractmethod
    def query_payment(self, *, trade_number: str) -> PaymentReport:
        """Ask the provider where a payment stands; raises ProviderError."""

    @abstractmethod
    def close_payment(self, *, trade_number: str) -> PaymentReport:
        """Stop an unpaid payment from being paid; returns its final state (it may turn
        out to be paid after all). Raises ProviderError."""

    @abstractmethod
    def refund(
        self, *, trade_number: str, refund_number: str, amount: Decimal, reason: str
    ) -> RefundReceipt:
        """Refund part or all of a paid payment, idempotent by ``refund_number``; raises
        ProviderError (``retryable=False`` when it can never succeed)."""

    #: What the provider expects as the body of a successful notification answer.
    notification_ack: str = "success"
