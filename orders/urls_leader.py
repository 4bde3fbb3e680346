from django.urls import path

from .views import leader

urlpatterns = [
    path(
        "leader/schedules/<int:schedule_id>/orders/",
        leader.schedule_orders,
        name="leader_schedule_orders",
    ),
    path(
        "leader/schedules/<int:schedule_id>/orders/confirm/",
        leader.orders_confirm,
        name="leader_orders_confirm",
    ),
    path(
        "leader/schedules/<int:schedule_id>/orders/export.csv",
        leader.orders_export,
        name="leader_orders_export",
    ),
    path("leader/orders/<int:order_id>/", leader.order_detail, name="leader_order"),
    path(
        "leader/orders/<int:order_id>/confirm/", leader.order_confirm, name="leader_order_confirm"
    ),
    path("leader/orders/<int:order_id>/reject/", leader.order_reject, name="leader_order_reject"),
]
