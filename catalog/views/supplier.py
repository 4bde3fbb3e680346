"""The supplier's catalog pages: products and images, offers (quotes) and their review,
and the platform supply contract (sign, print, PDF).

Views are thin: forms validate input, ``catalog.services`` write, ``catalog.selectors``
read. Every object is looked up through the supplier's own scope, so another supplier's
product, offer or contract answers 404.
"""

import copy
import io
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from xml.sax.saxutils import escape

from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django_fsm import ConcurrentTransition, TransitionNotAllowed, can_proceed
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from accounts.selectors import approved_supplier_for_user
from groupbuy.exceptions import DomainError
from groupbuy.forms import add_domain_error
from groupbuy.pagination import paginate
from groupbuy.roles import SupplierRequiredMixin
from groupbuy.selectors import state_changes_for

from .. import selectors, services
from ..forms.supplier import (
    WEEKDAY_CHOICES,
    ContractSignForm,
    ImageUploadForm,
    OfferForm,
    ProductForm,
)
from ..models import MAX_PRODUCT_IMAGES, ContractStatus, OfferStatus


class _LoadSupplier:
    """Puts the signed-in user's approved supplier organisation on the view."""

    def dispatch(self, request, *args, **kwargs):
        self.supplier = approved_supplier_for_user(request.user)
        return super().dispatch(request, *args, **kwargs)


class SupplierCatalogView(SupplierRequiredMixin, _LoadSupplier, View):
    """Anonymous: log in; no supplier role: 403; then ``self.supplier`` is set."""


def _fsm_error_message(error: Exception) -> str:
    if isinstance(error, ConcurrentTransition):
        return _("Someone else changed this just now. Look at it again and retry.")
    return _("This is not possible in its current state.")


# Products


class ProductListView(SupplierCatalogView):
    template_name = "catalog/supplier/product_list.html"

    def get(self, request):
        products = selectors.products_for_supplier(self.supplier)
        query = request.GET.get("q", "").strip()
        if query:
            products = products.filter(
                Q(name__icontains=query)
                | Q(name_en__icontains=query)
                | Q(brand__icontains=query)
                | Q(barcode__icontains=query)
            )
        return render(
            request,
            self.template_name,
            {"page_obj": paginate(request, products), "query": query},
        )


class ProductCreateView(SupplierCatalogView):
    template_name = "catalog/supplier/product_form.html"

    def get(self, request):
        return render(request, self.template_name, {"form": ProductForm()})

    def post(self, request):
        form = ProductForm(request.POST)
        if form.is_valid():
            try:
                product = services.product_create(supplier=self.supplier, **form.cleaned_data)
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(
                    request, _("Product saved. Add images, then make an offer for it.")
                )
                return redirect("catalog:supplier_product", product.pk)
        return render(request, self.template_name, {"form": form})


class ProductEditView(SupplierCatalogView):
    template_name = "catalog/supplier/product_form.html"

    def get(self, request, product_id):
        product = selectors.product_for_supplier(self.supplier, product_id)
        return render(
            request, self.template_name, {"form": ProductForm(instance=product), "product": product}
        )

    def post(self, request, product_id):
        product = selectors.product_for_supplier(self.supplier, product_id)
        # Validate against a copy: an invalid form must not change what the page shows.
        form = ProductForm(request.POST, instance=copy.copy(product))
        if form.is_valid():
            try:
                services.product_update(product=product, **form.cleaned_data)
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("Product updated."))
                return redirect("catalog:supplier_product", product.pk)
        return render(request, self.template_name, {"form": form, "product": product})


class ProductDetailView(SupplierCatalogView):
    template_name = "catalog/supplier/product_detail.html"

    def _context(self, product, image_form=None) -> dict:
        images = list(product.images.all())
        return {
            "product": product,
            "images": images,
            "max_images": MAX_PRODUCT_IMAGES,
            "can_add_image": len(images) < MAX_PRODUCT_IMAGES,
            "image_form": image_form or ImageUploadForm(),
            "offers": selectors.offers_for_supplier(self.supplier).filter(product=product),
        }

    def get(self, request, product_id):
        product = selectors.product_for_supplier(self.supplier, product_id)
        return render(request, self.template_name, self._context(product))


