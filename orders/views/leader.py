"""The leader's review of a schedule's orders: the list with filters, flags and totals per
item, confirming (in bulk or one by one), rejecting with a reason, and the CSV export."""

import csv
from decimal import Decimal

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import View
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from groupbuy.exceptions import DomainError
from groupbuy.forms import add_domain_error
from groupbuy.pagination import paginate
from groupbuy.roles import LeaderRequiredMixin, Role
from groupbuy.spreadsheets import spreadsheet_text

from .. import selectors
from ..forms_leader import OrderFilterForm, RejectForm
from ..models import Fulfilment, OrderStatus, PaymentMethod
from ..services import review
from ..services.ordering import order_expire_if_due, schedule_orders_expire_overdue
from ..services.tell import receiving_info

CENT = Decimal("0.01")
TRANSITION_ERRORS = (DomainError, TransitionNotAllowed, ConcurrentTransition)

# Short labels for the leader (the model's choices speak to the member).
PAYMENT_METHOD_LABELS = {
    PaymentMethod.ONLINE: gettext_lazy("Online"),
    PaymentMethod.AT_PICKUP: gettext_lazy("At pickup"),
}


class ReviewerRequiredMixin(LeaderRequiredMixin):
    """Leaders, and platform staff (the selectors let staff see every community)."""

    def dispatch(self, request, *args, **kwargs):
        roles = getattr(request, "roles", ())
        if Role.LEADER not in roles and Role.STAFF in roles:
            self.required_role = Role.STAFF
        return super().dispatch(request, *args, **kwargs)


def _error_text(error) -> str:
    if isinstance(error, DomainError):
        return str(error.message)
    if isinstance(error, ConcurrentTransition):
        return _("Someone else changed this order at the same time. Try again.")
    return _("This action is not possible in the order's current state.")


def _safe_next(request, default: str) -> str:
    """The page the form came from (a path on this site), else ``default``."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _filter_query(request) -> str:
    """The list's filters as a query string, without the page number."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _schedule_orders_url(schedule_id: int) -> str:
    return reverse("orders:leader_schedule_orders", args=[schedule_id])


def _filtered_orders(request, schedule):
    schedule_orders_expire_overdue(schedule_id=schedule.pk)
    form = OrderFilterForm(request.GET, schedule=schedule)
    orders = selectors.leader_schedule_orders(
        user=request.user, schedule=schedule, filters=form.filters()
    )
    return form, orders


def _status_counts(schedule) -> list[tuple[str, str, int]]:
    counts = selectors.schedule_order_counts(schedule)
    return [(value, label, counts.get(value, 0)) for value, label in OrderStatus.choices]


def _item_totals(schedule) -> list:
    items = list(selectors.schedule_item_totals(schedule))
    for item in items:
        # SQLite sums decimals as floats (89.7000000000000); show cents.
        item.amount = Decimal(item.amount).quantize(CENT)
        item.below_minimum = bool(item.min_group_qty) and item.reserved_qty < item.min_group_qty
    return items


class ScheduleOrdersView(ReviewerRequiredMixin, View):
    template_name = "orders/leader/schedule_orders.html"

    def get(self, request, schedule_id: int):
        schedule = selectors.leader_schedule(request.user, schedule_id)
        form, orders = _filtered_orders(request, schedule)
        page_obj = paginate(request, orders)
        now = timezone.now()
        page_orders = list(page_obj.object_list)
        for order in page_orders:
            order.flags = selectors.order_flags(order, schedule=schedule, now=now)
            order.payment_label = PAYMENT_METHOD_LABELS.get(order.payment_method, "")
        page_obj.object_list = page_orders
        status_counts = _status_counts(schedule)
        return render(
            request,
            self.template_name,
            {
                "schedule": schedule,
                "community": schedule.community,
                "form": form,
                "page_obj": page_obj,
                "status_counts": status_counts,
                "order_total": sum(count for _value, _label, count in status_counts),
                "item_totals": _item_totals(schedule),
                "cutoff_passed": now >= schedule.cutoff,
                "filter_query": _filter_query(request),
                "paid_on_page": any(o.status == OrderStatus.PAID for o in page_orders),
            },
        )


class OrdersConfirmView(ReviewerRequiredMixin, View):
    """Confirm the chosen paid orders; unpaid or already handled ones are left alone."""

    def post(self, request, schedule_id: int):
        schedule = selectors.leader_schedule(request.user, schedule_id)
        order_ids = {int(value) for value in request.POST.getlist("orders") if value.isdigit()}
        back = _safe_next(request, _schedule_orders_url(schedule.pk))
        if not order_ids:
            messages.error(request, _("Select the paid orders to confirm."))
            return redirect(back)
        try:
            confirmed = review.orders_confirm(
                schedule=schedule, order_ids=order_ids, actor=request.user
            )
        except TRANSITION_ERRORS as error:
            messages.error(request, _error_text(error))
            return redirect(back)
        if confirmed:
            messages.success(
                request,
                ngettext("%(count)s order confirmed.", "%(count)s orders confirmed.", confirmed)
                % {"count": confirmed},
            )
        skipped = len(order_ids) - confirmed
        if skipped:
            messages.warning(
                request,
                ngettext(
                    "%(count)s selected order was not waiting for confirmation and was left "
                    "as it is.",
                    "%(count)s selected orders were not waiting for confirmation and were "
                    "left as they are.",
                    skipped,
                )
                % {"count": skipped},
            )
        return redirect(back)


