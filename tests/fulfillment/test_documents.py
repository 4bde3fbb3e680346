"""The purchase order as PDF, CSV and XLSX (fulfillment/documents.py)."""

import base64
import csv
import io
import re
import zlib
from decimal import Decimal

import pytest
from django.utils import translation
from openpyxl import load_workbook

from fulfillment import documents
from fulfillment.models import PurchaseOrder
from fulfillment.services import purchasing

pytestmark = pytest.mark.django_db


def reload(purchase_order) -> PurchaseOrder:
    return PurchaseOrder.objects.get(pk=purchase_order.pk)


# Reading the PDF back: reportlab writes page streams ASCII85 + Flate encoded, and text in
# the CID font as UCS-2 (big-endian) string literals.


def _streams(data: bytes):
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", data, re.S):
        raw = match.group(1).strip()
        try:
            yield zlib.decompress(base64.a85decode(raw, adobe=True))
        except ValueError:
            try:
                yield zlib.decompress(raw)
            except zlib.error:
                yield raw


def _unescape(literal: bytes) -> bytes:
    out = bytearray()
    index = 0
    while index < len(literal):
        byte = literal[index]
        if byte != 0x5C:  # backslash
            out.append(byte)
            index += 1
            continue
        following = literal[index + 1 : index + 4]
        octal = re.match(rb"[0-7]{1,3}", following)
        if octal:
            out.append(int(octal.group(0), 8) & 0xFF)
            index += 1 + len(octal.group(0))
        else:
            escapes = {b"n": 10, b"r": 13, b"t": 9, b"b": 8, b"f": 12}
            out.append(escapes.get(following[:1], following[0]))
            index += 2
    return bytes(out)