class ProductImageAddView(ProductDetailView):
    http_method_names = ["post"]

    def post(self, request, product_id):
        product = selectors.product_for_supplier(self.supplier, product_id)
        form = ImageUploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.product_image_add(product=product, upload=form.cleaned_data["image"])
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("Image added."))
                return redirect("catalog:supplier_product", product.pk)
        return render(request, self.template_name, self._context(product, image_form=form))


class ProductImageDeleteView(SupplierCatalogView):
    http_method_names = ["post"]

    def post(self, request, product_id, image_id):
        product = selectors.product_for_supplier(self.supplier, product_id)
        picture = next((p for p in product.images.all() if p.pk == image_id), None)
        if picture is None:
            raise Http404
        services.product_image_delete(picture=picture)
        messages.success(request, _("Image deleted."))
        return redirect("catalog:supplier_product", product.pk)


# Offers


def _warn(request, warnings: list[str]) -> None:
    for warning in warnings:
        messages.warning(request, warning)


class OfferListView(SupplierCatalogView):
    template_name = "catalog/supplier/offer_list.html"

    def get(self, request):
        status = request.GET.get("status", "")
        if status not in OfferStatus.values:
            status = ""
        counts = dict(
            selectors.offers_for_supplier(self.supplier)
            .order_by()
            .values_list("status")
            .annotate(n=Count("id"))
        )
        tabs = [("", _("All"), sum(counts.values()))] + [
            (value, label, counts.get(value, 0)) for value, label in OfferStatus.choices
        ]
        return render(
            request,
            self.template_name,
            {
                "page_obj": paginate(
                    request, selectors.offers_for_supplier(self.supplier, status=status or None)
                ),
                "status": status,
                "tabs": tabs,
                "open_contract": selectors.open_contract_for_supplier(self.supplier),
            },
        )


class OfferCreateView(SupplierCatalogView):
    template_name = "catalog/supplier/offer_form.html"

    def _initial(self) -> dict:
        today = timezone.localdate()
        return {
            "lead_time_days": 1,
            "delivery_weekdays": [value for value, _label in WEEKDAY_CHOICES],
            "valid_from": today,
            "valid_until": today + timedelta(days=30),
        }

    def get(self, request, product_id):
        product = selectors.product_for_supplier(self.supplier, product_id)
        form = OfferForm(initial=self._initial())
        return render(request, self.template_name, {"form": form, "product": product})

    def post(self, request, product_id):
        product = selectors.product_for_supplier(self.supplier, product_id)
        form = OfferForm(request.POST)
        if form.is_valid():
            try:
                warnings = services.offer_check_terms(**form.cleaned_data)
                offer = services.offer_create(product=product, **form.cleaned_data)
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(
                    request, _("Offer saved as a draft. Submit it for review when it is ready.")
                )
                _warn(request, warnings)
                return redirect("catalog:supplier_offer", offer.pk)
        return render(request, self.template_name, {"form": form, "product": product})


class OfferDetailView(SupplierCatalogView):
    template_name = "catalog/supplier/offer_detail.html"

    def get(self, request, offer_id):
        offer = selectors.offer_for_supplier(self.supplier, offer_id)
        margin_rate = None
        if offer.retail_price:
            margin_rate = (offer.margin / offer.retail_price * 100).quantize(
                Decimal("0.1"), rounding=ROUND_HALF_UP
            )
        return render(
            request,
            self.template_name,
            {
                "offer": offer,
                "product": offer.product,
                "margin_rate": margin_rate,
                "weekdays": [
                    label for value, label in WEEKDAY_CHOICES if value in offer.delivery_weekdays
                ],
                "revisions": selectors.offers_for_supplier(self.supplier).filter(revision_of=offer),
                "can_edit": offer.is_editable,
                "can_submit": can_proceed(offer.submit),
                "can_delete": offer.status == OfferStatus.DRAFT,
                "can_withdraw": can_proceed(offer.withdraw),
                "can_revise": offer.status == OfferStatus.APPROVED,
                "show_reason": bool(offer.review_reason)
                and offer.status
                in (OfferStatus.REJECTED, OfferStatus.CHANGES_REQUESTED, OfferStatus.SUSPENDED),
                "history": state_changes_for(offer),
                "status_choices": OfferStatus.choices,
            },
        )


