"""Negotiation pages: a leader proposes quantity and price on a listed offer, the supplier
accepts, declines or counters, and so on until one side accepts, declines or withdraws.

Views are thin: forms check shapes, ``scheduling.services.proposals`` writes and enforces
the rules, ``scheduling.selectors.negotiation`` reads. A leader reaches only her own
proposals and a supplier only proposals on its own offers; anything else answers 404.
"""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from accounts.selectors import approved_supplier_for_user, communities_led_by
from catalog.selectors import listed_offer_for_leader
from groupbuy.exceptions import DomainError
from groupbuy.forms import add_domain_error
from groupbuy.pagination import paginate
from groupbuy.roles import LeaderRequiredMixin, SupplierRequiredMixin

from ..forms.negotiation import CounterForm, DeclineForm, ProposalCreateForm, ThreadFilterForm
from ..models import ProposalStatus, Side
from ..selectors import negotiation as selectors
from ..services import proposals as services


def _already_answered() -> str:
    return _("This proposal has already been answered; look at the thread again.")


# Sides: how each role finds its proposals and names its pages.


class _LeaderSide(LeaderRequiredMixin):
    side = Side.LEADER
    url_prefix = "scheduling:leader_proposal"
    template_name = "scheduling/leader/proposal_thread.html"

    def thread_root(self, thread_id: int):
        return selectors.thread_root_for_leader(self.request.user, thread_id)

    def proposal(self, proposal_id: int):
        return selectors.proposal_for_leader(self.request.user, proposal_id)


class _SupplierSide(SupplierRequiredMixin):
    side = Side.SUPPLIER
    url_prefix = "scheduling:supplier_proposal"
    template_name = "scheduling/supplier/proposal_thread.html"

    @cached_property
    def supplier(self):
        # Read after the role check, so a user without the supplier role gets 403.
        return approved_supplier_for_user(self.request.user)

    def thread_root(self, thread_id: int):
        return selectors.thread_root_for_supplier(self.supplier, thread_id)

    def proposal(self, proposal_id: int):
        return selectors.proposal_for_supplier(self.supplier, proposal_id)


# Threads


class _ThreadView(View):
    """The whole conversation, oldest first, with the actions open to this side."""

    side: str
    url_prefix: str
    template_name: str

    def get(self, request, thread_id: int):
        return self.render_thread(request, self.thread_root(thread_id))

    def render_thread(self, request, root, *, counter_form=None, decline_form=None):
        steps = selectors.thread_steps(root)
        current = selectors.open_step(steps)
        can_answer = current is not None and current.awaiting == self.side
        can_withdraw = current is not None and current.proposed_by == self.side
        if can_answer and counter_form is None:
            counter_form = CounterForm(
                initial={"quantity": current.quantity, "unit_price": current.unit_price}
            )
        if can_answer and decline_form is None:
            decline_form = DeclineForm()
        first = steps[0]
        actions = {}
        if current is not None:
            actions = {
                name: reverse(f"{self.url_prefix}_{name}", args=[current.pk])
                for name in ("accept", "counter", "decline", "withdraw")
            }
        return render(
            request,
            self.template_name,
            {
                "root": first,
                "steps": steps,
                "offer": first.offer,
                "product": first.offer.product,
                "current": current,
                "latest": steps[-1],
                "can_answer": can_answer,
                "can_withdraw": can_withdraw,
                "counter_form": counter_form,
                "decline_form": decline_form,
                "side": self.side,
                "actions": actions,
                "capacity": selectors.capacity_for_day(first.offer, first.delivery_date),
            },
        )


class _ActionView(View):
    """A POST on one proposal of this side; redirects to its thread."""

    http_method_names = ["post"]
    success_message = ""
    form_class = None

    def act(self, proposal, form):
        raise NotImplementedError

    def thread_redirect(self, proposal):
        return redirect(self.url_prefix, proposal.thread_id or proposal.pk)

    def post(self, request, proposal_id: int):
        proposal = self.proposal(proposal_id)
        form = self.form_class(request.POST) if self.form_class else None
        if proposal.status != ProposalStatus.PROPOSED:
            messages.error(request, _already_answered())
            return self.thread_redirect(proposal)
        if form is not None and not form.is_valid():
            return self.invalid(request, proposal, form)
        try:
            self.act(proposal, form)
        except DomainError as error:
            if form is None:
                messages.error(request, error.message)
                return self.thread_redirect(proposal)
            add_domain_error(form, error)
            return self.invalid(request, proposal, form)
        except (TransitionNotAllowed, ConcurrentTransition):
            messages.error(request, _already_answered())
            return self.thread_redirect(proposal)
        messages.success(request, self.success_message)
        return self.thread_redirect(proposal)

    def invalid(self, request, proposal, form):
        root = self.thread_root(proposal.thread_id or proposal.pk)
        return self.render_thread(request, root, **{self.form_context: form})


class _AcceptView(_ActionView):
    success_message = gettext_lazy("Accepted. The quantity is committed for that day.")

    def act(self, proposal, form):
        services.proposal_accept(proposal=proposal, actor=self.request.user, side=self.side)


