"""URL patterns of the scheduling member pages, the public share page and the leader's
feedback page (included by scheduling/urls.py)."""

from django.urls import path

from .views import feedback, member, public

urlpatterns = [
    path("m/schedules/", member.MemberSchedulesView.as_view(), name="member_schedules"),
    path(
        "m/schedules/<int:schedule_id>/",
        member.MemberScheduleView.as_view(),
        name="member_schedule",
    ),
    path(
        "m/schedules/<int:schedule_id>/comments/",
        member.MemberCommentAddView.as_view(),
        name="member_comment_add",
    ),
    path(
        "m/schedule-items/<int:item_id>/like/",
        member.MemberItemLikeView.as_view(),
        name="member_item_like",
    ),
    path("m/wishes/", member.MemberWishView.as_view(), name="member_wish_add"),
    path("s/<str:share_token>/", public.share, name="share"),
    path("s/<str:share_token>/poster.png", public.share_poster, name="share_poster"),
    path(
        "leader/communities/<int:community_id>/feedback/",
        feedback.LeaderFeedbackView.as_view(),
        name="leader_feedback",
    ),
    path(
        "leader/communities/<int:community_id>/feedback/comments/<int:comment_id>/reply/",
        feedback.LeaderCommentReplyView.as_view(),
        name="leader_comment_reply",
    ),
    path(
        "leader/communities/<int:community_id>/feedback/wishes/<int:wish_id>/reply/",
        feedback.LeaderWishReplyView.as_view(),
        name="leader_wish_reply",
    ),
]
