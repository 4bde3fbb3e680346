"""The supplier's fulfilment pages: purchase orders (list with upcoming deliveries, detail
with downloads and the answers open in its state), the pick list per delivery date and the
reviews of its offers.

Views are thin: forms check shapes, ``fulfillment.services.purchasing`` writes and enforces
the rules, ``fulfillment.selectors.supplier`` reads. Another supplier's purchase order, or
a leader's draft, answers 404.
"""

from datetime import date

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from accounts.selectors import approved_supplier_for_user
from groupbuy.exceptions import DomainError
from groupbuy.forms import add_domain_error
from groupbuy.pagination import paginate
from groupbuy.roles import SupplierRequiredMixin
from groupbuy.selectors import state_changes_for

from .. import documents
from ..forms_supplier import AcknowledgeForm, DeclineForm, MarkReadyForm
from ..models import PurchaseOrderStatus
from ..selectors import supplier as selectors
from ..services import purchasing


def _fsm_error_message(error: Exception) -> str:
    if isinstance(error, ConcurrentTransition):
        return _("Someone else changed this just now. Look at it again and retry.")
    return _("This is not possible in its current state.")


class SupplierView(SupplierRequiredMixin, View):
    """Anonymous: log in; no supplier role: 403; ``self.supplier`` is the user's company."""

    @cached_property
    def supplier(self):
        # Read after the role check, so a user without the supplier role gets 403.
        return approved_supplier_for_user(self.request.user)


# Purchase orders


class PurchaseOrderListView(SupplierView):
    template_name = "fulfillment/supplier/purchase_order_list.html"

    def get(self, request):
        status = request.GET.get("status", "")
        if status not in selectors.SUPPLIER_STATUSES:
            status = ""
        counts = selectors.supplier_purchase_order_counts(self.supplier)
        labels = dict(PurchaseOrderStatus.choices)
        tabs = [("", _("All"), sum(counts.values()))] + [
            (value, labels[value], counts.get(value, 0)) for value in selectors.SUPPLIER_STATUSES
        ]
        purchase_orders = selectors.supplier_purchase_orders(self.supplier, status=status or None)
        return render(
            request,
            self.template_name,
            {
                "page_obj": paginate(request, purchase_orders),
                "status": status,
                "tabs": tabs,
                "upcoming": selectors.supplier_upcoming_deliveries(self.supplier),
            },
        )


class _PurchaseOrderPage(SupplierView):
    template_name = "fulfillment/supplier/purchase_order_detail.html"

    def purchase_order(self, purchase_order_id: int):
        return selectors.supplier_purchase_order(self.supplier, purchase_order_id)

    def render_page(self, request, purchase_order, **forms):
        lines = selectors.purchase_order_lines(purchase_order)
        state = purchase_order.status
        can_answer = state == PurchaseOrderStatus.SENT
        can_ready = state in (PurchaseOrderStatus.ACKNOWLEDGED, PurchaseOrderStatus.STOCKING)
        context = {
            "purchase_order": purchase_order,
            "lines": lines,
            "totals": selectors.purchase_order_totals(lines),
            "shipped_known": any(line.shipped_quantity is not None for line in lines),
            "received_known": any(line.received_quantity is not None for line in lines),
            "can_acknowledge": can_answer,
            "can_decline": can_answer,
            "can_start_stocking": state == PurchaseOrderStatus.ACKNOWLEDGED,
            "can_mark_ready": can_ready,
            "history": state_changes_for(purchase_order),
            "status_choices": PurchaseOrderStatus.choices,
        }
        if can_answer:
            context["acknowledge_form"] = forms.get("acknowledge_form") or AcknowledgeForm(
                lines=lines
            )
            context["decline_form"] = forms.get("decline_form") or DeclineForm()
        if can_ready:
            context["ready_form"] = forms.get("ready_form") or MarkReadyForm(lines=lines)
        return render(request, self.template_name, context)


class PurchaseOrderDetailView(_PurchaseOrderPage):
    def get(self, request, purchase_order_id: int):
        return self.render_page(request, self.purchase_order(purchase_order_id))


class _PurchaseOrderActionView(_PurchaseOrderPage):
    """A POST-only answer to one of the supplier's purchase orders.

    Bad input is shown in place on the page with nothing changed; a refused step (wrong
    state, someone else was faster) becomes a message above the unchanged page.
    """

    http_method_names = ["post"]
    form_name = ""
    open_states: tuple[str, ...] = ()
    success_message = ""

    def make_form(self, request, lines):
        return None

    def act(self, purchase_order, form):
        raise NotImplementedError

    def post(self, request, purchase_order_id: int):
        purchase_order = self.purchase_order(purchase_order_id)
        form = self.make_form(request, selectors.purchase_order_lines(purchase_order))
        if form is not None and not form.is_valid():
            return self.refused(request, purchase_order, form)
        try:
            self.act(purchase_order, form)
        except DomainError as error:
            # Nothing was written; show the order as it is now.
            purchase_order = self.purchase_order(purchase_order_id)
            if form is not None and purchase_order.status in self.open_states:
                add_domain_error(form, error)
                return self.refused(request, purchase_order, form)
            messages.error(request, error.message)
        except (TransitionNotAllowed, ConcurrentTransition) as error:
            messages.error(request, _fsm_error_message(error))
        else:
            messages.success(request, self.success_message)
        return redirect("fulfillment:supplier_purchase_order", purchase_order.pk)

    def refused(self, request, purchase_order, form):
        """The page again with the form's errors in place, if the form is still open."""
        if purchase_order.status not in self.open_states:
            messages.error(request, _("This is not possible in its current state."))
            return redirect("fulfillment:supplier_purchase_order", purchase_order.pk)
        messages.error(request, _("Nothing was changed. Correct the marked fields."))
        return self.render_page(request, purchase_order, **{self.form_name: form})


