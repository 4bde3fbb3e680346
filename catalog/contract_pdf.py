"""The supply contract as a PDF (reportlab)."""

import io
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

PDF_FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(PDF_FONT))


def _pdf_text(text) -> str:
    """Plain text as a reportlab paragraph: escaped, line breaks kept."""
    lines = [escape(line.strip()) for line in str(text).splitlines()]
    return "<br/>".join(lines)


def _signed_time(contract) -> str:
    local = timezone.localtime(contract.signed_at)
    return f"{local:%Y-%m-%d %H:%M:%S} ({timezone.get_current_timezone_name()})"


def contract_pdf_bytes(contract, *, supplier) -> bytes:
    """The contract as a PDF; Chinese renders with the built-in STSong-Light CID font."""
    base = ParagraphStyle("contract", fontName=PDF_FONT, fontSize=10.5, leading=16, wordWrap="CJK")
    title = ParagraphStyle("title", parent=base, fontSize=18, leading=26, spaceAfter=8)
    heading = ParagraphStyle("heading", parent=base, fontSize=13, leading=20, spaceBefore=10)
    muted = ParagraphStyle("muted", parent=base, textColor="#57606a")

    def row(label, value):
        return Paragraph(f"{escape(str(label))}: {_pdf_text(value)}", base)

    story = [
        Paragraph(escape(_("Supply contract")), title),
        row(_("Supplier"), supplier.name),
        row(_("Terms version"), contract.terms_version),
        row(_("Status"), contract.get_status_display()),
        row(_("Commission"), f"{contract.commission_rate}%"),
        row(_("Valid"), f"{contract.valid_from:%Y-%m-%d} – {contract.valid_until:%Y-%m-%d}"),
        Paragraph(escape(_("Fees and settlement")), heading),
        Paragraph(_pdf_text(contract.fee_terms), base),
        Paragraph(escape(_("Terms")), heading),
    ]
    for block in str(contract.terms_text).split("\n\n"):
        if block.strip():
            story += [Paragraph(_pdf_text(block), base), Spacer(1, 6)]
    story.append(Paragraph(escape(_("Signature")), heading))
    if contract.signed_at:
        story += [
            row(_("Signed by"), contract.signed_name),
            row(_("Signed at"), _signed_time(contract)),
            row(_("Signed from IP address"), contract.signed_ip or "—"),
        ]
    else:
        story.append(Paragraph(escape(_("Not signed yet.")), muted))

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"{_('Supply contract')} {contract.terms_version}",
        author=supplier.name,
    )
    document.build(story)
    return buffer.getvalue()
