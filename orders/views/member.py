"""Member order pages (phone first): checkout, the order list, one order with its
payment, pickup code and actions. Reads go through ``orders.selectors`` scoped to the
member (another member's order: 404); writes through the services, whose refusals
(DomainError) are shown next to the field they concern."""

from dataclasses import dataclass
from decimal import Decimal

import segno
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views import View
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from fulfillment.selectors.aftersales import member_order_aftercare
from groupbuy.exceptions import DomainError
from groupbuy.forms import add_domain_error
from groupbuy.pagination import paginate
from groupbuy.roles import MemberRequiredMixin
from scheduling.models import DeliveryOption
from scheduling.selectors.member import schedule_for_member
from scheduling.services.schedules import schedule_is_open_for_orders

from .. import selectors
from ..forms import CartForm, CheckoutForm, OrderCancelForm, quantity_field_name
from ..models import (
    OPEN_ORDER_STATUSES,
    ZERO,
    Fulfilment,
    OrderStatus,
    PaymentMethod,
    PaymentStatus,
)
from ..services import ordering
from ..services.payments import payment_start

CANCELLABLE = (OrderStatus.PENDING_PAYMENT, OrderStatus.PAID, OrderStatus.CONFIRMED)


def _race_message() -> str:
    return _("The order changed meanwhile; check it and try again.")


# Checkout


@dataclass
class CartRow:
    item: object
    field: object  # the BoundField of the item's quantity
    allowance: int
    amount: Decimal | None


@dataclass
class CartSummary:
    rows: list[CartRow]
    goods_total: Decimal | None
    delivery_fee: Decimal
    total: Decimal | None


