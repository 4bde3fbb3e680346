"""Leader pages: fulfilment overview, purchase orders, receipt, pickup notice, pickup lists."""

from django.urls import path

from .views import leader_purchasing as views

urlpatterns = [
    path(
        "leader/schedules/<int:schedule_id>/fulfilment/",
        views.fulfilment,
        name="leader_fulfilment",
    ),
    path(
        "leader/schedules/<int:schedule_id>/fulfilment/prepare/",
        views.purchase_orders_prepare,
        name="leader_purchase_orders_prepare",
    ),
    path(
        "leader/schedules/<int:schedule_id>/pickup-notice/",
        views.pickup_notice,
        name="leader_pickup_notice",
    ),
    path(
        "leader/schedules/<int:schedule_id>/pickup-lists/",
        views.pickup_lists,
        name="leader_pickup_lists",
    ),
    path(
        "leader/schedules/<int:schedule_id>/pickup-lists.pdf",
        views.pickup_lists_pdf,
        name="leader_pickup_lists_pdf",
    ),
    path(
        "leader/purchase-orders/<int:purchase_order_id>/",
        views.purchase_order,
        name="leader_purchase_order",
    ),
    path(
        "leader/purchase-orders/<int:purchase_order_id>/send/",
        views.purchase_order_send,
        name="leader_purchase_order_send",
    ),
    path(
        "leader/purchase-orders/<int:purchase_order_id>/close/",
        views.purchase_order_close,
        name="leader_purchase_order_close",
    ),
    path(
        "leader/purchase-orders/<int:purchase_order_id>/receive/",
        views.purchase_order_receive,
        name="leader_purchase_order_receive",
    ),
    path(
        "leader/purchase-orders/<int:purchase_order_id>/download.<str:fmt>",
        views.purchase_order_download,
        name="leader_purchase_order_download",
    ),
]