class OrdersExportView(ReviewerRequiredMixin, View):
    """The filtered orders as CSV, one row per line (UTF-8 with a BOM for Excel)."""

    def get(self, request, schedule_id: int):
        schedule = selectors.leader_schedule(request.user, schedule_id)
        _form, orders = _filtered_orders(request, schedule)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="schedule-{schedule.pk}-orders.csv"'
        )
        response.write("\ufeff")  # Excel opens UTF-8 Chinese text correctly with a BOM
        writer = csv.writer(response)
        writer.writerow(
            [
                _("Order number"),
                _("Member"),
                _("Phone"),
                _("Pickup point"),
                _("Product"),
                _("Specification"),
                _("Unit price"),
                _("Quantity"),
                _("Amount"),
                _("Order status"),
                _("Payment method"),
                _("Paid"),
                _("Line status"),
            ]
        )
        statuses = dict(OrderStatus.choices)
        yes, no = _("Yes"), _("No")
        for order in orders.iterator(chunk_size=500):
            if order.fulfilment == Fulfilment.DELIVERY:
                receiving = _("Home delivery: %(address)s") % {"address": order.delivery_address}
            else:
                receiving = order.pickup_point.name if order.pickup_point else ""
            for line in order.lines.all():
                writer.writerow(
                    [
                        order.number,
                        spreadsheet_text(str(order.member)),
                        spreadsheet_text(order.member.masked_phone),
                        spreadsheet_text(receiving),
                        spreadsheet_text(line.product_name),
                        spreadsheet_text(line.spec),
                        line.unit_price,
                        line.quantity,
                        line.amount,
                        statuses.get(order.status, order.status),
                        PAYMENT_METHOD_LABELS.get(order.payment_method, ""),
                        yes if order.paid_at else no,
                        line.get_status_display(),
                    ]
                )
        return response


class OrderDetailView(ReviewerRequiredMixin, View):
    template_name = "orders/leader/order_detail.html"

    def get(self, request, order_id: int):
        order = selectors.leader_order(request.user, order_id)
        if order.status == OrderStatus.PENDING_PAYMENT and order_expire_if_due(order_id=order.pk):
            order = selectors.leader_order(request.user, order_id)
        schedule = order.schedule
        schedule.community = order.community
        annotated = (
            selectors.leader_schedule_orders(user=request.user, schedule=schedule)
            .filter(pk=order.pk)
            .first()
        )
        flags = selectors.order_flags(annotated, schedule=schedule) if annotated else []
        return render(
            request,
            self.template_name,
            {
                "order": order,
                "schedule": schedule,
                "community": order.community,
                "lines": selectors.order_lines(order),
                "payments": selectors.order_payments(order),
                "refunds": selectors.order_refunds(order),
                "flags": flags,
                "receiving": receiving_info(order),
                "payment_label": PAYMENT_METHOD_LABELS.get(order.payment_method, ""),
                "history": selectors.order_timeline(order),
                "status_choices": OrderStatus.choices,
                "can_confirm": order.status == OrderStatus.PAID,
                "can_reject": order.status in review.CANCELLABLE,
            },
        )


class OrderConfirmView(ReviewerRequiredMixin, View):
    def post(self, request, order_id: int):
        order = selectors.leader_order(request.user, order_id)
        back = _safe_next(request, reverse("orders:leader_order", args=[order.pk]))
        try:
            review.order_confirm(order=order, actor=request.user)
        except TRANSITION_ERRORS as error:
            messages.error(request, _error_text(error))
        else:
            messages.success(
                request,
                _("Order %(number)s confirmed; the member has been told.")
                % {"number": order.number},
            )
        return redirect(back)


class OrderRejectView(ReviewerRequiredMixin, View):
    template_name = "orders/leader/order_reject.html"

    def _render(self, request, order, form):
        return render(
            request,
            self.template_name,
            {
                "order": order,
                "schedule": order.schedule,
                "community": order.community,
                "form": form,
            },
        )

    def get(self, request, order_id: int):
        order = selectors.leader_order(request.user, order_id)
        if order.status not in review.CANCELLABLE:
            messages.error(request, _("This order can no longer be rejected."))
            return redirect("orders:leader_order", order_id=order.pk)
        return self._render(request, order, RejectForm())

    def post(self, request, order_id: int):
        order = selectors.leader_order(request.user, order_id)
        form = RejectForm(request.POST)
        if form.is_valid():
            try:
                review.order_reject(
                    order=order, actor=request.user, reason=form.cleaned_data["reason"]
                )
            except DomainError as error:
                add_domain_error(form, error)
            except (TransitionNotAllowed, ConcurrentTransition) as error:
                form.add_error(None, _error_text(error))
            else:
                messages.success(
                    request,
                    _(
                        "Order %(number)s rejected. The member has been told and anything "
                        "paid is being refunded."
                    )
                    % {"number": order.number},
                )
                return redirect("orders:leader_schedule_orders", schedule_id=order.schedule_id)
        return self._render(request, order, form)


schedule_orders = ScheduleOrdersView.as_view()
orders_confirm = OrdersConfirmView.as_view()
orders_export = OrdersExportView.as_view()
order_detail = OrderDetailView.as_view()
order_confirm = OrderConfirmView.as_view()
order_reject = OrderRejectView.as_view()
