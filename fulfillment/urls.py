from django.urls import include, path

app_name = "fulfillment"

urlpatterns = [
    path("", include("fulfillment.urls_supplier")),
    path("", include("fulfillment.urls_purchasing")),
    path("", include("fulfillment.urls_pickup")),
]
