"""Supplier pages: purchase orders, downloads, pick list, reviews (placeholder names)."""

from django.urls import path

from .views import supplier

urlpatterns = [
    path("supplier/purchase-orders/", supplier.todo, name="supplier_purchase_orders"),
    path(
        "supplier/purchase-orders/<int:purchase_order_id>/",
        supplier.todo,
        name="supplier_purchase_order",
    ),
]
