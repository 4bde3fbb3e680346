"""Supplier pages: purchase orders and their answers, downloads, pick list, reviews."""

from django.urls import path

from .views import supplier

urlpatterns = [
    path(
        "supplier/purchase-orders/",
        supplier.PurchaseOrderListView.as_view(),
        name="supplier_purchase_orders",
    ),
    path(
        "supplier/purchase-orders/<int:purchase_order_id>/",
        supplier.PurchaseOrderDetailView.as_view(),
        name="supplier_purchase_order",
    ),
    path(
        "supplier/purchase-orders/<int:purchase_order_id>/acknowledge/",
        supplier.PurchaseOrderAcknowledgeView.as_view(),
        name="supplier_purchase_order_acknowledge",
    ),
    path(
        "supplier/purchase-orders/<int:purchase_order_id>/decline/",
        supplier.PurchaseOrderDeclineView.as_view(),
        name="supplier_purchase_order_decline",
    ),
    path(
        "supplier/purchase-orders/<int:purchase_order_id>/start-stocking/",
        supplier.PurchaseOrderStartStockingView.as_view(),
        name="supplier_purchase_order_start_stocking",
    ),
    path(
        "supplier/purchase-orders/<int:purchase_order_id>/ready/",
        supplier.PurchaseOrderMarkReadyView.as_view(),
        name="supplier_purchase_order_mark_ready",
    ),
    path(
        "supplier/purchase-orders/<int:purchase_order_id>/purchase-order.pdf",
        supplier.PurchaseOrderPdfView.as_view(),
        name="supplier_purchase_order_pdf",
    ),
    path(
        "supplier/purchase-orders/<int:purchase_order_id>/purchase-order.csv",
        supplier.PurchaseOrderCsvView.as_view(),
        name="supplier_purchase_order_csv",
    ),
    path(
        "supplier/purchase-orders/<int:purchase_order_id>/purchase-order.xlsx",
        supplier.PurchaseOrderXlsxView.as_view(),
        name="supplier_purchase_order_xlsx",
    ),
    path("supplier/pick-list/", supplier.PickListView.as_view(), name="supplier_pick_list"),
    path("supplier/reviews/", supplier.ReviewListView.as_view(), name="supplier_reviews"),
]