class OfferEditView(SupplierCatalogView):
    template_name = "catalog/supplier/offer_form.html"

    def _editable_offer(self, request, offer_id):
        offer = selectors.offer_for_supplier(self.supplier, offer_id)
        if not offer.is_editable:
            messages.error(
                request,
                _(
                    "Only a draft or an offer with requested changes can be edited. "
                    "To change an approved offer, start a new revision."
                ),
            )
            return offer, redirect("catalog:supplier_offer", offer.pk)
        return offer, None

    def _render(self, request, offer, form):
        return render(
            request, self.template_name, {"form": form, "offer": offer, "product": offer.product}
        )

    def get(self, request, offer_id):
        offer, refused = self._editable_offer(request, offer_id)
        if refused:
            return refused
        return self._render(request, offer, OfferForm(initial=OfferForm.initial_from(offer)))

    def post(self, request, offer_id):
        offer, refused = self._editable_offer(request, offer_id)
        if refused:
            return refused
        form = OfferForm(request.POST)
        if form.is_valid():
            try:
                warnings = services.offer_check_terms(**form.cleaned_data)
                services.offer_update(offer=offer, **form.cleaned_data)
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("Offer saved."))
                _warn(request, warnings)
                return redirect("catalog:supplier_offer", offer.pk)
        return self._render(request, offer, form)


class _OfferActionView(SupplierCatalogView):
    """A POST-only action on one of the supplier's offers; errors become messages."""

    http_method_names = ["post"]
    success_message = ""

    def act(self, offer):
        raise NotImplementedError

    def done(self, offer, result):
        return redirect("catalog:supplier_offer", offer.pk)

    def post(self, request, offer_id):
        offer = selectors.offer_for_supplier(self.supplier, offer_id)
        try:
            result = self.act(offer)
        except DomainError as error:
            messages.error(request, error.message)
        except (TransitionNotAllowed, ConcurrentTransition) as error:
            messages.error(request, _fsm_error_message(error))
        else:
            messages.success(request, self.success_message)
            return self.done(offer, result)
        return redirect("catalog:supplier_offer", offer.pk)


class OfferSubmitView(_OfferActionView):
    success_message = gettext_lazy("Offer submitted. Platform staff will review it.")

    def act(self, offer):
        return services.offer_submit(offer=offer, actor=self.request.user)


class OfferWithdrawView(_OfferActionView):
    success_message = gettext_lazy("Offer withdrawn. Leaders can no longer choose it.")

    def act(self, offer):
        return services.offer_withdraw(offer=offer, actor=self.request.user)


class OfferReviseView(_OfferActionView):
    success_message = gettext_lazy(
        "Change the terms of this revision and submit it for review; "
        "the approved offer stays listed until the revision is approved."
    )

    def act(self, offer):
        return services.offer_revise(offer=offer, actor=self.request.user)

    def done(self, offer, result):
        return redirect("catalog:supplier_offer_edit", result.pk)


class OfferDeleteView(_OfferActionView):
    success_message = gettext_lazy("Draft deleted.")

    def act(self, offer):
        return services.offer_delete_draft(offer=offer)

    def done(self, offer, result):
        return redirect("catalog:supplier_product", offer.product_id)


# Contracts


class ContractListView(SupplierCatalogView):
    template_name = "catalog/supplier/contract_list.html"

    def get(self, request):
        return render(
            request,
            self.template_name,
            {"page_obj": paginate(request, selectors.contracts_for_supplier(self.supplier))},
        )


