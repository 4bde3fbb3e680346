"""The leader's side of fulfilment: a schedule's overview (purchase orders, receipt,
orders ready, pickup notices), one purchase order (lines, send, downloads, history), the
receipt with its shortage preview, the pickup notice, and the printable pickup lists."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from groupbuy.exceptions import DomainError
from groupbuy.forms import add_domain_error
from orders.models import OrderStatus
from orders.services.ordering import schedule_orders_expire_overdue
from orders.views.leader import ReviewerRequiredMixin
from scheduling.models import ScheduleStatus, ShortageRule

from .. import documents
from .. import pickup_lists as lists
from ..forms_leader import PickupNoticeForm, ReceiptForm
from ..models import PurchaseOrderStatus
from ..selectors import leader as selectors
from ..services import pickup, purchasing, receiving

TRANSITION_ERRORS = (DomainError, TransitionNotAllowed, ConcurrentTransition)

# Schedules whose purchase orders can still be (re)prepared (the service's rule).
PREPARABLE = (ScheduleStatus.PUBLISHED, ScheduleStatus.CLOSED)

# Downloads of a purchase order: format -> (document function, content type).
DOWNLOADS = {
    "pdf": (documents.purchase_order_pdf, "application/pdf"),
    "csv": (documents.purchase_order_csv, "text/csv; charset=utf-8"),
    "xlsx": (
        documents.purchase_order_xlsx,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
}


def _error_text(error) -> str:
    if isinstance(error, DomainError):
        return str(error.message)
    if isinstance(error, ConcurrentTransition):
        return _("Someone else changed this purchase order at the same time. Try again.")
    return _("This action is not possible in the purchase order's current state.")


def _fulfilment_url(schedule_id: int) -> str:
    return reverse("fulfillment:leader_fulfilment", args=[schedule_id])


def _purchase_order_url(purchase_order_id: int) -> str:
    return reverse("fulfillment:leader_purchase_order", args=[purchase_order_id])


def _coverage_url(user, notice) -> str:
    """The broadcast's coverage page; only the community's leader may open it."""
    broadcast_id = notice.broadcast_id
    community = notice.schedule.community
    if not broadcast_id or community.leader_id != user.pk:
        return ""
    return reverse("notifications:coverage", args=[community.pk, broadcast_id])


class FulfilmentView(ReviewerRequiredMixin, View):
    template_name = "fulfillment/leader/fulfilment.html"

    def get(self, request, schedule_id: int):
        schedule = selectors.leader_schedule(request.user, schedule_id)
        schedule_orders_expire_overdue(schedule_id=schedule.pk)
        purchase_orders = selectors.schedule_purchase_orders(schedule)
        counts = selectors.schedule_fulfilment_counts(schedule)
        notices = list(selectors.schedule_pickup_notices(schedule))
        for notice in notices:
            notice.schedule = schedule
            notice.coverage_url = _coverage_url(request.user, notice)
        now = timezone.now()
        return render(
            request,
            self.template_name,
            {
                "schedule": schedule,
                "community": schedule.community,
                "purchase_orders": purchase_orders,
                "counts": counts,
                "notices": notices,
                "execution": selectors.schedule_execution(schedule),
                "can_prepare": schedule.status in PREPARABLE,
                "cutoff_passed": now >= schedule.cutoff,
                "has_drafts": any(po.status == PurchaseOrderStatus.DRAFT for po in purchase_orders),
                "status_choices": PurchaseOrderStatus.choices,
            },
        )


class PurchaseOrdersPrepareView(ReviewerRequiredMixin, View):
    """(Re)build the draft purchase orders from the confirmed orders."""

    def post(self, request, schedule_id: int):
        schedule = selectors.leader_schedule(request.user, schedule_id)
        try:
            prepared = purchasing.purchase_orders_prepare(schedule=schedule, actor=request.user)
        except TRANSITION_ERRORS as error:
            messages.error(request, _error_text(error))
            return redirect(_fulfilment_url(schedule.pk))
        if prepared:
            messages.success(
                request,
                ngettext(
                    "%(count)s purchase order prepared from the confirmed orders. Check it and "
                    "send it to the supplier.",
                    "%(count)s purchase orders prepared from the confirmed orders. Check them "
                    "and send each to its supplier.",
                    len(prepared),
                )
                % {"count": len(prepared)},
            )
        else:
            messages.info(
                request,
                _(
                    "No draft to prepare: there are no confirmed orders yet, or every purchase "
                    "order has already been sent."
                ),
            )
        blocking = selectors.schedule_fulfilment_counts(schedule).blocking
        if blocking:
            messages.warning(
                request,
                ngettext(
                    "%(count)s order is still waiting for payment or your review: purchase "
                    "orders can be sent once it is confirmed or rejected.",
                    "%(count)s orders are still waiting for payment or your review: purchase "
                    "orders can be sent once they are confirmed or rejected.",
                    blocking,
                )
                % {"count": blocking},
            )
        return redirect(_fulfilment_url(schedule.pk))


class PurchaseOrderView(ReviewerRequiredMixin, View):
    template_name = "fulfillment/leader/purchase_order.html"

    def get(self, request, purchase_order_id: int):
        purchase_order = selectors.leader_purchase_order(request.user, purchase_order_id)
        schedule = purchase_order.schedule
        lines = selectors.purchase_order_lines(purchase_order)
        is_draft = purchase_order.status == PurchaseOrderStatus.DRAFT
        counts = selectors.schedule_fulfilment_counts(schedule) if is_draft else None
        return render(
            request,
            self.template_name,
            {
                "purchase_order": purchase_order,
                "schedule": schedule,
                "community": purchase_order.community,
                "lines": lines,
                "allocations": [
                    allocation for line in lines for allocation in line.allocations.all()
                ],
                "history": selectors.purchase_order_history(purchase_order),
                "status_choices": PurchaseOrderStatus.choices,
                "counts": counts,
                "can_send": is_draft,
                "cutoff_passed": timezone.now() >= schedule.cutoff,
                "can_receive": purchase_order.status == PurchaseOrderStatus.READY,
                "received": purchase_order.status
                in (PurchaseOrderStatus.RECEIVED, PurchaseOrderStatus.CLOSED),
                "downloads": list(DOWNLOADS),
            },
        )


class PurchaseOrderSendView(ReviewerRequiredMixin, View):
    def post(self, request, purchase_order_id: int):
        purchase_order = selectors.leader_purchase_order(request.user, purchase_order_id)
        try:
            purchasing.purchase_order_send(purchase_order=purchase_order, actor=request.user)
        except TRANSITION_ERRORS as error:
            messages.error(request, _error_text(error))
        else:
            messages.success(
                request,
                _("Purchase order %(number)s sent; %(supplier)s has been told.")
                % {"number": purchase_order.number, "supplier": purchase_order.supplier.name},
            )
        return redirect(_purchase_order_url(purchase_order.pk))


class PurchaseOrderCloseView(ReviewerRequiredMixin, View):
    def post(self, request, purchase_order_id: int):
        purchase_order = selectors.leader_purchase_order(request.user, purchase_order_id)
        try:
            purchasing.purchase_order_close(purchase_order=purchase_order, actor=request.user)
        except TRANSITION_ERRORS as error:
            messages.error(request, _error_text(error))
        else:
            messages.success(
                request, _("Purchase order %(number)s closed.") % {"number": purchase_order.number}
            )
        return redirect(_purchase_order_url(purchase_order.pk))


class PurchaseOrderDownloadView(ReviewerRequiredMixin, View):
    """The purchase order as PDF, CSV or XLSX (fulfillment/documents.py)."""

    def get(self, request, purchase_order_id: int, fmt: str):
        purchase_order = selectors.leader_purchase_order(request.user, purchase_order_id)
        if fmt not in DOWNLOADS:
            raise Http404
        render_document, content_type = DOWNLOADS[fmt]
        response = HttpResponse(render_document(purchase_order), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{purchase_order.number}.{fmt}"'
        return response


class ReceiveView(ReviewerRequiredMixin, View):
    """What arrived, line by line; the shortage's effect is shown before it is applied."""

    template_name = "fulfillment/leader/receive.html"

    def _purchase_order(self, request, purchase_order_id):
        purchase_order = selectors.leader_purchase_order(request.user, purchase_order_id)
        if purchase_order.status != PurchaseOrderStatus.READY:
            messages.error(
                request,
                _("Goods can be received once the supplier has marked them ready."),
            )
            return purchase_order, redirect(_purchase_order_url(purchase_order.pk))
        return purchase_order, None

    def _lines(self, purchase_order):
        return list(purchase_order.lines.order_by("id"))

    def _render(self, request, purchase_order, form, plan=None):
        schedule = purchase_order.schedule
        context = {
            "purchase_order": purchase_order,
            "schedule": schedule,
            "community": purchase_order.community,
            "form": form,
            "declined_lines": [line for line in self._lines(purchase_order) if line.declined],
            "rule_label": ShortageRule(schedule.shortage_rule).label,
            "plan": plan,
        }
        if plan is not None:
            members = selectors.members_of_orders(
                loss.order_line.order_id for item in plan.items for loss in item.losses
            )
            for item in plan.items:
                for loss in item.losses:
                    loss.member = members.get(loss.order_line.order_id)
                    loss.keeps = loss.order_line.units_to_hand_over - loss.units
            context.update(
                {
                    "missing_total": sum(item.missing_for_members for item in plan.items),
                    "lost_total": sum(loss.units for item in plan.items for loss in item.losses),
                    "short_total": sum(item.short + item.damaged for item in plan.items),
                }
            )
        return render(request, self.template_name, context)

    def get(self, request, purchase_order_id: int):
        purchase_order, refused = self._purchase_order(request, purchase_order_id)
        if refused:
            return refused
        form = ReceiptForm(lines=self._lines(purchase_order))
        return self._render(request, purchase_order, form)

    def post(self, request, purchase_order_id: int):
        purchase_order, refused = self._purchase_order(request, purchase_order_id)
        if refused:
            return refused
        form = ReceiptForm(request.POST, lines=self._lines(purchase_order))
        action = request.POST.get("action")
        if not form.is_valid() or action == "edit":
            return self._render(request, purchase_order, form)
        counts = form.counts()
        if action == "apply":
            try:
                plan = receiving.receipt_apply(
                    purchase_order=purchase_order, actor=request.user, counts=counts
                )
            except TRANSITION_ERRORS as error:
                if isinstance(error, DomainError):
                    add_domain_error(form, error)
                else:
                    form.add_error(None, _error_text(error))
                return self._render(request, purchase_order, form)
            if plan.affected_orders:
                messages.success(
                    request,
                    ngettext(
                        "Receipt recorded. %(count)s order lost units and is being refunded "
                        "¥%(amount)s; the member has been told.",
                        "Receipt recorded. %(count)s orders lost units and are being refunded "
                        "¥%(amount)s in all; the members have been told.",
                        plan.affected_orders,
                    )
                    % {"count": plan.affected_orders, "amount": plan.refund_total},
                )
            else:
                messages.success(request, _("Receipt recorded: every member gets all units."))
            return redirect(_purchase_order_url(purchase_order.pk))
        try:
            plan = receiving.receipt_plan(purchase_order=purchase_order, counts=counts)
        except DomainError as error:
            add_domain_error(form, error)
            return self._render(request, purchase_order, form)
        return self._render(request, purchase_order, form, plan=plan)