class PurchaseOrderAcknowledgeView(_PurchaseOrderActionView):
    form_name = "acknowledge_form"
    open_states = (PurchaseOrderStatus.SENT,)
    success_message = gettext_lazy("Purchase order acknowledged. The leader has been told.")

    def make_form(self, request, lines):
        return AcknowledgeForm(request.POST, lines=lines)

    def act(self, purchase_order, form):
        purchasing.purchase_order_acknowledge(
            purchase_order=purchase_order,
            actor=self.request.user,
            declined_lines=form.cleaned_data["declined_lines"],
        )


class PurchaseOrderDeclineView(_PurchaseOrderActionView):
    form_name = "decline_form"
    open_states = (PurchaseOrderStatus.SENT,)
    success_message = gettext_lazy(
        "Purchase order declined. The leader has been told and the members are refunded."
    )

    def make_form(self, request, lines):
        return DeclineForm(request.POST)

    def act(self, purchase_order, form):
        purchasing.purchase_order_decline(
            purchase_order=purchase_order,
            actor=self.request.user,
            reason=form.cleaned_data["reason"],
        )


class PurchaseOrderStartStockingView(_PurchaseOrderActionView):
    open_states = (PurchaseOrderStatus.ACKNOWLEDGED,)
    success_message = gettext_lazy("Marked as stocking up.")

    def act(self, purchase_order, form):
        purchasing.purchase_order_start_stocking(
            purchase_order=purchase_order, actor=self.request.user
        )


class PurchaseOrderMarkReadyView(_PurchaseOrderActionView):
    form_name = "ready_form"
    open_states = (PurchaseOrderStatus.ACKNOWLEDGED, PurchaseOrderStatus.STOCKING)
    success_message = gettext_lazy("The leader has been told the goods are on their way.")

    def make_form(self, request, lines):
        return MarkReadyForm(request.POST, lines=lines)

    def act(self, purchase_order, form):
        purchasing.purchase_order_mark_ready(
            purchase_order=purchase_order,
            actor=self.request.user,
            dispatch=form.cleaned_data["dispatch"],
            shipped=form.cleaned_data["shipped"],
            note=form.cleaned_data["note"],
        )


# Downloads


class _PurchaseOrderDownload(SupplierView):
    content_type = ""
    extension = ""

    def render_document(self, purchase_order) -> bytes:
        raise NotImplementedError

    def get(self, request, purchase_order_id: int):
        purchase_order = selectors.supplier_purchase_order(self.supplier, purchase_order_id)
        response = HttpResponse(self.render_document(purchase_order), self.content_type)
        response["Content-Disposition"] = (
            f'attachment; filename="{purchase_order.number}.{self.extension}"'
        )
        return response


class PurchaseOrderPdfView(_PurchaseOrderDownload):
    content_type = "application/pdf"
    extension = "pdf"

    def render_document(self, purchase_order) -> bytes:
        return documents.purchase_order_pdf(purchase_order)


class PurchaseOrderCsvView(_PurchaseOrderDownload):
    content_type = "text/csv; charset=utf-8"
    extension = "csv"

    def render_document(self, purchase_order) -> bytes:
        return documents.purchase_order_csv(purchase_order)


class PurchaseOrderXlsxView(_PurchaseOrderDownload):
    content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    extension = "xlsx"

    def render_document(self, purchase_order) -> bytes:
        return documents.purchase_order_xlsx(purchase_order)


# Pick list and reviews


class PickListView(SupplierView):
    template_name = "fulfillment/supplier/pick_list.html"

    def get(self, request):
        dates = selectors.supplier_pick_dates(self.supplier)
        chosen = None
        try:
            chosen = date.fromisoformat(request.GET.get("date", ""))
        except ValueError:
            chosen = None
        if chosen not in dates:
            chosen = None
        return render(
            request,
            self.template_name,
            {
                "days": selectors.supplier_pick_list(self.supplier, delivery_date=chosen),
                "dates": dates,
                "chosen": chosen,
            },
        )


class ReviewListView(SupplierView):
    template_name = "fulfillment/supplier/reviews.html"

    def get(self, request):
        return render(
            request,
            self.template_name,
            {
                "page_obj": paginate(request, selectors.supplier_reviews(self.supplier)),
                "ratings": selectors.supplier_offer_ratings(self.supplier),
            },
        )
