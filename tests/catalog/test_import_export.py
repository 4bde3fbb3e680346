"""Bulk import of products and offers from CSV/XLSX, and the export in the same columns."""

import csv
import html
import io
import re
import zipfile
from datetime import date, datetime, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from accounts.models import ReviewStatus
from catalog import importing, services
from catalog.forms.importing import weekdays_format, weekdays_parse
from catalog.models import Offer, OfferStatus, Product
from groupbuy.exceptions import DomainError
from tests.catalog.conftest import make_product, offer_terms
from tests.factories import SupplierFactory

pytestmark = pytest.mark.django_db

IMPORT_URL = reverse("catalog:supplier_import")
EXPORT_URL = reverse("catalog:supplier_export")
TEMPLATE_URL = reverse("catalog:supplier_import_template")
TODAY = date(2031, 5, 1)  # far enough ahead that the validity never lies in the past


def row(**overrides) -> dict:
    values = {
        "product_name": "阳光玫瑰葡萄",
        "product_name_en": "Shine Muscat grapes",
        "spec": "500 g x 2",
        "unit": "盒",
        "category": "fruit",
        "brand": "",
        "origin": "云南昆明",
        "barcode": "6901234567892",
        "storage": "chilled",
        "shelf_life_days": "7",
        "description": "",
        "supply_price": "12.50",
        "retail_price": "19.90",
        "min_order_qty": "12",
        "case_size": "6",
        "daily_capacity": "300",
        "lead_time_days": "1",
        "delivery_weekdays": "024",
        "valid_from": TODAY.isoformat(),
        "valid_until": (TODAY + timedelta(days=30)).isoformat(),
        "notes": "",
    }
    values.update(overrides)
    return values


def csv_bytes(rows, *, header=importing.COLUMN_KEYS, encoding="utf-8") -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(header)
    for values in rows:
        writer.writerow([values.get(key, "") for key in header])
    return buffer.getvalue().encode(encoding)


def csv_upload(rows, *, name="offers.csv", **kwargs) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, csv_bytes(rows, **kwargs), content_type="text/csv")


def xlsx_bytes(rows, *, header=importing.COLUMN_KEYS) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(header))
    for values in rows:
        sheet.append([values.get(key) for key in header])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_upload(rows, *, name="offers.xlsx", **kwargs) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, xlsx_bytes(rows, **kwargs))


def read_csv(content: bytes) -> list[dict]:
    assert content.startswith(b"\xef\xbb\xbf"), "CSV export starts with a UTF-8 BOM for Excel"
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def read_xlsx(content: bytes) -> list[dict]:
    sheet = load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    padding = (None,) * len(header)
    return [dict(zip(header, values + padding, strict=False)) for values in rows[1:]]


def error_cells(response) -> set[tuple[int, str]]:
    body = response.content.decode()
    return {
        (int(number), column)
        for number, column in re.findall(
            r'data-testid="import-error" data-row="(\d+)" data-column="([^"]*)"', body
        )
    }


def file_errors(response) -> list[str]:
    body = response.content.decode()
    found = re.findall(r'data-testid="error-file">(.*?)</p>', body, flags=re.S)
    return [html.unescape(text) for text in found]


def counts(supplier) -> tuple[int, int]:
    return Product.objects.filter(supplier=supplier).count(), Offer.objects.filter(
        supplier=supplier
    ).count()


@pytest.fixture
def other_supplier(db):
    return SupplierFactory(status=ReviewStatus.APPROVED)


@pytest.fixture
def owner_client(client, supplier_owner):
    client.force_login(supplier_owner)
    return client


# Importing valid files


