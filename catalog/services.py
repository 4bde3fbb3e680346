"""Every write of the catalog: products, offers and their review, supplier contracts."""

import io
from datetime import date, timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image

from accounts.models import ReviewStatus, SupplierOrganization, User
from groupbuy.exceptions import DomainError
from groupbuy.images import image_check
from groupbuy.services import state_change_record
from notifications.services import notify

from . import contract_terms
from .models import (
    MAX_PRODUCT_IMAGES,
    ContractStatus,
    Offer,
    OfferStatus,
    Product,
    ProductImage,
    SupplierContract,
)

THUMBNAIL_SIZE = (400, 400)

PRODUCT_FIELDS = (
    "name",
    "name_en",
    "spec",
    "unit",
    "category",
    "brand",
    "origin",
    "barcode",
    "storage",
    "shelf_life_days",
    "description",
    "description_en",
)


def _require_approved(supplier: SupplierOrganization) -> None:
    if supplier.status != ReviewStatus.APPROVED:
        raise DomainError(_("Your supplier registration is not approved yet."))


# Categories


def categories_ensure_defaults() -> None:
    """Create the default categories that are missing (the data migration does it once)."""
    from .categories import DEFAULT_CATEGORIES
    from .models import Category

    for position, (code, name, name_en) in enumerate(DEFAULT_CATEGORIES):
        Category.objects.get_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "position": position}
        )


# Products


def product_create(*, supplier: SupplierOrganization, **fields) -> Product:
    _require_approved(supplier)
    return Product.objects.create(
        supplier=supplier, **{key: fields[key] for key in PRODUCT_FIELDS if key in fields}
    )


def product_update(*, product: Product, **fields) -> Product:
    for key in PRODUCT_FIELDS:
        if key in fields:
            setattr(product, key, fields[key])
    product.save()
    return product


def _thumbnail_bytes(image: Image.Image) -> bytes:
    thumb = image.convert("RGB")
    thumb.thumbnail(THUMBNAIL_SIZE)
    buffer = io.BytesIO()
    thumb.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


@transaction.atomic
def product_image_add(*, product: Product, upload) -> ProductImage:
    product = Product.objects.select_for_update().get(pk=product.pk)
    count = product.images.count()
    if count >= MAX_PRODUCT_IMAGES:
        raise DomainError(
            _("A product has at most %(max)s images.") % {"max": MAX_PRODUCT_IMAGES},
            field="image",
        )
    image, extension = image_check(upload)
    upload.seek(0)
    picture = ProductImage(product=product, position=count)
    picture.image.save(f"p{product.pk}.{extension}", upload, save=False)
    picture.thumbnail.save(f"p{product.pk}.jpg", ContentFile(_thumbnail_bytes(image)), save=False)
    picture.save()
    return picture


def product_image_delete(*, picture: ProductImage) -> None:
    storage_names = [
        (picture.image.storage, picture.image.name),
        (picture.thumbnail.storage, picture.thumbnail.name),
    ]
    picture.delete()

    def remove_files():
        for storage, name in storage_names:
            if name:
                storage.delete(name)

    transaction.on_commit(remove_files)


# Offers (supplier side)


