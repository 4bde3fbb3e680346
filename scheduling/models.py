import secrets
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from groupbuy.models import TimeStampedModel


class Side(models.TextChoices):
    LEADER = "leader", _("Leader")
    SUPPLIER = "supplier", _("Supplier")


class ProposalStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    COUNTERED = "countered", _("Countered")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Proposal(ConcurrentTransitionMixin, TimeStampedModel):
    """One step of a leader <-> supplier negotiation about one offer and delivery date.

    A counter-proposal is a new Proposal whose ``parent`` is the one it answers; ``thread``
    points at the first proposal so both dashboards show the whole conversation.
    """

    offer = models.ForeignKey(
        "catalog.Offer",
        verbose_name=_("offer"),
        on_delete=models.PROTECT,
        related_name="proposals",
    )
    supplier = models.ForeignKey(
        "accounts.SupplierOrganization",
        verbose_name=_("supplier"),
        on_delete=models.CASCADE,
        related_name="proposals",
    )
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("leader"),
        on_delete=models.CASCADE,
        related_name="proposals",
    )
    community = models.ForeignKey(
        "accounts.Community",
        verbose_name=_("community"),
        on_delete=models.CASCADE,
        related_name="proposals",
    )
    thread = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="thread_items"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="counters"
    )
    proposed_by = models.CharField(_("proposed by"), max_length=10, choices=Side.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    delivery_date = models.DateField(_("delivery date"))
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    unit_price = models.DecimalField(
        _("unit price"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    note = models.TextField(_("note"), blank=True)
    status = FSMField(
        _("status"),
        max_length=12,
        choices=ProposalStatus.choices,
        default=ProposalStatus.PROPOSED,
        protected=True,
    )
    decline_reason = models.TextField(_("reason for declining"), blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["offer", "delivery_date", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0) & models.Q(unit_price__gt=0),
                name="proposal_quantity_and_price_positive",
            )
        ]

    def __str__(self):
        return f"{self.offer} {self.delivery_date} x{self.quantity}"

    @property
    def awaiting(self) -> str:
        """The side that answers an open proposal."""
        return Side.SUPPLIER if self.proposed_by == Side.LEADER else Side.LEADER

    @transition(field=status, source=ProposalStatus.PROPOSED, target=ProposalStatus.ACCEPTED)
    def accept(self):
        pass

    @transition(field=status, source=ProposalStatus.PROPOSED, target=ProposalStatus.DECLINED)
    def decline(self):
        pass

    @transition(field=status, source=ProposalStatus.PROPOSED, target=ProposalStatus.COUNTERED)
    def counter(self):
        pass

    @transition(field=status, source=ProposalStatus.PROPOSED, target=ProposalStatus.WITHDRAWN)
    def withdraw(self):
        pass


class CapacityCommitment(models.Model):
    """Accepted quantities of one offer for one delivery day, across every leader.

    Accepting a proposal adds to ``committed`` with one conditional UPDATE; the check
    constraint is the backstop, so two leaders accepting at once cannot over-commit.
    """

    offer = models.ForeignKey(
        "catalog.Offer", on_delete=models.CASCADE, related_name="capacity_commitments"
    )
    delivery_date = models.DateField(_("delivery date"))
    capacity = models.PositiveIntegerField(_("capacity"))
    committed = models.PositiveIntegerField(_("committed"), default=0)

    class Meta:
        verbose_name = _("capacity commitment")
        verbose_name_plural = _("capacity commitments")
        ordering = ["delivery_date", "offer_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["offer", "delivery_date"], name="one_commitment_per_offer_day"
            ),
            models.CheckConstraint(
                condition=models.Q(committed__lte=models.F("capacity")),
                name="commitment_within_capacity",
            ),
        ]

    def __str__(self):
        return f"{self.offer_id} {self.delivery_date}: {self.committed}/{self.capacity}"

    @property
    def remaining(self) -> int:
        return self.capacity - self.committed


class DeliveryOption(models.TextChoices):
    PICKUP = "pickup", _("Pickup only")
    PICKUP_AND_DELIVERY = "pickup_and_delivery", _("Pickup or home delivery")


class ScheduleStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    CLOSED = "closed", _("Closed")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class ShortageRule(models.TextChoices):
    LATEST_PAID_FIRST = "latest_paid_first", _("Latest paid order loses first")
    PROPORTIONAL = "proportional", _("Shared in proportion to the quantities ordered")


def _share_token() -> str:
    return secrets.token_urlsafe(12)


class Schedule(ConcurrentTransitionMixin, TimeStampedModel):
    """A group-buy round (团期) of one community."""

    community = models.ForeignKey(
        "accounts.Community",
        verbose_name=_("community"),
        on_delete=models.CASCADE,
        related_name="schedules",
    )
    title = models.CharField(_("title"), max_length=100)
    sale_start = models.DateTimeField(_("sale starts"))
    cutoff = models.DateTimeField(_("cut-off"))
    arrival_date = models.DateField(_("arrival date"))
    pickup_start = models.DateTimeField(_("pickup starts"))
    pickup_end = models.DateTimeField(_("pickup ends"))
    pickup_points = models.ManyToManyField(
        "accounts.PickupPoint", verbose_name=_("pickup points"), related_name="schedules"
    )
    notes = models.TextField(_("notes"), blank=True)
    delivery_option = models.CharField(
        _("delivery"),
        max_length=24,
        choices=DeliveryOption.choices,
        default=DeliveryOption.PICKUP,
    )
    delivery_fee = models.DecimalField(
        _("home delivery fee"),
        max_digits=8,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0.00"))],
    )
    shortage_rule = models.CharField(
        _("shortage rule"),
        max_length=20,
        choices=ShortageRule.choices,
        default=ShortageRule.LATEST_PAID_FIRST,
        help_text=_("Who loses units that do not arrive; members see the rule."),
    )
    after_sales_hours = models.PositiveSmallIntegerField(
        _("after-sales window (hours)"),
        default=48,
        validators=[MinValueValidator(1)],
        help_text=_("How long after pickup members may ask for after-sales."),
    )
    allow_pay_at_pickup = models.BooleanField(
        _("members may pay at pickup"),
        default=False,
        help_text=_("Orders paid at pickup are accepted unpaid and settled when collected."),
    )
    status = FSMField(
        _("status"),
        max_length=12,
        choices=ScheduleStatus.choices,
        default=ScheduleStatus.DRAFT,
        protected=True,
    )
    share_token = models.CharField(max_length=32, unique=True, default=_share_token)
    duplicated_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("schedule")
        verbose_name_plural = _("schedules")
        ordering = ["-sale_start", "-id"]
        indexes = [models.Index(fields=["status", "cutoff"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sale_start__lt=models.F("cutoff"))
                & models.Q(pickup_start__lt=models.F("pickup_end"))
                & models.Q(cutoff__lte=models.F("pickup_start")),
                name="schedule_timeline_in_order",
            )
        ]

    def __str__(self):
        return self.title

    @transition(field=status, source=ScheduleStatus.DRAFT, target=ScheduleStatus.PUBLISHED)
    def publish(self):
        pass

    @transition(field=status, source=ScheduleStatus.PUBLISHED, target=ScheduleStatus.CLOSED)
    def close(self):
        pass

    @transition(field=status, source=ScheduleStatus.CLOSED, target=ScheduleStatus.COMPLETED)
    def complete(self):
        pass

    @transition(
        field=status,
        source=[ScheduleStatus.DRAFT, ScheduleStatus.PUBLISHED],
        target=ScheduleStatus.CANCELLED,
    )
    def cancel(self):
        pass


class ItemOutcome(models.TextChoices):
    OPEN = "open", _("Open")
    CONFIRMED = "confirmed", _("Confirmed")
    FAILED = "failed", _("Below the minimum group quantity")


class ScheduleItem(TimeStampedModel):
    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="items")
    offer = models.ForeignKey(
        "catalog.Offer",
        verbose_name=_("offer"),
        on_delete=models.PROTECT,
        related_name="schedule_items",
    )
    proposal = models.ForeignKey(
        Proposal,
        verbose_name=_("agreed proposal"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="schedule_items",
    )
    # The supply terms in force for this item: from the accepted proposal or the offer.
    supply_price = models.DecimalField(_("supply price"), max_digits=10, decimal_places=2)
    agreed_quantity = models.PositiveIntegerField(_("agreed quantity"), null=True, blank=True)
    member_price = models.DecimalField(
        _("member price"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    quantity_cap = models.PositiveIntegerField(_("quantity cap"), validators=[MinValueValidator(1)])
    per_member_limit = models.PositiveIntegerField(
        _("limit per member"), validators=[MinValueValidator(1)]
    )
    min_group_qty = models.PositiveIntegerField(
        _("minimum group quantity"), default=0, help_text=_("0 = no minimum.")
    )
    reserved_qty = models.PositiveIntegerField(_("reserved"), default=0)
    display_order = models.PositiveSmallIntegerField(_("display order"), default=0)
    highlight = models.CharField(_("highlight"), max_length=60, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=ItemOutcome.choices, default=ItemOutcome.OPEN
    )

    class Meta:
        verbose_name = _("schedule item")
        verbose_name_plural = _("schedule items")
        ordering = ["display_order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(reserved_qty__lte=models.F("quantity_cap")),
                name="item_reserved_within_cap",
            ),
            models.CheckConstraint(
                condition=models.Q(member_price__gt=0), name="item_member_price_positive"
            ),
            models.UniqueConstraint(fields=["schedule", "offer"], name="one_item_per_offer"),
        ]

    def __str__(self):
        return f"{self.schedule}: {self.offer}"

    @property
    def unit_margin(self) -> Decimal:
        return self.member_price - self.supply_price

    @property
    def remaining(self) -> int:
        return self.quantity_cap - self.reserved_qty


class ScheduleChange(models.Model):
    """What a leader changed on a published schedule: who, what, before, after."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="changes")
    item = models.ForeignKey(
        ScheduleItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    field = models.CharField(_("field"), max_length=40)
    before = models.CharField(_("before"), max_length=200, blank=True)
    after = models.CharField(_("after"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("changed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("schedule change")
        verbose_name_plural = _("schedule changes")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.schedule_id} {self.field}: {self.before} -> {self.after}"


class LeaderReply(TimeStampedModel):
    """Feedback the community's leader may answer."""

    reply = models.TextField(_("leader's reply"), blank=True, max_length=500)
    replied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class Comment(LeaderReply):
    """A member's comment on a schedule or one of its items; the leader may reply."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="comments")
    item = models.ForeignKey(
        ScheduleItem, null=True, blank=True, on_delete=models.CASCADE, related_name="comments"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="schedule_comments"
    )
    body = models.TextField(_("comment"), max_length=500)

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.body[:40]


class ItemLike(models.Model):
    item = models.ForeignKey(ScheduleItem, on_delete=models.CASCADE, related_name="likes")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="item_likes"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("like")
        verbose_name_plural = _("likes")
        constraints = [models.UniqueConstraint(fields=["item", "user"], name="one_like_per_item")]

    def __str__(self):
        return f"{self.user_id} likes {self.item_id}"


class Wish(LeaderReply):
    """A member's wish to the leader: "I would like X"."""

    community = models.ForeignKey(
        "accounts.Community", on_delete=models.CASCADE, related_name="wishes"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wishes"
    )
    text = models.CharField(_("wish"), max_length=200)

    class Meta:
        verbose_name = _("wish")
        verbose_name_plural = _("wishes")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.text
