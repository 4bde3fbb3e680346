"""The member after pickup (phone first): confirm receipt, review a line, ask for
after-sales on a line within the window, follow her requests. Only her own orders, lines
and requests (others: 404); the services decide and their refusals show in place."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from groupbuy.exceptions import DomainError
from groupbuy.forms import add_domain_error
from groupbuy.pagination import paginate
from groupbuy.roles import MemberRequiredMixin
from orders import selectors as order_selectors

from ..forms_pickup import AfterSalesForm, ReviewForm
from ..models import AfterSalesStatus
from ..selectors import aftersales as selectors
from ..services import aftersales as services
from ..services.pickup import order_confirm_receipt
from .pickup import error_text


class ConfirmReceiptView(MemberRequiredMixin, View):
    def post(self, request, number: str):
        order = order_selectors.member_order(request.user, number)
        try:
            order_confirm_receipt(order=order, member=request.user)
        except (DomainError, TransitionNotAllowed, ConcurrentTransition) as error:
            messages.error(request, error_text(error))
        else:
            messages.success(request, _("Thank you: the order is complete."))
        return redirect("orders:member_order", number=order.number)


class ReviewView(MemberRequiredMixin, View):
    template_name = "fulfillment/member/review.html"

    def _render(self, request, line, form):
        review = selectors.line_review(line)
        return render(
            request,
            self.template_name,
            {
                "line": line,
                "order": line.order,
                "community": line.order.community,
                "review": review,
                "can_review": review is None and selectors.line_is_collected(line),
                "form": form,
                "stars": range(1, 6),
                "max_photos": services.MAX_PHOTOS,
            },
        )

    def get(self, request, line_id: int):
        line = selectors.member_line(request.user, line_id)
        return self._render(request, line, ReviewForm())

    def post(self, request, line_id: int):
        line = selectors.member_line(request.user, line_id)
        form = ReviewForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.review_create(
                    member=request.user,
                    order_line=line,
                    rating=data["rating"],
                    text=data["text"],
                    photos=data["photos"],
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("Thank you for your review."))
                return redirect("orders:member_order", number=line.order.number)
        return self._render(request, line, form)


class AfterSalesNewView(MemberRequiredMixin, View):
    template_name = "fulfillment/member/after_sales_new.html"

    def _render(self, request, line, form):
        collected = selectors.line_is_collected(line)
        deadline = services.after_sales_deadline(line) if collected else None
        claimable = services.after_sales_claimable(line) if collected else None
        return render(
            request,
            self.template_name,
            {
                "line": line,
                "order": line.order,
                "community": line.order.community,
                "collected": collected,
                "deadline": deadline,
                "closed": collected and (deadline is None or timezone.now() > deadline),
                "claimable": claimable,
                "requests": selectors.line_requests(line),
                "form": form,
                "max_photos": services.MAX_PHOTOS,
            },
        )

    def get(self, request, line_id: int):
        line = selectors.member_line(request.user, line_id)
        initial = {}
        if selectors.line_is_collected(line):
            initial["amount"] = services.after_sales_claimable(line)
        return self._render(request, line, AfterSalesForm(initial=initial))

    def post(self, request, line_id: int):
        line = selectors.member_line(request.user, line_id)
        form = AfterSalesForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                after_sales = services.after_sales_submit(
                    member=request.user,
                    order_line=line,
                    reason=data["reason"],
                    description=data["description"],
                    amount=data["amount"],
                    photos=data["photos"],
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(
                    request,
                    _("Request %(number)s sent; your leader will answer it.")
                    % {"number": after_sales.number},
                )
                return redirect("fulfillment:member_after_sales_detail", request_id=after_sales.pk)
        return self._render(request, line, form)


class AfterSalesListView(MemberRequiredMixin, View):
    def get(self, request):
        page_obj = paginate(request, selectors.member_after_sales_requests(request.user))
        return render(request, "fulfillment/member/after_sales_list.html", {"page_obj": page_obj})


class AfterSalesDetailView(MemberRequiredMixin, View):
    def get(self, request, request_id: int):
        after_sales = selectors.member_after_sales_request(request.user, request_id)
        return render(
            request,
            "fulfillment/member/after_sales_detail.html",
            {
                "after_sales": after_sales,
                "order": after_sales.order,
                "community": after_sales.community,
                "photos": list(after_sales.photos.all()),
                "history": selectors.request_history(after_sales),
                "status_choices": AfterSalesStatus.choices,
            },
        )


confirm_receipt = ConfirmReceiptView.as_view()
review = ReviewView.as_view()
after_sales_new = AfterSalesNewView.as_view()
after_sales_list = AfterSalesListView.as_view()
after_sales_detail = AfterSalesDetailView.as_view()
