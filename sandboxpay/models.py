import secrets
from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ChargeStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("payment status", "Waiting for the payer")
    PAID = "paid", pgettext_lazy("payment status", "Paid")
    FAILED = "failed", pgettext_lazy("payment status", "Failed")
    CLOSED = "closed", pgettext_lazy("payment status", "Closed")


def _token() -> str:
    return secrets.token_urlsafe(24)


def _reference() -> str:
    return "SBX" + secrets.token_hex(10).upper()


class Charge(models.Model):
    """One merchant request to collect money, as the gateway keeps it."""

    trade_number = models.CharField(max_length=40, unique=True)
    token = models.CharField(max_length=40, unique=True, default=_token)
    reference = models.CharField(max_length=30, unique=True, default=_reference)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    description = models.CharField(max_length=200)
    notify_url = models.URLField(max_length=500)
    return_url = models.URLField(max_length=500)
    status = models.CharField(
        max_length=10, choices=ChargeStatus.choices, default=ChargeStatus.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    # Notification delivery to the merchant, retried with backoff until answered "success".
    notify_attempts = models.PositiveSmallIntegerField(default=0)
    next_notify_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    last_notify_error = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("sandbox charge")
        verbose_name_plural = _("sandbox charges")
        indexes = [models.Index(fields=["next_notify_at"])]

    def __str__(self):
        return f"{self.trade_number} {self.status}"

    @property
    def refunded(self) -> Decimal:
        return sum((r.amount for r in self.refunds.all()), Decimal("0.00"))


class ChargeRefund(models.Model):
    charge = models.ForeignKey(Charge, on_delete=models.CASCADE, related_name="refunds")
    refund_number = models.CharField(max_length=40, unique=True)
    reference = models.CharField(max_length=30, unique=True, default=_reference)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("sandbox refund")
        verbose_name_plural = _("sandbox refunds")

    def __str__(self):
        return self.refund_number
