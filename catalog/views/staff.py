"""Platform staff: the offer review queue, decisions on offers, supplier contracts.

Every decision goes through a service that records it (who, when, from, to, reason) and
notifies the supplier; the views only collect the reason and report the outcome.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from groupbuy.exceptions import DomainError
from groupbuy.forms import add_domain_error
from groupbuy.pagination import paginate
from groupbuy.roles import StaffRequiredMixin
from groupbuy.selectors import state_changes_for

from .. import selectors, services
from ..forms.staff import ContractTerminateForm, OfferQueueFilterForm, ReasonForm
from ..models import ContractStatus, Offer, OfferStatus, SupplierContract


def _status_param(request, choices) -> str:
    """The ``?status=`` filter if it names a known state, else "" (all states)."""
    status = request.GET.get("status", "")
    return status if status in choices.values else ""


def _display(name: str, value) -> str:
    """A term as the reviewer reads it in the diff table."""
    if value is None:
        return "—"
    if name == "delivery_weekdays":
        return ", ".join(str(WEEKDAYS_ABBR[int(day)]) for day in sorted(set(value)))
    if isinstance(value, date):
        return date_format(value, "Y-m-d")
    if isinstance(value, Decimal):
        return f"¥{value:.2f}"
    return str(value) if value != "" else "—"


# Offers


class OfferQueueView(StaffRequiredMixin, View):
    """Submitted offers, oldest first, filtered by supplier and category."""

    def get(self, request):
        filter_form = OfferQueueFilterForm(request.GET)
        queue = selectors.review_queue(**filter_form.filters())
        return render(
            request,
            "catalog/staff/offer_queue.html",
            {"page_obj": paginate(request, queue), "filter_form": filter_form},
        )


class OfferListView(StaffRequiredMixin, View):
    """Every offer, filtered by status: where staff find listed offers to suspend."""

    def get(self, request):
        status = _status_param(request, OfferStatus)
        return render(
            request,
            "catalog/staff/offer_list.html",
            {
                "page_obj": paginate(request, selectors.offers_for_staff(status=status)),
                "status": status,
                "statuses": OfferStatus.choices,
            },
        )


def _offer_context(offer: Offer, form: ReasonForm | None = None) -> dict:
    diff = [
        {
            **row,
            "old_display": _display(row["name"], row["old"]),
            "new_display": _display(row["name"], row["new"]),
        }
        for row in selectors.offer_diff(offer)
    ]
    return {
        "offer": offer,
        "object": offer,
        "product": offer.product,
        "images": list(offer.product.images.all()),
        "diff": diff,
        "has_previous": offer.revision_of_id is not None,
        "contract": selectors.open_contract_for_supplier(offer.supplier),
        "history": state_changes_for(offer),
        "status_choices": OfferStatus.choices,
        "form": form or ReasonForm(),
        "can_decide": offer.status == OfferStatus.SUBMITTED,
        "can_suspend": offer.status == OfferStatus.APPROVED,
        "can_reinstate": offer.status == OfferStatus.SUSPENDED,
    }


class OfferDetailView(StaffRequiredMixin, View):
    def get(self, request, pk: int):
        offer = selectors.offer_for_staff(pk)
        return render(request, "catalog/staff/offer_detail.html", _offer_context(offer))


@dataclass(frozen=True)
class _OfferAction:
    service: Callable
    sources: tuple[str, ...]
    takes_reason: bool
    done: str  # message on success, formatted with %(product)s
    next_url_name: str  # where to go on success: the queue or back to the offer


OFFER_ACTIONS = {
    "approve": _OfferAction(
        services.offer_approve,
        (OfferStatus.SUBMITTED,),
        False,
        gettext_lazy("Approved the offer for %(product)s."),
        "catalog:staff_offer_queue",
    ),
    "reject": _OfferAction(
        services.offer_reject,
        (OfferStatus.SUBMITTED,),
        True,
        gettext_lazy("Rejected the offer for %(product)s."),
        "catalog:staff_offer_queue",
    ),
    "request_changes": _OfferAction(
        services.offer_request_changes,
        (OfferStatus.SUBMITTED,),
        True,
        gettext_lazy("Asked for changes to the offer for %(product)s."),
        "catalog:staff_offer_queue",
    ),
    "suspend": _OfferAction(
        services.offer_suspend,
        (OfferStatus.APPROVED,),
        True,
        gettext_lazy("Suspended the offer for %(product)s."),
        "catalog:staff_offer",
    ),
    "reinstate": _OfferAction(
        services.offer_reinstate,
        (OfferStatus.SUSPENDED,),
        False,
        gettext_lazy("Reinstated the offer for %(product)s."),
        "catalog:staff_offer",
    ),
}


class OfferActionView(StaffRequiredMixin, View):
    """POST only: one URL per decision. A GET answers 405."""

    action: str = ""

    def post(self, request, pk: int):
        action = OFFER_ACTIONS[self.action]
        offer = selectors.offer_for_staff(pk)
        if offer.status not in action.sources:
            return self._already_decided(request, offer)
        form = ReasonForm(request.POST)
        if form.is_valid():
            kwargs = {"offer": offer, "actor": request.user}
            if action.takes_reason:
                kwargs["reason"] = form.cleaned_data["reason"]
            # A supplier's first approved offer comes with a contract to sign: say so.
            may_issue_contract = (
                self.action == "approve"
                and selectors.open_contract_for_supplier(offer.supplier) is None
            )
            try:
                action.service(**kwargs)
            except DomainError as error:
                add_domain_error(form, error)
            except (TransitionNotAllowed, ConcurrentTransition):
                return self._already_decided(request, offer)
            else:
                messages.success(request, action.done % {"product": offer.product.localized_name})
                if (
                    may_issue_contract
                    and selectors.open_contract_for_supplier(offer.supplier) is not None
                ):
                    messages.info(
                        request,
                        _("A supply contract was issued to %(supplier)s for signature.")
                        % {"supplier": offer.supplier.name},
                    )
                if action.next_url_name == "catalog:staff_offer":
                    return redirect(action.next_url_name, pk=offer.pk)
                return redirect(action.next_url_name)
        return render(request, "catalog/staff/offer_detail.html", _offer_context(offer, form))

    @staticmethod
    def _already_decided(request, offer: Offer):
        messages.error(request, _("This offer has already been decided."))
        return redirect("catalog:staff_offer", pk=offer.pk)


# Contracts


class ContractListView(StaffRequiredMixin, View):
    def get(self, request):
        status = _status_param(request, ContractStatus)
        return render(
            request,
            "catalog/staff/contract_list.html",
            {
                "page_obj": paginate(request, selectors.contracts_for_staff(status=status)),
                "status": status,
                "statuses": ContractStatus.choices,
            },
        )


def _contract_context(
    contract: SupplierContract, form: ContractTerminateForm | None = None
) -> dict:
    return {
        "contract": contract,
        "object": contract,
        "history": state_changes_for(contract),
        "status_choices": ContractStatus.choices,
        "form": form or ContractTerminateForm(),
        "can_terminate": contract.status
        in (ContractStatus.PENDING_SIGNATURE, ContractStatus.ACTIVE),
    }


class ContractDetailView(StaffRequiredMixin, View):
    def get(self, request, pk: int):
        contract = selectors.contract_for_staff(pk)
        return render(request, "catalog/staff/contract_detail.html", _contract_context(contract))


class ContractTerminateView(StaffRequiredMixin, View):
    """POST only. A GET answers 405."""

    def post(self, request, pk: int):
        contract = selectors.contract_for_staff(pk)
        if contract.status not in (ContractStatus.PENDING_SIGNATURE, ContractStatus.ACTIVE):
            return self._already_ended(request, contract)
        form = ContractTerminateForm(request.POST)
        if form.is_valid():
            try:
                services.contract_terminate(
                    contract=contract, actor=request.user, reason=form.cleaned_data["reason"]
                )
            except DomainError as error:
                add_domain_error(form, error)
            except (TransitionNotAllowed, ConcurrentTransition):
                return self._already_ended(request, contract)
            else:
                messages.success(
                    request,
                    _("Terminated the contract with %(supplier)s.")
                    % {"supplier": contract.supplier.name},
                )
                return redirect("catalog:staff_contract", pk=contract.pk)
        return render(
            request, "catalog/staff/contract_detail.html", _contract_context(contract, form)
        )

    @staticmethod
    def _already_ended(request, contract: SupplierContract):
        messages.error(request, _("This contract has already ended."))
        return redirect("catalog:staff_contract", pk=contract.pk)
