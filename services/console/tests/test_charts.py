"""The desk's server-drawn charts: bars scaled to their total with the figure written out, labels escaped;
work-list ageing in four buckets."""

from __future__ import annotations

import re

from console.charts import BAR, ageing, bars


def test_bars_scale_to_the_total_write_each_figure_and_escape_labels() -> None:
    svg = bars([("第一<支部>", 3.0), ("第二支部", 1.0)], total=4.0, unit="/4")
    widths = [
        float(w) for w in re.findall(r'class="chart-track"/><rect x="\d+" y="\d+" width="([\d.]+)"', svg)
    ]
    assert widths == [BAR * 3 / 4, BAR * 1 / 4]
    assert "3/4" in svg and "1/4" in svg
    assert "第一&lt;支部&gt;" in svg and "<支部>" not in svg
    assert 'aria-hidden="true"' in svg


def test_an_empty_chart_draws_no_bar() -> None:
    assert "chart-bar" not in bars([])


def test_ageing_puts_each_wait_in_its_bucket() -> None:
    assert ageing([0, 7, 8, 30, 31, 90, 91, 400]) == [
        ("age_week", 2),
        ("age_month", 2),
        ("age_quarter", 2),
        ("age_older", 2),
    ]