class CheckoutView(MemberRequiredMixin, View):
    """GET shows the cart priced by the server (quantities from the schedule page's
    ``q_<item id>`` fields); POST places the order and sends an online payer to the
    cashier."""

    template_name = "orders/member/checkout.html"

    def get(self, request, schedule_id: int):
        schedule = schedule_for_member(request.user, schedule_id)
        if not schedule_is_open_for_orders(schedule):
            return self._closed(request, schedule)
        items, allowances = self._items(request, schedule)
        cart = CartForm(request.GET, items=items, allowances=allowances)
        points = list(schedule.pickup_points.order_by("id")[:2])
        form = CheckoutForm(
            items=items,
            allowances=allowances,
            schedule=schedule,
            initial={
                "fulfilment": Fulfilment.PICKUP,
                "payment_method": PaymentMethod.ONLINE,
                "pickup_point": points[0].pk if len(points) == 1 else None,
            },
        )
        return self._render(request, schedule, form=form, cart=cart)

    def post(self, request, schedule_id: int):
        schedule = schedule_for_member(request.user, schedule_id)
        if not schedule_is_open_for_orders(schedule):
            messages.error(request, _("Ordering has closed for this group buy."))
            return self._closed(request, schedule)
        items, allowances = self._items(request, schedule)
        form = CheckoutForm(request.POST, items=items, allowances=allowances, schedule=schedule)
        if request.POST.get("action") == "update" or not form.is_valid():
            return self._render(request, schedule, form=form, cart=form)
        data = form.cleaned_data
        try:
            order = ordering.order_place(
                member=request.user,
                schedule=schedule,
                quantities=data["quantities"],
                payment_method=data["payment_method"],
                fulfilment=data["fulfilment"],
                pickup_point=data["pickup_point"],
                delivery_address=data["delivery_address"],
                note=data["note"],
                expected_total=data["expected_total"],
            )
        except DomainError as error:
            add_domain_error(form, error)
            return self._render(request, schedule, form=form, cart=form)
        except (TransitionNotAllowed, ConcurrentTransition):
            form.add_error(None, _race_message())
            return self._render(request, schedule, form=form, cart=form)
        order_url = reverse("orders:member_order", args=[order.number])
        if order.payment_method == PaymentMethod.AT_PICKUP:
            messages.success(
                request, _("Your order is confirmed. Pay when you pick it up; show the code.")
            )
            return redirect(order_url)
        try:
            payment = payment_start(order=order, member=request.user)
        except DomainError as error:
            messages.warning(
                request,
                _("Your order is placed but the payment could not start: %(error)s")
                % {"error": error.message},
            )
            return redirect(order_url)
        return redirect(payment.pay_url)

    # Helpers

    def _items(self, request, schedule):
        # Unpaid orders past their window (anyone's) give their units back before the
        # stock and the member's limits are read.
        ordering.schedule_orders_expire_overdue(schedule_id=schedule.pk)
        ordering.member_orders_expire_overdue(member=request.user)
        items = list(
            schedule.items.select_related("offer__product").order_by("display_order", "id")
        )
        allowances = selectors.member_item_allowances(member=request.user, schedule=schedule)
        return items, allowances

    def _closed(self, request, schedule):
        not_started = schedule.status == "published" and schedule.sale_start > timezone.now()
        return render(
            request,
            self.template_name,
            {
                "schedule": schedule,
                "community": schedule.community,
                "closed": True,
                "not_started": not_started,
            },
        )

    def _summary(self, request, schedule, cart: CartForm, form: CheckoutForm) -> CartSummary:
        """The rows the member chose, and the totals as the server prices them (None
        while the cart is not valid)."""
        quantities = cart.cart_quantities()
        goods_total = None
        if quantities is not None:
            try:
                _lines, goods_total = selectors.cart_preview(
                    member=request.user, schedule=schedule, quantities=quantities
                )
            except DomainError as error:
                if "quantities" not in cart.errors:
                    add_domain_error(cart, error)
        rows = []
        for item in cart.items:
            field = cart[quantity_field_name(item.pk)]
            value = field.value()
            if value in (None, "", "0", 0) and not field.errors:
                continue
            quantity = quantities.get(item.pk) if quantities else None
            rows.append(
                CartRow(
                    item=item,
                    field=field,
                    allowance=cart.fields[field.name].allowance,
                    amount=item.member_price * quantity if quantity else None,
                )
            )
        offers_delivery = schedule.delivery_option == DeliveryOption.PICKUP_AND_DELIVERY
        delivery_fee = schedule.delivery_fee if offers_delivery else ZERO
        delivering = offers_delivery and form["fulfilment"].value() == Fulfilment.DELIVERY
        total = None
        if goods_total is not None:
            total = goods_total + (delivery_fee if delivering else ZERO)
        return CartSummary(rows, goods_total, delivery_fee, total)

    def _render(self, request, schedule, *, form: CheckoutForm, cart: CartForm):
        summary = self._summary(request, schedule, cart, form)
        return render(
            request,
            self.template_name,
            {
                "schedule": schedule,
                "community": schedule.community,
                "closed": False,
                "form": form,
                "cart": cart,
                "summary": summary,
                "offers_delivery": schedule.delivery_option == DeliveryOption.PICKUP_AND_DELIVERY,
                "back_url": _schedule_url_with_cart(schedule, summary),
                "payment_window": settings.ORDER_PAYMENT_WINDOW_MINUTES,
            },
        )


def _schedule_url_with_cart(schedule, summary: CartSummary) -> str:
    """Back to the schedule page, carrying the cart so its steppers start from it."""
    url = reverse("scheduling:member_schedule", args=[schedule.pk])
    pairs = [
        f"{row.field.html_name}={row.field.value()}"
        for row in summary.rows
        if str(row.field.value()).isdigit()
    ]
    return f"{url}?{'&'.join(pairs)}" if pairs else url


# Orders


class OrderListView(MemberRequiredMixin, View):
    def get(self, request):
        ordering.member_orders_expire_overdue(member=request.user)
        page_obj = paginate(request, selectors.member_orders(request.user))
        return render(request, "orders/member/orders.html", {"page_obj": page_obj})


def _waiting_for_provider(order, payment) -> bool:
    """The member went to the cashier and the provider has not told us the outcome yet."""
    return (
        order.status == OrderStatus.PENDING_PAYMENT
        and payment is not None
        and payment.status == PaymentStatus.PENDING
    )


def _pickup_qr(order) -> str:
    qr = segno.make(order.pickup_code, error="m")
    svg = qr.svg_inline(
        scale=6, border=2, title=_("Pickup code %(code)s") % {"code": order.pickup_code}
    )
    return mark_safe(svg)  # generated by segno from the code's digits


