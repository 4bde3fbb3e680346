"""The supplier's bulk import and export of products and offers (CSV / XLSX)."""

from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from accounts.selectors import approved_supplier_for_user
from groupbuy.exceptions import DomainError
from groupbuy.forms import add_domain_error
from groupbuy.roles import SupplierRequiredMixin

from .. import importing
from ..forms.importing import ExportForm, ImportUploadForm

RESULT_SESSION_KEY = "catalog_import_result"
MAX_ISSUES_SHOWN = 500


def _download(content: bytes, *, file_format: str, stem: str) -> HttpResponse:
    response = HttpResponse(content, content_type=importing.CONTENT_TYPES[file_format])
    response["Content-Disposition"] = f'attachment; filename="{stem}.{file_format}"'
    response["Cache-Control"] = "no-store"
    return response


def _requested_format(request) -> str | None:
    file_format = request.GET.get("format", "xlsx").lower()
    return file_format if file_format in importing.FORMATS else None


def _issues(issues) -> list[dict]:
    return [
        {"row": issue.row, "column": issue.column, "message": issue.message}
        for issue in issues[:MAX_ISSUES_SHOWN]
    ]


class SupplierImportView(SupplierRequiredMixin, View):
    """GET: the upload form, downloads and the column guide. POST: run the import."""

    template_name = "catalog/supplier/import.html"

    def _render(self, request, form, *, errors=None, status=200):
        context = {
            "form": form,
            "export_form": ExportForm(initial={"format": "xlsx"}),
            "columns": importing.COLUMNS,
            "max_rows": importing.MAX_ROWS,
            "errors": _issues(errors or []),
            "error_count": len(errors or []),
            "result": request.session.pop(RESULT_SESSION_KEY, None)
            if request.method == "GET"
            else None,
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request):
        approved_supplier_for_user(request.user)
        return self._render(request, ImportUploadForm())

    def post(self, request):
        supplier = approved_supplier_for_user(request.user)
        form = ImportUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self._render(request, form)
        try:
            result = importing.offers_import(supplier=supplier, upload=form.cleaned_data["file"])
        except DomainError as error:
            add_domain_error(form, error)
            return self._render(request, form)
        if not result.ok:
            return self._render(request, ImportUploadForm(), errors=result.errors)
        # Post/redirect/get: the result is shown once, by the GET that follows.
        request.session[RESULT_SESSION_KEY] = {
            "count": len(result.offers),
            "products_created": result.products_created,
            "products_reused": result.products_reused,
            "warnings": _issues(result.warnings),
            "warning_count": len(result.warnings),
        }
        return redirect("catalog:supplier_import")


class SupplierExportView(SupplierRequiredMixin, View):
    """GET ?format=csv|xlsx[&status=...]: the supplier's offers in the import's columns."""

    def get(self, request):
        supplier = approved_supplier_for_user(request.user)
        file_format = _requested_format(request)
        if file_format is None:
            return HttpResponseBadRequest(_("Choose CSV or XLSX."))
        status = request.GET.get("status") or None
        content = importing.offers_export(supplier=supplier, file_format=file_format, status=status)
        stem = f"offers-{timezone.localdate():%Y%m%d}"
        return _download(content, file_format=file_format, stem=stem)


class SupplierImportTemplateView(SupplierRequiredMixin, View):
    """GET ?format=csv|xlsx: the column names and one example row."""

    def get(self, request):
        approved_supplier_for_user(request.user)
        file_format = _requested_format(request)
        if file_format is None:
            return HttpResponseBadRequest(_("Choose CSV or XLSX."))
        content = importing.import_template(file_format=file_format)
        return _download(content, file_format=file_format, stem="offers-import-template")
