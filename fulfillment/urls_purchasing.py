"""Leader pages: purchase orders, receipt, pickup notice, pickup lists (placeholder names)."""

from django.urls import path

from .views import leader_purchasing

urlpatterns = [
    path(
        "leader/schedules/<int:schedule_id>/fulfilment/",
        leader_purchasing.todo,
        name="leader_fulfilment",
    ),
    path(
        "leader/purchase-orders/<int:purchase_order_id>/",
        leader_purchasing.todo,
        name="leader_purchase_order",
    ),
]
