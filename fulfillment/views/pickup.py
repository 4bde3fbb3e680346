"""The leader hands goods over (on her phone or laptop): type the member's pickup code or
search the member among the community's ready orders, see what to hand over and the money
due, then hand over all or some lines; home deliveries go out and are delivered."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from groupbuy.exceptions import DomainError
from groupbuy.forms import add_domain_error
from groupbuy.roles import LeaderRequiredMixin, Role
from orders.models import OrderStatus

from ..forms_pickup import DeliveredForm, HandOverForm, PickupCodeForm
from ..selectors import pickup as selectors
from ..services import pickup as services

DELIVERY_LIST_LIMIT = 50


class VerifierRequiredMixin(LeaderRequiredMixin):
    """The community's leader, or platform staff (the selectors let staff see any)."""

    def dispatch(self, request, *args, **kwargs):
        roles = getattr(request, "roles", ())
        if Role.LEADER not in roles and Role.STAFF in roles:
            self.required_role = Role.STAFF
        return super().dispatch(request, *args, **kwargs)


def error_text(error) -> str:
    if isinstance(error, DomainError):
        return str(error.message)
    if isinstance(error, ConcurrentTransition):
        return _("Someone else changed this order at the same time. Try again.")
    return _("This action is not possible in the order's current state.")


def verify_url(community_id: int, order_id: int | None = None) -> str:
    url = reverse("fulfillment:leader_pickup_verify", args=[community_id])
    return f"{url}?order={order_id}#order-panel" if order_id else url


def safe_next(request, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def render_verify(
    request,
    community,
    *,
    code_form=None,
    hand_over=None,
    hand_over_form=None,
    delivered_form=None,
    status=200,
):
    term = request.GET.get("q", "").strip()
    deliveries = selectors.ready_deliveries(community)
    if hand_over is not None and hand_over_form is None:
        hand_over_form = HandOverForm(
            line_ids=hand_over.line_ids, selected=hand_over.selectable_ids
        )
    return render(
        request,
        "fulfillment/leader/pickup_verify.html",
        {
            "community": community,
            "code_form": code_form or PickupCodeForm(),
            "term": term,
            "results": selectors.ready_orders_search(community, term),
            "search_limit": selectors.SEARCH_LIMIT,
            "ready_count": selectors.ready_order_count(community),
            "deliveries": list(deliveries[:DELIVERY_LIST_LIMIT]),
            "hand_over": hand_over,
            "hand_over_form": hand_over_form,
            "delivered_form": delivered_form or DeliveredForm(),
        },
        status=status,
    )


class PickupVerifyView(VerifierRequiredMixin, View):
    """GET: the code box, the member search (``?q=``) and, with ``?order=``, one order
    to hand over. POST: look the code up (counted and rate-limited by the service)."""

    def get(self, request, community_id: int):
        community = selectors.pickup_community(request.user, community_id)
        hand_over = None
        order_id = request.GET.get("order", "")
        if order_id.isdigit():
            order = selectors.pickup_order(request.user, int(order_id), community)
            hand_over = selectors.hand_over_summary(order)
        return render_verify(request, community, hand_over=hand_over)

    def post(self, request, community_id: int):
        community = selectors.pickup_community(request.user, community_id)
        form = PickupCodeForm(request.POST)
        if form.is_valid():
            try:
                order = services.pickup_code_lookup(
                    verifier=request.user, community=community, code=form.cleaned_data["code"]
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                return redirect(verify_url(community.pk, order.pk))
        return render_verify(request, community, code_form=form)


class HandOverView(VerifierRequiredMixin, View):
    def post(self, request, order_id: int):
        order = selectors.pickup_order(request.user, order_id)
        summary = selectors.hand_over_summary(order)
        form = HandOverForm(request.POST, line_ids=summary.line_ids)
        if form.is_valid():
            chosen = form.cleaned_data["lines"]
            # Every line still to hand over: the order's whole hand-over.
            line_ids = None if set(chosen) == set(summary.selectable_ids) and chosen else chosen
            try:
                order = services.pickup_hand_over(
                    order=order,
                    actor=request.user,
                    line_ids=line_ids,
                    settled=form.cleaned_data["settled"],
                )
            except DomainError as error:
                add_domain_error(form, error)
            except (TransitionNotAllowed, ConcurrentTransition) as error:
                form.add_error(None, error_text(error))
            else:
                if order.status == OrderStatus.PICKED_UP:
                    messages.success(
                        request,
                        _("Order %(number)s handed over to %(member)s.")
                        % {"number": order.number, "member": order.member},
                    )
                    return redirect(verify_url(order.community_id))
                messages.success(
                    request,
                    _("The chosen items of order %(number)s are handed over; the rest waits.")
                    % {"number": order.number},
                )
                return redirect(verify_url(order.community_id, order.pk))
        order = selectors.pickup_order(request.user, order_id)
        return render_verify(
            request,
            order.community,
            hand_over=selectors.hand_over_summary(order),
            hand_over_form=form,
        )


class OutForDeliveryView(VerifierRequiredMixin, View):
    def post(self, request, order_id: int):
        order = selectors.pickup_order(request.user, order_id)
        back = safe_next(request, verify_url(order.community_id, order.pk))
        try:
            services.order_out_for_delivery(order=order, actor=request.user)
        except (DomainError, TransitionNotAllowed, ConcurrentTransition) as error:
            messages.error(request, error_text(error))
        else:
            messages.success(
                request, _("Order %(number)s is out for delivery.") % {"number": order.number}
            )
        return redirect(back)


class DeliveredView(VerifierRequiredMixin, View):
    def post(self, request, order_id: int):
        order = selectors.pickup_order(request.user, order_id)
        back = safe_next(request, verify_url(order.community_id, order.pk))
        form = DeliveredForm(request.POST)
        settled = form.is_valid() and form.cleaned_data["settled"]
        try:
            services.order_delivered(order=order, actor=request.user, settled=settled)
        except (DomainError, TransitionNotAllowed, ConcurrentTransition) as error:
            messages.error(request, error_text(error))
        else:
            messages.success(
                request, _("Order %(number)s is delivered.") % {"number": order.number}
            )
        return redirect(back)


pickup_verify = PickupVerifyView.as_view()
hand_over = HandOverView.as_view()
out_for_delivery = OutForDeliveryView.as_view()
delivered = DeliveredView.as_view()
