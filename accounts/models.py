from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from groupbuy.models import TimeStampedModel

e164_validator = RegexValidator(
    regex=r"^\+[1-9]\d{6,14}$",
    message=_("Enter a phone number in international format, e.g. +8613800138000."),
)


class BlankAsNullMixin:
    """Stores '' as NULL so optional unique columns allow many blanks."""

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return None if value == "" else value


class NullableEmailField(BlankAsNullMixin, models.EmailField):
    pass


class PhoneNumberField(BlankAsNullMixin, models.CharField):
    default_validators = [e164_validator]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 16)
        super().__init__(*args, **kwargs)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, phone, password, **extra_fields):
        email = self.normalize_email(email) if email else None
        user = self.model(email=email, phone=phone or None, **extra_fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_user(self, email=None, password=None, *, phone=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, phone, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields["is_staff"] = True
        extra_fields["is_superuser"] = True
        return self._create_user(email, extra_fields.pop("phone", None), password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    email = NullableEmailField(_("email address"), unique=True, null=True, blank=True)
    phone = PhoneNumberField(
        _("phone number"),
        unique=True,
        null=True,
        blank=True,
        help_text=_("International format, e.g. +8613800138000."),
    )
    phone_verified = models.BooleanField(_("phone verified"), default=False)
    display_name = models.CharField(_("display name"), max_length=60, blank=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=10, choices=settings.LANGUAGES, blank=True
    )
    current_community = models.ForeignKey(
        "accounts.Community",
        verbose_name=_("current community"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    is_staff = models.BooleanField(
        _("platform staff"),
        default=False,
        help_text=_("Platform staff review suppliers and leaders and may use the admin site."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(email__isnull=False) | models.Q(phone__isnull=False),
                name="user_has_email_or_phone",
            )
        ]

    def __str__(self):
        # Shown to other people (leaders' lists, exports): never the whole phone number.
        return self.display_name or self.masked_phone or self.email or f"#{self.pk}"

    @property
    def masked_phone(self) -> str:
        if not self.phone:
            return ""
        return f"{self.phone[:-8]}****{self.phone[-4:]}"


class ReviewStatus(models.TextChoices):
    PENDING = "pending", _("Pending review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class ReviewedApplication(ConcurrentTransitionMixin, TimeStampedModel):
    """An application that platform staff approve or reject with a reason."""

    status = FSMField(
        _("status"),
        max_length=16,
        choices=ReviewStatus.choices,
        default=ReviewStatus.PENDING,
        protected=True,
    )
    review_reason = models.TextField(_("review reason"), blank=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        abstract = True

    @transition(field=status, source=ReviewStatus.PENDING, target=ReviewStatus.APPROVED)
    def approve(self):
        pass

    @transition(field=status, source=ReviewStatus.PENDING, target=ReviewStatus.REJECTED)
    def reject(self):
        pass

    @transition(field=status, source=ReviewStatus.REJECTED, target=ReviewStatus.PENDING)
    def resubmit(self):
        pass


class SupplierOrganization(ReviewedApplication):
    name = models.CharField(_("company name"), max_length=120)
    licence_number = models.CharField(
        _("business licence number"),
        max_length=32,
        unique=True,
        help_text=_("Unified social credit code on the business licence."),
    )
    contact_name = models.CharField(_("contact person"), max_length=60)
    contact_phone = PhoneNumberField(_("contact phone"))
    address = models.CharField(_("address"), max_length=255)

    class Meta:
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.name


class SupplierMember(TimeStampedModel):
    supplier = models.ForeignKey(
        SupplierOrganization,
        verbose_name=_("supplier"),
        on_delete=models.CASCADE,
        related_name="members",
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="supplier_membership",
    )
    is_owner = models.BooleanField(_("owner"), default=False)

    class Meta:
        verbose_name = _("supplier user")
        verbose_name_plural = _("supplier users")
        ordering = ["-is_owner", "created_at"]

    def __str__(self):
        return f"{self.user} @ {self.supplier}"


class Community(ReviewedApplication):
    name = models.CharField(_("community name"), max_length=80)
    area = models.CharField(
        _("area"), max_length=120, help_text=_("District and neighbourhood, e.g. 浦东新区 花木街道")
    )
    description = models.TextField(_("description"), blank=True)
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("leader"),
        on_delete=models.PROTECT,
        related_name="led_communities",
    )
    contact_phone = PhoneNumberField(_("contact phone"))
    invite_code = models.CharField(_("invite code"), max_length=6, unique=True, editable=False)
    wechat_robot_webhook = models.URLField(
        _("WeChat Work group robot webhook"),
        max_length=300,
        blank=True,
        help_text=_(
            "Optional. Community-wide notices are also posted to your WeChat Work group "
            "through this robot."
        ),
    )

    class Meta:
        verbose_name = _("community")
        verbose_name_plural = _("communities")
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.name


class PickupPoint(TimeStampedModel):
    community = models.ForeignKey(
        Community,
        verbose_name=_("community"),
        on_delete=models.CASCADE,
        related_name="pickup_points",
    )
    name = models.CharField(_("name"), max_length=80)
    address = models.CharField(_("address"), max_length=255)
    opening_hours = models.CharField(
        _("opening hours"), max_length=120, help_text=_("e.g. 每天 09:00-21:00")
    )
    contact_phone = PhoneNumberField(_("contact phone"))
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("pickup point")
        verbose_name_plural = _("pickup points")
        ordering = ["community_id", "id"]

    def __str__(self):
        return self.name


class Membership(TimeStampedModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    community = models.ForeignKey(
        Community,
        verbose_name=_("community"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "community"], name="unique_membership")
        ]

    def __str__(self):
        return f"{self.user} in {self.community}"
