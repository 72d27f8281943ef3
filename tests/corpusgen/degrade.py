"""Turn clean rendered pages into scans and phone photos, with the geometry known.

``degrade_scan(image, rng)`` (used by ``render.py`` for the "scan" format): small rotation, blur,
noise, uneven light, JPEG artefacts. ``degrade_photo(image, rng)``: perspective, shadow, warm
light, a background around the sheet. Both go through ``degrade(image, Recipe)``, which returns the
3x3 matrix mapping clean-page pixels to degraded-image pixels so tests can check where a cell
ended up. ``grid_page(...)`` draws a small timetable-like grid with Pillow (merged cells, colour
coded cells, text written at 90 degrees) and returns the cell boxes, for OCR tests that need
known cells without the whole generator.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/truetype/liberation"))


@dataclass(frozen=True)
class Recipe:
    rotation_deg: float = 0.0  # counter-clockwise
    blur_sigma: float = 0.0
    noise_sigma: float = 0.0
    jpeg_quality: int | None = None
    # Corner offsets as fractions of width/height (tl, tr, br, bl), (dx, dy) each: a phone's perspective.
    perspective: tuple[tuple[float, float], ...] | None = None
    light_gradient: float = 0.0  # 0..1 darkening from one side to the other
    shadow: float = 0.0  # 0..1 depth of a soft diagonal shadow band
    tint: tuple[int, int, int] = (255, 255, 255)  # paper / light colour multiplier (RGB)
    background: tuple[int, int, int] | None = None  # colour around the sheet (photos)
    margin: float = 0.0  # background margin as a fraction of the page size


@dataclass
class Degraded:
    image: Image.Image
    matrix: np.ndarray  # 3x3, clean-page (x, y, 1) -> degraded-image pixels
    recipe: Recipe
    jpeg: bytes | None = None

    def map_point(self, x: float, y: float) -> tuple[float, float]:
        point = self.matrix @ np.array([x, y, 1.0])
        return float(point[0] / point[2]), float(point[1] / point[2])


def scan_recipe(rng: random.Random) -> Recipe:
    return Recipe(
        rotation_deg=rng.choice((-1, 1)) * rng.uniform(0.5, 3.0),
        blur_sigma=rng.uniform(0.3, 1.0),
        noise_sigma=rng.uniform(3, 9),
        jpeg_quality=rng.randint(40, 65),
        light_gradient=rng.uniform(0.05, 0.25),
        tint=(rng.randint(235, 255), rng.randint(232, 252), rng.randint(222, 245)),
    )


def photo_recipe(rng: random.Random) -> Recipe:
    def jitter() -> tuple[float, float]:
        return rng.uniform(-0.06, 0.06), rng.uniform(-0.05, 0.05)

    return Recipe(
        rotation_deg=rng.uniform(-3.0, 3.0),
        blur_sigma=rng.uniform(0.4, 1.2),
        noise_sigma=rng.uniform(4, 10),
        jpeg_quality=rng.randint(60, 85),
        perspective=(jitter(), jitter(), jitter(), jitter()),
        light_gradient=rng.uniform(0.1, 0.3),
        shadow=rng.uniform(0.2, 0.45),
        tint=(255, rng.randint(236, 250), rng.randint(210, 235)),
        background=(rng.randint(60, 120), rng.randint(60, 110), rng.randint(50, 100)),
        margin=0.08,
    )


def degrade_scan(image: Image.Image, rng: random.Random) -> bytes:
    """A flatbed-scan look as JPEG bytes (the generator's "scan" format)."""
    result = degrade(image, scan_recipe(rng))
    assert result.jpeg is not None
    return result.jpeg


def degrade_photo(image: Image.Image, rng: random.Random) -> bytes:
    """A phone-photo look as JPEG bytes: perspective, shadow, warm light, background around the sheet."""
    result = degrade(image, photo_recipe(rng))
    assert result.jpeg is not None
    return result.jpeg


def degrade(image: Image.Image, recipe: Recipe) -> Degraded:
    page = cv2.cvtColor(np.asarray(image.convert("RGB")), cv2.COLOR_RGB2BGR).astype(np.float32)
    height, width = page.shape[:2]
    # Paper tint and light: multiply, so ink stays dark and fills keep their hue.
    tint = np.array(recipe.tint[::-1], np.float32) / 255.0
    page *= tint
    if recipe.light_gradient:
        ramp = np.linspace(1.0, 1.0 - recipe.light_gradient, width, dtype=np.float32)
        page *= ramp[None, :, None]
    if recipe.shadow:
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
        distance = (xs / width + ys / height - 0.9) / 0.25
        band = np.exp(-(distance**2))
        page *= (1.0 - recipe.shadow * band)[:, :, None]

    matrix = np.eye(3)
    margin_x, margin_y = int(width * recipe.margin), int(height * recipe.margin)
    out_w, out_h = width + 2 * margin_x, height + 2 * margin_y
    shift = np.array([[1, 0, margin_x], [0, 1, margin_y], [0, 0, 1]], np.float64)
    matrix = shift @ matrix
    if recipe.perspective:
        src = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
        dst = np.array(
            [
                [x + dx * width, y + dy * height]
                for (x, y), (dx, dy) in zip(src, recipe.perspective, strict=True)
            ],
            np.float32,
        )
        matrix = shift @ cv2.getPerspectiveTransform(src, dst).astype(np.float64)
    if recipe.rotation_deg:
        rotation = cv2.getRotationMatrix2D((out_w / 2, out_h / 2), recipe.rotation_deg, 1.0)
        matrix = np.vstack([rotation, [0, 0, 1]]) @ matrix
    background = recipe.background or tuple(int(c * 0.97) for c in recipe.tint)
    warped = cv2.warpPerspective(
        page,
        matrix,
        (out_w, out_h),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=tuple(float(c) for c in background[::-1]),
    )
    if recipe.blur_sigma:
        warped = cv2.GaussianBlur(warped, (0, 0), recipe.blur_sigma)
    if recipe.noise_sigma:
        noise = np.random.default_rng(int(recipe.noise_sigma * 1000)).normal(
            0, recipe.noise_sigma, warped.shape
        )
        warped = warped + noise.astype(np.float32)
    out = Image.fromarray(cv2.cvtColor(np.clip(warped, 0, 255).astype(np.uint8), cv2.COLOR_BGR2RGB))
    jpeg = None
    if recipe.jpeg_quality is not None:
        buffer = io.BytesIO()
        out.save(buffer, format="JPEG", quality=recipe.jpeg_quality)
        jpeg = buffer.getvalue()
        out = Image.open(io.BytesIO(jpeg)).convert("RGB")
    return Degraded(image=out, matrix=matrix, recipe=recipe, jpeg=jpeg)


# --- a small grid page with known cells -------------------------------------------------------------


@dataclass
class GridSpec:
    """Rows of cell texts; ``None`` marks a slot covered by a merged cell (listed in ``spans``)."""

    rows: list[list[str | None]]
    spans: dict[tuple[int, int], tuple[int, int]] = field(
        default_factory=dict
    )  # (r, c) -> (rowspan, colspan)
    fills: dict[tuple[int, int], tuple[int, int, int]] = field(default_factory=dict)  # RGB
    vertical: set[tuple[int, int]] = field(default_factory=set)  # cells written at 90 degrees
    col_widths: list[int] | None = None
    row_heights: list[int] | None = None
    title: str | None = None


@dataclass
class GridPage:
    image: Image.Image
    boxes: dict[tuple[int, int], tuple[int, int, int, int]]  # (r, c) -> x0, y0, x1, y1 of each cell


def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    names = (
        ("DejaVuSans-Bold.ttf", "LiberationSans-Bold.ttf")
        if bold
        else ("DejaVuSans.ttf", "LiberationSans-Regular.ttf")
    )
    for directory in FONT_DIRS:
        for name in names:
            path = directory / name
            if path.exists():
                return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size)


