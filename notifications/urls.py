from django.urls import path

from .views import inbox, leader, receipts

app_name = "notifications"


def _inbox_urls(prefix: str, layout: str):
    return [
        path(f"{prefix}inbox/", inbox.InboxView.as_view(layout=layout), name=f"{layout}_inbox"),
        path(
            f"{prefix}inbox/<int:notification_id>/",
            inbox.NotificationDetailView.as_view(layout=layout),
            name=f"{layout}_notification",
        ),
        path(
            f"{prefix}inbox/<int:notification_id>/acknowledge/",
            inbox.AcknowledgeView.as_view(layout=layout),
            name=f"{layout}_acknowledge",
        ),
        path(
            f"{prefix}inbox/read-all/",
            inbox.MarkAllReadView.as_view(layout=layout),
            name=f"{layout}_read_all",
        ),
        path(
            f"{prefix}notification-settings/",
            inbox.PreferencesView.as_view(layout=layout),
            name=f"{layout}_preferences",
        ),
    ]


urlpatterns = [
    path(
        "notifications/sms/aliyun-report/<str:token>/",
        receipts.aliyun_sms_report,
        name="aliyun_sms_report",
    ),
    *_inbox_urls("m/", "member"),
    *_inbox_urls("", "dashboard"),
    path(
        "leader/communities/<int:community_id>/notices/",
        leader.NoticeListView.as_view(),
        name="notices",
    ),
    path(
        "leader/communities/<int:community_id>/notices/<int:broadcast_id>/",
        leader.CoverageView.as_view(),
        name="coverage",
    ),
    path(
        "leader/communities/<int:community_id>/notices/<int:broadcast_id>/remind/",
        leader.RemindView.as_view(),
        name="remind",
    ),
    path(
        "leader/communities/<int:community_id>/notices/<int:broadcast_id>/export.csv",
        leader.CoverageExportView.as_view(),
        name="coverage_export",
    ),
]