class ContractDetailView(SupplierCatalogView):
    template_name = "catalog/supplier/contract_detail.html"

    def _render(self, request, contract, form=None):
        can_sign = contract.status == ContractStatus.PENDING_SIGNATURE
        return render(
            request,
            self.template_name,
            {
                "contract": contract,
                "supplier": self.supplier,
                "can_sign": can_sign,
                "form": form or (ContractSignForm() if can_sign else None),
                "history": state_changes_for(contract),
                "status_choices": ContractStatus.choices,
            },
        )

    def get(self, request, contract_id):
        contract = selectors.contract_for_supplier(self.supplier, contract_id)
        return self._render(request, contract)

    def post(self, request, contract_id):
        contract = selectors.contract_for_supplier(self.supplier, contract_id)
        form = ContractSignForm(request.POST)
        if form.is_valid():
            try:
                services.contract_sign(
                    contract=contract,
                    actor=request.user,
                    typed_name=form.cleaned_data["typed_name"],
                    agreed=form.cleaned_data["agreed"],
                    ip=request.META.get("REMOTE_ADDR"),
                )
            except DomainError as error:
                add_domain_error(form, error)
            except (TransitionNotAllowed, ConcurrentTransition) as error:
                messages.error(request, _fsm_error_message(error))
                return redirect("catalog:supplier_contract", contract.pk)
            else:
                messages.success(
                    request,
                    _("Contract signed. Leaders can now see your approved offers."),
                )
                return redirect("catalog:supplier_contract", contract.pk)
        return self._render(request, contract, form)


class ContractPrintView(SupplierCatalogView):
    template_name = "catalog/supplier/contract_print.html"

    def get(self, request, contract_id):
        contract = selectors.contract_for_supplier(self.supplier, contract_id)
        return render(
            request, self.template_name, {"contract": contract, "supplier": self.supplier}
        )


PDF_FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(PDF_FONT))


def _pdf_text(text) -> str:
    """Plain text as a reportlab paragraph: escaped, line breaks kept."""
    lines = [escape(line.strip()) for line in str(text).splitlines()]
    return "<br/>".join(lines)


def _signed_time(contract) -> str:
    local = timezone.localtime(contract.signed_at)
    return f"{local:%Y-%m-%d %H:%M:%S} ({timezone.get_current_timezone_name()})"


def contract_pdf_bytes(contract, *, supplier) -> bytes:
    """The contract as a PDF; Chinese renders with the built-in STSong-Light CID font."""
    base = ParagraphStyle("contract", fontName=PDF_FONT, fontSize=10.5, leading=16, wordWrap="CJK")
    title = ParagraphStyle("title", parent=base, fontSize=18, leading=26, spaceAfter=8)
    heading = ParagraphStyle("heading", parent=base, fontSize=13, leading=20, spaceBefore=10)
    muted = ParagraphStyle("muted", parent=base, textColor="#57606a")

    def row(label, value):
        return Paragraph(f"{escape(str(label))}: {_pdf_text(value)}", base)

    story = [
        Paragraph(escape(_("Supply contract")), title),
        row(_("Supplier"), supplier.name),
        row(_("Terms version"), contract.terms_version),
        row(_("Status"), contract.get_status_display()),
        row(_("Commission"), f"{contract.commission_rate}%"),
        row(_("Valid"), f"{contract.valid_from:%Y-%m-%d} – {contract.valid_until:%Y-%m-%d}"),
        Paragraph(escape(_("Fees and settlement")), heading),
        Paragraph(_pdf_text(contract.fee_terms), base),
        Paragraph(escape(_("Terms")), heading),
    ]
    for block in str(contract.terms_text).split("\n\n"):
        if block.strip():
            story += [Paragraph(_pdf_text(block), base), Spacer(1, 6)]
    story.append(Paragraph(escape(_("Signature")), heading))
    if contract.signed_at:
        story += [
            row(_("Signed by"), contract.signed_name),
            row(_("Signed at"), _signed_time(contract)),
            row(_("Signed from IP address"), contract.signed_ip or "—"),
        ]
    else:
        story.append(Paragraph(escape(_("Not signed yet.")), muted))

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"{_('Supply contract')} {contract.terms_version}",
        author=supplier.name,
    )
    document.build(story)
    return buffer.getvalue()


class ContractPdfView(SupplierCatalogView):
    def get(self, request, contract_id):
        contract = selectors.contract_for_supplier(self.supplier, contract_id)
        response = HttpResponse(
            contract_pdf_bytes(contract, supplier=self.supplier), content_type="application/pdf"
        )
        response["Content-Disposition"] = f'attachment; filename="contract-{contract.pk}.pdf"'
        return response
