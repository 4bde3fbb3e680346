"""The supplier's catalog pages: products and images, offers (quotes) and their review,
and the platform supply contract (sign, print, PDF).

Views are thin: forms validate input, ``catalog.services`` write, ``catalog.selectors``
read. Every object is looked up through the supplier's own scope, so another supplier's
product, offer or contract answers 404.
"""

import copy
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django_fsm import ConcurrentTransition, TransitionNotAllowed, can_proceed

from accounts.selectors import approved_supplier_for_user
from groupbuy.exceptions import DomainError
from groupbuy.forms import add_domain_error
from groupbuy.pagination import paginate
from groupbuy.roles import SupplierRequiredMixin
from groupbuy.selectors import state_changes_for

from .. import selectors, services
from ..forms.supplier import (
    WEEKDAY_CHOICES,
    ImageUploadForm,
    OfferForm,
    ProductForm,
)
from ..models import MAX_PRODUCT_IMAGES, OfferStatus


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
        query = request.GET.get("q", "").strip()
        products = selectors.products_for_supplier(self.supplier, query=query)
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
        counts = selectors.offer_status_counts_for_supplier(self.supplier)
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
