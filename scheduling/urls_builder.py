"""URL patterns of the scheduling builder pages (included by scheduling/urls.py)."""

from django.urls import path

from .views import builder

_ONE = "leader/schedules/<int:schedule_id>/"
_ITEM = _ONE + "items/<int:item_id>/"

urlpatterns = [
    path("leader/schedules/", builder.ScheduleListView.as_view(), name="leader_schedules"),
    path(
        "leader/communities/<int:community_id>/schedules/new/",
        builder.ScheduleCreateView.as_view(),
        name="leader_schedule_create",
    ),
    path(_ONE, builder.ScheduleBuilderView.as_view(), name="leader_schedule"),
    path(_ONE + "edit/", builder.ScheduleEditView.as_view(), name="leader_schedule_edit"),
    path(_ONE + "items/add/", builder.ItemAddView.as_view(), name="leader_schedule_item_add"),
    path(_ITEM + "edit/", builder.ItemEditView.as_view(), name="leader_schedule_item_edit"),
    path(_ITEM + "remove/", builder.ItemRemoveView.as_view(), name="leader_schedule_item_remove"),
    path(_ONE + "publish/", builder.SchedulePublishView.as_view(), name="leader_schedule_publish"),
    path(_ONE + "cancel/", builder.ScheduleCancelView.as_view(), name="leader_schedule_cancel"),
    path(
        _ONE + "complete/", builder.ScheduleCompleteView.as_view(), name="leader_schedule_complete"
    ),
    path(
        _ONE + "duplicate/",
        builder.ScheduleDuplicateView.as_view(),
        name="leader_schedule_duplicate",
    ),
]
