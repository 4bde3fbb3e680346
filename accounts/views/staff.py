from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from groupbuy.dashboards import staff_cards
from groupbuy.exceptions import DomainError
from groupbuy.forms import add_domain_error
from groupbuy.pagination import paginate
from groupbuy.roles import StaffRequiredMixin
from groupbuy.selectors import state_changes_for

from .. import selectors, services
from ..forms import ReviewDecisionForm
from ..models import ReviewStatus


def _status_filter(request) -> str:
    status = request.GET.get("status", ReviewStatus.PENDING)
    return status if status in ReviewStatus.values else ReviewStatus.PENDING


class StaffHomeView(StaffRequiredMixin, View):
    def get(self, request):
        return render(
            request,
            "accounts/staff/home.html",
            {
                "pending_suppliers": selectors.supplier_review_queue().count(),
                "pending_leaders": selectors.leader_application_queue().count(),
                "cards": staff_cards(),
            },
        )


class ReviewQueueView(StaffRequiredMixin, View):
    template_name: str
    queue = None

    def get(self, request):
        status = _status_filter(request)
        return render(
            request,
            self.template_name,
            {
                "page_obj": paginate(request, type(self).queue(status=status)),
                "status": status,
                "statuses": ReviewStatus.choices,
            },
        )


class SupplierQueueView(ReviewQueueView):
    template_name = "accounts/staff/supplier_queue.html"
    queue = staticmethod(selectors.supplier_review_queue)


class LeaderQueueView(ReviewQueueView):
    template_name = "accounts/staff/leader_queue.html"
    queue = staticmethod(selectors.leader_application_queue)


class ReviewDetailView(StaffRequiredMixin, View):
    """Shows one application with its history and takes approve/reject decisions."""

    template_name: str
    object_name: str
    load = None
    approve = None
    reject = None
    success_url_name: str

    def _context(self, obj, form=None):
        return {
            self.object_name: obj,
            "object": obj,
            "history": state_changes_for(obj),
            "form": form or ReviewDecisionForm(),
            "can_decide": obj.status == ReviewStatus.PENDING,
            "status_choices": ReviewStatus.choices,
        }

    def get(self, request, pk: int, decision: str | None = None):
        obj = type(self).load(pk)
        return render(request, self.template_name, self._context(obj))

    def post(self, request, pk: int, decision: str | None = None):
        if decision is None:
            return redirect(request.path)
        obj = type(self).load(pk)
        form = ReviewDecisionForm(request.POST)
        if form.is_valid():
            try:
                if decision == "approve":
                    type(self).approve(**{self.object_name: obj, "actor": request.user})
                else:
                    type(self).reject(
                        **{
                            self.object_name: obj,
                            "actor": request.user,
                            "reason": form.cleaned_data["reason"],
                        }
                    )
            except DomainError as error:
                add_domain_error(form, error)
            except (TransitionNotAllowed, ConcurrentTransition):
                messages.error(request, _("This application has already been decided."))
                return redirect(self.success_url_name)
            else:
                if decision == "approve":
                    messages.success(request, _("Approved %(name)s.") % {"name": obj.name})
                else:
                    messages.success(request, _("Rejected %(name)s.") % {"name": obj.name})
                return redirect(self.success_url_name)
        return render(request, self.template_name, self._context(obj, form))


class SupplierReviewView(ReviewDetailView):
    template_name = "accounts/staff/supplier_detail.html"
    object_name = "supplier"
    load = staticmethod(selectors.supplier_for_staff)
    approve = staticmethod(services.supplier_approve)
    reject = staticmethod(services.supplier_reject)
    success_url_name = "accounts:staff_suppliers"


class LeaderReviewView(ReviewDetailView):
    template_name = "accounts/staff/leader_detail.html"
    object_name = "community"
    load = staticmethod(selectors.community_for_staff)
    approve = staticmethod(services.community_approve)
    reject = staticmethod(services.community_reject)
    success_url_name = "accounts:staff_leaders"