def grid_page(spec: GridSpec, *, font_size: int = 22, line_width: int = 2, margin: int = 40) -> GridPage:
    n_rows, n_cols = len(spec.rows), len(spec.rows[0])
    widths = spec.col_widths or [170] * n_cols
    heights = spec.row_heights or [70] * n_rows
    title_h = int(font_size * 2.2) if spec.title else 0
    width = margin * 2 + sum(widths)
    height = margin * 2 + title_h + sum(heights)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    regular = font(font_size)
    if spec.title:
        draw.text((margin, margin // 2), spec.title, fill="black", font=font(int(font_size * 1.3), bold=True))
    xs = [margin + sum(widths[:i]) for i in range(n_cols + 1)]
    ys = [margin + title_h + sum(heights[:i]) for i in range(n_rows + 1)]
    boxes: dict[tuple[int, int], tuple[int, int, int, int]] = {}
    for r, row in enumerate(spec.rows):
        for c, text in enumerate(row):
            if text is None:
                continue
            rowspan, colspan = spec.spans.get((r, c), (1, 1))
            box = (xs[c], ys[r], xs[c + colspan], ys[r + rowspan])
            boxes[(r, c)] = box
            if (r, c) in spec.fills:
                draw.rectangle(box, fill=spec.fills[(r, c)])
            draw.rectangle(box, outline="black", width=line_width)
            if text:
                _draw_cell_text(image, box, text, regular, vertical=(r, c) in spec.vertical)
    return GridPage(image=image, boxes=boxes)


def _draw_cell_text(
    image: Image.Image,
    box: tuple[int, int, int, int],
    text: str,
    face: ImageFont.ImageFont | ImageFont.FreeTypeFont,
    *,
    vertical: bool,
) -> None:
    lines = text.split("\n")
    probe = ImageDraw.Draw(image)
    sizes = [probe.textbbox((0, 0), line, font=face) for line in lines]
    line_h = max(b[3] - b[1] for b in sizes) + 6
    text_w = max(b[2] - b[0] for b in sizes) + 4
    block = Image.new("RGBA", (text_w, line_h * len(lines) + 4), (0, 0, 0, 0))
    draw = ImageDraw.Draw(block)
    for i, line in enumerate(lines):
        draw.text((2, i * line_h), line, fill=(0, 0, 0, 255), font=face)
    if vertical:  # reads bottom to top, as table headers usually do
        block = block.rotate(90, expand=True)
    x0, y0, x1, y1 = box
    left = x0 + (x1 - x0 - block.width) // 2
    top = y0 + (y1 - y0 - block.height) // 2
    image.paste(block, (left, top), block)
