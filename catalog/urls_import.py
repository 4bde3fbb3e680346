"""URL patterns of the supplier's bulk import/export pages (included by catalog/urls.py)."""

from django.urls import path

from .views import importing

urlpatterns = [
    path("supplier/import/", importing.SupplierImportView.as_view(), name="supplier_import"),
    path(
        "supplier/import/template/",
        importing.SupplierImportTemplateView.as_view(),
        name="supplier_import_template",
    ),
    path("supplier/export/", importing.SupplierExportView.as_view(), name="supplier_export"),
]
