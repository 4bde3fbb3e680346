"""Steps 6-8 of the flow: purchase orders, receipt and shortages, pickup notices and
verification, reviews and after-sales requests.

Every status is an FSMField changed only by ``fulfillment/services``.
"""

import secrets
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from groupbuy.models import TimeStampedModel


def _number(prefix: str) -> str:
    return prefix + "".join(secrets.choice("0123456789") for _ in range(12))


def new_purchase_order_number() -> str:
    return _number("PO")


def new_after_sales_number() -> str:
    return _number("AS")


class PurchaseOrderStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("purchase order status", "Draft")
    SENT = "sent", pgettext_lazy("purchase order status", "Sent")
    ACKNOWLEDGED = "acknowledged", pgettext_lazy("purchase order status", "Acknowledged")
    STOCKING = "stocking", pgettext_lazy("purchase order status", "Stocking up")
    READY = "ready", pgettext_lazy("purchase order status", "Ready / shipped")
    RECEIVED = "received", pgettext_lazy("purchase order status", "Received")
    CLOSED = "closed", pgettext_lazy("purchase order status", "Closed")
    DECLINED = "declined", pgettext_lazy("purchase order status", "Declined")


class Dispatch(models.TextChoices):
    READY = "ready", _("Ready for collection")
    SHIPPED = "shipped", _("Shipped")


class PurchaseOrder(ConcurrentTransitionMixin, TimeStampedModel):
    """What one supplier delivers for one schedule (采购单): confirmed lines per offer."""

    number = models.CharField(
        _("purchase order number"), max_length=20, unique=True, default=new_purchase_order_number
    )
    schedule = models.ForeignKey(
        "scheduling.Schedule",
        verbose_name=_("schedule"),
        on_delete=models.PROTECT,
        related_name="purchase_orders",
    )
    supplier = models.ForeignKey(
        "accounts.SupplierOrganization",
        verbose_name=_("supplier"),
        on_delete=models.PROTECT,
        related_name="purchase_orders",
    )
    community = models.ForeignKey(
        "accounts.Community",
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        related_name="purchase_orders",
    )
    delivery_date = models.DateField(_("delivery date"))
    delivery_address = models.CharField(_("deliver to"), max_length=300)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    status = FSMField(
        _("status"),
        max_length=12,
        choices=PurchaseOrderStatus.choices,
        default=PurchaseOrderStatus.DRAFT,
        protected=True,
    )
    dispatch = models.CharField(_("dispatch"), max_length=10, choices=Dispatch.choices, blank=True)
    delivery_note = models.TextField(_("delivery note"), blank=True, max_length=1000)
    decline_reason = models.TextField(_("reason for declining"), blank=True, max_length=1000)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    ready_at = models.DateTimeField(_("ready at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)

    class Meta:
        verbose_name = _("purchase order")
        verbose_name_plural = _("purchase orders")
        ordering = ["delivery_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "supplier"], name="one_purchase_order_per_supplier"
            )
        ]
        indexes = [models.Index(fields=["supplier", "status", "delivery_date"])]

    def __str__(self):
        return self.number

    @transition(field=status, source=PurchaseOrderStatus.DRAFT, target=PurchaseOrderStatus.SENT)
    def send(self):
        pass

    @transition(
        field=status, source=PurchaseOrderStatus.SENT, target=PurchaseOrderStatus.ACKNOWLEDGED
    )
    def acknowledge(self):
        pass

    @transition(field=status, source=PurchaseOrderStatus.SENT, target=PurchaseOrderStatus.DECLINED)
    def decline(self):
        pass

    @transition(
        field=status, source=PurchaseOrderStatus.ACKNOWLEDGED, target=PurchaseOrderStatus.STOCKING
    )
    def start_stocking(self):
        pass

    @transition(
        field=status,
        source=[PurchaseOrderStatus.ACKNOWLEDGED, PurchaseOrderStatus.STOCKING],
        target=PurchaseOrderStatus.READY,
    )
    def mark_ready(self):
        pass

    @transition(field=status, source=PurchaseOrderStatus.READY, target=PurchaseOrderStatus.RECEIVED)
    def receive(self):
        pass

    @transition(
        field=status, source=PurchaseOrderStatus.RECEIVED, target=PurchaseOrderStatus.CLOSED
    )
    def close(self):
        pass


class PurchaseOrderLine(models.Model):
    purchase_order = models.ForeignKey(
        PurchaseOrder, on_delete=models.CASCADE, related_name="lines"
    )
    item = models.OneToOneField(
        "scheduling.ScheduleItem",
        verbose_name=_("item"),
        on_delete=models.PROTECT,
        related_name="purchase_order_line",
    )
    product_name = models.CharField(_("product"), max_length=200)
    spec = models.CharField(_("specification"), max_length=100, blank=True)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    case_size = models.PositiveIntegerField(_("case size"), default=1)
    unit_price = models.DecimalField(_("supply price"), max_digits=10, decimal_places=2)
    ordered_units = models.PositiveIntegerField(_("ordered by members"))
    quantity = models.PositiveIntegerField(_("quantity (whole cases)"))
    declined = models.BooleanField(_("declined"), default=False)
    decline_reason = models.CharField(_("reason for declining"), max_length=200, blank=True)
    shipped_quantity = models.PositiveIntegerField(_("shipped"), null=True, blank=True)
    received_quantity = models.PositiveIntegerField(_("received"), null=True, blank=True)
    short_quantity = models.PositiveIntegerField(_("short"), default=0)
    damaged_quantity = models.PositiveIntegerField(_("damaged"), default=0)

    class Meta:
        verbose_name = _("purchase order line")
        verbose_name_plural = _("purchase order lines")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gte=models.F("ordered_units")),
                name="purchase_line_covers_member_orders",
            )
        ]

    def __str__(self):
        return f"{self.product_name} x{self.quantity}"

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.quantity

    @property
    def cases(self) -> int:
        return self.quantity // max(self.case_size, 1)

    @property
    def missing_units(self) -> int:
        return self.short_quantity + self.damaged_quantity


