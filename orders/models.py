"""Orders, their lines, payments and refunds (steps 5-6 of the flow).

Every status is an FSMField changed only by the services in ``orders/services``. Money is
Decimal with two places; totals are computed on the server from the schedule's prices and
snapshotted onto the lines.
"""

import secrets
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Round
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from groupbuy.models import TimeStampedModel

ZERO = Decimal("0.00")


class OrderStatus(models.TextChoices):
    # Contexts: the same English words name other things elsewhere (an item "confirmed"
    # at the cut-off is 已成团; an order confirmed by the leader is 已确认).
    PENDING_PAYMENT = "pending_payment", pgettext_lazy("order status", "Awaiting payment")
    PAID = "paid", pgettext_lazy("order status", "Paid")
    CONFIRMED = "confirmed", pgettext_lazy("order status", "Confirmed")
    READY_FOR_PICKUP = "ready_for_pickup", pgettext_lazy("order status", "Ready for pickup")
    PICKED_UP = "picked_up", pgettext_lazy("order status", "Picked up")
    COMPLETED = "completed", pgettext_lazy("order status", "Completed")
    EXPIRED = "expired", pgettext_lazy("order status", "Expired")
    CANCELLED = "cancelled", pgettext_lazy("order status", "Cancelled")


# Orders that hold stock and still concern the leader.
ACTIVE_ORDER_STATUSES = (
    OrderStatus.PENDING_PAYMENT,
    OrderStatus.PAID,
    OrderStatus.CONFIRMED,
    OrderStatus.READY_FOR_PICKUP,
    OrderStatus.PICKED_UP,
    OrderStatus.COMPLETED,
)
# Orders whose pickup code must stay unique within the community.
OPEN_ORDER_STATUSES = (OrderStatus.CONFIRMED, OrderStatus.READY_FOR_PICKUP)


class PaymentMethod(models.TextChoices):
    ONLINE = "online", _("Pay online now")
    AT_PICKUP = "at_pickup", _("Pay at pickup")


class Fulfilment(models.TextChoices):
    PICKUP = "pickup", _("Pick up")
    DELIVERY = "delivery", _("Home delivery")


def new_order_number() -> str:
    """A public order number: 14 digits, random (so numbers reveal no sales volume)."""
    return "".join(secrets.choice("0123456789") for _ in range(14))


