"""OCR engines behind one small interface: read many small crops (table cells, text blocks) at once.

Tesseract pays a process start and a layout pass per call, so ``TesseractEngine`` stacks all crops
into one tall sheet with white gaps, reads it in a single call and maps each word back to its
crop. RapidOCR (optional extra ``ocr-alt``) is kept for the engine comparison in ``bench/``.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from timetable_platform.extraction.errors import BackendError

# OCR reads best when lower-case letters are about this tall; smaller crops are upscaled.
TARGET_TEXT_HEIGHT = 26
GAP = 28  # white rows between stacked crops; larger than any word spacing Tesseract would bridge
MAX_SHEET_HEIGHT = 30000  # Tesseract/leptonica limit is 32767 per side


@dataclass
class OcrWord:
    """A word in its crop's pixel coordinates (after the crop's own upscaling is undone)."""

    text: str
    box: tuple[float, float, float, float]  # x0, y0, x1, y1
    confidence: float  # 0..1
    line: int  # line index inside the crop, reading order


class OcrEngine(Protocol):
    name: str

    def read_crops(self, crops: list[np.ndarray], scales: list[float]) -> list[list[OcrWord]]:
        """Words per crop; ``scales`` says by how much to enlarge each crop before reading."""
        ...


class TesseractEngine:
    """Tesseract 5 (LSTM) through its command line: crops stacked into sheets, sheets read in parallel."""

    name = "tesseract"

    def __init__(self, languages: str = "eng", psm: int = 6, timeout: float = 120.0, workers: int = 1) -> None:
        self.languages = languages
        self.psm = psm
        self.timeout = timeout
        self.workers = max(1, workers)

    def read_crops(self, crops: list[np.ndarray], scales: list[float]) -> list[list[OcrWord]]:
        results: list[list[OcrWord]] = [[] for _ in crops]
        if not crops:
            return results
        # Split into sheets of similar height, one per worker, each under Tesseract's size limit.
        heights = [int(c.shape[0] * s) + GAP for c, s in zip(crops, scales, strict=True)]
        per_sheet = min(MAX_SHEET_HEIGHT, sum(heights) // self.workers + 1)
        sheets: list[list[int]] = [[]]
        used = 0
        for index, height in enumerate(heights):
            if sheets[-1] and used + height > per_sheet:
                sheets.append([])
                used = 0
            sheets[-1].append(index)
            used += height
        if len(sheets) == 1:
            self._read_sheet(crops, scales, sheets[0], results)
        else:
            with ThreadPoolExecutor(max_workers=self.workers) as pool:
                for future in [pool.submit(self._read_sheet, crops, scales, batch, results) for batch in sheets]:
                    future.result()
        return results

    def _run(self, sheet: np.ndarray) -> list[dict[str, str]]:
        with tempfile.TemporaryDirectory(prefix="timetable-ocr-") as tmp:
            path = os.path.join(tmp, "sheet.png")
            cv2.imwrite(path, sheet, [cv2.IMWRITE_PNG_COMPRESSION, 1])
            command = [
                "tesseract", path, "stdout", "-l", self.languages, "--psm", str(self.psm), "--oem", "1",
                "-c", "preserve_interword_spaces=1", "tsv",
            ]
            # One thread per process: the sheets already run in parallel, and the machine is shared.
            env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
            try:
                done = subprocess.run(command, capture_output=True, timeout=self.timeout, env=env, check=False)
            except FileNotFoundError as exc:
                raise BackendError("Tesseract is not installed (see `make system-deps`).", detail=str(exc)) from exc
            except subprocess.TimeoutExpired as exc:
                raise BackendError("Tesseract timed out reading the page.", detail=str(exc), transient=True) from exc
        if done.returncode != 0:
            raise BackendError("Tesseract failed to read the page.", detail=done.stderr.decode(errors="replace")[-500:])
        rows = done.stdout.decode("utf-8", errors="replace").splitlines()
        if not rows:
            return []
        header = rows[0].split("\t")
        return [dict(zip(header, row.split("\t"), strict=False)) for row in rows[1:]]

    def _read_sheet(
        self, crops: list[np.ndarray], scales: list[float], batch: list[int], results: list[list[OcrWord]]
    ) -> None:
        scaled = [_scaled(crops[i], scales[i]) for i in batch]
        width = max(c.shape[1] for c in scaled) + 2 * GAP
        height = sum(c.shape[0] + GAP for c in scaled) + GAP
        sheet = np.full((height, width), 255, np.uint8)
        bands: list[tuple[int, int, int]] = []  # (top, bottom, crop index)
        y = GAP
        for index, crop in zip(batch, scaled, strict=True):
            sheet[y : y + crop.shape[0], GAP : GAP + crop.shape[1]] = crop
            bands.append((y, y + crop.shape[0], index))
            y += crop.shape[0] + GAP

        tops = [band[0] for band in bands]
        line_ids: dict[tuple[int, str, str, str], int] = {}
        lines_per_crop: dict[int, int] = {}
        for row in self._run(sheet):
            text = (row.get("text") or "").strip()
            try:
                conf = float(row.get("conf", "-1"))
                left, top = int(row["left"]), int(row["top"])
                w, h = int(row["width"]), int(row["height"])
            except (KeyError, ValueError):
                continue
            if not text or conf < 0:
                continue
            centre = top + h / 2
            slot = int(np.searchsorted(tops, centre, side="right")) - 1
            if slot < 0:
                continue
            band_top, band_bottom, index = bands[slot]
            if centre > band_bottom:
                continue
            scale = scales[index]
            key = (index, row.get("block_num", ""), row.get("par_num", ""), row.get("line_num", ""))
            if key not in line_ids:
                line_ids[key] = lines_per_crop.get(index, 0)
                lines_per_crop[index] = line_ids[key] + 1
            results[index].append(
                OcrWord(
                    text=text,
                    box=(
                        (left - GAP) / scale,
                        (top - band_top) / scale,
                        (left + w - GAP) / scale,
                        (top + h - band_top) / scale,
                    ),
                    confidence=max(0.0, min(1.0, conf / 100.0)),
                    line=line_ids[key],
                )
            )


class RapidOcrEngine:
    """RapidOCR (ONNX models shipped in the wheel); one call per crop. Optional extra ``ocr-alt``."""

    name = "rapidocr"

    def __init__(self) -> None:
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as exc:  # pragma: no cover - optional extra
            raise BackendError("RapidOCR is not installed (pip install '.[ocr-alt]').") from exc
        self._ocr = RapidOCR()

    def read_crops(self, crops: list[np.ndarray], scales: list[float]) -> list[list[OcrWord]]:
        results: list[list[OcrWord]] = []
        for crop, scale in zip(crops, scales, strict=True):
            image = _scaled(crop, scale)
            # A margin helps the detector find text that touches the crop edge.
            image = cv2.copyMakeBorder(image, 16, 16, 16, 16, cv2.BORDER_CONSTANT, value=255)
            found, _ = self._ocr(cv2.cvtColor(image, cv2.COLOR_GRAY2BGR))
            words: list[OcrWord] = []
            for line_index, (points, text, score) in enumerate(sorted(found or [], key=lambda f: f[0][0][1])):
                xs = [p[0] - 16 for p in points]
                ys = [p[1] - 16 for p in points]
                box = (min(xs) / scale, min(ys) / scale, max(xs) / scale, max(ys) / scale)
                # RapidOCR returns text lines; split into words with proportional boxes.
                tokens = text.split()
                total = sum(len(t) for t in tokens) or 1
                x = box[0]
                for token in tokens:
                    w = (box[2] - box[0]) * len(token) / total
                    words.append(OcrWord(token, (x, box[1], x + w, box[3]), float(score), line_index))
                    x += w
            results.append(words)
        return results


def _scaled(crop: np.ndarray, scale: float) -> np.ndarray:
    if abs(scale - 1.0) < 0.05:
        return crop
    interpolation = cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA
    return cv2.resize(crop, None, fx=scale, fy=scale, interpolation=interpolation)
