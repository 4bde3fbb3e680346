"""The printable pickup lists of a schedule: per pickup point (and one for home delivery),
by member (bag number, name, masked phone, pickup code, items) and by product (totals).

``pickup_lists(schedule)`` reads everything in two queries, whatever the number of orders;
``pickup_lists_pdf(schedule, sections)`` draws the same lists with reportlab.
"""

import io
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from catalog.contract_pdf import PDF_FONT
from orders.models import Fulfilment, LineStatus, Order, OrderLine, OrderStatus
from scheduling.models import Schedule

# Orders on the lists: goods arrived (or handed over); confirmed ones are listed too, marked
# "goods not received yet", so the list can be printed before everything has arrived.
LISTED_STATUSES = (
    OrderStatus.CONFIRMED,
    OrderStatus.READY_FOR_PICKUP,
    OrderStatus.PICKED_UP,
)

POINT = "point"
DELIVERY = "delivery"


@dataclass
class ListItem:
    product_name: str
    spec: str
    unit: str
    units: int  # to hand over
    short: int  # did not arrive (refunded)
    picked_up: bool


@dataclass
class MemberEntry:
    bag: int
    order: Order
    name: str
    masked_phone: str
    pickup_code: str
    items: list[ListItem]

    @property
    def not_received(self) -> bool:
        return self.order.status == OrderStatus.CONFIRMED

    @property
    def picked_up(self) -> bool:
        return self.order.status == OrderStatus.PICKED_UP

    @property
    def delivery_address(self) -> str:
        return self.order.delivery_address if self.order.fulfilment == Fulfilment.DELIVERY else ""


@dataclass
class ProductTotal:
    product_name: str
    spec: str
    unit: str
    units: int = 0
    short: int = 0
    orders: int = 0


@dataclass
class PickupSection:
    kind: str  # POINT or DELIVERY
    key: str  # stable id for anchors and test ids
    title: str
    address: str = ""
    contact_phone: str = ""
    members: list[MemberEntry] = field(default_factory=list)
    products: list[ProductTotal] = field(default_factory=list)

    @property
    def total_units(self) -> int:
        return sum(product.units for product in self.products)


def _listed_orders(schedule: Schedule):
    lines = OrderLine.objects.filter(status=LineStatus.ACTIVE).order_by("id")
    return (
        Order.objects.filter(schedule=schedule, status__in=LISTED_STATUSES)
        .select_related("member", "pickup_point")
        .prefetch_related(Prefetch("lines", queryset=lines))
        .order_by("id")
    )


def _sort_name(member) -> str:
    return str(member).casefold()


def _entry_items(order: Order) -> list[ListItem]:
    return [
        ListItem(
            product_name=line.product_name,
            spec=line.spec,
            unit=line.unit,
            units=line.units_to_hand_over,
            short=line.short_units,
            picked_up=line.picked_up_at is not None,
        )
        for line in order.lines.all()
    ]


def _fill(section: PickupSection, orders: list[Order]) -> None:
    orders = sorted(orders, key=lambda order: (_sort_name(order.member), order.number))
    totals: dict[tuple, ProductTotal] = {}
    for bag, order in enumerate(orders, start=1):
        items = _entry_items(order)
        section.members.append(
            MemberEntry(
                bag=bag,
                order=order,
                name=str(order.member),
                masked_phone=order.member.masked_phone,
                pickup_code=order.pickup_code,
                items=items,
            )
        )
        for line in order.lines.all():
            key = (line.item_id, line.product_name, line.spec, line.unit)
            total = totals.setdefault(key, ProductTotal(line.product_name, line.spec, line.unit))
            total.units += line.units_to_hand_over
            total.short += line.short_units
            total.orders += 1
    section.products = sorted(totals.values(), key=lambda total: total.product_name)


def pickup_lists(schedule: Schedule) -> list[PickupSection]:
    """One section per pickup point of the schedule (and of any listed order), then home
    delivery if any order is delivered; members in order of name, bag numbers 1..n."""
    orders = list(_listed_orders(schedule))
    points = {point.pk: point for point in schedule.pickup_points.all()}
    by_point: dict[int | None, list[Order]] = {}
    delivery: list[Order] = []
    for order in orders:
        if order.fulfilment == Fulfilment.DELIVERY:
            delivery.append(order)
            continue
        by_point.setdefault(order.pickup_point_id, []).append(order)
        if order.pickup_point_id and order.pickup_point_id not in points:
            points[order.pickup_point_id] = order.pickup_point
    sections = []
    for point in sorted(points.values(), key=lambda point: (point.name, point.pk)):
        section = PickupSection(
            kind=POINT,
            key=f"point-{point.pk}",
            title=point.name,
            address=point.address,
            contact_phone=str(point.contact_phone or ""),
        )
        _fill(section, by_point.get(point.pk, []))
        sections.append(section)
    if by_point.get(None):
        section = PickupSection(kind=POINT, key="point-none", title=_("No pickup point"))
        _fill(section, by_point[None])
        sections.append(section)
    if delivery:
        section = PickupSection(kind=DELIVERY, key="delivery", title=_("Home delivery"))
        _fill(section, delivery)
        sections.append(section)
    return sections