class _CounterView(_ActionView):
    success_message = gettext_lazy("Counter-proposal sent. The other side answers next.")
    form_class = CounterForm
    form_context = "counter_form"

    def act(self, proposal, form):
        services.proposal_counter(
            proposal=proposal,
            actor=self.request.user,
            side=self.side,
            quantity=form.cleaned_data["quantity"],
            unit_price=form.cleaned_data["unit_price"],
            note=form.cleaned_data["note"],
        )


class _DeclineView(_ActionView):
    success_message = gettext_lazy("Declined. The other side sees your reason.")
    form_class = DeclineForm
    form_context = "decline_form"

    def act(self, proposal, form):
        services.proposal_decline(
            proposal=proposal,
            actor=self.request.user,
            side=self.side,
            reason=form.cleaned_data["reason"],
        )


class _WithdrawView(_ActionView):
    success_message = gettext_lazy("Proposal withdrawn.")

    def act(self, proposal, form):
        services.proposal_withdraw(proposal=proposal, actor=self.request.user, side=self.side)


class LeaderThreadView(_LeaderSide, _ThreadView):
    pass


class LeaderAcceptView(_LeaderSide, _ThreadView, _AcceptView):
    pass


class LeaderCounterView(_LeaderSide, _ThreadView, _CounterView):
    pass


class LeaderDeclineView(_LeaderSide, _ThreadView, _DeclineView):
    pass


class LeaderWithdrawView(_LeaderSide, _ThreadView, _WithdrawView):
    pass


class SupplierThreadView(_SupplierSide, _ThreadView):
    pass


class SupplierAcceptView(_SupplierSide, _ThreadView, _AcceptView):
    pass


class SupplierCounterView(_SupplierSide, _ThreadView, _CounterView):
    pass


class SupplierDeclineView(_SupplierSide, _ThreadView, _DeclineView):
    pass


class SupplierWithdrawView(_SupplierSide, _ThreadView, _WithdrawView):
    pass


# Lists


class LeaderProposalListView(LeaderRequiredMixin, View):
    template_name = "scheduling/leader/proposal_list.html"

    def get(self, request):
        form = ThreadFilterForm(request.GET)
        status = form.status_value()
        threads = selectors.threads_for_leader(request.user, status=status)
        return render(
            request,
            self.template_name,
            {
                "form": form,
                "status": status,
                "status_choices": ProposalStatus.choices,
                "page_obj": paginate(request, threads),
            },
        )


class SupplierProposalListView(_SupplierSide, View):
    template_name = "scheduling/supplier/proposal_list.html"

    def get(self, request):
        form = ThreadFilterForm(request.GET)
        status = form.status_value()
        threads = selectors.threads_for_supplier(self.supplier, status=status)
        return render(
            request,
            self.template_name,
            {
                "form": form,
                "status": status,
                "status_choices": ProposalStatus.choices,
                "page_obj": paginate(request, threads),
            },
        )


class SupplierCapacityView(_SupplierSide, View):
    """Committed vs capacity vs remaining per offer and upcoming delivery day."""

    template_name = "scheduling/supplier/capacity.html"

    def get(self, request):
        try:
            offer_id = int(request.GET.get("offer", "") or 0)
        except ValueError:
            offer_id = 0
        rows = selectors.capacity_for_supplier(self.supplier, offer_id=offer_id or None)
        return render(
            request,
            self.template_name,
            {
                "page_obj": paginate(request, rows),
                "offers": selectors.capacity_offers_for_supplier(self.supplier),
                "offer_id": offer_id,
            },
        )


# Proposing from the catalog


class LeaderProposalCreateView(LeaderRequiredMixin, View):
    """The leader's first proposal on a listed offer; defaults are the offer's terms."""

    template_name = "scheduling/leader/proposal_form.html"

    def _form(self, request, offer, data=None):
        communities = communities_led_by(request.user)
        initial = {
            "delivery_date": selectors.default_delivery_date(offer),
            "quantity": offer.min_order_qty,
            "unit_price": offer.supply_price,
        }
        return ProposalCreateForm(data, communities=communities, initial=initial)

    def _render(self, request, offer, form):
        return render(
            request,
            self.template_name,
            {
                "form": form,
                "offer": offer,
                "product": offer.product,
                "capacity_days": selectors.upcoming_capacity_for_offer(offer)[:14],
            },
        )

    def get(self, request, offer_id: int):
        offer = listed_offer_for_leader(offer_id)
        return self._render(request, offer, self._form(request, offer))

    def post(self, request, offer_id: int):
        offer = listed_offer_for_leader(offer_id)
        form = self._form(request, offer, request.POST)
        if form.is_valid():
            try:
                proposal = services.proposal_create(
                    offer=offer,
                    leader=request.user,
                    **form.cleaned_data,
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("Proposal sent. The supplier answers next."))
                return redirect("scheduling:leader_proposal", proposal.pk)
        return self._render(request, offer, form)
