"""URL patterns of the scheduling negotiation pages (included by scheduling/urls.py).

Thread pages take the id of the thread's first proposal; actions take the id of the
proposal they answer.
"""

from django.urls import path

from .views import negotiation as views

urlpatterns = [
    # Leaders
    path(
        "leader/catalog/<int:offer_id>/propose/",
        views.LeaderProposalCreateView.as_view(),
        name="leader_proposal_create",
    ),
    path("leader/proposals/", views.LeaderProposalListView.as_view(), name="leader_proposals"),
    path(
        "leader/proposals/<int:thread_id>/",
        views.LeaderThreadView.as_view(),
        name="leader_proposal",
    ),
    path(
        "leader/proposals/step/<int:proposal_id>/accept/",
        views.LeaderAcceptView.as_view(),
        name="leader_proposal_accept",
    ),
    path(
        "leader/proposals/step/<int:proposal_id>/counter/",
        views.LeaderCounterView.as_view(),
        name="leader_proposal_counter",
    ),
    path(
        "leader/proposals/step/<int:proposal_id>/decline/",
        views.LeaderDeclineView.as_view(),
        name="leader_proposal_decline",
    ),
    path(
        "leader/proposals/step/<int:proposal_id>/withdraw/",
        views.LeaderWithdrawView.as_view(),
        name="leader_proposal_withdraw",
    ),
    # Suppliers
    path(
        "supplier/proposals/", views.SupplierProposalListView.as_view(), name="supplier_proposals"
    ),
    path(
        "supplier/proposals/<int:thread_id>/",
        views.SupplierThreadView.as_view(),
        name="supplier_proposal",
    ),
    path(
        "supplier/proposals/step/<int:proposal_id>/accept/",
        views.SupplierAcceptView.as_view(),
        name="supplier_proposal_accept",
    ),
    path(
        "supplier/proposals/step/<int:proposal_id>/counter/",
        views.SupplierCounterView.as_view(),
        name="supplier_proposal_counter",
    ),
    path(
        "supplier/proposals/step/<int:proposal_id>/decline/",
        views.SupplierDeclineView.as_view(),
        name="supplier_proposal_decline",
    ),
    path(
        "supplier/proposals/step/<int:proposal_id>/withdraw/",
        views.SupplierWithdrawView.as_view(),
        name="supplier_proposal_withdraw",
    ),
    path("supplier/capacity/", views.SupplierCapacityView.as_view(), name="supplier_capacity"),
]