class ShortageAllocation(models.Model):
    """Units of one member's order line that did not arrive, and what was refunded."""

    purchase_line = models.ForeignKey(
        PurchaseOrderLine, on_delete=models.CASCADE, related_name="allocations"
    )
    order_line = models.ForeignKey(
        "orders.OrderLine", on_delete=models.PROTECT, related_name="shortage_allocations"
    )
    units = models.PositiveIntegerField(_("units missing"))
    amount = models.DecimalField(_("refund"), max_digits=10, decimal_places=2)
    refund = models.ForeignKey(
        "orders.Refund", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("shortage allocation")
        verbose_name_plural = _("shortage allocations")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["purchase_line", "order_line"], name="one_allocation_per_line"
            ),
            models.CheckConstraint(
                condition=models.Q(units__gt=0), name="allocation_units_positive"
            ),
        ]

    def __str__(self):
        return f"{self.order_line_id}: -{self.units}"


class PickupNotice(TimeStampedModel):
    """The leader's "come and collect" message for a schedule, sent through notify()."""

    schedule = models.ForeignKey(
        "scheduling.Schedule", on_delete=models.CASCADE, related_name="pickup_notices"
    )
    window_start = models.DateTimeField(_("from"))
    window_end = models.DateTimeField(_("until"))
    place = models.CharField(_("place"), max_length=300)
    notes = models.TextField(_("notes"), blank=True, max_length=500)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    broadcast = models.OneToOneField(
        "notifications.Broadcast",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="pickup_notice",
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("pickup notice")
        verbose_name_plural = _("pickup notices")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(window_start__lt=models.F("window_end")),
                name="pickup_notice_window_in_order",
            )
        ]

    def __str__(self):
        return f"{self.schedule}: {self.place}"


class PickupAttempt(models.Model):
    """One pickup code typed by a verifier; failures are rate-limited."""

    verifier = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pickup_attempts"
    )
    community = models.ForeignKey(
        "accounts.Community", on_delete=models.CASCADE, related_name="pickup_attempts"
    )
    succeeded = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("pickup code attempt")
        verbose_name_plural = _("pickup code attempts")
        indexes = [models.Index(fields=["verifier", "succeeded", "created_at"])]

    def __str__(self):
        return f"{self.verifier_id} {self.created_at:%Y-%m-%d %H:%M} {self.succeeded}"


