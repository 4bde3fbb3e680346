"""The leader's feedback page: likes and comments per item, schedule comments, wishes."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views import View

from accounts.selectors import community_for_leader
from groupbuy.exceptions import DomainError
from groupbuy.pagination import paginate
from groupbuy.roles import LeaderRequiredMixin

from ..forms.member import ReplyForm
from ..selectors import member as selectors
from ..services.feedback import comment_reply, wish_reply

SCHEDULE_TABS = 12


def _feedback_url(community, schedule_id=None, anchor="") -> str:
    url = reverse("scheduling:leader_feedback", args=[community.pk])
    if schedule_id:
        url += "?" + urlencode({"schedule": schedule_id})
    return url + anchor


class LeaderFeedbackView(LeaderRequiredMixin, View):
    template_name = "scheduling/leader/feedback.html"

    def get(self, request, community_id: int, *, reply_form=None, reply_target=None):
        community = community_for_leader(request.user, community_id)
        schedules = list(selectors.feedback_schedules(community)[:SCHEDULE_TABS])
        selected = None
        wanted = request.GET.get("schedule", "")
        for schedule in schedules:
            if str(schedule.pk) == wanted:
                selected = schedule
        if selected is None and wanted.isdigit():  # an older schedule, beyond the tabs
            selected = selectors.feedback_schedules(community).filter(pk=wanted).first()
        if selected is None and schedules:
            selected = schedules[0]
        feedback = selectors.feedback_for_schedule(selected) if selected else {}
        wishes_page = paginate(request, selectors.wishes_for_leader(community))
        if reply_form is not None:
            # Show the refused reply with its errors under the comment or wish it answers.
            kind, pk = reply_target
            if kind == "wish":
                candidates = list(wishes_page.object_list)
                wishes_page.object_list = candidates
            else:
                candidates = [*feedback.get("schedule_comments", [])]
                for item in feedback.get("items", []):
                    candidates.extend(item.comment_list)
            found = False
            for obj in candidates:
                if obj.pk == pk:
                    obj.bound_reply_form = reply_form
                    found = True
            if not found:
                for error in reply_form.errors.get("reply", []):
                    messages.error(request, error)
        return render(
            request,
            self.template_name,
            {
                "community": community,
                "schedules": schedules,
                "selected": selected,
                "wishes_page": wishes_page,
                **feedback,
            },
        )


class LeaderCommentReplyView(LeaderRequiredMixin, View):
    def post(self, request, community_id: int, comment_id: int):
        community = community_for_leader(request.user, community_id)
        comment = selectors.comment_for_leader(community, comment_id)
        form = ReplyForm(request.POST)
        if form.is_valid():
            try:
                comment_reply(comment=comment, actor=request.user, reply=form.cleaned_data["reply"])
            except DomainError as error:
                form.add_error("reply", error.message)
            else:
                messages.success(request, _("Reply saved; the member sees it."))
                return redirect(
                    _feedback_url(community, comment.schedule_id, f"#comment-{comment.pk}")
                )
        request.GET = request.GET.copy()
        request.GET["schedule"] = str(comment.schedule_id)
        return LeaderFeedbackView().get(
            request, community_id, reply_form=form, reply_target=("comment", comment.pk)
        )


class LeaderWishReplyView(LeaderRequiredMixin, View):
    def post(self, request, community_id: int, wish_id: int):
        community = community_for_leader(request.user, community_id)
        wish = selectors.wish_for_leader(community, wish_id)
        form = ReplyForm(request.POST)
        if form.is_valid():
            try:
                wish_reply(wish=wish, actor=request.user, reply=form.cleaned_data["reply"])
            except DomainError as error:
                form.add_error("reply", error.message)
            else:
                messages.success(request, _("Reply saved; the member sees it."))
                return redirect(_feedback_url(community, anchor=f"#wish-{wish.pk}"))
        return LeaderFeedbackView().get(
            request, community_id, reply_form=form, reply_target=("wish", wish.pk)
        )