def test_csv_import_creates_products_and_draft_offers_for_the_supplier(
    owner_client, approved_supplier, other_supplier
):
    rows = [
        row(),
        row(
            product_name="赣南脐橙", product_name_en="", spec="5 kg/箱", barcode="", notes="次日达"
        ),
        row(spec="1 kg", supply_price="20", delivery_weekdays="Mon,Wed , Fri"),
    ]

    response = owner_client.post(IMPORT_URL, {"file": csv_upload(rows)})

    assert response.status_code == 302
    page = owner_client.get(response.url)
    assert 'data-testid="import-result"' in page.content.decode()
    assert "3 offers imported as drafts." in page.content.decode()
    assert counts(approved_supplier) == (3, 3)
    assert counts(other_supplier) == (0, 0)
    offers = Offer.objects.filter(supplier=approved_supplier).order_by("id")
    assert {offer.status for offer in offers} == {OfferStatus.DRAFT}
    first = offers[0]
    assert first.product.name == "阳光玫瑰葡萄"
    assert first.product.category.code == "fruit"
    assert first.product.storage == "chilled"
    assert first.product.barcode == "6901234567892"
    assert first.product.supplier == approved_supplier
    assert first.supply_price == Decimal("12.50")
    assert first.delivery_weekdays == "024"
    assert first.valid_from == TODAY
    assert offers[1].notes == "次日达"
    assert offers[2].supply_price == Decimal("20.00")
    assert offers[2].delivery_weekdays == "024"
    # The result is shown once (post/redirect/get).
    assert 'data-testid="import-result"' not in owner_client.get(IMPORT_URL).content.decode()


def test_xlsx_import_with_typed_cells(owner_client, approved_supplier):
    rows = [
        row(
            supply_price=12.5,
            retail_price=19.9,
            shelf_life_days=7,
            min_order_qty=12.0,
            case_size=6,
            daily_capacity=300,
            lead_time_days=0,
            barcode=6901234567892,
            valid_from=datetime(2031, 5, 1),
            valid_until=date(2031, 6, 30),
            delivery_weekdays="01234",
        ),
        # Float noise from spreadsheet arithmetic is cents, not a third decimal.
        row(spec="1 kg", supply_price=0.1 + 0.2, retail_price=12.3 * 3),
    ]

    response = owner_client.post(IMPORT_URL, {"file": xlsx_upload(rows)})

    assert response.status_code == 302
    offers = list(Offer.objects.filter(supplier=approved_supplier).order_by("id"))
    assert len(offers) == 2
    first, second = offers
    assert first.supply_price == Decimal("12.50")
    assert first.retail_price == Decimal("19.90")
    assert first.min_order_qty == 12
    assert first.lead_time_days == 0
    assert first.product.barcode == "6901234567892"
    assert first.valid_from == date(2031, 5, 1)
    assert first.valid_until == date(2031, 6, 30)
    assert first.delivery_weekdays == "01234"
    assert second.supply_price == Decimal("0.30")
    assert second.retail_price == Decimal("36.90")


def test_existing_product_is_reused_and_a_product_repeated_in_the_file_created_once(
    owner_client, approved_supplier
):
    existing = make_product(approved_supplier, name="阳光玫瑰葡萄", spec="500 g x 2", origin="云南")
    rows = [
        row(),  # same name and spec as the existing product; origin differs
        row(supply_price="11.00"),
        row(product_name="赣南脐橙", spec="5 kg/箱"),
        row(product_name="赣南脐橙", spec="5 kg/箱", supply_price="30.00"),
    ]

    response = owner_client.post(IMPORT_URL, {"file": csv_upload(rows)}, follow=True)

    assert counts(approved_supplier) == (2, 4)
    assert Offer.objects.filter(product=existing).count() == 2
    existing.refresh_from_db()
    assert existing.origin == "云南", "an existing product is used as it is"
    oranges = Product.objects.get(supplier=approved_supplier, name="赣南脐橙")
    assert oranges.offers.count() == 2
    body = response.content.decode()
    assert 'data-testid="import-warnings"' in body
    assert "origin" in body


def test_existing_product_of_another_supplier_is_not_reused(
    owner_client, approved_supplier, other_supplier
):
    theirs = make_product(other_supplier, name="阳光玫瑰葡萄", spec="500 g x 2")

    owner_client.post(IMPORT_URL, {"file": csv_upload([row()])})

    assert counts(approved_supplier) == (1, 1)
    assert theirs.offers.count() == 0


def test_gb18030_csv_with_chinese_names_imports(owner_client, approved_supplier):
    rows = [row(product_name="麒麟西瓜", spec="约 5 kg/个", unit="个", origin="海南三亚")]
    upload = csv_upload(rows, encoding="gb18030")
    assert upload.read().decode("gb18030")  # really GB18030 bytes ...
    upload.seek(0)
    with pytest.raises(UnicodeDecodeError):
        csv_bytes(rows, encoding="gb18030").decode("utf-8")  # ... and not UTF-8

    response = owner_client.post(IMPORT_URL, {"file": upload})

    assert response.status_code == 302
    product = Product.objects.get(supplier=approved_supplier)
    assert (product.name, product.spec, product.unit, product.origin) == (
        "麒麟西瓜",
        "约 5 kg/个",
        "个",
        "海南三亚",
    )


