"""URL patterns of the catalog's leader pages (included by catalog/urls.py)."""

from django.urls import path

from .views import leader

urlpatterns = [
    path("leader/catalog/", leader.LeaderCatalogView.as_view(), name="leader_catalog"),
    path(
        "leader/catalog/<int:offer_id>/",
        leader.LeaderOfferView.as_view(),
        name="leader_offer",
    ),
]
