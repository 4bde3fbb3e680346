"""Member pages (phone): the community's schedules, one schedule's items, likes,
comments and wishes. Ordering comes with the orders stage."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from accounts.selectors import current_community_for_member
from groupbuy.exceptions import DomainError
from groupbuy.pagination import paginate
from groupbuy.roles import MemberRequiredMixin

from ..forms.member import CommentForm, WishForm
from ..selectors import builder as builder_selectors
from ..selectors import member as selectors
from ..services.feedback import comment_add, item_like_toggle, wish_add
from ..services.schedules import schedule_is_open_for_orders


class MemberSchedulesView(MemberRequiredMixin, View):
    def get(self, request):
        community = current_community_for_member(request.user)
        open_, recent = selectors.member_schedule_lists(community) if community else ([], [])
        return render(
            request,
            "scheduling/member/schedules.html",
            {"community": community, "open_schedules": open_, "recent_schedules": recent},
        )


def _schedule_page(request, schedule, *, comment_form=None, comment_item_id=None):
    context = {
        "schedule": schedule,
        "community": schedule.community,
        "is_open": schedule_is_open_for_orders(schedule),
        "now": timezone.now(),
        "comment_form": comment_form,
        "comment_item_id": comment_item_id,
        "changes": builder_selectors.schedule_changes(schedule)[:20],
        "change_fields": builder_selectors.change_field_labels(),
        **selectors.schedule_page_for_member(schedule, request.user),
    }
    return render(request, "scheduling/member/schedule.html", context)


class MemberScheduleView(MemberRequiredMixin, View):
    def get(self, request, schedule_id: int):
        schedule = selectors.schedule_for_member(request.user, schedule_id)
        return _schedule_page(request, schedule)


class MemberItemLikeView(MemberRequiredMixin, View):
    """Like an item or take the like back; htmx gets the button back, others a redirect."""

    def post(self, request, item_id: int):
        item = selectors.item_for_member(request.user, item_id)
        try:
            item_like_toggle(item=item, user=request.user)
        except DomainError as error:
            if request.htmx:
                raise Http404 from error
            messages.error(request, error.message)
        if request.htmx:
            like_count, liked = selectors.item_like_state(item, request.user)
            item.like_count, item.liked = like_count, liked
            return render(request, "scheduling/member/_like_button.html", {"item": item})
        url = reverse("scheduling:member_schedule", args=[item.schedule_id])
        return redirect(f"{url}#item-{item.pk}")


class MemberCommentAddView(MemberRequiredMixin, View):
    """A comment on the schedule, or on one of its items (``item`` in the form)."""

    def post(self, request, schedule_id: int):
        schedule = selectors.schedule_for_member(request.user, schedule_id)
        form = CommentForm(request.POST)
        item = None
        item_id = form.data.get("item") or None
        if form.is_valid():
            item_id = form.cleaned_data["item"]
            if item_id:
                item = schedule.items.filter(pk=item_id).first()
                if item is None:
                    raise Http404
            try:
                comment_add(
                    schedule=schedule,
                    author=request.user,
                    body=form.cleaned_data["body"],
                    item=item,
                )
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(request, _("Thanks, your leader will see your comment."))
                anchor = f"#item-{item.pk}" if item else "#comments"
                url = reverse("scheduling:member_schedule", args=[schedule.pk])
                return redirect(url + anchor)
        try:
            item_id = int(item_id) if item_id else None
        except (TypeError, ValueError):
            item_id = None
        return _schedule_page(request, schedule, comment_form=form, comment_item_id=item_id)


class MemberWishView(MemberRequiredMixin, View):
    template_name = "scheduling/member/wishes.html"

    def _render(self, request, community, form):
        wishes = selectors.wishes_for_member(request.user, community) if community else []
        return render(
            request,
            self.template_name,
            {
                "community": community,
                "form": form,
                "page_obj": paginate(request, wishes) if community else None,
            },
        )

    def get(self, request):
        community = current_community_for_member(request.user)
        return self._render(request, community, WishForm())

    def post(self, request):
        community = current_community_for_member(request.user)
        if community is None:
            raise Http404
        form = WishForm(request.POST)
        if form.is_valid():
            try:
                wish_add(community=community, author=request.user, text=form.cleaned_data["text"])
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(request, _("Your wish was sent to your leader."))
                return redirect("scheduling:member_wish_add")
        return self._render(request, community, form)
