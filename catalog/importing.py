"""Bulk import and export of a supplier's products and offers (CSV and XLSX).

One sheet, one row per offer with its product's columns (``COLUMNS``). An import reads the
whole file, validates every row with ``OfferImportRowForm`` (which applies the same term
rules as ``services.offer_check_terms``) and writes nothing unless every row is valid; then
it creates the products and draft offers through ``catalog.services`` inside one
transaction, so a failure part-way leaves nothing behind. An export writes the same columns,
so an exported file can be edited and imported again.

No HTTP here: the views in ``catalog.views.importing`` call ``offers_import``,
``offers_export`` and ``import_template``.
"""

from __future__ import annotations

import csv
import io
import math
import os
import warnings
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from accounts.models import SupplierOrganization
from groupbuy.exceptions import DomainError
from groupbuy.spreadsheets import FORMULA_STARTS, spreadsheet_text

from . import selectors, services
from .forms.importing import OfferImportRowForm, weekdays_format
from .models import Category, Offer, Product

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_ROWS = 1000
# An .xlsx is a zip archive: refuse one that would unpack to something huge.
MAX_XLSX_UNPACKED_BYTES = 50 * 1024 * 1024
FORMATS = ("csv", "xlsx")
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CONTENT_TYPES = {"csv": CSV_CONTENT_TYPE, "xlsx": XLSX_CONTENT_TYPE}


@dataclass(frozen=True)
class Column:
    key: str
    required: bool
    help: str  # lazy translation
    example: str


COLUMNS: tuple[Column, ...] = (
    Column(
        "product_name",
        True,
        gettext_lazy("Product name (Chinese), up to 120 characters."),
        "阳光玫瑰葡萄",
    ),
    Column("product_name_en", False, gettext_lazy("English product name."), "Shine Muscat grapes"),
    Column(
        "spec",
        True,
        gettext_lazy("Specification, e.g. 500 g x 2. Name and specification identify the product."),
        "500 g x 2",
    ),
    Column("unit", True, gettext_lazy("Selling unit, e.g. 盒, 份, kg."), "盒"),
    Column(
        "category",
        True,
        gettext_lazy("Category code, e.g. fruit, vegetables, meat-eggs, seafood."),
        "fruit",
    ),
    Column("brand", False, gettext_lazy("Brand."), ""),
    Column("origin", True, gettext_lazy("Place of origin, e.g. 云南昆明."), "云南昆明"),
    Column("barcode", False, gettext_lazy("Barcode: 8 to 14 digits (keep it as text)."), ""),
    Column("storage", True, gettext_lazy("ambient, chilled or frozen."), "chilled"),
    Column("shelf_life_days", True, gettext_lazy("Shelf life in days, at least 1."), "7"),
    Column("description", False, gettext_lazy("Product description."), ""),
    Column(
        "supply_price",
        True,
        gettext_lazy("Price per unit to the platform, CNY, e.g. 12.50."),
        "12.50",
    ),
    Column("retail_price", True, gettext_lazy("Suggested retail price, CNY."), "19.90"),
    Column("min_order_qty", True, gettext_lazy("Minimum order quantity, at least 1."), "12"),
    Column("case_size", True, gettext_lazy("Units per case, at least 1."), "6"),
    Column(
        "daily_capacity",
        True,
        gettext_lazy("Capacity per delivery day, at least the minimum order quantity."),
        "300",
    ),
    Column("lead_time_days", True, gettext_lazy("Lead time in days, 0 or more."), "1"),
    Column(
        "delivery_weekdays",
        True,
        gettext_lazy(
            'Delivery days: digits 0-6 with Monday = 0 (e.g. "01234") or names (e.g. "Mon,Wed").'
        ),
        "Mon,Tue,Wed,Thu,Fri",
    ),
    Column("valid_from", True, gettext_lazy("First day of validity, YYYY-MM-DD."), ""),
    Column(
        "valid_until",
        True,
        gettext_lazy("Last day of validity, YYYY-MM-DD, not before valid_from."),
        "",
    ),
    Column("notes", False, gettext_lazy("Notes for the reviewer and leaders."), ""),
)
COLUMN_KEYS: tuple[str, ...] = tuple(column.key for column in COLUMNS)
REQUIRED_KEYS = frozenset(column.key for column in COLUMNS if column.required)
_NUMBER_COLUMNS = frozenset(
    {
        "shelf_life_days",
        "supply_price",
        "retail_price",
        "min_order_qty",
        "case_size",
        "daily_capacity",
        "lead_time_days",
    }
)
_PRICE_COLUMNS = frozenset({"supply_price", "retail_price"})
_DATE_COLUMNS = frozenset({"valid_from", "valid_until"})