def _initial_place(schedule, receiving_summary) -> str:
    delivery = _("Home delivery to the address on your order")
    if receiving_summary.all_delivery:
        return delivery
    points = "; ".join(
        f"{point.name} ({point.address})" for point in schedule.pickup_points.order_by("id")
    )
    if receiving_summary.delivery_orders:
        points = f"{points}; {delivery}" if points else delivery
    return points[:300]


def _initial_phone(schedule) -> str:
    for point in schedule.pickup_points.order_by("id"):
        if point.contact_phone:
            return str(point.contact_phone)
    return str(schedule.community.contact_phone or "")


class PickupNoticeView(ReviewerRequiredMixin, View):
    template_name = "fulfillment/leader/pickup_notice.html"

    def _render(self, request, schedule, form, summary):
        return render(
            request,
            self.template_name,
            {
                "schedule": schedule,
                "community": schedule.community,
                "form": form,
                "summary": summary,
                "notices": selectors.schedule_pickup_notices(schedule)[:5],
            },
        )

    def get(self, request, schedule_id: int):
        schedule = selectors.leader_schedule(request.user, schedule_id)
        summary = selectors.ready_order_receiving(schedule)
        form = PickupNoticeForm(
            initial={
                "window_start": timezone.localtime(schedule.pickup_start),
                "window_end": timezone.localtime(schedule.pickup_end),
                "place": _initial_place(schedule, summary),
                "contact_phone": _initial_phone(schedule),
            }
        )
        return self._render(request, schedule, form, summary)

    def post(self, request, schedule_id: int):
        schedule = selectors.leader_schedule(request.user, schedule_id)
        form = PickupNoticeForm(request.POST)
        if form.is_valid():
            try:
                notice = pickup.pickup_notice_send(
                    schedule=schedule, actor=request.user, **form.cleaned_data
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                count = notice.broadcast.recipient_count if notice.broadcast else 0
                messages.success(
                    request,
                    ngettext(
                        "Pickup notice sent to %(count)s member.",
                        "Pickup notice sent to %(count)s members.",
                        count,
                    )
                    % {"count": count},
                )
                notice.schedule = schedule
                return redirect(_coverage_url(request.user, notice) or _fulfilment_url(schedule.pk))
        return self._render(request, schedule, form, selectors.ready_order_receiving(schedule))


class PickupListsView(ReviewerRequiredMixin, View):
    """The lists as a page to print (no dashboard chrome)."""

    template_name = "fulfillment/leader/pickup_lists.html"

    def get(self, request, schedule_id: int):
        schedule = selectors.leader_schedule(request.user, schedule_id)
        return render(
            request,
            self.template_name,
            {
                "schedule": schedule,
                "community": schedule.community,
                "sections": lists.pickup_lists(schedule),
                "confirmed_status": OrderStatus.CONFIRMED,
            },
        )


class PickupListsPdfView(ReviewerRequiredMixin, View):
    def get(self, request, schedule_id: int):
        schedule = selectors.leader_schedule(request.user, schedule_id)
        content = lists.pickup_lists_pdf(schedule, lists.pickup_lists(schedule))
        response = HttpResponse(content, content_type="application/pdf")
        response["Content-Disposition"] = (
            f'inline; filename="schedule-{schedule.pk}-pickup-lists.pdf"'
        )
        return response


fulfilment = FulfilmentView.as_view()
purchase_orders_prepare = PurchaseOrdersPrepareView.as_view()
purchase_order = PurchaseOrderView.as_view()
purchase_order_send = PurchaseOrderSendView.as_view()
purchase_order_close = PurchaseOrderCloseView.as_view()
purchase_order_download = PurchaseOrderDownloadView.as_view()
purchase_order_receive = ReceiveView.as_view()
pickup_notice = PickupNoticeView.as_view()
pickup_lists = PickupListsView.as_view()
pickup_lists_pdf = PickupListsPdfView.as_view()
