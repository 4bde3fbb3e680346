"""The supplier's supply contracts: read, sign in the browser, print, download as PDF."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from groupbuy.exceptions import DomainError
from groupbuy.forms import add_domain_error
from groupbuy.pagination import paginate
from groupbuy.selectors import state_changes_for

from .. import contract_pdf, selectors, services
from ..forms.supplier import ContractSignForm
from ..models import ContractStatus
from .supplier import SupplierCatalogView, _fsm_error_message


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


class ContractPdfView(SupplierCatalogView):
    def get(self, request, contract_id):
        contract = selectors.contract_for_supplier(self.supplier, contract_id)
        response = HttpResponse(
            contract_pdf.contract_pdf_bytes(contract, supplier=self.supplier),
            content_type="application/pdf",
        )
        response["Content-Disposition"] = f'attachment; filename="contract-{contract.pk}.pdf"'
        return response
