from django.urls import path

from .views import member

urlpatterns = [
    path("m/schedules/<int:schedule_id>/checkout/", member.checkout, name="checkout"),
    path("m/orders/", member.order_list, name="member_orders"),
    path("m/orders/<str:number>/", member.order_detail, name="member_order"),
    path("m/orders/<str:number>/status/", member.order_status, name="member_order_status"),
    path("m/orders/<str:number>/pay/", member.order_pay, name="member_order_pay"),
    path("m/orders/<str:number>/cancel/", member.order_cancel, name="member_order_cancel"),
]
