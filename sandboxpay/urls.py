from django.urls import path

from . import views

app_name = "sandboxpay"

urlpatterns = [
    path("sandbox-pay/<str:token>/", views.cashier, name="cashier"),
]
