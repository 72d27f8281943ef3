"""Decode an image safely and turn a scan or photo into an upright, flat, evenly lit page.

Steps: decode under a pixel limit -> EXIF orientation -> flatten alpha -> coarse orientation
(90/180/270 by Tesseract OSD, only when the page does not look upright) -> perspective correction
when a table border quadrilateral is visible, else deskew by the angle of long ruling lines or text
lines. Small text is upscaled later, per crop, where OCR needs it. Illumination is normalised on a separate grey copy used for finding
lines and for OCR, the colour copy is kept for cell shading.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from timetable_platform.extraction.base import Limits
from timetable_platform.extraction.errors import CorruptDocument, TooLarge

try:  # HEIC/HEIF: registers an opener with Pillow when the wheel is present.
    from pillow_heif import register_heif_opener

    register_heif_opener()
except ImportError:  # pragma: no cover - pillow-heif is a hard dependency, keep reading other formats
    pass

@dataclass
class PreparedPage:
    """An upright page: ``color`` (BGR) for shading, ``gray`` (illumination-normalised) for lines and OCR."""

    color: np.ndarray
    gray: np.ndarray
    notes: list[str] = field(default_factory=list)
    # Light print on a dark page was inverted: what surrounded the page (paper, ground) is now dark.
    inverted: bool = False

    @property
    def width(self) -> int:
        return int(self.gray.shape[1])

    @property
    def height(self) -> int:
        return int(self.gray.shape[0])


def decode_image(content: bytes, limits: Limits) -> list[Image.Image]:
    """All frames of an image file as RGB Pillow images; bombs -> TooLarge, corrupt/truncated -> CorruptDocument."""
    if not content:
        raise CorruptDocument("The image file is empty.")
    previous_limit = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = limits.max_pixels
    try:
        with warnings.catch_warnings():
            # Pillow warns between limit and 2x limit; treat that as the bomb it is.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            try:
                image = Image.open(io.BytesIO(content))
                width, height = image.size
                if width * height > limits.max_pixels:
                    raise TooLarge(
                        f"The image is {width}x{height} pixels, over the limit of {limits.max_pixels:,} pixels."
                    )
                frames: list[Image.Image] = []
                n_frames = int(getattr(image, "n_frames", 1) or 1)
                for index in range(n_frames):
                    if index >= limits.max_pages:
                        break
                    image.seek(index)
                    if image.size[0] * image.size[1] > limits.max_pixels:
                        raise TooLarge(f"Frame {index + 1} of the image is over the limit of {limits.max_pixels:,} pixels.")
                    frame = image.copy()
                    frame.load()
                    frames.append(_to_rgb(ImageOps.exif_transpose(frame) or frame))
                return frames
            except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
                raise TooLarge(
                    f"The image has more pixels than the limit of {limits.max_pixels:,} (possible decompression bomb).",
                    detail=str(exc),
                ) from exc
            except UnidentifiedImageError as exc:
                raise CorruptDocument("The file is not a readable image.", detail=str(exc)) from exc
            except (OSError, SyntaxError, ValueError, EOFError) as exc:
                raise CorruptDocument("The image is truncated or corrupt.", detail=str(exc)) from exc
    finally:
        Image.MAX_IMAGE_PIXELS = previous_limit


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float64)
        peak = float(array.max()) or 1.0
        return Image.fromarray((array * (255.0 / peak)).astype(np.uint8)).convert("RGB")
    return image.convert("RGB")


def pil_to_bgr(image: Image.Image) -> np.ndarray:
    return cv2.cvtColor(np.asarray(image.convert("RGB")), cv2.COLOR_RGB2BGR)


def normalise_illumination(gray: np.ndarray) -> np.ndarray:
    """Divide by a blurred background estimate: removes shadows, uneven light and paper tint."""
    height, width = gray.shape
    kernel = max(15, (min(height, width) // 30) | 1)
    # Closing removes dark strokes (text, lines) so the estimate is the paper and cell fills.
    small = cv2.resize(gray, (max(1, width // 4), max(1, height // 4)), interpolation=cv2.INTER_AREA)
    background = cv2.morphologyEx(
        small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (kernel // 4 | 1, kernel // 4 | 1))
    )
    background = cv2.GaussianBlur(background, (0, 0), kernel / 8)
    background = cv2.resize(background, (width, height), interpolation=cv2.INTER_LINEAR)
    normalised = cv2.divide(gray, np.maximum(background, 1), scale=255)
    return normalised


def binarize(gray: np.ndarray) -> np.ndarray:
    """Ink mask (255 = ink) robust to coloured cell fills: adaptive threshold on the normalised grey."""
    block = max(15, (min(gray.shape) // 40) | 1)
    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 12)


def line_masks(ink: np.ndarray, min_fraction: float = 0.04) -> tuple[np.ndarray, np.ndarray]:
    """Horizontal and vertical ruling-line masks by morphological opening with long thin kernels."""
    height, width = ink.shape
    h_len = max(20, int(width * min_fraction))
    v_len = max(15, int(height * min_fraction * 0.6))
    horizontal = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (h_len, 1)))
    vertical = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, v_len)))
    return horizontal, vertical


def estimate_skew(gray: np.ndarray, max_angle: float = 6.0) -> float | None:
    """Skew in degrees (rotate by this, counter-clockwise, to straighten), by projection profiles.

    Rows of text and ruling lines give the sharpest horizontal profile when level: try angles
    coarsely, then refine around the best. Works with or without rulings.
    """
    scale = 900 / max(gray.shape)
    small = cv2.resize(gray, None, fx=min(1.0, scale), fy=min(1.0, scale), interpolation=cv2.INTER_AREA)
    ink = binarize(small)
    if cv2.countNonZero(ink) < 200:
        return None
    height, width = ink.shape
    centre = (width / 2, height / 2)

    def sharpness(angle: float) -> float:
        matrix = cv2.getRotationMatrix2D(centre, angle, 1.0)
        rotated = cv2.warpAffine(ink, matrix, (width, height), flags=cv2.INTER_NEAREST)
        profile = rotated.sum(axis=1, dtype=np.float64)
        return float(np.square(np.diff(profile)).sum())

    coarse = np.arange(-max_angle, max_angle + 1e-9, 0.5)
    scores = [sharpness(a) for a in coarse]
    best = float(coarse[int(np.argmax(scores))])
    fine = np.arange(best - 0.5, best + 0.5 + 1e-9, 0.1)
    scores = [sharpness(a) for a in fine]
    return float(fine[int(np.argmax(scores))])


def rotate_bound(image: np.ndarray, angle: float, border: int | tuple[int, int, int] = 255) -> np.ndarray:
    """Rotate by ``angle`` degrees counter-clockwise, enlarging the canvas so nothing is cut."""
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    new_w, new_h = int(height * sin + width * cos), int(height * cos + width * sin)
    matrix[0, 2] += new_w / 2 - width / 2
    matrix[1, 2] += new_h / 2 - height / 2
    value = border if isinstance(border, tuple) else (border, border, border)
    return cv2.warpAffine(
        image, matrix, (new_w, new_h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_CONSTANT, borderValue=value
    )


def find_table_quad(gray: np.ndarray) -> np.ndarray | None:
    """Corners (tl, tr, br, bl) of the largest ruled table border, if it is a clear quadrilateral."""
    scale = 1000 / max(gray.shape)
    small = cv2.resize(gray, None, fx=min(1.0, scale), fy=min(1.0, scale), interpolation=cv2.INTER_AREA)
    factor = gray.shape[1] / small.shape[1]
    ink = binarize(small)
    horizontal = _leaning_lines(ink, small.shape[1] // 30, vertical=False)
    vertical = _leaning_lines(ink, small.shape[0] // 30, vertical=True)
    grid = cv2.dilate(cv2.bitwise_or(horizontal, vertical), np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(grid, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    contour = max(contours, key=cv2.contourArea)
    area = cv2.contourArea(contour)
    if area < 0.12 * small.shape[0] * small.shape[1]:
        return None
    hull = cv2.convexHull(contour)
    approx = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True)
    if len(approx) != 4:
        return None
    # The quad must fill its hull: a ragged outline (no outer border) is not a table frame.
    if cv2.contourArea(approx) > 1.15 * area:
        return None
    # Each side must run along a ruling: a corner cell printed without borders leaves a notch, and a
    # side cut across it is slanted against the table's lines.
    corners = order_corners(approx[:, 0, :].astype(np.float32))
    near = cv2.dilate(grid, np.ones((5, 5), np.uint8))
    reach = max(5, round(BOW_REACH * max(small.shape)))
    for a, b in zip(corners, np.roll(corners, -1, axis=0), strict=True):
        if _ruled_share(near, a, b) < RULED_SIDE and not _bowed_along(grid, a, b, reach):
            return None
    return corners * factor


# How far (a share of the photo's size) a curled sheet bows a table's side away from the straight line
# between its corners, and how closely (pixels, root mean square) the ruling must follow a bow.
BOW_REACH = 0.016
BOW_FIT = 2.0


def _bowed_along(lines: np.ndarray, a: np.ndarray, b: np.ndarray, reach: int, samples: int = 37) -> bool:
    """Whether the segment a-b has a ruling beside it that bows away from it and back, as a curled
    sheet bends its table's side: the ruling's offset along the segment is a parabola through both
    ends. A notch (a corner cell without borders) steps the offset at one end instead."""
    along = b - a
    normal = np.array([-along[1], along[0]]) / max(float(np.linalg.norm(along)), 1e-6)
    height, width = lines.shape
    steps = sorted(range(-reach, reach + 1), key=abs)
    ts, offsets = [], []
    for t in np.linspace(0.05, 0.95, samples):
        point = a + t * along
        for step in steps:
            x, y = np.rint(point + step * normal).astype(int)
            if 0 <= x < width and 0 <= y < height and lines[y, x] > 0:
                ts.append(t)
                offsets.append(step)
                break
    if len(ts) < 0.9 * samples:
        return False
    t_arr, d = np.array(ts), np.array(offsets, dtype=np.float64)
    shape = 4 * t_arr * (1 - t_arr)
    bow = float(shape @ d) / float(shape @ shape)
    return float(np.sqrt(np.mean((d - bow * shape) ** 2))) <= BOW_FIT


# A photo taken at an angle leans a table's sides by up to this much (degrees) against the frame's axes.
LEAN_LIMIT = 12
LEAN_STEP = 3


def _leaning_lines(ink: np.ndarray, length: int, *, vertical: bool) -> np.ndarray:
    """The straight lines in ``ink`` at least ``length`` long, upright (or level) or leaning up to
    LEAN_LIMIT degrees: an opening by a thin line at each lean in turn."""
    found = np.zeros_like(ink)
    length = max(3, length | 1)
    centre = length // 2
    for lean in range(-LEAN_LIMIT, LEAN_LIMIT + 1, LEAN_STEP):
        kernel = np.zeros((length, length), np.uint8)
        dx, dy = centre * np.sin(np.radians(lean)), centre * np.cos(np.radians(lean))
        if not vertical:
            dx, dy = dy, dx
        cv2.line(kernel, (round(centre - dx), round(centre - dy)), (round(centre + dx), round(centre + dy)), 1, 1)
        found |= cv2.morphologyEx(ink, cv2.MORPH_OPEN, kernel)
    return found


# The share of a table quad's side that must lie on its rulings.
RULED_SIDE = 0.8


def _ruled_share(lines: np.ndarray, a: np.ndarray, b: np.ndarray, samples: int = 60) -> float:
    """The share of points along the segment a-b (x, y) that fall on ``lines``."""
    height, width = lines.shape
    points = a + np.linspace(0.05, 0.95, samples)[:, None] * (b - a)
    xs = np.clip(np.rint(points[:, 0]).astype(int), 0, width - 1)
    ys = np.clip(np.rint(points[:, 1]).astype(int), 0, height - 1)
    return float((lines[ys, xs] > 0).mean())


# Bright parts of a photo this large (share of the frame) may be pieces of one sheet a shadow cuts across;
# together they must fill this share of the outline around them.
SHEET_PART = 0.05
SHADOWED_SHEET_FILL = 0.6


def find_page_quads(gray: np.ndarray, color: np.ndarray | None = None) -> list[np.ndarray]:
    """Corners of the sheet of paper in a photo, a large bright quadrilateral on a darker background:
    as the polygon fitted to its outline puts them, then, where they differ, where the sheet's edges
    meet (a shadow band across a corner cuts it off the outline; see ``_fitted_corners``). Empty when
    no sheet is seen. With ``color``, a sheet no brighter than its ground (lit from one side, on a
    cork board or a wooden desk) is found by its colour instead (see ``_sheet_by_colour``)."""
    scale = 800 / max(gray.shape)
    small = cv2.resize(gray, None, fx=min(1.0, scale), fy=min(1.0, scale), interpolation=cv2.INTER_AREA)
    factor = gray.shape[1] / small.shape[1]
    small = cv2.GaussianBlur(small, (5, 5), 0)
    # The frame's outer rim is background; the sheet is what is clearly lighter (a shadow across the
    # sheet would split an Otsu threshold).
    rim = max(2, min(small.shape) // 40)
    background = float(np.median(_rim_pixels(small, rim)))
    bright = np.where(small > background + 30, 255, 0).astype(np.uint8)

    def lighter(mask: np.ndarray, lit: np.ndarray) -> bool:
        return float(small[lit].mean()) - float(small[mask == 0].mean()) >= 40

    quads = _sheet_quads(bright, lighter, factor)
    if color is None:
        return quads
    coloured = _sheet_by_colour(color, small.shape, rim, factor)
    # Light falling off across the sheet outlines only its lit part by brightness: the sheet its colour
    # outlines around that part, clearly larger, is the whole of it.
    if coloured and (not quads or (_quad_area(coloured[0]) > SHEET_LIT_PART * _quad_area(quads[0]) and (
        cv2.pointPolygonTest(coloured[0].reshape(-1, 1, 2), tuple(float(v) for v in quads[0].mean(axis=0)), False) > 0
    ))):
        return coloured
    return quads


# A sheet outlined by colour replaces the one outlined by brightness when it is this much larger.
SHEET_LIT_PART = 1.2


def _quad_area(quad: np.ndarray) -> float:
    return float(cv2.contourArea(quad.reshape(-1, 1, 2).astype(np.float32)))


# How far (in CIELAB a*b*, 8-bit units) a pixel's colour must be from the ground's to be the sheet's;
# how far apart the two must be on average; how much darker than the ground the sheet may look.
SHEET_CHROMA = 8.0
SHEET_CHROMA_APART = 10.0
SHEET_DARKER = 10.0
# How coloured (a*b* distance from grey) the ground must be for a sheet to be told from it by colour.
GROUND_CHROMA = 12.0


def _sheet_by_colour(color: np.ndarray, size: tuple[int, ...], rim: int, factor: float) -> list[np.ndarray]:
    """A grey or white sheet on a coloured ground (cork, wood), lit so unevenly that parts of it are no
    brighter than the ground: it still differs from the ground in colour, all over."""
    small = cv2.GaussianBlur(cv2.resize(color, (size[1], size[0]), interpolation=cv2.INTER_AREA), (5, 5), 0)
    lab = cv2.cvtColor(small, cv2.COLOR_BGR2LAB).astype(np.float32)
    ground = np.median(_rim_pixels(lab, rim), axis=0)
    if float(np.hypot(ground[1] - 128, ground[2] - 128)) < GROUND_CHROMA:
        return []  # a white or grey ground: brightness alone tells a sheet from it
    apart = np.sqrt(((lab[:, :, 1:] - ground[1:]) ** 2).sum(axis=2))
    not_darker = lab[:, :, 0] >= ground[0] - SHEET_DARKER
    sheet = np.where((apart > SHEET_CHROMA) & not_darker, 255, 0).astype(np.uint8)

    def coloured_apart(mask: np.ndarray, lit: np.ndarray) -> bool:
        return float(apart[lit].mean()) - float(apart[mask == 0].mean()) >= SHEET_CHROMA_APART and float(
            lab[:, :, 0][lit].mean()
        ) >= float(lab[:, :, 0][mask == 0].mean())

    return _sheet_quads(sheet, coloured_apart, factor)


def _sheet_quads(
    sheet: np.ndarray, stands_out: Callable[[np.ndarray, np.ndarray], bool], factor: float
) -> list[np.ndarray]:
    """The quads of ``find_page_quads`` from a mask of the pixels that may be the sheet's;
    ``stands_out(outline mask, sheet pixels in it)`` says whether the outlined sheet differs clearly
    from its ground."""
    bright = cv2.morphologyEx(sheet, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    contours, _ = cv2.findContours(bright, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return []
    total = bright.shape[0] * bright.shape[1]
    # A shadow cast right across the sheet splits its bright part in two or three: the large parts
    # together are the sheet, if they fill most of the outline around them.
    parts = [c for c in contours if cv2.contourArea(c) >= SHEET_PART * total] or [max(contours, key=cv2.contourArea)]
    area = sum(cv2.contourArea(c) for c in parts)
    # A sheet filling the whole frame has no visible edges; a small bright blob is not the page.
    if not 0.25 * total <= area <= 0.92 * total:
        return []
    hull = cv2.convexHull(np.vstack(parts))
    approx = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True)
    if len(approx) in (5, 6):
        approx = _four_long_sides(approx[:, 0, :].astype(np.float32))
    filled = 1.1 if len(parts) == 1 else 1 / SHADOWED_SHEET_FILL
    if approx is None or len(approx) != 4 or cv2.contourArea(approx) > filled * area:
        return []
    # The sheet must be clearly set off from what surrounds it (where it is lit).
    mask = np.zeros_like(bright)
    cv2.fillPoly(mask, [np.round(approx).astype(np.int32)], 255)
    lit = (mask > 0) & (bright > 0) if len(parts) > 1 else mask > 0
    if not stands_out(mask, lit):
        return []
    corners = order_corners(approx[:, 0, :].astype(np.float32))
    if len(parts) > 1 and not _lit_along_sides(bright, corners):
        return []
    fitted = _fitted_corners(hull[:, 0, :].astype(np.float32), corners)
    if float(np.abs(fitted - corners).max()) < 2:
        return [corners * factor]
    # The edges' lines run along the outline's rim: a little inside them is the sheet.
    centre = fitted.mean(axis=0)
    return [corners * factor, (centre + (fitted - centre) * 0.985) * factor]


# The share of each side of a sheet pieced together from bright parts that must run along them.
LIT_SIDE = 0.6


def _lit_along_sides(bright: np.ndarray, corners: np.ndarray) -> bool:
    """Whether the parts of a sheet split by a shadow line its outline: a band crosses a sheet's side
    for a stretch, while bright panels on a dark screen leave whole sides of their outline on the ground."""
    centre = corners.mean(axis=0)
    inside = centre + (corners - centre) * 0.97
    return all(
        _ruled_share(bright, a, b) >= LIT_SIDE for a, b in zip(inside, np.roll(inside, -1, axis=0), strict=True)
    )


def find_page_quad(gray: np.ndarray) -> np.ndarray | None:
    """The sheet's corners as the outline's polygon puts them (``find_page_quads``), or None."""
    quads = find_page_quads(gray)
    return quads[0] if quads else None


def _four_long_sides(polygon: np.ndarray) -> np.ndarray | None:
    """A sheet whose corner a shadow or a fold cut off outlines as five or six sides: the four long
    ones are the sheet's edges, and they meet at its corners (as a 4 x 1 x 2 polygon)."""
    n = len(polygon)
    lengths = [float(np.linalg.norm(polygon[(i + 1) % n] - polygon[i])) for i in range(n)]
    keep = sorted(sorted(range(n), key=lambda i: -lengths[i])[:4])
    if sum(lengths[i] for i in range(n) if i not in keep) > 0.15 * sum(lengths):
        return None  # the short sides are no small cut: not a sheet
    sides = [(polygon[i], polygon[(i + 1) % n] - polygon[i]) for i in keep]
    corners = [_meet(sides[k - 1], sides[k]) for k in range(4)]
    if any(corner is None for corner in corners):
        return None
    return np.array(corners, np.float32).reshape(4, 1, 2)