def test_utf8_csv_with_bom_semicolons_and_blank_rows(approved_supplier):
    text = "\ufeff" + ";".join(importing.COLUMN_KEYS) + "\r\n"
    text += ";".join(row()[key] for key in importing.COLUMN_KEYS) + "\r\n"
    text += ";" * (len(importing.COLUMN_KEYS) - 1) + "\r\n"  # an empty row Excel leaves
    upload = SimpleUploadedFile("offers.CSV", text.encode("utf-8"))

    result = importing.offers_import(supplier=approved_supplier, upload=upload)

    assert result.ok
    assert len(result.offers) == 1


def test_optional_columns_may_be_left_out(approved_supplier):
    header = [column.key for column in importing.COLUMNS if column.required]
    upload = csv_upload([row()], header=header)

    result = importing.offers_import(supplier=approved_supplier, upload=upload)

    assert result.ok
    product = result.offers[0].product
    assert (product.name_en, product.brand, product.barcode) == ("", "", "")


def test_term_warnings_are_reported_but_do_not_block(approved_supplier):
    rows = [row(), row(spec="1 kg", retail_price="10.00", min_order_qty="10", case_size="6")]

    result = importing.offers_import(supplier=approved_supplier, upload=csv_upload(rows))

    assert result.ok
    assert [issue.row for issue in result.warnings] == [3, 3]


# Rows with errors: nothing is written


def test_rows_with_errors_are_each_reported_and_nothing_is_written(owner_client, approved_supplier):
    rows = [
        row(),  # spreadsheet row 2
        row(spec="1 kg", supply_price="1.234", category="durian"),  # row 3
        row(spec="2 kg"),  # row 4
        row(  # row 5
            spec="3 kg",
            unit="",
            valid_from="2031-06-01",
            valid_until="2031-05-01",
            delivery_weekdays="Mon,Funday",
        ),
        row(spec="4 kg"),  # row 6
    ]

    response = owner_client.post(IMPORT_URL, {"file": csv_upload(rows)})

    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="import-errors"' in body
    assert error_cells(response) == {
        (3, "category"),
        (3, "supply_price"),
        (5, "unit"),
        (5, "delivery_weekdays"),
        (5, "valid_until"),
    }
    assert "Ensure that there are no more than 2 decimal places." in body
    assert "Unknown category" in body and "durian" in body
    assert "The validity must end on or after its start." in body
    assert "This field is required." in body
    assert "Funday" in html.unescape(body)
    assert counts(approved_supplier) == (0, 0)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("supply_price", "abc"),
        ("supply_price", "0"),
        ("retail_price", "-1"),
        ("storage", "warm"),
        ("shelf_life_days", "0"),
        ("min_order_qty", "1.5"),
        ("daily_capacity", "6"),  # below the minimum order quantity of 12
        ("barcode", "12345"),
        ("valid_from", "01/05/2031"),
        ("delivery_weekdays", "0789"),
        ("delivery_weekdays", ""),
        ("product_name", "x" * 121),
    ],
)
def test_bad_value_is_reported_on_its_row_and_column(approved_supplier, column, value):
    rows = [row(), row(spec="1 kg", **{column: value})]

    result = importing.offers_import(supplier=approved_supplier, upload=csv_upload(rows))

    assert not result.ok
    assert {(issue.row, issue.column) for issue in result.errors} == {(3, column)}
    assert counts(approved_supplier) == (0, 0)


def test_xlsx_errors_carry_the_spreadsheet_row_numbers(approved_supplier):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(importing.COLUMN_KEYS))
    sheet.append([row().get(key) for key in importing.COLUMN_KEYS])  # row 2
    sheet.append([])  # row 3 left blank
    sheet.append([row(spec="1 kg", storage="warm").get(key) for key in importing.COLUMN_KEYS])
    buffer = io.BytesIO()
    workbook.save(buffer)

    result = importing.offers_import(
        supplier=approved_supplier, upload=SimpleUploadedFile("offers.xlsx", buffer.getvalue())
    )

    assert [(issue.row, issue.column) for issue in result.errors] == [(4, "storage")]


