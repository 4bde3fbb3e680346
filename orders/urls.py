from django.urls import include, path

from .views import notify

app_name = "orders"

urlpatterns = [
    path("payments/notify/<str:provider>/", notify.payment_notify, name="payment_notify"),
    path("", include("orders.urls_member")),
    path("", include("orders.urls_leader")),
]
