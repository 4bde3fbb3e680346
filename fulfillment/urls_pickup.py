"""Pickup verification and delivery (leader), receipt confirmation, reviews and
after-sales (member, leader, platform staff)."""

from django.urls import path

from .views import aftersales, member, pickup

urlpatterns = [
    # Leader: handing over
    path(
        "leader/communities/<int:community_id>/pickup/",
        pickup.pickup_verify,
        name="leader_pickup_verify",
    ),
    path(
        "leader/pickup/orders/<int:order_id>/hand-over/",
        pickup.hand_over,
        name="leader_pickup_hand_over",
    ),
    path(
        "leader/pickup/orders/<int:order_id>/out-for-delivery/",
        pickup.out_for_delivery,
        name="leader_order_out_for_delivery",
    ),
    path(
        "leader/pickup/orders/<int:order_id>/delivered/",
        pickup.delivered,
        name="leader_order_delivered",
    ),
    # Member
    path(
        "m/orders/<str:number>/confirm-receipt/",
        member.confirm_receipt,
        name="member_confirm_receipt",
    ),
    path("m/order-lines/<int:line_id>/review/", member.review, name="member_review"),
    path(
        "m/order-lines/<int:line_id>/after-sales/",
        member.after_sales_new,
        name="member_after_sales_new",
    ),
    path("m/after-sales/", member.after_sales_list, name="member_after_sales"),
    path(
        "m/after-sales/<int:request_id>/",
        member.after_sales_detail,
        name="member_after_sales_detail",
    ),
    # Leader: after-sales and reviews
    path(
        "leader/communities/<int:community_id>/after-sales/",
        aftersales.leader_after_sales,
        name="leader_after_sales",
    ),
    path(
        "leader/after-sales/<int:request_id>/",
        aftersales.leader_after_sales_detail,
        name="leader_after_sales_detail",
    ),
    path(
        "leader/after-sales/<int:request_id>/approve/",
        aftersales.leader_after_sales_approve,
        name="leader_after_sales_approve",
    ),
    path(
        "leader/after-sales/<int:request_id>/reject/",
        aftersales.leader_after_sales_reject,
        name="leader_after_sales_reject",
    ),
    path(
        "leader/after-sales/<int:request_id>/escalate/",
        aftersales.leader_after_sales_escalate,
        name="leader_after_sales_escalate",
    ),
    path(
        "leader/communities/<int:community_id>/reviews/",
        aftersales.leader_reviews,
        name="leader_reviews",
    ),
    # Platform staff
    path("staff/after-sales/", aftersales.staff_after_sales, name="staff_after_sales"),
    path(
        "staff/after-sales/<int:request_id>/",
        aftersales.staff_after_sales_detail,
        name="staff_after_sales_detail",
    ),
    path(
        "staff/after-sales/<int:request_id>/approve/",
        aftersales.staff_after_sales_approve,
        name="staff_after_sales_approve",
    ),
    path(
        "staff/after-sales/<int:request_id>/reject/",
        aftersales.staff_after_sales_reject,
        name="staff_after_sales_reject",
    ),
]
