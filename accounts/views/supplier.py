from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from groupbuy.exceptions import DomainError
from groupbuy.forms import add_domain_error
from groupbuy.roles import SupplierRequiredMixin

from .. import selectors, services
from ..forms import SupplierMemberAddForm, SupplierRegistrationForm, SupplierResubmitForm
from ..models import ReviewStatus


class SupplierRegisterView(LoginRequiredMixin, View):
    """A signed-in user registers a company; staff approve or reject it."""

    template_name = "accounts/supplier/register.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and selectors.supplier_membership_of(request.user):
            return redirect("accounts:supplier_status")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        return render(request, self.template_name, {"form": SupplierRegistrationForm()})

    def post(self, request):
        form = SupplierRegistrationForm(request.POST)
        if form.is_valid():
            try:
                services.supplier_register(user=request.user, **form.cleaned_data)
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(
                    request, _("Registration sent. Platform staff will review it shortly.")
                )
                return redirect("accounts:supplier_status")
        return render(request, self.template_name, {"form": form})


class SupplierStatusView(LoginRequiredMixin, View):
    """Where a registration stands; a rejected one can be corrected and resubmitted."""

    template_name = "accounts/supplier/status.html"

    def _membership(self, request):
        membership = selectors.supplier_membership_of(request.user)
        if membership is None:
            raise Http404
        return membership

    def get(self, request):
        membership = self._membership(request)
        if membership.supplier.status == ReviewStatus.APPROVED:
            return redirect("accounts:supplier_home")
        form = SupplierResubmitForm(instance=membership.supplier)
        return render(request, self.template_name, {"membership": membership, "form": form})

    def post(self, request):
        membership = self._membership(request)
        supplier = membership.supplier
        form = SupplierResubmitForm(request.POST, instance=supplier)
        if form.is_valid():
            try:
                services.supplier_resubmit(
                    supplier=supplier, actor=request.user, **form.cleaned_data
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("Registration sent again for review."))
                return redirect("accounts:supplier_status")
        supplier.refresh_from_db()
        return render(request, self.template_name, {"membership": membership, "form": form})


class SupplierHomeView(SupplierRequiredMixin, View):
    template_name = "accounts/supplier/home.html"

    def _context(self, request, form=None):
        supplier = selectors.approved_supplier_for_user(request.user)
        membership = selectors.supplier_membership_of(request.user)
        return {
            "supplier": supplier,
            "is_owner": membership.is_owner,
            "team": selectors.supplier_team(supplier),
            "form": form or SupplierMemberAddForm(),
        }

    def get(self, request):
        return render(request, self.template_name, self._context(request))


class SupplierMemberAddView(SupplierHomeView):
    def post(self, request):
        supplier = selectors.approved_supplier_for_user(request.user)
        form = SupplierMemberAddForm(request.POST)
        if form.is_valid():
            try:
                member = services.supplier_member_add(
                    supplier=supplier, actor=request.user, login=form.cleaned_data["login"]
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(
                    request,
                    _("%(name)s can now work for %(supplier)s.")
                    % {"name": member.user, "supplier": supplier.name},
                )
                return redirect("accounts:supplier_home")
        return render(request, self.template_name, self._context(request, form=form))