class Order(ConcurrentTransitionMixin, TimeStampedModel):
    number = models.CharField(
        _("order number"), max_length=20, unique=True, default=new_order_number
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="orders",
    )
    community = models.ForeignKey(
        "accounts.Community",
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        related_name="orders",
    )
    schedule = models.ForeignKey(
        "scheduling.Schedule",
        verbose_name=_("schedule"),
        on_delete=models.PROTECT,
        related_name="orders",
    )
    fulfilment = models.CharField(
        _("receiving"), max_length=10, choices=Fulfilment.choices, default=Fulfilment.PICKUP
    )
    pickup_point = models.ForeignKey(
        "accounts.PickupPoint",
        verbose_name=_("pickup point"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    delivery_address = models.CharField(_("delivery address"), max_length=255, blank=True)
    note = models.CharField(_("note to the leader"), max_length=200, blank=True)
    payment_method = models.CharField(
        _("payment method"), max_length=10, choices=PaymentMethod.choices
    )
    goods_total = models.DecimalField(_("goods"), max_digits=10, decimal_places=2)
    delivery_fee = models.DecimalField(
        _("delivery fee"), max_digits=8, decimal_places=2, default=ZERO
    )
    total = models.DecimalField(_("total"), max_digits=10, decimal_places=2)
    refunded_total = models.DecimalField(
        _("refunded"), max_digits=10, decimal_places=2, default=ZERO
    )
    status = FSMField(
        _("status"),
        max_length=20,
        choices=OrderStatus.choices,
        default=OrderStatus.PENDING_PAYMENT,
        protected=True,
    )
    payment_deadline = models.DateTimeField(_("pay by"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.CharField(_("reason"), max_length=200, blank=True)
    pickup_code = models.CharField(_("pickup code"), max_length=8, blank=True)
    ready_at = models.DateTimeField(_("ready at"), null=True, blank=True)
    out_for_delivery_at = models.DateTimeField(_("out for delivery at"), null=True, blank=True)
    picked_up_at = models.DateTimeField(_("picked up at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["schedule", "status"]),
            models.Index(fields=["member", "-created_at"]),
            models.Index(fields=["status", "payment_deadline"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(goods_total__gte=0)
                & models.Q(delivery_fee__gte=0)
                # Rounded: SQLite computes on floats (29.90 * 3 != 89.70 there).
                & models.Q(total=Round(models.F("goods_total") + models.F("delivery_fee"), 2)),
                name="order_total_is_goods_plus_fee",
            ),
            models.CheckConstraint(
                condition=models.Q(refunded_total__gte=0)
                & models.Q(refunded_total__lte=models.F("total")),
                name="order_refunds_within_total",
            ),
            models.UniqueConstraint(
                fields=["community", "pickup_code"],
                condition=models.Q(status__in=OPEN_ORDER_STATUSES) & ~models.Q(pickup_code=""),
                name="pickup_code_unique_among_open_orders",
            ),
        ]

    def __str__(self):
        return self.number

    @property
    def pays_online(self) -> bool:
        return self.payment_method == PaymentMethod.ONLINE

    @property
    def refundable(self) -> Decimal:
        return self.total - self.refunded_total

    # Transitions: the services lock the row, call one, save and record it.

    @transition(field=status, source=OrderStatus.PENDING_PAYMENT, target=OrderStatus.PAID)
    def mark_paid(self):
        pass

    @transition(field=status, source=OrderStatus.EXPIRED, target=OrderStatus.PAID)
    def reinstate(self):
        """A payment arrived after the window closed and the stock was still there."""

    @transition(field=status, source=OrderStatus.PENDING_PAYMENT, target=OrderStatus.CONFIRMED)
    def accept_pay_at_pickup(self):
        pass

    @transition(field=status, source=OrderStatus.PAID, target=OrderStatus.CONFIRMED)
    def confirm(self):
        pass

    @transition(field=status, source=OrderStatus.CONFIRMED, target=OrderStatus.READY_FOR_PICKUP)
    def make_ready(self):
        pass

    @transition(field=status, source=OrderStatus.READY_FOR_PICKUP, target=OrderStatus.PICKED_UP)
    def pick_up(self):
        pass

    @transition(field=status, source=OrderStatus.PICKED_UP, target=OrderStatus.COMPLETED)
    def complete(self):
        pass

    @transition(field=status, source=OrderStatus.PENDING_PAYMENT, target=OrderStatus.EXPIRED)
    def expire(self):
        pass

    @transition(
        field=status,
        source=[OrderStatus.PENDING_PAYMENT, OrderStatus.PAID, OrderStatus.CONFIRMED],
        target=OrderStatus.CANCELLED,
    )
    def cancel(self):
        pass


class LineStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    CANCELLED = "cancelled", _("Cancelled")


class OrderLine(ConcurrentTransitionMixin, models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    item = models.ForeignKey(
        "scheduling.ScheduleItem",
        verbose_name=_("item"),
        on_delete=models.PROTECT,
        related_name="order_lines",
    )
    # What the member saw and agreed to, whatever the item becomes later.
    product_name = models.CharField(_("product"), max_length=200)
    spec = models.CharField(_("specification"), max_length=100, blank=True)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    unit_price = models.DecimalField(_("unit price"), max_digits=10, decimal_places=2)
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    refunded_amount = models.DecimalField(
        _("refunded"), max_digits=10, decimal_places=2, default=ZERO
    )
    status = FSMField(
        _("status"),
        max_length=10,
        choices=LineStatus.choices,
        default=LineStatus.ACTIVE,
        protected=True,
    )
    cancel_reason = models.CharField(_("reason"), max_length=200, blank=True)
    # Units that did not arrive (short or damaged at receipt), refunded to the member.
    short_units = models.PositiveIntegerField(_("not delivered"), default=0)
    picked_up_at = models.DateTimeField(_("picked up at"), null=True, blank=True)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0)
                & models.Q(unit_price__gt=0)
                & models.Q(amount=Round(models.F("unit_price") * models.F("quantity"), 2)),
                name="line_amount_is_price_times_quantity",
            ),
            models.CheckConstraint(
                condition=models.Q(refunded_amount__gte=0)
                & models.Q(refunded_amount__lte=models.F("amount")),
                name="line_refunds_within_amount",
            ),
            models.UniqueConstraint(fields=["order", "item"], name="one_line_per_item"),
            models.CheckConstraint(
                condition=models.Q(short_units__lte=models.F("quantity")),
                name="line_short_within_quantity",
            ),
        ]

    def __str__(self):
        return f"{self.product_name} x{self.quantity}"

    @property
    def refundable(self) -> Decimal:
        return self.amount - self.refunded_amount

    @property
    def units_to_hand_over(self) -> int:
        return self.quantity - self.short_units

    @transition(field=status, source=LineStatus.ACTIVE, target=LineStatus.CANCELLED)
    def cancel(self):
        pass


class PaymentStatus(models.TextChoices):
    CREATED = "created", pgettext_lazy("payment status", "Created")
    PENDING = "pending", pgettext_lazy("payment status", "Awaiting the payer")
    SUCCEEDED = "succeeded", pgettext_lazy("payment status", "Succeeded")
    FAILED = "failed", pgettext_lazy("payment status", "Failed")
    CLOSED = "closed", pgettext_lazy("payment status", "Closed")


def new_trade_number() -> str:
    return "P" + secrets.token_hex(12)


def new_refund_number() -> str:
    return "R" + secrets.token_hex(12)


class Payment(ConcurrentTransitionMixin, TimeStampedModel):
    """One attempt to collect an order's total through a provider."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    provider = models.CharField(_("provider"), max_length=20)
    # Our id for the provider; the provider's own id arrives with the notification.
    trade_number = models.CharField(max_length=40, unique=True, default=new_trade_number)
    provider_reference = models.CharField(_("provider reference"), max_length=64, blank=True)
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    status = FSMField(
        _("status"),
        max_length=10,
        choices=PaymentStatus.choices,
        default=PaymentStatus.CREATED,
        protected=True,
    )
    pay_url = models.URLField(_("cashier address"), max_length=500, blank=True)
    succeeded_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    failure_reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_amount_positive")
        ]

    def __str__(self):
        return self.trade_number

    @transition(field=status, source=PaymentStatus.CREATED, target=PaymentStatus.PENDING)
    def start(self):
        pass

    # Money the provider reports as taken is never ignored, whatever we believed before
    # (a late or out-of-order notification): the order service then keeps or refunds it.
    @transition(
        field=status,
        source=[
            PaymentStatus.CREATED,
            PaymentStatus.PENDING,
            PaymentStatus.FAILED,
            PaymentStatus.CLOSED,
        ],
        target=PaymentStatus.SUCCEEDED,
    )
    def succeed(self):
        pass

    @transition(
        field=status,
        source=[PaymentStatus.CREATED, PaymentStatus.PENDING],
        target=PaymentStatus.FAILED,
    )
    def fail(self):
        pass

    @transition(
        field=status,
        source=[PaymentStatus.CREATED, PaymentStatus.PENDING, PaymentStatus.FAILED],
        target=PaymentStatus.CLOSED,
    )
    def close(self):
        pass


class RefundStatus(models.TextChoices):
    REQUESTED = "requested", pgettext_lazy("refund status", "Requested")
    SUCCEEDED = "succeeded", pgettext_lazy("refund status", "Refunded")
    FAILED = "failed", pgettext_lazy("refund status", "Failed")


class Refund(ConcurrentTransitionMixin, TimeStampedModel):
    """Money going back to the payer, sent to the provider after the deciding commit."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    line = models.ForeignKey(
        OrderLine, null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )
    # Sent to the provider as the idempotency key: the same number never refunds twice.
    refund_number = models.CharField(max_length=40, unique=True, default=new_refund_number)
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    reason = models.CharField(_("reason"), max_length=200)
    # False for money returned whole because it should never have been taken (a late or a
    # second payment): it is not part of the order's refunded total.
    booked_on_order = models.BooleanField(default=True)
    status = FSMField(
        _("status"),
        max_length=10,
        choices=RefundStatus.choices,
        default=RefundStatus.REQUESTED,
        protected=True,
    )
    provider_reference = models.CharField(_("provider reference"), max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    succeeded_at = models.DateTimeField(_("refunded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_amount_positive")
        ]

    def __str__(self):
        return self.refund_number

    @transition(field=status, source=RefundStatus.REQUESTED, target=RefundStatus.SUCCEEDED)
    def succeed(self):
        pass

    @transition(field=status, source=RefundStatus.REQUESTED, target=RefundStatus.FAILED)
    def fail(self):
        pass


class PaymentNotification(models.Model):
    """Every asynchronous notification received, kept as evidence (verified or not)."""

    provider = models.CharField(max_length=20)
    trade_number = models.CharField(max_length=40, blank=True, db_index=True)
    body = models.TextField()
    verified = models.BooleanField(default=False)
    outcome = models.CharField(max_length=200, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("payment notification")
        verbose_name_plural = _("payment notifications")
        ordering = ["-received_at", "-id"]

    def __str__(self):
        return f"{self.provider} {self.trade_number} {self.outcome}"
