"""The small hours-and-cost chart, drawn with QPainter (no QtCharts): page, preview and screen.

:func:`draw_chart` paints a :class:`~desktop.labor.report_text.Chart` into any rectangle of
any paint device; ``pt`` is how many device pixels make one typographic point, so line widths
and gaps look the same on a 96-dpi screen and a 1200-dpi PDF. :class:`ChartWidget` shows it
on the report screen.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from desktop.labor.report_text import Chart

BAR = QColor("#4f81bd")
LINE = QColor("#c0504d")
GRID = QColor("#d9d9d9")
INK = QColor("#333333")


HEADROOM = 1.05  # the tallest bar stops short of the top grid line


def nice_step(value: float) -> float:
    """A round grid step (1, 2, 2.5 or 5 x 10^n) so that four steps reach ``value``."""
    if value <= 0:
        return 0.25
    raw = value / 4
    power = 10 ** math.floor(math.log10(raw))
    for step in (1, 2, 2.5, 5, 10):
        if raw <= step * power * (1 + 1e-9):
            return step * power
    return 10 * power


def _decimals(step: float) -> int:
    """Decimals that show every multiple of ``step`` exactly (2.5 needs one more)."""
    places = max(0, -math.floor(math.log10(step)))
    return places + (1 if round(step / 10 ** math.floor(math.log10(step)), 6) == 2.5 else 0)


def _tick(value: float, step: float) -> str:
    return f"{value:,.{_decimals(step)}f}"


def _money_tick(value: float, step: float) -> str:
    """Whole amounts while every step is whole, else to the cent."""
    return f"{value:,.{0 if abs(step - round(step)) < 1e-9 else 2}f}"


def axis_steps(chart: Chart) -> tuple[float, float]:
    """The grid steps of the hours axis and the cost axis.

    Cost is hours times the rate, so where an hour has a price both axes share one scale and
    the cost line meets the top of each bar; two round scales of their own made the line float
    above or below the bars for no reason in the figures.
    """
    step_h = nice_step(max(chart.hours, default=0) * HEADROOM)
    if chart.rate > 0:
        return step_h, step_h * chart.rate
    return step_h, nice_step(max(chart.costs, default=0) * HEADROOM)


def _up(plot: QRectF, value: float, top: float) -> float:
    """How far above the plot's bottom ``value`` is drawn (at most its top: a cost rounded up
    to the cent may pass a tiny axis)."""
    return min(plot.height(), plot.height() * value / top)


def draw_chart(painter: QPainter, rect: QRectF, chart: Chart, pt: float) -> None:
    """Paint bars of hours (left axis) and a line of cost (right axis) inside ``rect``."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    font = QFont(painter.font())
    font.setPointSizeF(7.5)
    painter.setFont(font)
    fm = QFontMetricsF(font, painter.device())
    line_h = fm.height()
    currency = chart.currency
    step_h, step_c = axis_steps(chart)
    top_h, top_c = 4 * step_h, 4 * step_c
    hour_ticks = [_tick(step_h * i, step_h) + " h" for i in range(5)]
    cost_ticks = [currency + _money_tick(step_c * i, step_c) for i in range(5)]
    left_w = max(fm.horizontalAdvance(t) for t in hour_ticks) + 4 * pt
    right_w = max(fm.horizontalAdvance(t) for t in cost_ticks) + 4 * pt
    plot = QRectF(
        rect.left() + left_w, rect.top() + line_h * 1.8,
        rect.width() - left_w - right_w, rect.height() - line_h * 3.2,
    )  # fmt: skip
    # legend
    painter.setPen(INK)
    x = plot.left()
    painter.fillRect(QRectF(x, rect.top() + 0.3 * line_h, 8 * pt, 0.7 * line_h), BAR)
    painter.drawText(QPointF(x + 11 * pt, rect.top() + line_h * 0.9), "Hours")
    x += 11 * pt + fm.horizontalAdvance("Hours") + 12 * pt
    painter.setPen(QPen(LINE, 1.6 * pt))
    mid = rect.top() + 0.65 * line_h
    painter.drawLine(QPointF(x, mid), QPointF(x + 12 * pt, mid))
    painter.setPen(INK)
    painter.drawText(QPointF(x + 15 * pt, rect.top() + line_h * 0.9), f"Cost ({currency})")
    # grid and axes
    for i in range(5):
        y = plot.bottom() - plot.height() * i / 4
        painter.setPen(QPen(GRID, 0.5 * pt))
        painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
        painter.setPen(INK)
        hours, cost = hour_ticks[i], cost_ticks[i]
        painter.drawText(
            QRectF(rect.left(), y - line_h / 2, left_w - 3 * pt, line_h),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, hours,
        )  # fmt: skip
        painter.drawText(
            QRectF(plot.right() + 3 * pt, y - line_h / 2, right_w, line_h),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, cost,
        )  # fmt: skip
    n = len(chart.labels)
    if n:
        slot = plot.width() / n
        label_w = max(fm.horizontalAdvance(label) for label in chart.labels) + 4 * pt
        every = max(1, math.ceil(label_w / slot))
        path = QPainterPath()
        for i, (label, h, c) in enumerate(zip(chart.labels, chart.hours, chart.costs, strict=True)):
            bar_h = _up(plot, h, top_h)
            bar = QRectF(plot.left() + slot * (i + 0.2), plot.bottom() - bar_h, slot * 0.6, bar_h)
            painter.fillRect(bar, BAR)
            point = QPointF(plot.left() + slot * (i + 0.5), plot.bottom() - _up(plot, c, top_c))
            path.moveTo(point) if i == 0 else path.lineTo(point)
            if i % every == 0:
                painter.setPen(INK)
                painter.drawText(
                    QRectF(plot.left() + slot * i - label_w, plot.bottom() + 2 * pt,
                           slot + 2 * label_w, line_h),
                    Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, label,
                )  # fmt: skip
        painter.setPen(QPen(LINE, 1.6 * pt))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(path)
        painter.setBrush(LINE)
        for i, c in enumerate(chart.costs):
            point = QPointF(plot.left() + slot * (i + 0.5), plot.bottom() - _up(plot, c, top_c))
            painter.drawEllipse(point, 1.8 * pt, 1.8 * pt)
    painter.setPen(QPen(INK, 0.8 * pt))
    painter.drawLine(plot.bottomLeft(), plot.bottomRight())
    painter.restore()


class ChartWidget(QWidget):
    """Shows one chart on screen (call :meth:`set_chart` with a new one to update it)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.chart: Chart | None = None
        self.setMinimumHeight(180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def set_chart(self, chart: Chart | None) -> None:
        """Show ``chart`` (None: nothing)."""
        self.chart = chart
        self.update()

    def sizeHint(self) -> QSize:
        """A wide, low chart."""
        return QSize(560, 200)

    def paintEvent(self, event: QPaintEvent) -> None:
        """Draw the chart over the whole widget."""
        if self.chart is None:
            return
        painter = QPainter(self)
        try:
            pt = self.logicalDpiX() / 72.0
            draw_chart(painter, QRectF(self.rect()).adjusted(4, 4, -4, -4), self.chart, pt)
        finally:
            painter.end()