def test_xlsx_price_with_three_decimals_is_refused_not_rounded(approved_supplier):
    result = importing.offers_import(
        supplier=approved_supplier, upload=xlsx_upload([row(supply_price=1.234)])
    )

    assert [(issue.row, issue.column) for issue in result.errors] == [(2, "supply_price")]
    assert counts(approved_supplier) == (0, 0)


# Problems with the file as a whole


def _big_csv() -> SimpleUploadedFile:
    content = csv_bytes([row(notes="x" * 1000)])
    return SimpleUploadedFile("offers.csv", content + b"#" * (2 * 1024 * 1024))


@pytest.mark.parametrize(
    ("make_upload", "expected"),
    [
        (lambda: csv_upload([row()], name="offers.xls"), "Upload a .csv or .xlsx file"),
        (lambda: csv_upload([row()], name="offers.txt"), "Upload a .csv or .xlsx file"),
        (_big_csv, "larger than 2 MB"),
        (
            lambda: csv_upload([row(spec=f"{n} g") for n in range(importing.MAX_ROWS + 1)]),
            "more than 1,000 rows",
        ),
        (
            lambda: csv_upload(
                [row()], header=[k for k in importing.COLUMN_KEYS if k != "supply_price"]
            ),
            "Missing columns: supply_price",
        ),
        (
            lambda: csv_upload([row()], header=[*importing.COLUMN_KEYS, "colour"]),
            "Unknown columns: colour",
        ),
        (
            lambda: csv_upload([row()], header=[*importing.COLUMN_KEYS, "spec"]),
            "more than once: spec",
        ),
        (lambda: SimpleUploadedFile("offers.csv", b""), "empty"),
        (lambda: SimpleUploadedFile("offers.csv", b"\xef\xbb\xbf\r\n,,\r\n"), "The file is empty"),
        (lambda: csv_upload([]), "no rows to import"),
        (lambda: SimpleUploadedFile("offers.xlsx", b"not a zip"), "not a valid .xlsx file"),
        (lambda: xlsx_upload([]), "no rows to import"),
    ],
    ids=[
        "xls",
        "txt",
        "too-large",
        "too-many-rows",
        "missing-column",
        "unknown-column",
        "duplicate-column",
        "zero-bytes",
        "blank-lines",
        "header-only",
        "corrupt-xlsx",
        "xlsx-header-only",
    ],
)
def test_unusable_file_gets_a_clear_error(owner_client, approved_supplier, make_upload, expected):
    response = owner_client.post(IMPORT_URL, {"file": make_upload()})

    assert response.status_code == 200
    errors = file_errors(response)
    assert len(errors) == 1 and expected in errors[0], errors
    assert counts(approved_supplier) == (0, 0)


def _zip_without_workbook() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    return SimpleUploadedFile("offers.xlsx", buffer.getvalue())


def _xlsx_with_truncated_sheet() -> SimpleUploadedFile:
    source = zipfile.ZipFile(io.BytesIO(xlsx_bytes([row()])))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]
            archive.writestr(info, data)
    return SimpleUploadedFile("offers.xlsx", buffer.getvalue())


@pytest.mark.parametrize("make_upload", [_zip_without_workbook, _xlsx_with_truncated_sheet])
def test_damaged_xlsx_is_refused_as_a_file_error(approved_supplier, make_upload):
    with pytest.raises(DomainError) as refused:
        importing.offers_import(supplier=approved_supplier, upload=make_upload())
    assert refused.value.field == "file"
    assert str(refused.value.message) == "This is not a valid .xlsx file."


def test_exactly_the_maximum_number_of_rows_is_accepted(approved_supplier):
    rows = [row(spec=f"{n} g") for n in range(importing.MAX_ROWS)]
    parsed = importing.upload_read(csv_upload(rows))
    assert len(parsed) == importing.MAX_ROWS
    assert parsed[-1][0] == importing.MAX_ROWS + 1  # spreadsheet row number


def test_missing_file_is_a_field_error(owner_client):
    response = owner_client.post(IMPORT_URL, {})
    assert response.status_code == 200
    assert file_errors(response) == ["This field is required."]


@pytest.mark.parametrize("text", ["2031-05-01", "2031/5/1", "2031.05.01", "2031-05-01 00:00:00"])
def test_dates_as_spreadsheets_write_them(approved_supplier, text):
    result = importing.offers_import(
        supplier=approved_supplier, upload=csv_upload([row(valid_from=text)])
    )
    assert result.ok, result.errors
    assert result.offers[0].valid_from == date(2031, 5, 1)