def offer_check_terms(
    *,
    supply_price: Decimal,
    retail_price: Decimal,
    min_order_qty: int,
    case_size: int,
    daily_capacity: int,
    valid_from: date,
    valid_until: date,
    **_ignored,
) -> list[str]:
    """Raise for terms that cannot stand; return warnings the supplier should see."""
    if valid_until < valid_from:
        raise DomainError(_("The validity must end on or after its start."), field="valid_until")
    if daily_capacity < min_order_qty:
        raise DomainError(
            _("The daily capacity must be at least the minimum order quantity."),
            field="daily_capacity",
        )
    warnings = []
    if retail_price < supply_price:
        warnings.append(
            _("The suggested retail price is below the supply price: leaders would sell at a loss.")
        )
    if min_order_qty % case_size:
        warnings.append(
            _("The minimum order is not a whole number of cases; orders are rounded up to %(n)s.")
            % {"n": -(-min_order_qty // case_size) * case_size}
        )
    return warnings


def offer_create(*, product: Product, **terms) -> Offer:
    _require_approved(product.supplier)
    offer_check_terms(**terms)
    return Offer.objects.create(
        supplier=product.supplier,
        product=product,
        **{key: terms[key] for key in Offer.TERM_FIELDS},
    )


def offer_update(*, offer: Offer, **terms) -> Offer:
    if not offer.is_editable:
        raise DomainError(_("Only a draft or an offer with requested changes can be edited."))
    offer_check_terms(**terms)
    for key in Offer.TERM_FIELDS:
        setattr(offer, key, terms[key])
    offer.save()
    return offer


def _transition(offer: Offer, name: str, *, actor: User | None, reason: str = "") -> None:
    from_state = offer.status
    getattr(offer, name)()
    offer.save()
    state_change_record(
        subject=offer,
        transition=name,
        from_state=from_state,
        to_state=offer.status,
        actor=actor,
        reason=reason,
    )


def _locked_offer(offer: Offer) -> Offer:
    return Offer.objects.select_for_update().select_related("product", "supplier").get(pk=offer.pk)


@transaction.atomic
def offer_submit(*, offer: Offer, actor: User) -> Offer:
    offer = _locked_offer(offer)
    _require_approved(offer.supplier)
    if offer.valid_until < timezone.localdate():
        raise DomainError(
            _("The validity has already ended; change it before submitting."), field="valid_until"
        )
    offer.submitted_at = timezone.now()
    offer.review_reason = ""
    _transition(offer, "submit", actor=actor)
    return offer


@transaction.atomic
def offer_withdraw(*, offer: Offer, actor: User) -> Offer:
    offer = _locked_offer(offer)
    _transition(offer, "withdraw", actor=actor)
    return offer


@transaction.atomic
def offer_delete_draft(*, offer: Offer) -> None:
    offer = _locked_offer(offer)
    if offer.status != OfferStatus.DRAFT:
        raise DomainError(_("Only a draft can be deleted."))
    offer.delete()


@transaction.atomic
def offer_revise(*, offer: Offer, actor: User) -> Offer:
    """Start a new revision of an approved offer; the approved one stays listed."""
    offer = _locked_offer(offer)
    if offer.status != OfferStatus.APPROVED:
        raise DomainError(_("Only an approved offer can be revised."))
    open_revision = offer.revisions.filter(
        status__in=[OfferStatus.DRAFT, OfferStatus.SUBMITTED, OfferStatus.CHANGES_REQUESTED]
    ).first()
    if open_revision:
        return open_revision
    return Offer.objects.create(
        supplier=offer.supplier,
        product=offer.product,
        revision_of=offer,
        **{key: getattr(offer, key) for key in Offer.TERM_FIELDS},
    )


# Offers (platform staff)


def _notify_offer(offer: Offer, kind: str, actor: User, reason: str = "") -> None:
    notify(
        recipients=User.objects.filter(supplier_membership__supplier=offer.supplier),
        kind=kind,
        about=offer,
        sender=actor,
        context={"product_name": offer.product.name, "reason": reason},
        link=reverse("catalog:supplier_offer", args=[offer.pk]),
    )


@transaction.atomic
def offer_approve(*, offer: Offer, actor: User) -> Offer:
    offer = _locked_offer(offer)
    offer.decided_at = timezone.now()
    offer.review_reason = ""
    _transition(offer, "approve", actor=actor)
    if offer.revision_of_id:
        previous = _locked_offer(offer.revision_of)
        if previous.status in (OfferStatus.APPROVED, OfferStatus.SUSPENDED):
            _transition(previous, "supersede", actor=actor, reason=f"#{offer.pk}")
    _notify_offer(offer, "offer_approved", actor)
    contract_issue_if_first(supplier=offer.supplier, actor=actor)
    return offer


def _decide_with_reason(offer: Offer, name: str, kind: str, actor: User, reason: str) -> Offer:
    reason = reason.strip()
    if not reason:
        raise DomainError(_("Give a reason; the supplier sees it."), field="reason")
    offer = _locked_offer(offer)
    offer.decided_at = timezone.now()
    offer.review_reason = reason
    _transition(offer, name, actor=actor, reason=reason)
    _notify_offer(offer, kind, actor, reason)
    return offer


@transaction.atomic
def offer_reject(*, offer: Offer, actor: User, reason: str) -> Offer:
    return _decide_with_reason(offer, "reject", "offer_rejected", actor, reason)


@transaction.atomic
def offer_request_changes(*, offer: Offer, actor: User, reason: str) -> Offer:
    return _decide_with_reason(offer, "request_changes", "offer_changes_requested", actor, reason)


@transaction.atomic
def offer_suspend(*, offer: Offer, actor: User, reason: str) -> Offer:
    return _decide_with_reason(offer, "suspend", "offer_suspended", actor, reason)


@transaction.atomic
def offer_reinstate(*, offer: Offer, actor: User) -> Offer:
    offer = _locked_offer(offer)
    _transition(offer, "reinstate", actor=actor)
    _notify_offer(offer, "offer_reinstated", actor)
    return offer


def offers_expire_due(*, today: date | None = None) -> int:
    """Approved offers whose validity has ended become expired (beat, idempotent)."""
    today = today or timezone.localdate()
    expired = 0
    due = Offer.objects.filter(status=OfferStatus.APPROVED, valid_until__lt=today)
    for offer_id in due.values_list("id", flat=True):
        with transaction.atomic():
            offer = (
                Offer.objects.select_for_update(skip_locked=True)
                .filter(pk=offer_id, status=OfferStatus.APPROVED)
                .first()
            )
            if offer is None:
                continue
            _transition(offer, "expire", actor=None)
            expired += 1
    return expired


# Contracts


def contract_issue_if_first(*, supplier: SupplierOrganization, actor: User | None):
    """Issue the supply contract when a supplier without an open one gets an offer approved."""
    if SupplierContract.objects.filter(
        supplier=supplier,
        status__in=[ContractStatus.PENDING_SIGNATURE, ContractStatus.ACTIVE],
    ).exists():
        return None
    return contract_issue(supplier=supplier, actor=actor)


@transaction.atomic
def contract_issue(*, supplier: SupplierOrganization, actor: User | None) -> SupplierContract:
    today = timezone.localdate()
    contract = SupplierContract.objects.create(
        supplier=supplier,
        terms_version=contract_terms.TERMS_VERSION,
        terms_text=contract_terms.TERMS_TEXT,
        commission_rate=contract_terms.COMMISSION_RATE,
        fee_terms=contract_terms.FEE_TERMS,
        valid_from=today,
        valid_until=today + timedelta(days=contract_terms.VALIDITY_DAYS),
        issued_by=actor if actor is not None and actor.is_authenticated else None,
    )
    state_change_record(
        subject=contract,
        transition="issue",
        from_state="",
        to_state=contract.status,
        actor=actor,
    )
    notify(
        recipients=User.objects.filter(supplier_membership__supplier=supplier),
        kind="contract_issued",
        about=contract,
        sender=actor,
        context={"terms_version": contract.terms_version},
        link=reverse("catalog:supplier_contract", args=[contract.pk]),
    )
    return contract


@transaction.atomic
def contract_sign(
    *, contract: SupplierContract, actor: User, typed_name: str, agreed: bool, ip: str | None
) -> SupplierContract:
    contract = SupplierContract.objects.select_for_update().get(pk=contract.pk)
    typed_name = typed_name.strip()
    if not typed_name:
        raise DomainError(_("Type your full name to sign."), field="typed_name")
    if not agreed:
        raise DomainError(_("Tick the box to agree to the contract."), field="agreed")
    from_state = contract.status
    contract.sign()
    today = timezone.localdate()
    contract.valid_from = today
    contract.valid_until = today + timedelta(days=contract_terms.VALIDITY_DAYS)
    contract.signed_by = actor
    contract.signed_name = typed_name
    contract.signed_at = timezone.now()
    contract.signed_ip = ip
    contract.save()
    state_change_record(
        subject=contract,
        transition="sign",
        from_state=from_state,
        to_state=contract.status,
        actor=actor,
    )
    return contract


@transaction.atomic
def contract_terminate(*, contract: SupplierContract, actor: User, reason: str) -> SupplierContract:
    reason = reason.strip()
    if not reason:
        raise DomainError(_("Give a reason; the supplier sees it."), field="reason")
    contract = SupplierContract.objects.select_for_update().get(pk=contract.pk)
    from_state = contract.status
    contract.terminate()
    contract.ended_reason = reason
    contract.save()
    state_change_record(
        subject=contract,
        transition="terminate",
        from_state=from_state,
        to_state=contract.status,
        actor=actor,
        reason=reason,
    )
    notify(
        recipients=User.objects.filter(supplier_membership__supplier=contract.supplier),
        kind="contract_ended",
        about=contract,
        sender=actor,
        context={"reason": reason},
        link=reverse("catalog:supplier_contract", args=[contract.pk]),
    )
    return contract


def contracts_expire_due(*, today: date | None = None) -> int:
    """Active contracts past their end date become expired (beat, idempotent)."""
    today = today or timezone.localdate()
    expired = 0
    due = SupplierContract.objects.filter(status=ContractStatus.ACTIVE, valid_until__lt=today)
    for contract_id in due.values_list("id", flat=True):
        with transaction.atomic():
            contract = (
                SupplierContract.objects.select_for_update(skip_locked=True)
                .filter(pk=contract_id, status=ContractStatus.ACTIVE)
                .first()
            )
            if contract is None:
                continue
            contract.expire()
            contract.save()
            state_change_record(
                subject=contract,
                transition="expire",
                from_state=ContractStatus.ACTIVE,
                to_state=contract.status,
                actor=None,
            )
            notify(
                recipients=User.objects.filter(supplier_membership__supplier=contract.supplier),
                kind="contract_ended",
                about=contract,
                context={"reason": ""},
                link=reverse("catalog:supplier_contract", args=[contract.pk]),
            )
            expired += 1
    return expired
