"""After-sales decisions: the leader lists her community's requests and approves (refund),
rejects with a reason or escalates each; platform staff decide the escalated ones. Also
the leader's list of her community's reviews."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from accounts.selectors import community_for_leader
from groupbuy.exceptions import DomainError
from groupbuy.forms import add_domain_error
from groupbuy.pagination import paginate
from groupbuy.roles import LeaderRequiredMixin, StaffRequiredMixin

from ..forms_pickup import AfterSalesFilterForm, ApproveForm, EscalateForm, RejectForm
from ..models import AfterSalesStatus
from ..selectors import aftersales as selectors
from ..services import aftersales as services

DECISION_ERRORS = (DomainError, TransitionNotAllowed, ConcurrentTransition)


def _decision_error(error) -> str:
    if isinstance(error, DomainError):
        return str(error.message)
    if isinstance(error, ConcurrentTransition):
        return _("Someone else decided this request at the same time. Reload it.")
    return _("This request has already been decided.")


# Leader: the list


class LeaderAfterSalesListView(LeaderRequiredMixin, View):
    def get(self, request, community_id: int):
        community = community_for_leader(request.user, community_id)
        form = AfterSalesFilterForm(request.GET)
        status = form.cleaned_data["status"] if form.is_valid() else ""
        page_obj = paginate(
            request, selectors.leader_after_sales_requests(community, status=status)
        )
        counts = selectors.after_sales_status_counts(community)
        return render(
            request,
            "fulfillment/leader/after_sales_list.html",
            {
                "community": community,
                "form": form,
                "status": status,
                "page_obj": page_obj,
                "tabs": [
                    (value, label, counts.get(value, 0))
                    for value, label in AfterSalesStatus.choices
                ],
                "total": sum(counts.values()),
            },
        )


# One request, for the leader or for staff


class DecisionMixin:
    """Shows one request with the decisions this side may take; each decision POSTs to
    its own URL and, when refused, shows the page again with the error in place."""

    template_name: str
    side: str  # "leader" | "staff"
    actions: tuple[str, ...]

    def get_request(self, request, request_id: int):
        raise NotImplementedError

    def can_decide(self, after_sales) -> bool:
        raise NotImplementedError

    def render_detail(self, request, after_sales, **forms):
        line = after_sales.order_line
        decidable = self.can_decide(after_sales)
        context = {
            "after_sales": after_sales,
            "line": line,
            "order": after_sales.order,
            "community": after_sales.community,
            "photos": list(after_sales.photos.all()),
            "claimable": services.after_sales_claimable(line),
            "deadline": services.after_sales_deadline(line),
            "history": selectors.request_history(after_sales),
            "status_choices": AfterSalesStatus.choices,
            "decidable": decidable,
            "actions": self.actions if decidable else (),
            "side": self.side,
            "approve_form": forms.get("approve") or ApproveForm(),
            "reject_form": forms.get("reject") or RejectForm(),
            "escalate_form": forms.get("escalate") or EscalateForm(),
        }
        return render(request, self.template_name, context)


class DecisionView(DecisionMixin, View):
    """GET the request; POST with ``action`` (approve | reject | escalate) in the URL."""

    form_classes = {"approve": ApproveForm, "reject": RejectForm, "escalate": EscalateForm}

    def get(self, request, request_id: int):
        return self.render_detail(request, self.get_request(request, request_id))

    def decide(self, request, request_id: int, action: str):
        after_sales = self.get_request(request, request_id)
        form = self.form_classes[action](request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                if action == "approve":
                    after_sales = services.after_sales_approve(
                        request=after_sales, actor=request.user, note=data["note"]
                    )
                    message = _("Request %(number)s approved; ¥%(amount)s is refunded.")
                elif action == "reject":
                    after_sales = services.after_sales_reject(
                        request=after_sales, actor=request.user, reason=data["reason"]
                    )
                    message = _("Request %(number)s rejected; the member has been told.")
                else:
                    after_sales = services.after_sales_escalate(
                        request=after_sales, actor=request.user, reason=data["reason"]
                    )
                    message = _("Request %(number)s passed to the platform.")
            except DomainError as error:
                add_domain_error(form, error)
            except (TransitionNotAllowed, ConcurrentTransition) as error:
                form.add_error(None, _decision_error(error))
            else:
                messages.success(
                    request,
                    message
                    % {"number": after_sales.number, "amount": after_sales.requested_amount},
                )
                return redirect(self.detail_url_name, request_id=after_sales.pk)
        after_sales = self.get_request(request, request_id)
        return self.render_detail(request, after_sales, **{action: form})


class LeaderRequestMixin(LeaderRequiredMixin):
    template_name = "fulfillment/leader/after_sales_detail.html"
    side = "leader"
    actions = ("approve", "reject", "escalate")
    detail_url_name = "fulfillment:leader_after_sales_detail"

    def get_request(self, request, request_id: int):
        return selectors.leader_after_sales_request(request.user, request_id)

    def can_decide(self, after_sales) -> bool:
        return after_sales.status == AfterSalesStatus.SUBMITTED


class StaffRequestMixin(StaffRequiredMixin):
    template_name = "fulfillment/staff/after_sales_detail.html"
    side = "staff"
    actions = ("approve", "reject")
    detail_url_name = "fulfillment:staff_after_sales_detail"

    def get_request(self, request, request_id: int):
        return selectors.staff_after_sales_request(request_id)

    def can_decide(self, after_sales) -> bool:
        return after_sales.status == AfterSalesStatus.ESCALATED


class LeaderAfterSalesDetailView(LeaderRequestMixin, DecisionView):
    pass


class StaffAfterSalesDetailView(StaffRequestMixin, DecisionView):
    pass


def _action_view(base, action: str):
    class ActionView(base):
        http_method_names = ["post", "options"]

        def post(self, request, request_id: int):
            return self.decide(request, request_id, action)

    ActionView.__name__ = f"{base.__name__}_{action}"
    return ActionView.as_view()


# Staff: the queue


class StaffAfterSalesListView(StaffRequiredMixin, View):
    def get(self, request):
        queue = request.GET.get("queue", "escalated")
        if queue not in selectors.STAFF_QUEUES:
            queue = "escalated"
        page_obj = paginate(request, selectors.staff_after_sales_requests(queue))
        return render(
            request,
            "fulfillment/staff/after_sales_list.html",
            {"page_obj": page_obj, "queue": queue},
        )


# Leader: reviews


class LeaderReviewsView(LeaderRequiredMixin, View):
    def get(self, request, community_id: int):
        community = community_for_leader(request.user, community_id)
        page_obj = paginate(request, selectors.community_reviews(community))
        return render(
            request,
            "fulfillment/leader/after_sales_reviews.html",
            {"community": community, "page_obj": page_obj, "stars": range(1, 6)},
        )


leader_after_sales = LeaderAfterSalesListView.as_view()
leader_after_sales_detail = LeaderAfterSalesDetailView.as_view(
    http_method_names=["get", "head", "options"]
)
leader_after_sales_approve = _action_view(LeaderAfterSalesDetailView, "approve")
leader_after_sales_reject = _action_view(LeaderAfterSalesDetailView, "reject")
leader_after_sales_escalate = _action_view(LeaderAfterSalesDetailView, "escalate")
staff_after_sales = StaffAfterSalesListView.as_view()
leader_reviews = LeaderReviewsView.as_view()
staff_after_sales_detail = StaffAfterSalesDetailView.as_view(
    http_method_names=["get", "head", "options"]
)
staff_after_sales_approve = _action_view(StaffAfterSalesDetailView, "approve")
staff_after_sales_reject = _action_view(StaffAfterSalesDetailView, "reject")
