"""Pickup verification, receipt confirmation, reviews and after-sales (placeholder names)."""

from django.urls import path

from .views import pickup

urlpatterns = [
    path("leader/after-sales/<int:request_id>/", pickup.todo, name="leader_after_sales_detail"),
    path("staff/after-sales/<int:request_id>/", pickup.todo, name="staff_after_sales_detail"),
]
