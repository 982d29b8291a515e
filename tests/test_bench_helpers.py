"""The bench's pure helpers: lags matched by id, their summary, and the growth verdict."""

from bench.growth import worse_by_more_than_a_third
from bench.lag import lag_summary, lags_ms


def test_a_lag_is_stored_minus_sent_for_the_ids_in_both() -> None:
    sent = {"a": 10.0, "b": 11.0, "c": 12.0}
    stored = {"a": 10.004, "b": 10.999, "x": 50.0}

    lags = lags_ms(sent, stored)

    assert [round(v, 3) for v in lags] == [4.0, -1.0]  # a negative lag is kept: the bound says so


def test_the_summary_counts_what_never_arrived() -> None:
    sent = {str(n): 0.0 for n in range(100)}
    stored = {str(n): n / 1000 for n in range(99)}  # 0 .. 98 ms; id 99 missing

    summary = lag_summary(sent, stored)

    assert summary["matched"] == 99
    assert summary["missing"] == 1
    assert round(summary["p50_ms"], 6) == 49.0
    assert round(summary["p99_ms"], 6) == 97.0  # nearest rank below, as bench.stats.percentile
    assert round(summary["max_ms"], 6) == 98.0


def test_nothing_arrived_gives_no_percentiles() -> None:
    summary = lag_summary({"a": 1.0}, {})

    assert summary == {"p50_ms": None, "p99_ms": None, "max_ms": None, "matched": 0, "missing": 1}


def test_a_rate_is_worse_below_two_thirds_and_a_latency_above_four_thirds() -> None:
    assert not worse_by_more_than_a_third(90.0, 60.0, higher_is_better=True)
    assert worse_by_more_than_a_third(90.0, 59.9, higher_is_better=True)
    assert not worse_by_more_than_a_third(30.0, 40.0, higher_is_better=False)
    assert worse_by_more_than_a_third(30.0, 40.1, higher_is_better=False)
    assert not worse_by_more_than_a_third(30.0, 10.0, higher_is_better=False)  # better is never worse
