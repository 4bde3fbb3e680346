"""A purchase order as a document: PDF (reportlab, Chinese with the STSong-Light CID font),
CSV (UTF-8 with a BOM, cells that a spreadsheet would run are escaped) and XLSX (text
cells are always text). CSV and XLSX have the same columns, one row per line.

Used by the supplier's and the leader's pages; texts follow the active language.
"""

import csv
import io
from datetime import date
from decimal import Decimal
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from groupbuy.spreadsheets import spreadsheet_text

from .models import PurchaseOrder, PurchaseOrderLine

PDF_FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(PDF_FONT))


def _lines(purchase_order: PurchaseOrder) -> list[PurchaseOrderLine]:
    return list(purchase_order.lines.order_by("id"))


def _payable(lines: list[PurchaseOrderLine]) -> Decimal:
    return sum((line.amount for line in lines if not line.declined), Decimal("0.00"))


# Spreadsheets: the same columns in CSV and XLSX


def _columns() -> list[str]:
    return [
        _("Purchase order"),
        _("Delivery date"),
        _("Community"),
        _("Product"),
        _("Specification"),
        _("Unit"),
        _("Case size"),
        _("Cases"),
        _("Quantity"),
        _("Unit price"),
        _("Amount"),
        _("Declined"),
        _("Reason for declining"),
        _("Shipped"),
        _("Received"),
        _("Short"),
        _("Damaged"),
    ]


# Columns (0-based) holding money and dates, for the XLSX number formats.
_MONEY_COLUMNS = {9, 10}
_DATE_COLUMNS = {1}


def _line_row(purchase_order: PurchaseOrder, line: PurchaseOrderLine) -> list:
    received = line.received_quantity is not None
    return [
        purchase_order.number,
        purchase_order.delivery_date,
        purchase_order.community.name,
        line.product_name,
        line.spec,
        line.unit,
        line.case_size,
        line.cases,
        line.quantity,
        line.unit_price,
        line.amount,
        _("Yes") if line.declined else "",
        line.decline_reason if line.declined else "",
        line.shipped_quantity,
        line.received_quantity,
        line.short_quantity if received else None,
        line.damaged_quantity if received else None,
    ]


def _rows(purchase_order: PurchaseOrder) -> list[list]:
    return [_line_row(purchase_order, line) for line in _lines(purchase_order)]


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return spreadsheet_text(value)
    return str(value)