def pdf_text(data: bytes) -> str:
    """The text drawn in the CID font, joined (enough to find numbers and names)."""
    pieces = []
    for stream in _streams(data):
        for literal in re.findall(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", stream, re.S):
            raw = _unescape(literal)
            if len(raw) % 2 == 0:
                pieces.append(raw.decode("utf-16-be", errors="replace"))
    return " ".join(pieces)


@pytest.fixture
def purchase_order(fulfil_round):
    fulfil_round.send()
    return reload(fulfil_round.purchase_order)


# PDF


def test_pdf_has_the_number_lines_and_total(purchase_order):
    data = documents.purchase_order_pdf(purchase_order)
    assert data.startswith(b"%PDF")
    assert purchase_order.number.encode() in data  # document title
    text = pdf_text(data)
    assert purchase_order.number in text
    assert purchase_order.community.name in text
    for line in purchase_order.lines.all():
        assert line.product_name in text
        assert f"¥{line.amount}" in text
    total = sum(line.amount for line in purchase_order.lines.all())
    assert f"¥{total}" in text


def test_pdf_in_chinese_with_a_declined_line_and_a_receipt(fulfil_round):
    fulfil_round.send()
    eggs = fulfil_round.line_of(fulfil_round.shop.eggs)
    grapes = fulfil_round.line_of(fulfil_round.shop.grapes)
    purchasing.purchase_order_acknowledge(
        purchase_order=fulfil_round.purchase_order,
        actor=fulfil_round.supplier_user,
        declined_lines={eggs.pk: "鸡场停产 <script>"},
    )
    purchasing.purchase_order_mark_ready(
        purchase_order=fulfil_round.purchase_order,
        actor=fulfil_round.supplier_user,
        dispatch="shipped",
        note="司机 & 车牌 <沪A>",
    )
    from fulfillment.services import receiving

    receiving.receipt_apply(
        purchase_order=fulfil_round.purchase_order,
        actor=fulfil_round.shop.leader,
        counts={grapes.pk: (grapes.quantity - 1, 1, 0)},
    )
    purchase_order = reload(fulfil_round.purchase_order)
    with translation.override("zh-hans"):
        data = documents.purchase_order_pdf(purchase_order)
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    assert "鸡场停产 <script>" in text
    assert "司机 & 车牌 <沪A>" in text
    # Only the grapes count towards the total.
    assert f"¥{grapes.amount}" in text


# CSV


def _csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_csv_round_trips(purchase_order):
    rows = _csv_rows(documents.purchase_order_csv(purchase_order))
    header, *lines = rows
    assert header[:4] == ["Purchase order", "Delivery date", "Community", "Product"]
    assert len(lines) == purchase_order.lines.count() == 2
    by_product = {row[3]: dict(zip(header, row, strict=True)) for row in lines}
    for line in purchase_order.lines.all():
        row = by_product[line.product_name]
        assert row["Purchase order"] == purchase_order.number
        assert row["Delivery date"] == purchase_order.delivery_date.isoformat()
        assert row["Community"] == purchase_order.community.name
        assert int(row["Case size"]) == line.case_size
        assert int(row["Cases"]) == line.cases
        assert int(row["Quantity"]) == line.quantity
        assert Decimal(row["Unit price"]) == line.unit_price
        assert Decimal(row["Amount"]) == line.amount
        assert row["Declined"] == ""
        assert row["Shipped"] == row["Received"] == row["Short"] == ""


def test_csv_escapes_formulas_and_keeps_commas_and_quotes(purchase_order):
    line = purchase_order.lines.order_by("id").first()
    line.product_name = '=HYPERLINK("http://evil.example","click")'
    line.spec = "@SUM(A1:A9)"
    line.unit = "+1"
    line.save()
    community = purchase_order.community
    community.name = '阳光, "一期"'
    community.save()
    rows = _csv_rows(documents.purchase_order_csv(reload(purchase_order)))
    header, first, _second = rows
    row = dict(zip(header, first, strict=True))
    assert row["Product"] == '\'=HYPERLINK("http://evil.example","click")'
    assert row["Specification"] == "'@SUM(A1:A9)"
    assert row["Unit"] == "'+1"
    assert row["Community"] == '阳光, "一期"'


def test_csv_and_xlsx_have_the_same_columns(purchase_order):
    csv_header = _csv_rows(documents.purchase_order_csv(purchase_order))[0]
    workbook = load_workbook(io.BytesIO(documents.purchase_order_xlsx(purchase_order)))
    xlsx_header = [cell.value for cell in workbook.worksheets[0][1]]
    assert csv_header == xlsx_header


def test_csv_after_decline_and_receipt(fulfil_round):
    fulfil_round.send()
    eggs = fulfil_round.line_of(fulfil_round.shop.eggs)
    purchasing.purchase_order_acknowledge(
        purchase_order=fulfil_round.purchase_order,
        actor=fulfil_round.supplier_user,
        declined_lines={eggs.pk: "停产"},
    )
    purchasing.purchase_order_mark_ready(
        purchase_order=fulfil_round.purchase_order,
        actor=fulfil_round.supplier_user,
        dispatch="ready",
    )
    header, *rows = _csv_rows(documents.purchase_order_csv(reload(fulfil_round.purchase_order)))
    by_product = {row[3]: dict(zip(header, row, strict=True)) for row in rows}
    declined = by_product[eggs.product_name]
    assert declined["Declined"] == "Yes"
    assert declined["Reason for declining"] == "停产"
    assert declined["Shipped"] == ""
    grapes = by_product[fulfil_round.line_of(fulfil_round.shop.grapes).product_name]
    assert grapes["Declined"] == ""
    assert int(grapes["Shipped"]) == int(grapes["Quantity"])


# XLSX


def test_xlsx_opens_with_the_lines_and_details(purchase_order):
    workbook = load_workbook(io.BytesIO(documents.purchase_order_xlsx(purchase_order)))
    lines_sheet, details = workbook.worksheets
    rows = list(lines_sheet.iter_rows(values_only=True))
    header, *lines = rows
    assert len(lines) == 2
    by_product = {row[3]: dict(zip(header, row, strict=True)) for row in lines}
    for line in purchase_order.lines.all():
        row = by_product[line.product_name]
        assert row["Purchase order"] == purchase_order.number
        assert row["Quantity"] == line.quantity
        assert row["Cases"] == line.cases
        assert Decimal(str(row["Amount"])) == line.amount
        assert row["Delivery date"].date() == purchase_order.delivery_date
    info = {label: value for label, value in details.iter_rows(values_only=True)}
    assert info["Purchase order"] == purchase_order.number
    assert info["Deliver to"] == purchase_order.delivery_address
    total = sum(line.amount for line in purchase_order.lines.all())
    assert info["Total"] == f"¥{total}"


def test_xlsx_keeps_formulas_as_text(purchase_order):
    line = purchase_order.lines.order_by("id").first()
    line.product_name = "=1+2"
    line.save()
    workbook = load_workbook(io.BytesIO(documents.purchase_order_xlsx(reload(purchase_order))))
    sheet = workbook.worksheets[0]
    cell = sheet.cell(row=2, column=4)
    assert cell.value == "=1+2"
    assert cell.data_type == "s"


def test_documents_in_chinese(purchase_order):
    with translation.override("zh-hans"):
        csv_data = documents.purchase_order_csv(purchase_order)
        xlsx_data = documents.purchase_order_xlsx(purchase_order)
        pdf_data = documents.purchase_order_pdf(purchase_order)
    assert len(_csv_rows(csv_data)) == 3
    assert load_workbook(io.BytesIO(xlsx_data)).worksheets[0].max_row == 3
    assert pdf_data.startswith(b"%PDF")