@dataclass(frozen=True)
class RowIssue:
    """An error (or warning) about one row; ``row`` is the spreadsheet's row number."""

    row: int
    column: str
    message: str


@dataclass
class ImportResult:
    errors: list[RowIssue] = field(default_factory=list)
    warnings: list[RowIssue] = field(default_factory=list)
    offers: list[Offer] = field(default_factory=list)
    products_created: int = 0
    products_reused: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def _file_error(message: str) -> DomainError:
    return DomainError(message, field="file")


# Reading


def file_format_of(filename: str) -> str:
    extension = os.path.splitext(filename or "")[1].lower().lstrip(".")
    if extension not in FORMATS:
        raise _file_error(
            _("Upload a .csv or .xlsx file (an old .xls file must first be saved as .xlsx).")
        )
    return extension


def _cell_text(value) -> str:
    """A cell as text: numbers without float noise, dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value.is_integer():
            return str(int(value))
        # Excel stores 12.3 as 12.300000000000001 after arithmetic: snap float noise to
        # cents, but keep a real third decimal (1.234) so the row is refused, not rounded.
        rounded = round(value, 2)
        if math.isclose(value, rounded, rel_tol=0, abs_tol=1e-9):
            return f"{rounded:.2f}"
        return repr(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    text = str(value).strip()
    # Undo the "'" an export puts before text that Excel would take for a formula.
    if text.startswith("'") and text[1:2] in FORMULA_STARTS:
        text = text[1:]
    return text


def _decode(raw: bytes) -> str:
    # UTF-16 (Excel's "Unicode text") only with its BOM; then UTF-8 (with or without BOM);
    # then GB18030, which Excel on Chinese Windows writes for plain "CSV".
    encodings = (
        ("utf-16",) if raw.startswith((b"\xff\xfe", b"\xfe\xff")) else ("utf-8-sig", "gb18030")
    )
    for encoding in encodings:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _file_error(_("The file's text encoding is not readable; save it as CSV UTF-8."))


def _csv_records(raw: bytes) -> list[list]:
    text = _decode(raw)
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as error:
        raise _file_error(
            _("This CSV file cannot be read: %(error)s") % {"error": error}
        ) from error


def _xlsx_records(raw: bytes):
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise _file_error(_("This is not a valid .xlsx file.")) from None
    if unpacked > MAX_XLSX_UNPACKED_BYTES:
        raise _file_error(_("This .xlsx file is too large once unpacked."))
    not_valid = _("This is not a valid .xlsx file.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as error:  # any parser error on an uploaded file means "not usable"
        raise _file_error(not_valid) from error
    try:
        if not workbook.worksheets:
            raise _file_error(not_valid)
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # trust the rows, not a possibly wrong stored dimension
        try:
            # Only iteration errors land here: the consumer's own exceptions are not
            # thrown into this generator.
            yield from sheet.iter_rows(values_only=True)
        except Exception as error:
            raise _file_error(not_valid) from error
    finally:
        workbook.close()


def rows_read(*, raw: bytes, file_format: str) -> list[tuple[int, dict[str, str]]]:
    """The data rows as ``(spreadsheet row number, {column: text})``; blank rows skipped.

    Raises DomainError (field ``file``) for problems with the file as a whole: unreadable,
    header missing or wrong, no rows, too many rows.
    """
    records = _csv_records(raw) if file_format == "csv" else _xlsx_records(raw)
    try:
        return _rows_of(records)
    finally:
        if hasattr(records, "close"):
            records.close()  # the workbook, when reading stopped early


def _rows_of(records) -> list[tuple[int, dict[str, str]]]:
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, str]]] = []
    for number, record in enumerate(records, start=1):
        cells = [_cell_text(value) for value in record]
        if not any(cells):
            continue
        if header is None:
            header = _header_check([cell.lower() for cell in cells])
            continue
        if len(rows) >= MAX_ROWS:
            raise _file_error(
                _("The file has more than %(max)s rows; split it into smaller files.")
                % {"max": f"{MAX_ROWS:,}"}
            )
        rows.append(
            (number, {key: cells[i] for i, key in enumerate(header) if key and i < len(cells)})
        )
    if header is None:
        raise _file_error(_("The file is empty; start from the template."))
    if not rows:
        raise _file_error(_("The file has column names but no rows to import."))
    return rows


def _header_check(header: list[str]) -> list[str]:
    named = [key for key in header if key]
    unknown = [key for key in named if key not in COLUMN_KEYS]
    if unknown:
        raise _file_error(
            _("Unknown columns: %(columns)s. The first row must hold the template's column names.")
            % {"columns": ", ".join(unknown)}
        )
    duplicates = sorted({key for key in named if named.count(key) > 1})
    if duplicates:
        raise _file_error(
            _("Columns appear more than once: %(columns)s.") % {"columns": ", ".join(duplicates)}
        )
    missing = [key for key in COLUMN_KEYS if key in REQUIRED_KEYS and key not in named]
    if missing:
        raise _file_error(
            _("Missing columns: %(columns)s. Download the template to see every column.")
            % {"columns": ", ".join(missing)}
        )
    return header


def upload_read(upload) -> list[tuple[int, dict[str, str]]]:
    """Check an uploaded file's type and size, then read its rows (see ``rows_read``)."""
    file_format = file_format_of(upload.name)
    if upload.size > MAX_UPLOAD_BYTES:
        raise _file_error(
            _("The file is larger than %(max)s MB; split it into smaller files.")
            % {"max": MAX_UPLOAD_BYTES // (1024 * 1024)}
        )
    upload.seek(0)
    raw = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(raw) > MAX_UPLOAD_BYTES:
        raise _file_error(
            _("The file is larger than %(max)s MB; split it into smaller files.")
            % {"max": MAX_UPLOAD_BYTES // (1024 * 1024)}
        )
    return rows_read(raw=raw, file_format=file_format)


# Validating and writing


def _categories() -> dict[str, Category]:
    lookup = {}
    for category in Category.objects.all():
        for name in (category.name, category.name_en, category.code):
            if name:
                lookup.setdefault(name.lower(), category)
    return lookup


def rows_validate(
    rows: list[tuple[int, dict[str, str]]],
) -> tuple[list[OfferImportRowForm], list[RowIssue], list[RowIssue]]:
    """Every row through the row form: (valid forms, errors, warnings). Writes nothing."""
    categories = _categories()
    forms, errors, row_warnings = [], [], []
    for number, data in rows:
        form = OfferImportRowForm(data=data, categories=categories)
        form.row_number = number
        if form.is_valid():
            forms.append(form)
            row_warnings.extend(RowIssue(number, "", str(text)) for text in form.warnings)
            continue
        for column, messages in form.errors.items():
            for message in messages:
                errors.append(RowIssue(number, "" if column == "__all__" else column, str(message)))
    errors.sort(key=lambda issue: (issue.row, _column_order(issue.column)))
    return forms, errors, row_warnings


def _column_order(column: str) -> int:
    return COLUMN_KEYS.index(column) if column in COLUMN_KEYS else len(COLUMN_KEYS)


_COMPARED_PRODUCT_FIELDS = (
    "name_en",
    "unit",
    "category",
    "brand",
    "origin",
    "barcode",
    "storage",
    "shelf_life_days",
    "description",
)
_PRODUCT_FIELD_COLUMNS = {"name": "product_name", "name_en": "product_name_en"}


def _differences(product: Product, fields: dict) -> list[str]:
    return [
        _PRODUCT_FIELD_COLUMNS.get(name, name)
        for name in _COMPARED_PRODUCT_FIELDS
        if getattr(product, name) != fields[name]
    ]


def offers_import_rows(
    *, supplier: SupplierOrganization, rows: list[tuple[int, dict[str, str]]]
) -> ImportResult:
    """Validate every row; if all are valid create their products and draft offers.

    A row whose product (same name and specification, this supplier) exists reuses it
    unchanged; otherwise the first row naming a product creates it and later rows reuse it.
    All or nothing: one transaction, rolled back by any error.
    """
    forms, errors, row_warnings = rows_validate(rows)
    result = ImportResult(errors=errors, warnings=row_warnings)
    if errors:
        return result
    with transaction.atomic():
        # One import at a time per supplier, so two imports cannot both create a product.
        supplier = SupplierOrganization.objects.select_for_update().get(pk=supplier.pk)
        products: dict[tuple[str, str], Product] = {}
        for product in Product.objects.filter(supplier=supplier).order_by("-id"):
            product.supplier = supplier
            products[(product.name, product.spec)] = product  # the oldest one wins
        existing = set(products)
        warned: set[tuple[str, str]] = set()
        for form in forms:
            fields = form.product_fields()
            key = (fields["name"], fields["spec"])
            product = products.get(key)
            if product is None:
                product = services.product_create(supplier=supplier, **fields)
                products[key] = product
                result.products_created += 1
            else:
                if key in existing:
                    result.products_reused += 1
                    existing.discard(key)
                changed = _differences(product, fields)
                if changed and key not in warned:
                    warned.add(key)
                    result.warnings.append(
                        RowIssue(
                            form.row_number,
                            changed[0],
                            _(
                                'The product "%(name)s" (%(spec)s) already exists; its '
                                "details were kept, these columns were not applied: %(columns)s."
                            )
                            % {"name": key[0], "spec": key[1], "columns": ", ".join(changed)},
                        )
                    )
            result.offers.append(services.offer_create(product=product, **form.offer_terms()))
    result.warnings.sort(key=lambda issue: issue.row)
    return result


def offers_import(*, supplier: SupplierOrganization, upload) -> ImportResult:
    """Import an uploaded .csv/.xlsx file; DomainError (field ``file``) if it is unusable."""
    return offers_import_rows(supplier=supplier, rows=upload_read(upload))


# Writing files


def _offer_row(offer: Offer) -> dict:
    product = offer.product
    return {
        "product_name": product.name,
        "product_name_en": product.name_en,
        "spec": product.spec,
        "unit": product.unit,
        "category": product.category.code,
        "brand": product.brand,
        "origin": product.origin,
        "barcode": product.barcode,
        "storage": product.storage,
        "shelf_life_days": product.shelf_life_days,
        "description": product.description,
        "supply_price": offer.supply_price,
        "retail_price": offer.retail_price,
        "min_order_qty": offer.min_order_qty,
        "case_size": offer.case_size,
        "daily_capacity": offer.daily_capacity,
        "lead_time_days": offer.lead_time_days,
        "delivery_weekdays": weekdays_format(offer.delivery_weekdays),
        "valid_from": offer.valid_from,
        "valid_until": offer.valid_until,
        "notes": offer.notes,
    }


def _example_row() -> dict:
    today = timezone.localdate()
    row = {column.key: column.example for column in COLUMNS}
    row["valid_from"] = today
    row["valid_until"] = today + timedelta(days=30)
    return row


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return spreadsheet_text(value) if isinstance(value, str) else str(value)


def _csv_bytes(rows: list[dict]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(COLUMN_KEYS)
    for row in rows:
        writer.writerow([_csv_cell(row[key]) for key in COLUMN_KEYS])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # the BOM tells Excel it is UTF-8


def _xlsx_cell(sheet, key: str, value):
    cell = WriteOnlyCell(sheet, value=None if value == "" else value)
    if isinstance(value, str) and value:
        cell.data_type = "s"  # never a formula, even if it starts with "="
    elif key in _PRICE_COLUMNS:
        cell.number_format = "0.00"
    elif key in _DATE_COLUMNS and isinstance(value, date):
        cell.number_format = "yyyy-mm-dd"
    return cell


def _xlsx_value(key: str, value):
    if key in _NUMBER_COLUMNS and isinstance(value, str) and value:
        return Decimal(value) if key in _PRICE_COLUMNS else int(value)
    return value


def _xlsx_bytes(rows: list[dict], *, with_help: bool = False) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Offers"))
    sheet.freeze_panes = "A2"
    for index, column in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(12, len(column.key) + 4)
    bold = Font(bold=True)
    header = []
    for key in COLUMN_KEYS:
        cell = WriteOnlyCell(sheet, value=key)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in rows:
        sheet.append([_xlsx_cell(sheet, key, _xlsx_value(key, row[key])) for key in COLUMN_KEYS])
    if with_help:
        guide = workbook.create_sheet(_("Columns"))
        guide.append([_("Column"), _("Required"), _("What to enter")])
        for column in COLUMNS:
            guide.append([column.key, _("yes") if column.required else _("no"), str(column.help)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _file_bytes(rows: list[dict], file_format: str, *, with_help: bool = False) -> bytes:
    if file_format not in FORMATS:
        raise DomainError(_("Choose CSV or XLSX."), field="format")
    if file_format == "csv":
        return _csv_bytes(rows)
    return _xlsx_bytes(rows, with_help=with_help)


def offers_export(
    *, supplier: SupplierOrganization, file_format: str, status: str | None = None
) -> bytes:
    """The supplier's offers with their products, in the import's column format."""
    offers = selectors.offers_for_supplier(supplier, status=status).order_by("id")
    return _file_bytes(
        [_offer_row(offer) for offer in offers.iterator(chunk_size=500)], file_format
    )


def import_template(*, file_format: str) -> bytes:
    """The column names and one example row (the .xlsx adds a sheet describing the columns)."""
    return _file_bytes([_example_row()], file_format, with_help=True)
