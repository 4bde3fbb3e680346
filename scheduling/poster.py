"""The share poster: a 750 x 1200 PNG for pasting into the community's WeChat group.

Pure image building, no HTTP: the view passes the texts (already translated) and the
absolute URL of the share page, which becomes the QR code.
"""

import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import segno
from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 750, 1200
MAX_ITEMS = 6
MARGIN = 48
QR_SIZE = 300

BRAND = (214, 64, 38)
TEXT = (31, 35, 40)
MUTED = (99, 108, 118)
RULE = (234, 238, 242)
WHITE = (255, 255, 255)

# fonts-noto-cjk (installed in CI and the Docker image). The collection holds several
# faces; the Simplified Chinese one is picked by name.
CJK_FONT_PATHS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
)


@dataclass(frozen=True)
class PosterItem:
    name: str
    price: str  # already formatted, e.g. "¥15.00 / 盒"


@lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    for path in CJK_FONT_PATHS:
        if not Path(path).exists():
            continue
        for index in range(8):
            try:
                font = ImageFont.truetype(path, size, index=index)
            except OSError:
                break
            if "SC" in font.getname()[0]:
                return font
        return ImageFont.truetype(path, size, index=0)
    # No CJK font installed: Pillow's built-in font draws Latin text only, so Chinese
    # comes out as boxes. Install fonts-noto-cjk to get a readable poster.
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType: fixed-size bitmap font
        return ImageFont.load_default()


def _fit(draw: ImageDraw.ImageDraw, text: str, font, max_width: int) -> str:
    """The text, cut with an ellipsis to fit max_width pixels."""
    if draw.textlength(text, font=font) <= max_width:
        return text
    while text and draw.textlength(text + "…", font=font) > max_width:
        text = text[:-1]
    return text + "…"


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, max_width: int, lines: int) -> list[str]:
    """Break text (Chinese has no spaces: by character) into at most ``lines`` lines."""
    out, current = [], ""
    for char in text:
        if draw.textlength(current + char, font=font) > max_width:
            out.append(current)
            current = char
            if len(out) == lines:
                break
        else:
            current += char
    else:
        out.append(current)
        return [line for line in out if line]
    out[-1] = _fit(draw, out[-1] + current, font, max_width)
    return out[:lines]


def qr_png(url: str, *, size: int = QR_SIZE) -> Image.Image:
    """The QR code of ``url`` on a white size x size square, modules whole pixels wide
    (no resampling, so phone cameras read it reliably)."""
    qr = segno.make(url, error="m")
    border = 2
    modules = qr.symbol_size(scale=1, border=border)[0]
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=max(1, size // modules), border=border)
    buffer.seek(0)
    code = Image.open(buffer).convert("RGB")
    square = Image.new("RGB", (size, size), WHITE)
    square.paste(code, ((size - code.width) // 2, (size - code.height) // 2))
    return square


def build_poster(
    *,
    title: str,
    community_name: str,
    items: list[PosterItem],
    more_text: str,
    cutoff_text: str,
    pickup_text: str,
    scan_text: str,
    url: str,
) -> bytes:
    """PNG bytes of the poster. ``items`` beyond MAX_ITEMS are summed up by ``more_text``."""
    image = Image.new("RGB", (WIDTH, HEIGHT), WHITE)
    draw = ImageDraw.Draw(image)
    inner = WIDTH - 2 * MARGIN

    # Header band: community and title.
    draw.rectangle((0, 0, WIDTH, 230), fill=BRAND)
    draw.text(
        (MARGIN, 40), _fit(draw, community_name, _font(30), inner), font=_font(30), fill=WHITE
    )
    y = 90
    for line in _wrap(draw, title, _font(46), inner, 2):
        draw.text((MARGIN, y), line, font=_font(46), fill=WHITE)
        y += 58

    # Items with prices.
    y = 260
    name_font, price_font = _font(32), _font(32)
    for item in items[:MAX_ITEMS]:
        price_width = int(draw.textlength(item.price, font=price_font))
        name = _fit(draw, item.name, name_font, inner - price_width - 24)
        draw.text((MARGIN, y), name, font=name_font, fill=TEXT)
        draw.text((WIDTH - MARGIN - price_width, y), item.price, font=price_font, fill=BRAND)
        y += 56
        draw.line((MARGIN, y - 10, WIDTH - MARGIN, y - 10), fill=RULE, width=2)
    if more_text:
        draw.text((MARGIN, y), _fit(draw, more_text, _font(26), inner), font=_font(26), fill=MUTED)
    y = 260 + 56 * MAX_ITEMS + 44

    # Cut-off and pickup.
    draw.text((MARGIN, y), _fit(draw, cutoff_text, _font(30), inner), font=_font(30), fill=TEXT)
    y += 48
    for line in _wrap(draw, pickup_text, _font(26), inner, 2):
        draw.text((MARGIN, y), line, font=_font(26), fill=MUTED)
        y += 36

    # The QR code to the share page, centred at the bottom.
    qr = qr_png(url)
    qr_top = HEIGHT - QR_SIZE - 90
    image.paste(qr, ((WIDTH - QR_SIZE) // 2, qr_top))
    scan = _fit(draw, scan_text, _font(26), inner)
    scan_width = draw.textlength(scan, font=_font(26))
    draw.text(((WIDTH - scan_width) / 2, qr_top + QR_SIZE + 20), scan, font=_font(26), fill=MUTED)

    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
