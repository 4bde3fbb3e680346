from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from groupbuy.models import TimeStampedModel

MAX_PRODUCT_IMAGES = 6


def _in_english() -> bool:
    return translation.get_language() == "en"


class LocalizedNameMixin:
    """``name`` (Chinese) and the optional ``name_en``, shown in the reader's language."""

    @property
    def localized_name(self) -> str:
        return self.name_en if _in_english() and self.name_en else self.name


class Category(LocalizedNameMixin, models.Model):
    code = models.SlugField(_("code"), unique=True)
    name = models.CharField(_("name"), max_length=60)
    name_en = models.CharField(_("English name"), max_length=60, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["position", "id"]

    def __str__(self):
        return self.localized_name


class Storage(models.TextChoices):
    AMBIENT = "ambient", _("Ambient")
    CHILLED = "chilled", _("Chilled")
    FROZEN = "frozen", _("Frozen")


barcode_validator = RegexValidator(
    r"^\d{8,14}$", _("A barcode has 8 to 14 digits (EAN-8, EAN-13, UPC, GTIN-14).")
)


class Product(LocalizedNameMixin, TimeStampedModel):
    supplier = models.ForeignKey(
        "accounts.SupplierOrganization",
        verbose_name=_("supplier"),
        on_delete=models.CASCADE,
        related_name="products",
    )
    name = models.CharField(_("name"), max_length=120)
    name_en = models.CharField(_("English name"), max_length=120, blank=True)
    spec = models.CharField(
        _("specification"), max_length=60, help_text=_('e.g. "500 g x 2" or "约 2.5 kg/箱"')
    )
    unit = models.CharField(_("unit"), max_length=10, help_text=_("e.g. 份, 盒, 斤, kg"))
    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="products"
    )
    brand = models.CharField(_("brand"), max_length=60, blank=True)
    origin = models.CharField(_("origin"), max_length=60, help_text=_("e.g. 云南昆明"))
    barcode = models.CharField(
        _("barcode"), max_length=14, blank=True, validators=[barcode_validator]
    )
    storage = models.CharField(_("storage"), max_length=10, choices=Storage.choices)
    shelf_life_days = models.PositiveSmallIntegerField(
        _("shelf life (days)"), validators=[MinValueValidator(1)]
    )
    description = models.TextField(_("description"), blank=True)
    description_en = models.TextField(_("English description"), blank=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.localized_name

    @property
    def localized_description(self) -> str:
        return self.description_en if _in_english() and self.description_en else self.description


class ProductImage(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(_("image"), upload_to="products/%Y/%m/")
    thumbnail = models.ImageField(_("thumbnail"), upload_to="products/%Y/%m/thumbs/")
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("product image")
        verbose_name_plural = _("product images")
        ordering = ["position", "id"]

    def __str__(self):
        return self.image.name


class OfferStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted for review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    SUSPENDED = "suspended", _("Suspended")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    EXPIRED = "expired", _("Expired")
    SUPERSEDED = "superseded", _("Superseded")


weekdays_validator = RegexValidator(r"^[0-6]{1,7}$", _("Choose at least one delivery day."))


class Offer(ConcurrentTransitionMixin, TimeStampedModel):
    """A supplier's quote for one product. Approved offers never change: a change is a
    new revision that goes through review while the approved one stays listed."""

    # Editable by the supplier while the offer is a draft or changes were requested.
    EDITABLE = (OfferStatus.DRAFT, OfferStatus.CHANGES_REQUESTED)
    # Terms copied into a revision and compared in the reviewer's diff.
    TERM_FIELDS = (
        "supply_price",
        "retail_price",
        "min_order_qty",
        "case_size",
        "daily_capacity",
        "lead_time_days",
        "delivery_weekdays",
        "valid_from",
        "valid_until",
        "notes",
    )

    supplier = models.ForeignKey(
        "accounts.SupplierOrganization",
        verbose_name=_("supplier"),
        on_delete=models.CASCADE,
        related_name="offers",
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="offers"
    )
    revision_of = models.ForeignKey(
        "self",
        verbose_name=_("revision of"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="revisions",
    )
    supply_price = models.DecimalField(
        _("supply price"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_("Price per unit to the platform, CNY."),
    )
    retail_price = models.DecimalField(
        _("suggested retail price"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    min_order_qty = models.PositiveIntegerField(
        _("minimum order quantity"), validators=[MinValueValidator(1)]
    )
    case_size = models.PositiveIntegerField(
        _("case size"),
        validators=[MinValueValidator(1)],
        help_text=_("Units per case; orders are rounded up to whole cases."),
    )
    daily_capacity = models.PositiveIntegerField(
        _("capacity per delivery day"), validators=[MinValueValidator(1)]
    )
    lead_time_days = models.PositiveSmallIntegerField(_("lead time (days)"))
    delivery_weekdays = models.CharField(
        _("delivery days"),
        max_length=7,
        validators=[weekdays_validator],
        help_text=_("Days of the week the supplier delivers."),
    )
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    notes = models.TextField(_("notes"), blank=True)
    status = FSMField(
        _("status"),
        max_length=20,
        choices=OfferStatus.choices,
        default=OfferStatus.DRAFT,
        protected=True,
    )
    review_reason = models.TextField(_("reviewer's reason"), blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("offer")
        verbose_name_plural = _("offers")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "submitted_at"]),
            models.Index(fields=["status", "valid_until"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_until__gte=models.F("valid_from")),
                name="offer_validity_in_order",
            ),
            models.CheckConstraint(
                condition=models.Q(supply_price__gt=0) & models.Q(retail_price__gt=0),
                name="offer_prices_positive",
            ),
        ]

    def __str__(self):
        return f"{self.product} @ {self.supply_price}"

    @property
    def margin(self) -> Decimal:
        return self.retail_price - self.supply_price

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE

    @property
    def weekday_numbers(self) -> list[int]:
        return sorted({int(day) for day in self.delivery_weekdays})

    @transition(
        field=status,
        source=[OfferStatus.DRAFT, OfferStatus.CHANGES_REQUESTED],
        target=OfferStatus.SUBMITTED,
    )
    def submit(self):
        pass

    @transition(field=status, source=OfferStatus.SUBMITTED, target=OfferStatus.APPROVED)
    def approve(self):
        pass

    @transition(field=status, source=OfferStatus.SUBMITTED, target=OfferStatus.REJECTED)
    def reject(self):
        pass

    @transition(field=status, source=OfferStatus.SUBMITTED, target=OfferStatus.CHANGES_REQUESTED)
    def request_changes(self):
        pass

    @transition(field=status, source=OfferStatus.APPROVED, target=OfferStatus.SUSPENDED)
    def suspend(self):
        pass

    @transition(field=status, source=OfferStatus.SUSPENDED, target=OfferStatus.APPROVED)
    def reinstate(self):
        pass

    @transition(field=status, source=OfferStatus.APPROVED, target=OfferStatus.WITHDRAWN)
    def withdraw(self):
        pass

    @transition(field=status, source=OfferStatus.APPROVED, target=OfferStatus.EXPIRED)
    def expire(self):
        pass

    @transition(
        field=status,
        source=[OfferStatus.APPROVED, OfferStatus.SUSPENDED],
        target=OfferStatus.SUPERSEDED,
    )
    def supersede(self):
        pass


class ContractStatus(models.TextChoices):
    PENDING_SIGNATURE = "pending_signature", _("Waiting for signature")
    ACTIVE = "active", _("Active")
    EXPIRED = "expired", _("Expired")
    TERMINATED = "terminated", _("Terminated")


class SupplierContract(ConcurrentTransitionMixin, TimeStampedModel):
    supplier = models.ForeignKey(
        "accounts.SupplierOrganization",
        verbose_name=_("supplier"),
        on_delete=models.CASCADE,
        related_name="contracts",
    )
    terms_version = models.CharField(_("terms version"), max_length=20)
    terms_text = models.TextField(_("terms"))
    commission_rate = models.DecimalField(_("commission rate (%)"), max_digits=5, decimal_places=2)
    fee_terms = models.TextField(_("fees and settlement"))
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    status = FSMField(
        _("status"),
        max_length=20,
        choices=ContractStatus.choices,
        default=ContractStatus.PENDING_SIGNATURE,
        protected=True,
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("signed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    signed_name = models.CharField(_("signed name"), max_length=60, blank=True)
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    signed_ip = models.GenericIPAddressField(_("signed from IP"), null=True, blank=True)
    ended_reason = models.TextField(_("reason for ending"), blank=True)

    class Meta:
        verbose_name = _("supplier contract")
        verbose_name_plural = _("supplier contracts")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["supplier"],
                condition=models.Q(status__in=["pending_signature", "active"]),
                name="one_open_contract_per_supplier",
            ),
            models.CheckConstraint(
                condition=models.Q(valid_until__gt=models.F("valid_from")),
                name="contract_validity_in_order",
            ),
        ]

    def __str__(self):
        return f"{self.supplier} {self.terms_version}"

    @transition(field=status, source=ContractStatus.PENDING_SIGNATURE, target=ContractStatus.ACTIVE)
    def sign(self):
        pass

    @transition(field=status, source=ContractStatus.ACTIVE, target=ContractStatus.EXPIRED)
    def expire(self):
        pass

    @transition(
        field=status,
        source=[ContractStatus.PENDING_SIGNATURE, ContractStatus.ACTIVE],
        target=ContractStatus.TERMINATED,
    )
    def terminate(self):
        pass