# PDF


def _item_text(item: ListItem) -> str:
    text = f"{item.product_name}"
    if item.spec:
        text += f" ({item.spec})"
    text += f" × {item.units}"
    if item.short:
        text += " " + _("(%(n)s short, refunded)") % {"n": item.short}
    if item.picked_up:
        text += " " + _("(handed over)")
    return text


def _member_status(entry: MemberEntry) -> str:
    if entry.not_received:
        return _("Goods not received yet")
    if entry.picked_up:
        return _("Picked up")
    return ""


def pickup_lists_pdf(schedule: Schedule, sections: list[PickupSection]) -> bytes:
    """The lists as an A4 PDF, one pickup point per page; Chinese in STSong-Light."""
    base = ParagraphStyle("list", fontName=PDF_FONT, fontSize=9.5, leading=13, wordWrap="CJK")
    title_style = ParagraphStyle("title", parent=base, fontSize=16, leading=22, spaceAfter=4)
    heading = ParagraphStyle("heading", parent=base, fontSize=12.5, leading=18, spaceBefore=6)
    muted = ParagraphStyle("muted", parent=base, textColor="#57606a")

    def cell(text) -> Paragraph:
        lines = [escape(part) for part in str(text).splitlines()] or [""]
        return Paragraph("<br/>".join(lines), base)

    table_style = TableStyle(
        [
            ("FONTNAME", (0, 0), (-1, -1), PDF_FONT),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#8c959f")),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f4")),
            ("REPEATROWS", (0, 0), (-1, 0)),
        ]
    )
    printed = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    start = timezone.localtime(schedule.pickup_start)
    end = timezone.localtime(schedule.pickup_end)
    window = f"{start:%m-%d %H:%M} – {end:%m-%d %H:%M}"
    story = []
    if not sections:
        story += [
            Paragraph(escape(_("Pickup list")) + " · " + escape(schedule.title), title_style),
            Paragraph(escape(_("No orders to hand over yet.")), muted),
        ]
    for index, section in enumerate(sections):
        if index:
            story.append(PageBreak())
        story.append(
            Paragraph(
                escape(_("Pickup list"))
                + " · "
                + escape(schedule.title)
                + " · "
                + escape(section.title),
                title_style,
            )
        )
        details = [_("Pickup window: %(window)s") % {"window": window}]
        if section.address:
            details.append(section.address)
        if section.contact_phone:
            details.append(section.contact_phone)
        details.append(_("Printed %(when)s") % {"when": printed})
        story.append(Paragraph(escape(" · ".join(details)), muted))
        story.append(Paragraph(escape(_("By member")), heading))
        if section.members:
            rows = [
                [
                    cell(_("Bag")),
                    cell(_("Member")),
                    cell(_("Phone")),
                    cell(_("Pickup code")),
                    cell(_("Items")),
                    cell(_("Note")),
                    cell(_("Handed over")),
                ]
            ]
            for entry in section.members:
                note = _member_status(entry)
                if entry.delivery_address:
                    note = "\n".join(filter(None, [entry.delivery_address, note]))
                rows.append(
                    [
                        cell(entry.bag),
                        cell(entry.name),
                        cell(entry.masked_phone),
                        cell(entry.pickup_code or "—"),
                        cell("\n".join(_item_text(item) for item in entry.items)),
                        cell(note),
                        cell(""),
                    ]
                )
            widths = [10 * mm, 28 * mm, 26 * mm, 22 * mm, 58 * mm, 26 * mm, 14 * mm]
            table = Table(rows, colWidths=widths, repeatRows=1)
            table.setStyle(table_style)
            story.append(table)
        else:
            story.append(Paragraph(escape(_("No orders for this pickup point.")), muted))
        story.append(Spacer(1, 6))
        story.append(Paragraph(escape(_("By product")), heading))
        if section.products:
            rows = [
                [
                    cell(_("Product")),
                    cell(_("Units to hand over")),
                    cell(_("Short")),
                    cell(_("Orders")),
                ]
            ]
            for product in section.products:
                name = product.product_name + (f" ({product.spec})" if product.spec else "")
                rows.append(
                    [
                        cell(name),
                        cell(f"{product.units} {product.unit}".strip()),
                        cell(product.short or "—"),
                        cell(product.orders),
                    ]
                )
            rows.append([cell(_("Total")), cell(section.total_units), cell(""), cell("")])
            table = Table(rows, colWidths=[80 * mm, 38 * mm, 26 * mm, 20 * mm], repeatRows=1)
            table.setStyle(table_style)
            story.append(table)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=14 * mm,
        bottomMargin=14 * mm,
        title=f"{_('Pickup list')} {schedule.title}",
        author=schedule.community.name,
    )
    document.build(story)
    return buffer.getvalue()