class OrderDetailView(MemberRequiredMixin, View):
    def get(self, request, number: str):
        ordering.member_orders_expire_overdue(member=request.user)
        order = selectors.member_order(request.user, number)
        now = timezone.now()
        payment = selectors.order_latest_payment(order) if order.pays_online else None
        show_code = order.status in OPEN_ORDER_STATUSES and bool(order.pickup_code)
        community = order.community
        lines = list(selectors.order_lines(order))
        context = {
            "order": order,
            "schedule": order.schedule,
            "community": community,
            "lines": lines,
            # Receipt, reviews and after-sales per line (the fulfilment stage).
            "aftercare": member_order_aftercare(order, lines, now=now),
            "refunds": selectors.order_refunds(order),
            "history": selectors.order_timeline(order),
            "status_choices": OrderStatus.choices,
            "payment": payment,
            "waiting": _waiting_for_provider(order, payment),
            "payment_failed": (
                order.status == OrderStatus.PENDING_PAYMENT
                and payment is not None
                and payment.status == PaymentStatus.FAILED
            ),
            "can_pay": (
                order.status == OrderStatus.PENDING_PAYMENT
                and order.pays_online
                and order.payment_deadline is not None
                and order.payment_deadline > now
            ),
            "can_cancel": order.status in CANCELLABLE and now < order.schedule.cutoff,
            "cancel_form": OrderCancelForm(),
            "pickup_qr": _pickup_qr(order) if show_code else "",
            "show_code": show_code,
            "leader_phone": community.leader.phone or community.contact_phone,
        }
        return render(request, "orders/member/order.html", context)


class OrderStatusView(MemberRequiredMixin, View):
    """The status fragment polled by htmx while the provider's notification is awaited.
    When the state moved on (or waiting stopped) htmx is told to reload the whole page."""

    def get(self, request, number: str):
        ordering.member_orders_expire_overdue(member=request.user)
        order = selectors.member_order(request.user, number)
        payment = selectors.order_latest_payment(order) if order.pays_online else None
        waiting = _waiting_for_provider(order, payment)
        since = request.GET.get("since", "")
        changed = bool(since) and since != order.status
        response = render(
            request,
            "orders/member/_order_status.html",
            {"order": order, "waiting": waiting and not changed},
        )
        if request.htmx and (changed or not waiting):
            response["HX-Refresh"] = "true"
        return response


class OrderPayView(MemberRequiredMixin, View):
    def post(self, request, number: str):
        ordering.member_orders_expire_overdue(member=request.user)
        order = selectors.member_order(request.user, number)
        try:
            payment = payment_start(order=order, member=request.user)
        except DomainError as error:
            messages.error(request, error.message)
        except (TransitionNotAllowed, ConcurrentTransition):
            messages.error(request, _race_message())
        else:
            return redirect(payment.pay_url)
        return redirect("orders:member_order", number=order.number)


class OrderCancelView(MemberRequiredMixin, View):
    def post(self, request, number: str):
        ordering.member_orders_expire_overdue(member=request.user)
        order = selectors.member_order(request.user, number)
        form = OrderCancelForm(request.POST)
        reason = form.cleaned_data["reason"] if form.is_valid() else ""
        refunded_before = order.refunded_total
        try:
            order = ordering.order_cancel(order=order, actor=request.user, reason=reason)
        except DomainError as error:
            messages.error(request, error.message)
        except (TransitionNotAllowed, ConcurrentTransition):
            messages.error(request, _race_message())
        else:
            refund = order.refunded_total - refunded_before
            if refund > 0:
                messages.success(
                    request,
                    _("Your order is cancelled; ¥%(amount)s will be refunded to you.")
                    % {"amount": refund},
                )
            else:
                messages.success(request, _("Your order is cancelled."))
        return redirect("orders:member_order", number=order.number)


checkout = CheckoutView.as_view()
order_list = OrderListView.as_view()
order_detail = OrderDetailView.as_view()
order_status = OrderStatusView.as_view()
order_pay = OrderPayView.as_view()
order_cancel = OrderCancelView.as_view()