def test_import_writes_with_a_bounded_number_of_queries(
    approved_supplier, django_assert_max_num_queries
):
    rows = [row(product_name=f"商品{n}") for n in range(20)]
    with django_assert_max_num_queries(2 * len(rows) + 10):
        result = importing.offers_import(supplier=approved_supplier, upload=csv_upload(rows))
    assert len(result.offers) == 20


# All or nothing


def _failing_on_third_call(exception):
    real = services.offer_create
    calls = {"n": 0}

    def offer_create(**kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise exception
        return real(**kwargs)

    return offer_create


def test_failure_in_the_middle_of_writing_rolls_everything_back(approved_supplier):
    rows = [row(product_name=f"商品{n}") for n in range(5)]

    with (
        mock.patch.object(
            services, "offer_create", side_effect=_failing_on_third_call(RuntimeError("boom"))
        ),
        pytest.raises(RuntimeError),
    ):
        importing.offers_import(supplier=approved_supplier, upload=csv_upload(rows))

    assert counts(approved_supplier) == (0, 0)


def test_refusal_in_the_middle_of_writing_is_shown_and_nothing_is_kept(
    owner_client, approved_supplier
):
    rows = [row(product_name=f"商品{n}") for n in range(5)]
    refusal = DomainError("Your supplier registration is not approved yet.")

    with mock.patch.object(services, "offer_create", side_effect=_failing_on_third_call(refusal)):
        response = owner_client.post(IMPORT_URL, {"file": csv_upload(rows)})

    assert response.status_code == 200
    assert "Your supplier registration is not approved yet." in response.content.decode()
    assert counts(approved_supplier) == (0, 0)


# Export and the template


@pytest.fixture
def two_suppliers_offers(approved_supplier, other_supplier):
    mine = make_product(approved_supplier, name="=HYPERLINK(1)", barcode="0690123456789")
    services.offer_create(product=mine, **offer_terms(delivery_weekdays="024", notes="早上送"))
    services.offer_create(
        product=make_product(approved_supplier, name="赣南脐橙", spec="5 kg/箱"),
        **offer_terms(supply_price=Decimal("30.50"), delivery_weekdays="0123456"),
    )
    services.offer_create(product=make_product(other_supplier, name="别人的商品"), **offer_terms())


def test_csv_export_has_only_the_suppliers_offers_in_the_import_columns(
    owner_client, two_suppliers_offers
):
    response = owner_client.get(EXPORT_URL, {"format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = read_csv(response.content)
    assert list(rows[0]) == list(importing.COLUMN_KEYS)
    assert [r["product_name"] for r in rows] == ["'=HYPERLINK(1)", "赣南脐橙"]
    assert rows[0]["delivery_weekdays"] == "Mon,Wed,Fri"
    assert rows[0]["barcode"] == "0690123456789"
    assert rows[1]["supply_price"] == "30.50"
    assert rows[1]["category"] == "fruit"


def test_xlsx_export_has_only_the_suppliers_offers(owner_client, two_suppliers_offers):
    response = owner_client.get(EXPORT_URL, {"format": "xlsx"})

    assert response.status_code == 200
    assert response["Content-Type"] == importing.XLSX_CONTENT_TYPE
    rows = read_xlsx(response.content)
    assert [r["product_name"] for r in rows] == ["=HYPERLINK(1)", "赣南脐橙"]
    assert rows[0]["barcode"] == "0690123456789"  # text, leading zero kept
    assert rows[1]["supply_price"] == 30.5
    assert isinstance(rows[1]["valid_from"], datetime)


def test_each_supplier_exports_only_its_own_offers(
    client, two_suppliers_offers, other_supplier, supplier_owner
):
    client.force_login(other_supplier.members.get(is_owner=True).user)
    theirs = read_csv(client.get(EXPORT_URL, {"format": "csv"}).content)
    client.force_login(supplier_owner)
    mine = read_csv(client.get(EXPORT_URL, {"format": "csv"}).content)

    assert [r["product_name"] for r in theirs] == ["别人的商品"]
    assert len(mine) == 2


def test_export_filters_by_status(owner_client, approved_supplier, two_suppliers_offers):
    offer = Offer.objects.filter(supplier=approved_supplier).first()
    services.offer_submit(offer=offer, actor=approved_supplier.members.first().user)

    drafts = read_csv(owner_client.get(EXPORT_URL, {"format": "csv", "status": "draft"}).content)
    submitted = read_csv(
        owner_client.get(EXPORT_URL, {"format": "csv", "status": "submitted"}).content
    )

    assert len(drafts) == 1 and len(submitted) == 1
    assert drafts[0]["product_name"] != submitted[0]["product_name"]


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_export_round_trips_through_import(
    owner_client, approved_supplier, two_suppliers_offers, file_format
):
    before = list(Offer.objects.filter(supplier=approved_supplier).order_by("id"))
    content = owner_client.get(EXPORT_URL, {"format": file_format}).content

    response = owner_client.post(
        IMPORT_URL, {"file": SimpleUploadedFile(f"offers.{file_format}", content)}
    )

    assert response.status_code == 302, error_cells(response) or file_errors(response)
    products, offers = counts(approved_supplier)
    assert (products, offers) == (2, 4), "products reused, offers created again"
    after = list(Offer.objects.filter(supplier=approved_supplier).order_by("id"))[2:]
    for old, new in zip(before, after, strict=True):
        assert new.product_id == old.product_id
        assert new.status == OfferStatus.DRAFT
        for key in Offer.TERM_FIELDS:
            assert getattr(new, key) == getattr(old, key), key
    page = owner_client.get(IMPORT_URL).content.decode()
    assert "existing products used: 2" in page


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_template_has_the_columns_and_one_example_row_that_imports(
    owner_client, approved_supplier, file_format
):
    response = owner_client.get(TEMPLATE_URL, {"format": file_format})

    assert response.status_code == 200
    assert f'filename="offers-import-template.{file_format}"' in response["Content-Disposition"]
    rows = read_csv(response.content) if file_format == "csv" else read_xlsx(response.content)
    assert len(rows) == 1
    assert list(rows[0]) == list(importing.COLUMN_KEYS)
    upload = SimpleUploadedFile(f"template.{file_format}", response.content)
    result = importing.offers_import(supplier=approved_supplier, upload=upload)
    assert result.ok, result.errors
    assert result.offers[0].valid_from == timezone.localdate()


@pytest.mark.parametrize("url", [EXPORT_URL, TEMPLATE_URL])
def test_unknown_format_is_a_bad_request(owner_client, url):
    assert owner_client.get(url, {"format": "pdf"}).status_code == 400


# The page and permissions


def test_import_page_documents_the_columns_and_links_downloads(owner_client):
    response = owner_client.get(IMPORT_URL)

    assert response.status_code == 200
    body = response.content.decode()
    for key in importing.COLUMN_KEYS:
        assert f"<code>{key}</code>" in body
    for testid in ("import-form", "template-csv", "template-xlsx", "export-form", "nav-import"):
        assert f'data-testid="{testid}"' in body
    assert 'enctype="multipart/form-data"' in body


@pytest.mark.parametrize("url", [IMPORT_URL, EXPORT_URL, TEMPLATE_URL])
def test_anonymous_is_sent_to_log_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


@pytest.mark.parametrize("url", [IMPORT_URL, EXPORT_URL, TEMPLATE_URL])
def test_non_supplier_is_refused(client, member, leader, url):
    for user in (member, leader):
        client.force_login(user)
        assert client.get(url).status_code == 403


def test_non_supplier_cannot_post_an_import(client, member):
    client.force_login(member)
    response = client.post(IMPORT_URL, {"file": csv_upload([row()])})
    assert response.status_code == 403
    assert Offer.objects.count() == 0


def test_pending_supplier_is_refused(client):
    pending = SupplierFactory(status=ReviewStatus.PENDING)
    client.force_login(pending.members.get(is_owner=True).user)
    assert client.get(IMPORT_URL).status_code == 403


# Small pieces


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("01234", "01234"),
        ("4210", "0124"),
        ("0,2,4", "024"),
        ("Mon,Wed", "02"),
        ("mon wed FRI", "024"),
        ("Monday;Sunday", "06"),
        ("周一、周三、周日", "026"),
        ("星期二，星期天", "16"),
    ],
)
def test_weekdays_parse(text, digits):
    assert weekdays_parse(text) == digits
    assert weekdays_parse(weekdays_format(digits)) == digits
