"""Demo products and offers in each state, with generated pictures (seed_demo)."""

import io
from datetime import timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageDraw

from . import services
from .models import Category, Offer, OfferStatus, Product, Storage

# (supplier index, name, name_en, spec, unit, category, storage, colour, offer terms, state)
PRODUCTS = [
    (
        0,
        "阳光玫瑰葡萄",
        "Shine Muscat grapes",
        "500 g x 2",
        "盒",
        "fruit",
        Storage.CHILLED,
        (120, 190, 90),
        ("32.00", "45.90", 12, 6, 400),
        "listed",
    ),
    (
        0,
        "赣南脐橙",
        "Gannan navel oranges",
        "5 kg/箱",
        "箱",
        "fruit",
        Storage.AMBIENT,
        (240, 150, 40),
        ("38.00", "59.00", 10, 1, 200),
        "listed",
    ),
    (
        0,
        "海南金钻凤梨",
        "Hainan pineapple",
        "约 1.5 kg/个",
        "个",
        "fruit",
        Storage.AMBIENT,
        (230, 200, 60),
        ("12.50", "19.90", 20, 4, 300),
        "submitted",
    ),
    (
        0,
        "进口车厘子 JJ 级",
        "Cherries JJ grade",
        "1 kg",
        "盒",
        "fruit",
        Storage.CHILLED,
        (150, 20, 40),
        ("88.00", "79.00", 6, 6, 100),
        "rejected",
    ),
    (
        1,
        "本地小青菜",
        "Local bok choy",
        "500 g",
        "份",
        "vegetables",
        Storage.CHILLED,
        (60, 150, 60),
        ("2.80", "4.50", 50, 10, 1000),
        "listed",
    ),
    (
        1,
        "农家土鸡蛋",
        "Free-range eggs",
        "30 枚/盒",
        "盒",
        "meat-eggs",
        Storage.CHILLED,
        (230, 210, 170),
        ("26.00", "36.00", 20, 10, 300),
        "listed",
    ),
    (
        1,
        "有机西红柿",
        "Organic tomatoes",
        "1 kg",
        "份",
        "vegetables",
        Storage.CHILLED,
        (220, 60, 50),
        ("9.00", "13.80", 30, 10, 500),
        "changes_requested",
    ),
    (
        1,
        "鲜玉米",
        "Sweet corn",
        "3 根",
        "份",
        "vegetables",
        Storage.AMBIENT,
        (240, 220, 90),
        ("6.00", "9.90", 30, 10, 500),
        "draft",
    ),
]


def _picture(colour: tuple[int, int, int], label: str) -> SimpleUploadedFile:
    image = Image.new("RGB", (800, 800), colour)
    draw = ImageDraw.Draw(image)
    draw.ellipse((160, 160, 640, 640), fill=tuple(min(255, c + 50) for c in colour))
    draw.text((40, 40), label, fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return SimpleUploadedFile(f"{label}.png", buffer.getvalue(), content_type="image/png")


def seed_catalog(*, staff, suppliers) -> dict[str, int]:
    """Products with pictures and offers in each review state; safe to run again."""
    services.categories_ensure_defaults()
    today = timezone.localdate()
    counts: dict[str, int] = {}
    for index, name, name_en, spec, unit, category, storage, colour, terms, state in PRODUCTS:
        supplier = suppliers[index]
        owner = supplier.members.get(is_owner=True).user
        product = Product.objects.filter(supplier=supplier, name=name, spec=spec).first()
        if product is None:
            product = services.product_create(
                supplier=supplier,
                name=name,
                name_en=name_en,
                spec=spec,
                unit=unit,
                category=Category.objects.get(code=category),
                brand="",
                origin="中国",
                barcode="",
                storage=storage,
                shelf_life_days=7,
                description=f"{name}，产地直供，次日达。",
                description_en=f"{name_en}, straight from the grower, next-day delivery.",
            )
            services.product_image_add(product=product, upload=_picture(colour, name_en))
        if not Offer.objects.filter(product=product).exists():
            supply, retail, moq, case, capacity = terms
            offer = services.offer_create(
                product=product,
                supply_price=Decimal(supply),
                retail_price=Decimal(retail),
                min_order_qty=moq,
                case_size=case,
                daily_capacity=capacity,
                lead_time_days=1,
                delivery_weekdays="0123456",
                valid_from=today,
                valid_until=today + timedelta(days=90),
                notes="",
            )
            if state != "draft":
                services.offer_submit(offer=offer, actor=owner)
            if state == "listed":
                services.offer_approve(offer=offer, actor=staff)
            elif state == "rejected":
                services.offer_reject(
                    offer=offer, actor=staff, reason="建议零售价低于供货价，请核实价格。"
                )
            elif state == "changes_requested":
                services.offer_request_changes(
                    offer=offer, actor=staff, reason="请补充产地和检测报告信息。"
                )
        counts[state] = counts.get(state, 0) + 1
    for supplier in suppliers:
        contract = supplier.contracts.filter(status="pending_signature").first()
        if contract is not None:
            owner = supplier.members.get(is_owner=True).user
            services.contract_sign(
                contract=contract,
                actor=owner,
                typed_name=owner.display_name,
                agreed=True,
                ip="127.0.0.1",
            )
    counts["listed_now"] = Offer.objects.filter(
        status=OfferStatus.APPROVED, supplier__in=suppliers
    ).count()
    return counts