def _meet(first: tuple[np.ndarray, np.ndarray], second: tuple[np.ndarray, np.ndarray]) -> np.ndarray | None:
    """Where two lines, each a point and a direction, cross; None for parallel lines."""
    (p, u), (q, v) = first, second
    det = float(u[0] * -v[1] + v[0] * u[1])
    if abs(det) < 1e-6:
        return None
    t = float((q - p)[0] * -v[1] + v[0] * (q - p)[1]) / det
    return p + t * u


def _fitted_corners(hull: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """The sheet's corners where its four edges meet, each edge the longest straight run of the
    outline's hull along that side. A corner a shadow band cuts off leaves a short chord between two
    edges, and the polygon fitted to the outline puts a corner at the chord's end; the edges on either
    side still run straight to where the corner is."""
    runs = _straight_runs(hull)
    lines = []
    for i in range(4):
        a, b = corners[i], corners[(i + 1) % 4]
        side = b - a
        length = float(np.linalg.norm(side))
        if length < 10:
            return corners
        direction = side / length
        normal = np.array([-direction[1], direction[0]], np.float32)
        best: tuple[float, np.ndarray, np.ndarray] | None = None
        for p, q in runs:
            run = float(np.linalg.norm(q - p))
            if run < 0.2 * length or abs(float((q - p) @ direction)) < run * np.cos(np.radians(10)):
                continue
            if abs(float(((p + q) / 2 - a) @ normal)) > 0.05 * length:
                continue
            if best is None or run > best[0]:
                best = (run, p, (q - p) / run)
        lines.append((best[1], best[2]) if best is not None else (a, direction))
    fitted = [_meet(lines[i - 1], lines[i]) for i in range(4)]
    if any(corner is None for corner in fitted):
        return corners
    out = np.array(fitted, np.float32)
    # A fit that moves a corner far (a torn or folded edge) is not trusted.
    size = float(np.linalg.norm(corners[2] - corners[0]))
    return out if float(np.abs(out - corners).max()) < 0.1 * size else corners


# Hull edges turning by less than this (degrees) from the run they follow continue it.
RUN_TURN = 3.0


def _straight_runs(hull: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The hull's straight runs, as (start, end): the outline of a sheet's edge steps from pixel to
    pixel, and its hull follows it in many short edges that together run straight."""
    n = len(hull)
    runs: list[tuple[np.ndarray, np.ndarray]] = []
    for k in range(n):
        p, q = hull[k], hull[(k + 1) % n]
        if runs:
            start, end = runs[-1]
            if np.array_equal(end, p) and _turn(q - p, end - start) < RUN_TURN and _turn(q - start, end - start) < RUN_TURN:
                runs[-1] = (start, q)
                continue
        runs.append((p, q))
    return runs


def _turn(u: np.ndarray, v: np.ndarray) -> float:
    """The angle between two directions, in degrees."""
    norms = float(np.linalg.norm(u) * np.linalg.norm(v))
    if norms == 0:
        return 0.0
    return float(np.degrees(np.arccos(np.clip(float(u @ v) / norms, -1.0, 1.0))))


def order_corners(points: np.ndarray) -> np.ndarray:
    sums = points.sum(axis=1)
    diffs = np.diff(points, axis=1)[:, 0]
    return np.array(
        [points[np.argmin(sums)], points[np.argmin(diffs)], points[np.argmax(sums)], points[np.argmax(diffs)]],
        dtype=np.float32,
    )


def perspective_correct(
    color: np.ndarray, quad: np.ndarray, *, crop_to_quad: bool = False
) -> np.ndarray | None:
    """Warp the whole page so that the table quadrilateral becomes an upright rectangle; with
    ``crop_to_quad`` (the quad is the sheet of paper in a photo) keep only that rectangle."""
    tl, tr, br, bl = quad
    width = max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl))
    height = max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr))
    if width < 50 or height < 50:
        return None
    target = np.array([tl, [tl[0] + width, tl[1]], [tl[0] + width, tl[1] + height], [tl[0], tl[1] + height]], np.float32)
    matrix = cv2.getPerspectiveTransform(quad, target)
    # Keep the whole page in view: map its corners and shift to positive coordinates.
    h, w = color.shape[:2]
    corners = cv2.perspectiveTransform(np.array([[[0, 0], [w, 0], [w, h], [0, h]]], np.float32), matrix)[0]
    x_min, y_min = corners.min(axis=0)
    x_max, y_max = corners.max(axis=0)
    out_w, out_h = int(x_max - x_min), int(y_max - y_min)
    if out_w * out_h > 4 * w * h:  # a degenerate homography would blow the page up
        return None
    shift = np.array([[1, 0, -x_min], [0, 1, -y_min], [0, 0, 1]], np.float64)
    if crop_to_quad:
        # The sheet's own edges and the dark ground around it would pass for a table's rulings.
        margin = 0.004 * max(width, height)
        shift = np.array([[1, 0, -tl[0] - margin], [0, 1, -tl[1] - margin], [0, 0, 1]], np.float64)
        out_w, out_h = int(width - 2 * margin), int(height - 2 * margin)
    return cv2.warpPerspective(
        color, shift @ matrix, (out_w, out_h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_CONSTANT,
        borderValue=(255, 255, 255),
    )


def _rim_pixels(image: np.ndarray, rim: int) -> np.ndarray:
    """The pixels of the image's outer band, ``rim`` wide on every side (a row of channels each, for colour)."""
    shape = (-1, *image.shape[2:])
    return np.concatenate([part.reshape(shape) for part in (image[:rim], image[-rim:], image[:, :rim], image[:, -rim:])])


def _sheet_runs_off(gray: np.ndarray) -> bool:
    """Whether the photo's rim crosses the sheet: paper-bright pixels on the frame's edge, where only the
    ground should be when the whole sheet is in view."""
    edges = _rim_pixels(gray, max(2, min(gray.shape) // 100))
    ground = float(np.percentile(edges, 25))
    return float((edges > ground + 60).mean()) > 0.03


def _is_projective(quad: np.ndarray, tolerance: float = 0.01) -> bool:
    """Whether opposite sides differ in length or angle enough that a rotation alone will not do."""
    tl, tr, br, bl = quad
    top, bottom = np.linalg.norm(tr - tl), np.linalg.norm(br - bl)
    left, right = np.linalg.norm(bl - tl), np.linalg.norm(br - tr)
    return abs(top - bottom) / max(top, bottom) > tolerance or abs(left - right) / max(left, right) > tolerance


def _inside_quad(gray: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """``gray`` with everything outside ``quad``, and a margin inside its edges, turned white."""
    mask = np.zeros(gray.shape[:2], np.uint8)
    cv2.fillPoly(mask, [quad.astype(np.int32)], 255)
    margin = max(3, min(gray.shape[:2]) // 50) | 1
    mask = cv2.erode(mask, np.ones((margin, margin), np.uint8))
    return np.where(mask > 0, gray, 255).astype(np.uint8)


def text_height(gray: np.ndarray) -> float | None:
    """Median height of character-sized connected components, in pixels."""
    ink = binarize(gray)
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    heights = [
        stats[i, cv2.CC_STAT_HEIGHT]
        for i in range(1, count)
        if 6 <= stats[i, cv2.CC_STAT_HEIGHT] <= 80 and 2 <= stats[i, cv2.CC_STAT_WIDTH] <= 80
    ]
    if len(heights) < 20:
        return None
    return float(np.median(heights))


def coarse_orientation(gray: np.ndarray) -> int:
    """Rotation (0/90/180/270, clockwise) Tesseract OSD says the page needs; 0 when unsure."""
    import pytesseract

    scale = 1600 / max(gray.shape)
    small = cv2.resize(gray, None, fx=min(1.0, scale), fy=min(1.0, scale), interpolation=cv2.INTER_AREA)
    try:
        result = pytesseract.image_to_osd(small, config="--psm 0", output_type=pytesseract.Output.DICT, timeout=20)
    except (pytesseract.TesseractError, RuntimeError):
        return 0
    if float(result.get("orientation_conf", 0)) < 2.0:
        return 0
    return int(result.get("rotate", 0)) % 360


def looks_sideways(gray: np.ndarray) -> bool:
    """Cheap test before OSD: text rows run vertically when the page is at 90/270 degrees."""
    ink = binarize(cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA))
    horizontal = cv2.dilate(ink, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 1)))
    vertical = cv2.dilate(ink, cv2.getStructuringElement(cv2.MORPH_RECT, (1, 9)))
    n_h, _, stats_h, _ = cv2.connectedComponentsWithStats(horizontal)
    n_v, _, stats_v, _ = cv2.connectedComponentsWithStats(vertical)
    wide = sum(1 for i in range(1, n_h) if stats_h[i, 2] > 3 * stats_h[i, 3] and stats_h[i, 2] > 20)
    tall = sum(1 for i in range(1, n_v) if stats_v[i, 3] > 3 * stats_v[i, 2] and stats_v[i, 3] > 20)
    return tall > 1.5 * max(wide, 1)


def is_dark_page(gray: np.ndarray) -> bool:
    """Light print on a dark page (an app or web page in dark mode): the page is dark and what stands
    out from it is lighter, not darker. A dim photo of paper is dark too, but its print is darker still."""
    factor = min(1.0, 1600 / max(gray.shape))
    small = cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    level = float(np.median(small))
    if level >= 100:
        return False
    light = (small > level + 70).astype(np.uint8)
    lighter = float(light.mean())
    darker = float((small < level - 70).mean())
    if not (lighter > 0.005 and lighter > 3 * darker):
        return False
    # Print is thin strokes; a large light area that survives an opening wider than a stroke is a
    # sheet of paper photographed on a dark ground (a scanner's white corners are small).
    width = max(9, min(small.shape) // 30)
    solid = cv2.morphologyEx(light, cv2.MORPH_OPEN, np.ones((width, width), np.uint8))
    return float(solid.mean()) < 0.15


# Degrees the print may still slant after a sheet's outline was undone, before the outline is doubted.
SHEET_SKEW_LIMIT = 0.6
# Rulings must run across this share of the page to show how the sheet bows; at least this many of
# them, bowing this far (pixels) at most, for the page to be straightened.
BOW_LINE_SPAN = 0.45
BOW_LINES = 3
BOW_MIN = 4.0


# How far apart (a share of the page's width) the ends of one table's row rules may be.
ROW_ENDS = 0.03


def _line_pieces(
    gray: np.ndarray, *, run: tuple[int, int], join: tuple[int, int], keep: Callable[[int, int], bool]
) -> Iterator[tuple[tuple[int, int, int, int], np.ndarray, np.ndarray]]:
    """The page's long lines one by one: ink opened to straight runs of ``run`` (width, height), runs joined
    by ``join`` into lines, and of each line whose box's width and height ``keep`` accepts, its box
    (x, y, w, h) and the page coordinates (ys, xs) of its runs' pixels."""
    ink = binarize(gray)
    runs = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, run))
    joined = cv2.dilate(runs, cv2.getStructuringElement(cv2.MORPH_RECT, join))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    for i in range(1, count):
        x, y, w, h = (int(v) for v in stats[i][:4])
        if not keep(w, h):
            continue
        ys_, xs_ = np.nonzero((labels[y : y + h, x : x + w] == i) & (runs[y : y + h, x : x + w] > 0))
        yield (x, y, w, h), ys_ + y, xs_ + x


def straighten_bowed_rows(color: np.ndarray, gray: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Colour and grey pages with bowed rows bent straight, or None when the rows run straight. A
    sheet pinned up or lying curled bows, and a perspective warp cannot undo that: its long rulings
    come out as gentle curves, so the rows of the grid no longer run along one pixel row and the
    table's cells are cut wrong. Each long ruling's curve is fitted (a parabola), and every pixel
    column is shifted up or down by the bow of the rulings above and below it."""
    height, width = gray.shape
    curves: list[tuple[float, np.ndarray, int, int]] = []  # centre, bow per column, first and last x
    xs = np.arange(width, dtype=np.float64)
    # Pieces of one bowed ruling step from pixel row to pixel row: joined along the line.
    pieces = _line_pieces(
        gray, run=(max(30, width // 40), 1), join=(max(15, width // 80), 5),
        keep=lambda w, h: w >= BOW_LINE_SPAN * width and h <= 0.1 * height,
    )
    for (x, _, w, _), ys_, xs_ in pieces:
        if len(xs_) < 0.3 * w:
            continue
        coeffs = np.polyfit(xs_, ys_, 2)
        fitted = np.polyval(coeffs, xs)
        # Beyond its ends the curve is held level: a parabola runs away outside the points it fits.
        fitted[:x] = fitted[x]
        fitted[x + w :] = fitted[x + w - 1]
        centre = float(np.polyval(coeffs, x + w / 2))
        curves.append((centre, fitted - centre, x, x + w))
    # A table's row rules start and end together: lines that span otherwise (the edges of a sheet
    # warped by its table's frame, a title's underline) bow their own way and are no rows of it.
    if curves:
        first, last = float(np.median([c[2] for c in curves])), float(np.median([c[3] for c in curves]))
        curves = [c for c in curves if abs(c[2] - first) <= ROW_ENDS * width and abs(c[3] - last) <= ROW_ENDS * width]
    if len(curves) < BOW_LINES:
        return None
    curves.sort(key=lambda item: item[0])
    bows = np.array([c[1] for c in curves])
    if float(np.abs(bows).max()) < BOW_MIN:
        return None
    # The curves must bow alike (one sheet's curl), not each its own way (tilted lines, noise). A line
    # that runs straight (a sheet's foot, which the perspective warp set straight) bows neither way.
    bow = bows[:, width // 2] - (bows[:, 0] + bows[:, -1]) / 2
    signs = np.sign(bow[np.abs(bow) >= BOW_MIN])
    if len(signs) < BOW_LINES or abs(float(signs.sum())) < 0.8 * len(signs):
        return None
    centres = np.array([c[0] for c in curves])
    rows = np.arange(height, dtype=np.float64)
    map_y = np.empty((height, width), np.float32)
    for column in range(width):
        map_y[:, column] = rows + np.interp(rows, centres, bows[:, column])
    map_x = np.repeat(xs[None, :].astype(np.float32), height, axis=0)
    straight_color = cv2.remap(color, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    straight_gray = cv2.remap(gray, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return straight_color, straight_gray


def _perspective_quads(
    gray: np.ndarray, flat: np.ndarray, color: np.ndarray | None = None
) -> Iterator[tuple[np.ndarray, bool]]:
    """Quads to undo the perspective by, best first, each with whether it is a sheet seen whole; the
    table's frame is only looked for when the sheet does not settle it."""
    page_quads = find_page_quads(gray, color)
    whole_sheet = bool(page_quads) and not _sheet_runs_off(gray)
    if whole_sheet:
        yield from ((quad, True) for quad in page_quads)
    table_quad = find_table_quad(flat)
    if table_quad is not None:
        yield table_quad, False
    if page_quads and not whole_sheet:
        yield page_quads[0], False


def prepare_page(image: Image.Image | np.ndarray, *, detect_orientation: bool = True) -> PreparedPage:
    """Upright, flat, deskewed page ready for grid finding and OCR."""
    color = pil_to_bgr(image) if isinstance(image, Image.Image) else image
    notes: list[str] = []
    inverted = is_dark_page(cv2.cvtColor(color, cv2.COLOR_BGR2GRAY))
    if inverted:
        color = 255 - color
        notes.append("light print on a dark page inverted")
    # The normalised grey is computed once and moved along with the colour image where possible.
    flat = normalise_illumination(cv2.cvtColor(color, cv2.COLOR_BGR2GRAY))

    if detect_orientation and looks_sideways(flat):
        rotate = coarse_orientation(flat)
        if rotate:
            code = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}[rotate]
            color, flat = cv2.rotate(color, code), cv2.rotate(flat, code)
            notes.append(f"page rotated by {rotate} degrees")

    # The edges of a sheet seen whole give the perspective best: a paper is a rectangle, while a table's
    # outline may have a notch (an empty corner cell without borders) that tilts its fitted quad. The
    # table's ruled frame is next; then the edges of a sheet running off the photo (only a sheet seen
    # whole is cut out: one running off the photo has a corner the frame made).
    corrected = False
    skew: float | None = None
    for quad, sheet in _perspective_quads(cv2.cvtColor(color, cv2.COLOR_BGR2GRAY), flat, color):
        if not (_is_projective(quad) or sheet):
            continue
        warped = perspective_correct(color, quad, crop_to_quad=sheet)
        if warped is None:
            continue
        warped_flat = normalise_illumination(cv2.cvtColor(warped, cv2.COLOR_BGR2GRAY))
        warped_skew = estimate_skew(warped_flat)
        if sheet and warped_skew is not None and abs(warped_skew) > SHEET_SKEW_LIMIT:
            # The print still slants: the sheet's outline was misjudged (a corner in shadow). Its
            # corners would warp the print askew and cutting to them would cut print off, so the
            # frame stays as taken (the table's frame may still set it straight), else it is levelled
            # by the slant of the print inside the sheet (the sheet's edges and the ground around it
            # would pass for lines of print).
            skew = estimate_skew(_inside_quad(flat, quad))
            continue
        color, flat, skew = warped, warped_flat, warped_skew
        corrected = True
        notes.append("perspective corrected")
        break
    if skew is None:
        skew = estimate_skew(flat)
    if skew is not None and 0.15 <= abs(skew) <= 20:
        color = rotate_bound(color, skew, border=(255, 255, 255))
        flat = rotate_bound(flat, skew, border=255)
        if not corrected:
            notes.append(f"deskewed by {skew:.2f} degrees")

    straightened = straighten_bowed_rows(color, flat)
    if straightened is not None:
        color, flat = straightened
        notes.append("bowed rows straightened")
    upright = upright_leaning_columns(color, flat)
    if upright is not None:
        color, flat = upright
        notes.append("leaning columns set upright")
    return PreparedPage(color=color, gray=flat, notes=notes, inverted=inverted)


# Column rules that lean at least this much (dx per dy) somewhere, each within this much of a lean that
# changes evenly across the page, are a keystone to undo.
LEAN_MIN = 0.015
LEAN_AGREEMENT = 0.008
# A column rule runs down at least this share of the page.
LEAN_LINE_SPAN = 0.3


def upright_leaning_columns(color: np.ndarray, gray: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Colour and grey pages with leaning column rules set upright, or None when they stand upright
    already. A sheet photographed from below or from one side with its table's frame running off the
    photo keeps its columns leaning once the rows are levelled (no frame gave the perspective): they
    fan out, each leaning a little more than the one beside it. Every pixel row is shifted by the lean
    the rules give at each column; rules that lean each their own way are left."""
    height, width = gray.shape
    middle = height / 2
    rules: list[tuple[float, float]] = []  # (x at the page's middle row, lean)
    # Pieces of one leaning rule step from pixel column to pixel column: joined down the line.
    pieces = _line_pieces(
        gray, run=(1, max(18, height // 70)), join=(5, max(15, height // 60)),
        keep=lambda w, h: h >= LEAN_LINE_SPAN * height and w <= 0.1 * width,
    )
    for (_, _, _, h), ys_, xs_ in pieces:
        if len(ys_) < 0.5 * h:
            continue
        lean, offset = np.polyfit(ys_, xs_, 1)
        rules.append((float(offset + lean * middle), float(lean)))
    if len(rules) < 3:
        return None
    at = np.array([r[0] for r in rules])
    leans = np.array([r[1] for r in rules])
    fit = np.polyfit(at, leans, 1)
    if float(np.abs(np.polyval(fit, at) - leans).max()) > LEAN_AGREEMENT:
        return None
    if max(abs(float(np.polyval(fit, 0))), abs(float(np.polyval(fit, width)))) < LEAN_MIN:
        return None
    xs = np.arange(width, dtype=np.float32)
    rows = np.arange(height, dtype=np.float32)[:, None] - middle
    map_x = (xs[None, :] + np.polyval(fit, xs).astype(np.float32)[None, :] * rows).astype(np.float32)
    map_y = np.repeat(np.arange(height, dtype=np.float32)[:, None], width, axis=1)
    return (
        cv2.remap(color, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE),
        cv2.remap(gray, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE),
    )