def purchase_order_csv(purchase_order: PurchaseOrder) -> bytes:
    """The lines as CSV: a header row, then one row per line (UTF-8 with a BOM for Excel)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(_columns())
    for row in _rows(purchase_order):
        writer.writerow([_csv_cell(value) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _xlsx_cell(sheet, index: int, value):
    cell = WriteOnlyCell(sheet, value=None if value == "" else value)
    if isinstance(value, str) and value:
        cell.data_type = "s"  # never a formula, even if it starts with "="
    elif index in _MONEY_COLUMNS:
        cell.number_format = "0.00"
    elif index in _DATE_COLUMNS:
        cell.number_format = "yyyy-mm-dd"
    return cell


def _xlsx_text_row(sheet, values, *, bold=False) -> list:
    font = Font(bold=True) if bold else None
    row = []
    for value in values:
        cell = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str) and value:
            cell.data_type = "s"
        if font:
            cell.font = font
        row.append(cell)
    return row


def purchase_order_xlsx(purchase_order: PurchaseOrder) -> bytes:
    """The lines in a first sheet (the CSV's columns), the order's details in a second."""
    lines = _lines(purchase_order)
    rows = [_line_row(purchase_order, line) for line in lines]
    columns = _columns()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Lines"))
    sheet.freeze_panes = "A2"
    for index, name in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(10, len(name) + 4)
    sheet.append(_xlsx_text_row(sheet, columns, bold=True))
    for row in rows:
        sheet.append([_xlsx_cell(sheet, index, value) for index, value in enumerate(row)])

    details = workbook.create_sheet(_("Purchase order"))
    details.column_dimensions["A"].width = 18
    details.column_dimensions["B"].width = 60
    for label, value in [
        (_("Purchase order"), purchase_order.number),
        *_details(purchase_order),
        (_("Total"), f"¥{_payable(lines)}"),
    ]:
        details.append(_xlsx_text_row(details, [label, value]))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _details(purchase_order: PurchaseOrder) -> list[tuple]:
    """Label and text of the order's header, as the PDF and the XLSX show them."""
    community = purchase_order.community
    rows = [
        (_("Status"), purchase_order.get_status_display()),
        (_("Supplier"), purchase_order.supplier.name),
        (_("Community"), community.name),
        (_("Leader"), str(community.leader)),
        (_("Delivery date"), purchase_order.delivery_date.isoformat()),
        (_("Deliver to"), purchase_order.delivery_address),
        (_("Contact phone"), purchase_order.contact_phone or "—"),
    ]
    if purchase_order.sent_at:
        sent = timezone.localtime(purchase_order.sent_at)
        rows.append((_("Sent"), f"{sent:%Y-%m-%d %H:%M}"))
    if purchase_order.dispatch:
        rows.append((_("Dispatch"), purchase_order.get_dispatch_display()))
    if purchase_order.delivery_note:
        rows.append((_("Delivery note"), purchase_order.delivery_note))
    if purchase_order.decline_reason:
        rows.append((_("Reason for declining"), purchase_order.decline_reason))
    return rows


# PDF


def _text(value) -> str:
    """Plain text as a reportlab paragraph: escaped, line breaks kept."""
    return "<br/>".join(escape(line.strip()) for line in str(value).splitlines())


def purchase_order_pdf(purchase_order: PurchaseOrder) -> bytes:
    """A printable purchase order (A4): header, lines with cases and amounts, total."""
    lines = _lines(purchase_order)
    base = ParagraphStyle("po", fontName=PDF_FONT, fontSize=9.5, leading=14, wordWrap="CJK")
    title = ParagraphStyle("title", parent=base, fontSize=17, leading=24, spaceAfter=6)
    cell = ParagraphStyle("cell", parent=base, fontSize=8.5, leading=11)
    number_cell = ParagraphStyle("number", parent=cell, alignment=2)  # right aligned
    head = ParagraphStyle("head", parent=cell, textColor="#57606a")
    head_number = ParagraphStyle("head-number", parent=head, alignment=2)
    muted = ParagraphStyle("muted", parent=cell, textColor="#57606a")

    story = [
        Paragraph(escape(_("Purchase order %(number)s") % {"number": purchase_order.number}), title)
    ]
    header = [
        [Paragraph(escape(label), head), Paragraph(_text(value), base)]
        for label, value in _details(purchase_order)
    ]
    header_table = Table(header, colWidths=[32 * mm, 138 * mm], hAlign="LEFT")
    header_table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    story += [header_table, Spacer(1, 6 * mm)]

    numbers = (
        _("Case size"),
        _("Cases"),
        _("Quantity"),
        _("Unit price"),
        _("Amount"),
        _("Shipped"),
        _("Received"),
    )
    table = [
        [Paragraph("#", head), Paragraph(escape(_("Product")), head)]
        + [Paragraph(escape(name), head_number) for name in numbers]
    ]
    for position, line in enumerate(lines, start=1):
        product = _text(line.product_name)
        if line.spec:
            product += f"<br/><font color='#57606a'>{_text(line.spec)}</font>"
        if line.declined:
            product += "<br/>" + escape(_("Declined: %(reason)s") % {"reason": line.decline_reason})
        received = "—"
        if line.received_quantity is not None:
            received = str(line.received_quantity)
            if line.short_quantity or line.damaged_quantity:
                received += "<br/>" + escape(
                    _("short %(short)s, damaged %(damaged)s")
                    % {"short": line.short_quantity, "damaged": line.damaged_quantity}
                )
        values = (
            f"{line.case_size} {escape(line.unit)}",
            str(line.cases),
            f"{line.quantity} {escape(line.unit)}",
            f"¥{line.unit_price}",
            f"¥{line.amount}",
            "—" if line.shipped_quantity is None else str(line.shipped_quantity),
            received,
        )
        style = muted if line.declined else cell
        table.append(
            [Paragraph(str(position), style), Paragraph(product, style)]
            + [Paragraph(value, number_cell) for value in values]
        )
    total_label = _("Total (lines not declined)")
    table.append(
        [Paragraph("", cell), Paragraph(escape(total_label), base)]
        + [Paragraph("", cell)] * 3
        + [Paragraph("", cell), Paragraph(f"¥{_payable(lines)}", number_cell)]
        + [Paragraph("", cell)] * 2
    )
    widths = [8, 50, 16, 13, 18, 18, 19, 14, 14]
    lines_table = Table(table, colWidths=[w * mm for w in widths], repeatRows=1, hAlign="LEFT")
    lines_table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.HexColor("#d0d7de")),
                ("LINEBELOW", (0, 1), (-1, -2), 0.3, colors.HexColor("#eaeef2")),
                ("LINEABOVE", (0, -1), (-1, -1), 0.8, colors.HexColor("#d0d7de")),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    story.append(lines_table)
    generated = timezone.localtime()
    story += [
        Spacer(1, 6 * mm),
        Paragraph(escape(_("Printed %(when)s") % {"when": f"{generated:%Y-%m-%d %H:%M}"}), muted),
    ]

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=purchase_order.number,
        author=purchase_order.supplier.name,
        subject=_("Purchase order"),
    )
    document.build(story)
    return buffer.getvalue()
