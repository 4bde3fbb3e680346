"""URL patterns of the catalog's staff pages (included by catalog/urls.py)."""

from django.urls import path

from .views import staff

urlpatterns = [
    path("staff/offers/queue/", staff.OfferQueueView.as_view(), name="staff_offer_queue"),
    path("staff/offers/", staff.OfferListView.as_view(), name="staff_offers"),
    path("staff/offers/<int:pk>/", staff.OfferDetailView.as_view(), name="staff_offer"),
    path(
        "staff/offers/<int:pk>/approve/",
        staff.OfferActionView.as_view(action="approve"),
        name="staff_offer_approve",
    ),
    path(
        "staff/offers/<int:pk>/reject/",
        staff.OfferActionView.as_view(action="reject"),
        name="staff_offer_reject",
    ),
    path(
        "staff/offers/<int:pk>/request-changes/",
        staff.OfferActionView.as_view(action="request_changes"),
        name="staff_offer_request_changes",
    ),
    path(
        "staff/offers/<int:pk>/suspend/",
        staff.OfferActionView.as_view(action="suspend"),
        name="staff_offer_suspend",
    ),
    path(
        "staff/offers/<int:pk>/reinstate/",
        staff.OfferActionView.as_view(action="reinstate"),
        name="staff_offer_reinstate",
    ),
    path("staff/contracts/", staff.ContractListView.as_view(), name="staff_contracts"),
    path("staff/contracts/<int:pk>/", staff.ContractDetailView.as_view(), name="staff_contract"),
    path(
        "staff/contracts/<int:pk>/terminate/",
        staff.ContractTerminateView.as_view(),
        name="staff_contract_terminate",
    ),
]
