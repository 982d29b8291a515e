"""Charts drawn on the server as SVG (no script, no CDN): horizontal bars, one per row, with the figure written
beside each bar so no information is carried by colour or length alone. Each chart is `aria-hidden`: the page
shows the same figures in a table for screen readers and for copying into a report."""

from __future__ import annotations

from html import escape

ROW = 28
LABEL = 220
BAR = 360


def bars(rows: list[tuple[str, float]], *, total: float | None = None, unit: str = "") -> str:
    """`rows` as labelled bars scaled to `total` (or to the largest value)."""
    top = total or max((value for _, value in rows), default=0) or 1
    height = ROW * len(rows) + 8
    parts = [
        f'<svg class="chart" role="presentation" aria-hidden="true" focusable="false" '
        f'viewBox="0 0 {LABEL + BAR + 90} {height}" width="{LABEL + BAR + 90}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, (label, value) in enumerate(rows):
        y = 4 + i * ROW
        width = max(0.0, min(1.0, value / top)) * BAR
        text = f"{value:g}{unit}"
        parts.append(
            f'<text x="{LABEL - 8}" y="{y + 18}" text-anchor="end" class="chart-label">{escape(label[:20])}</text>'
            f'<rect x="{LABEL}" y="{y + 4}" width="{BAR}" height="{ROW - 10}" class="chart-track"/>'
            f'<rect x="{LABEL}" y="{y + 4}" width="{width:.1f}" height="{ROW - 10}" class="chart-bar"/>'
            f'<text x="{LABEL + BAR + 8}" y="{y + 18}" class="chart-value">{escape(text)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


AGE_BUCKETS = ((7, "age_week"), (30, "age_month"), (90, "age_quarter"), (None, "age_older"))


def ageing(days: list[int]) -> list[tuple[str, int]]:
    """How long items have waited, in four buckets (text keys): within a week, a month, a quarter, longer."""
    counts = dict.fromkeys((key for _, key in AGE_BUCKETS), 0)
    for age in days:
        key = next(k for limit, k in AGE_BUCKETS if limit is None or age <= limit)
        counts[key] += 1
    return list(counts.items())