class Review(TimeStampedModel):
    """A member's rating of one order line after pickup."""

    order_line = models.OneToOneField(
        "orders.OrderLine", on_delete=models.CASCADE, related_name="review"
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviews"
    )
    offer = models.ForeignKey("catalog.Offer", on_delete=models.CASCADE, related_name="reviews")
    rating = models.PositiveSmallIntegerField(
        _("rating"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    text = models.TextField(_("review"), blank=True, max_length=500)

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__gte=1) & models.Q(rating__lte=5),
                name="review_rating_1_to_5",
            )
        ]

    def __str__(self):
        return f"{self.rating}★ {self.text[:30]}"


class ReviewPhoto(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(_("photo"), upload_to="reviews/%Y/%m/")

    class Meta:
        verbose_name = _("review photo")
        verbose_name_plural = _("review photos")
        ordering = ["id"]

    def __str__(self):
        return self.image.name


class AfterSalesReason(models.TextChoices):
    QUALITY = "quality", _("Quality problem")
    MISSING = "missing", _("Missing")
    DAMAGED = "damaged", _("Damaged")
    WRONG_ITEM = "wrong_item", _("Wrong item")
    OTHER = "other", _("Other")


class AfterSalesStatus(models.TextChoices):
    SUBMITTED = "submitted", pgettext_lazy("after-sales status", "Submitted")
    ESCALATED = "escalated", pgettext_lazy("after-sales status", "With the platform")
    APPROVED = "approved", pgettext_lazy("after-sales status", "Approved")
    REFUNDED = "refunded", pgettext_lazy("after-sales status", "Refunded")
    REJECTED = "rejected", pgettext_lazy("after-sales status", "Rejected")


class AfterSalesRequest(ConcurrentTransitionMixin, TimeStampedModel):
    number = models.CharField(
        _("request number"), max_length=20, unique=True, default=new_after_sales_number
    )
    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, related_name="after_sales_requests"
    )
    order_line = models.ForeignKey(
        "orders.OrderLine",
        verbose_name=_("item"),
        on_delete=models.PROTECT,
        related_name="after_sales_requests",
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="after_sales_requests"
    )
    community = models.ForeignKey(
        "accounts.Community", on_delete=models.PROTECT, related_name="after_sales_requests"
    )
    reason = models.CharField(_("reason"), max_length=12, choices=AfterSalesReason.choices)
    description = models.TextField(_("what happened"), max_length=1000)
    requested_amount = models.DecimalField(
        _("amount requested"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    status = FSMField(
        _("status"),
        max_length=12,
        choices=AfterSalesStatus.choices,
        default=AfterSalesStatus.SUBMITTED,
        protected=True,
    )
    decision_reason = models.TextField(_("decision"), blank=True, max_length=1000)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    refund = models.ForeignKey(
        "orders.Refund", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("after-sales request")
        verbose_name_plural = _("after-sales requests")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["community", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(requested_amount__gt=0), name="after_sales_amount_positive"
            )
        ]

    def __str__(self):
        return self.number

    @transition(field=status, source=AfterSalesStatus.SUBMITTED, target=AfterSalesStatus.ESCALATED)
    def escalate(self):
        pass

    @transition(
        field=status,
        source=[AfterSalesStatus.SUBMITTED, AfterSalesStatus.ESCALATED],
        target=AfterSalesStatus.APPROVED,
    )
    def approve(self):
        pass

    @transition(
        field=status,
        source=[AfterSalesStatus.SUBMITTED, AfterSalesStatus.ESCALATED],
        target=AfterSalesStatus.REJECTED,
    )
    def reject(self):
        pass

    @transition(field=status, source=AfterSalesStatus.APPROVED, target=AfterSalesStatus.REFUNDED)
    def mark_refunded(self):
        pass


class AfterSalesPhoto(models.Model):
    request = models.ForeignKey(AfterSalesRequest, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(_("photo"), upload_to="after-sales/%Y/%m/")

    class Meta:
        verbose_name = _("after-sales photo")
        verbose_name_plural = _("after-sales photos")
        ordering = ["id"]

    def __str__(self):
        return self.image.name
