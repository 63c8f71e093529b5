"""The one print path of the labor report: blocks -> laid-out pages -> any paged device.

:class:`ReportDocument` lays the blocks of :func:`desktop.labor.report_text.report_blocks` out
in typographic points, measuring text with a fixed 1200-dpi reference, so the page breaks are
the same on every device. It then paints the pages with QPainter on a ``QPdfWriter`` (PDF), a
``QPrinter`` (the system print dialog) or the ``QPrinter`` of a print preview::

    doc = ReportDocument(report_blocks(summary), footer="March 2026")
    doc.write_pdf(Path("labor.pdf"))     # -> number of pages
    doc.paint(printer)                    # from QPrintDialog or QPrintPreviewDialog.paintRequested
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMarginsF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QImage,
    QPagedPaintDevice,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QPen,
)

from desktop.labor.report_text import (
    Block,
    Chart,
    Figures,
    Heading,
    PageBreak,
    Paragraph,
    Table,
    Title,
)
from desktop.ui.report_chart import draw_chart

REFERENCE_DPI = 1200
MARGINS_MM = QMarginsF(18, 16, 18, 16)
FOOTER_H = 22.0
CHART_H = 185.0
STYLES: dict[str, tuple[float, bool, str]] = {  # point size, bold, colour
    "title": (17.0, True, "#1f3864"),
    "subtitle": (10.5, False, "#333333"),
    "heading": (12.5, True, "#1f3864"),
    "body": (9.5, False, "#222222"),
    "strong": (9.5, True, "#111111"),
    "note": (8.0, False, "#666666"),
    "warning": (9.5, True, "#9c2b23"),
    "footer": (7.5, False, "#777777"),
}


@functools.cache
def style_font(style: str) -> QFont:
    """The font of a text style (sans serif, sized in points); one shared object per style,
    so do not change it (copy it: ``QFont(style_font(...))``)."""
    size, bold, _ = STYLES[style]
    font = QFont("DejaVu Sans")
    font.setStyleHint(QFont.StyleHint.SansSerif)
    font.setPointSizeF(size)
    font.setBold(bold)
    return font


@dataclass(frozen=True)
class Op:
    """One thing to paint, in points from the top-left of the printable area."""

    kind: str  # text, fill, line, chart
    rect: QRectF
    style: str = "body"
    text: str = ""
    align: str = "l"
    color: str = ""
    chart: Chart | None = None


class _Measure:
    """Text measured at the reference resolution, in points."""

    def __init__(self) -> None:
        self._image = QImage(1, 1, QImage.Format.Format_RGB32)
        dpm = round(REFERENCE_DPI / 0.0254)
        self._image.setDotsPerMeterX(dpm)
        self._image.setDotsPerMeterY(dpm)
        self._metrics: dict[str, QFontMetricsF] = {}

    def metrics(self, style: str) -> QFontMetricsF:
        if style not in self._metrics:
            self._metrics[style] = QFontMetricsF(style_font(style), self._image)
        return self._metrics[style]

    def width(self, text: str, style: str) -> float:
        return self.metrics(style).horizontalAdvance(text) * 72.0 / REFERENCE_DPI

    def line_height(self, style: str) -> float:
        return self.metrics(style).lineSpacing() * 72.0 / REFERENCE_DPI

    def wrap(self, text: str, style: str, width: float) -> list[str]:
        """Greedy word wrap to ``width`` points (a word longer than a line stays whole)."""
        lines: list[str] = []
        for paragraph in text.split("\n"):
            line = ""
            for word in paragraph.split(" "):
                trial = f"{line} {word}" if line else word
                if line and self.width(trial, style) > width:
                    lines.append(line)
                    line = word
                else:
                    line = trial
            lines.append(line)
        return lines


class ReportDocument:
    """Blocks laid out on pages; paint them on any paged device (see the module docstring)."""

    def __init__(self, blocks: list[Block], footer: str = "") -> None:
        self.blocks = blocks
        self.footer = footer
        self._measure = _Measure()

    # ----------------------------------------------------------------- layout (points)

    def layout(self, width: float, height: float) -> list[list[Op]]:
        """Pages of paint operations for a printable area of ``width`` x ``height`` points."""
        self._w, self._h = width, height - FOOTER_H
        self._pages: list[list[Op]] = [[]]
        self._y = 0.0
        for i, block in enumerate(self.blocks):
            following = self.blocks[i + 1] if i + 1 < len(self.blocks) else None
            self._place(block, following)
        return self._pages

    def _new_page(self) -> None:
        self._pages.append([])
        self._y = 0.0

    def _need(self, height: float) -> None:
        if self._y > 0 and self._y + height > self._h:
            self._new_page()

    def _add(self, op: Op) -> None:
        self._pages[-1].append(op)

    def _text_lines(self, text: str, style: str, x: float, width: float, gap: float = 0) -> None:
        step = self._measure.line_height(style)
        for line in self._measure.wrap(text, style, width):
            self._need(step)
            self._add(Op("text", QRectF(x, self._y, width, step), style, line))
            self._y += step
        self._y += gap

    def _first_height(self, block: Block | None) -> float:
        """Roughly the first lines of a block, to keep a heading with what follows."""
        if isinstance(block, Chart):
            return CHART_H
        return 3 * self._measure.line_height("body")

    def _place(self, block: Block, following: Block | None) -> None:
        m = self._measure
        if isinstance(block, Title):
            self._text_lines(block.text, "title", 0, self._w, 2)
            self._text_lines(block.subtitle, "subtitle", 0, self._w, 4)
            self._add(Op("line", QRectF(0, self._y, self._w, 0), color="#1f3864"))
            self._y += 6
        elif isinstance(block, Heading):
            self._need(m.line_height("heading") + 8 + self._first_height(following))
            self._y += 10 if self._y > 0 else 0
            self._text_lines(block.text, "heading", 0, self._w, 3)
        elif isinstance(block, Paragraph):
            style = block.tone if block.tone in ("note", "warning") else "body"
            self._text_lines(block.text, style, 0, self._w, 5)
        elif isinstance(block, Figures):
            self._figures(block)
        elif isinstance(block, Table):
            self._table(block)
        elif isinstance(block, PageBreak):
            if self._y > 0:
                self._new_page()
        elif isinstance(block, Chart):
            self._need(CHART_H)
            self._add(Op("chart", QRectF(0, self._y, self._w, CHART_H), chart=block))
            self._y += CHART_H + 6

    def _figures(self, block: Figures) -> None:
        m, label_w = self._measure, self._w * 0.58
        for label, value in block.lines:
            style = "strong" if label in block.strong else "body"
            labels = m.wrap(label, style, label_w - 8)
            values = m.wrap(value, style, self._w - label_w)
            step = m.line_height(style)
            height = step * max(len(labels), len(values)) + 4
            self._need(height)
            for i, line in enumerate(labels):
                self._add(Op("text", QRectF(0, self._y + 2 + i * step, label_w, step), style, line))
            for i, line in enumerate(values):
                rect = QRectF(label_w, self._y + 2 + i * step, self._w - label_w, step)
                self._add(Op("text", rect, style, line))
            self._y += height
            self._add(Op("line", QRectF(0, self._y, self._w, 0), color="#e3e3e3"))
        self._y += 6

    def _table(self, block: Table) -> None:
        m = self._measure
        cols = len(block.headers)
        widths = [
            max(m.width(r[i], "strong" if r is block.headers else "body") for r in
                [block.headers, *block.rows]) + 14
            for i in range(cols)
        ]  # fmt: skip
        if sum(widths) > self._w:  # the first column gives way (it wraps)
            widths[0] = max(60.0, self._w - sum(widths[1:]))
        step = m.line_height("body") + 5

        def header() -> None:
            self._add(Op("fill", QRectF(0, self._y, sum(widths), step), color="#eef1f6"))
            self._row(block.headers, widths, block.align, "strong", step)

        self._need(step * 2)
        header()
        for row in block.rows:
            if self._y + step > self._h:
                self._new_page()
                header()
            self._row(row, widths, block.align, "body", step)
        self._y += 6

    def _row(self, cells: Any, widths: list[float], align: str, style: str, step: float) -> None:
        x = 0.0
        for cell, width, side in zip(cells, widths, align, strict=True):
            text = self._measure.wrap(cell, style, width - 10)[0]
            self._add(Op("text", QRectF(x + 5, self._y + 2.5, width - 10, step - 5), style, text,
                         side))  # fmt: skip
            x += width
        self._y += step
        self._add(Op("line", QRectF(0, self._y, sum(widths), 0), color="#e3e3e3"))

    # ----------------------------------------------------------------- painting

    def paint(self, device: QPagedPaintDevice) -> int:
        """Lay out for the device's printable area and paint every page; return the count."""
        area = device.pageLayout().paintRectPoints()
        pages = self.layout(float(area.width()), float(area.height()))
        scale = device.width() / float(area.width())
        painter = QPainter()
        if not painter.begin(device):
            raise OSError("could not start painting the report (is the file writable?)")
        self._font: str | None = None
        self._pen: tuple[str, float] | None = None
        try:
            for number, ops in enumerate(pages, start=1):
                if number > 1:
                    device.newPage()
                for op in ops:
                    self._paint_op(painter, op, scale)
                self._paint_footer(painter, scale, number, len(pages), area.height())
        finally:
            painter.end()
        return len(pages)

    def _use(self, painter: QPainter, font: str | None, pen: tuple[str, float] | None) -> None:
        """Set the font and pen only when they change (PySide6 6.12 on Python 3.11 drops a
        reference to None on every call of a method returning nothing: fewer calls keep a
        report of many pages from wearing None out and crashing the process at exit)."""
        if font is not None and font != self._font:
            painter.setFont(style_font(font))
            self._font = font
        if pen is not None and pen != self._pen:
            color, width = pen
            painter.setPen(QPen(QColor(color), width) if width else QColor(color))
            self._pen = pen

    def _paint_op(self, painter: QPainter, op: Op, s: float) -> None:
        r = op.rect
        rect = QRectF(r.x() * s, r.y() * s, r.width() * s, r.height() * s)
        if op.kind == "fill":
            painter.fillRect(rect, QColor(op.color))
        elif op.kind == "line":
            self._use(painter, None, (op.color, 0.6 * s))
            painter.drawLine(rect.topLeft(), rect.topRight())
        elif op.kind == "chart" and op.chart is not None:
            self._use(painter, "body", None)
            draw_chart(painter, rect, op.chart, s)  # saves and restores the painter's state
        elif op.kind == "text":
            self._use(painter, op.style, (STYLES[op.style][2], 0.0))
            side = Qt.AlignmentFlag.AlignRight if op.align == "r" else Qt.AlignmentFlag.AlignLeft
            flags = side | Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextDontClip
            painter.drawText(rect, int(flags), op.text)

    def _paint_footer(
        self, painter: QPainter, s: float, number: int, total: int, height: float
    ) -> None:
        rect = QRectF(0, (height - FOOTER_H + 8) * s, self._w * s, (FOOTER_H - 8) * s)
        self._use(painter, "footer", (STYLES["footer"][2], 0.0))
        left = "MergeDesk labor-cost summary" + (f" · {self.footer}" if self.footer else "")
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom), left)
        painter.drawText(
            rect, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom),
            f"Page {number} of {total}",
        )  # fmt: skip

    def write_pdf(
        self, path: Path, page_size: QPageSize.PageSizeId = QPageSize.PageSizeId.A4
    ) -> int:
        """Write the report as a PDF file; return the number of pages."""
        writer = QPdfWriter(str(path))
        setup_page(writer, page_size)
        writer.setTitle("MergeDesk labor-cost summary")
        writer.setCreator("MergeDesk")
        return self.paint(writer)


def ensure_gui_app() -> None:
    """Create a QGuiApplication for painting if none exists (offscreen without a display)."""
    import os
    import sys

    from PySide6.QtGui import QGuiApplication

    if QGuiApplication.instance() is not None:
        return
    headless = sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )
    if headless:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    global _APP
    _APP = QGuiApplication(["mergedesk"])


_APP = None  # the application ensure_gui_app made (kept alive for the process)


def write_report_pdf(blocks: list[Block], footer: str, path: Path) -> int:
    """Write blocks as a PDF from anywhere (the CLI): makes a GUI application if needed."""
    ensure_gui_app()
    return ReportDocument(blocks, footer=footer).write_pdf(path)


def setup_page(device: QPagedPaintDevice, page_size: QPageSize.PageSizeId) -> None:
    """Give a PDF writer or printer the report's page size and margins (portrait)."""
    device.setPageSize(QPageSize(page_size))
    device.setPageOrientation(QPageLayout.Orientation.Portrait)
    device.setPageMargins(MARGINS_MM, QPageLayout.Unit.Millimeter)
