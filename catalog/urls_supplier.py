"""URL patterns of the catalog's supplier pages (included by catalog/urls.py)."""

from django.urls import path

from .views import supplier, supplier_contracts

urlpatterns = [
    # Products
    path("supplier/products/", supplier.ProductListView.as_view(), name="supplier_products"),
    path(
        "supplier/products/new/",
        supplier.ProductCreateView.as_view(),
        name="supplier_product_create",
    ),
    path(
        "supplier/products/<int:product_id>/",
        supplier.ProductDetailView.as_view(),
        name="supplier_product",
    ),
    path(
        "supplier/products/<int:product_id>/edit/",
        supplier.ProductEditView.as_view(),
        name="supplier_product_edit",
    ),
    path(
        "supplier/products/<int:product_id>/images/",
        supplier.ProductImageAddView.as_view(),
        name="supplier_product_image_add",
    ),
    path(
        "supplier/products/<int:product_id>/images/<int:image_id>/delete/",
        supplier.ProductImageDeleteView.as_view(),
        name="supplier_product_image_delete",
    ),
    path(
        "supplier/products/<int:product_id>/offers/new/",
        supplier.OfferCreateView.as_view(),
        name="supplier_offer_create",
    ),
    # Offers
    path("supplier/offers/", supplier.OfferListView.as_view(), name="supplier_offers"),
    path(
        "supplier/offers/<int:offer_id>/", supplier.OfferDetailView.as_view(), name="supplier_offer"
    ),
    path(
        "supplier/offers/<int:offer_id>/edit/",
        supplier.OfferEditView.as_view(),
        name="supplier_offer_edit",
    ),
    path(
        "supplier/offers/<int:offer_id>/submit/",
        supplier.OfferSubmitView.as_view(),
        name="supplier_offer_submit",
    ),
    path(
        "supplier/offers/<int:offer_id>/withdraw/",
        supplier.OfferWithdrawView.as_view(),
        name="supplier_offer_withdraw",
    ),
    path(
        "supplier/offers/<int:offer_id>/revise/",
        supplier.OfferReviseView.as_view(),
        name="supplier_offer_revise",
    ),
    path(
        "supplier/offers/<int:offer_id>/delete/",
        supplier.OfferDeleteView.as_view(),
        name="supplier_offer_delete",
    ),
    # Contracts
    path(
        "supplier/contracts/",
        supplier_contracts.ContractListView.as_view(),
        name="supplier_contracts",
    ),
    path(
        "supplier/contracts/<int:contract_id>/",
        supplier_contracts.ContractDetailView.as_view(),
        name="supplier_contract",
    ),
    path(
        "supplier/contracts/<int:contract_id>/print/",
        supplier_contracts.ContractPrintView.as_view(),
        name="supplier_contract_print",
    ),
    path(
        "supplier/contracts/<int:contract_id>/contract.pdf",
        supplier_contracts.ContractPdfView.as_view(),
        name="supplier_contract_pdf",
    ),
]
