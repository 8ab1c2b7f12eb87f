"""Account health as the accounts list judges it: local days by bisected offsets, tiers at
their boundaries (tracklog/analytics/people.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from tracklog.analytics.people import Health, _Judge
from tracklog.analytics.scope import Scope
from tracklog.events import from_ms, to_ms

END = dt.datetime(2026, 11, 2, 8, 30)


@pytest.mark.parametrize(
    "zone", ["UTC", "America/Los_Angeles", "Asia/Kolkata", "Australia/Lord_Howe"]
)
def test_local_days_match_the_calendar_across_midnights_and_dst(zone: str) -> None:
    scope = Scope("w", END - dt.timedelta(days=400), END, timezone=zone)
    start = to_ms(dt.datetime(2025, 1, 1))
    # Every 15 minutes (and a millisecond either side) over a year and more: every local
    # midnight and every offset change of the span.
    points = [start + k * 900_000 + e for k in range(0, 45_000) for e in (-1, 0, 1)]
    judge = _Judge(Health(), scope, points)
    cal = scope.calendar
    assert [judge.day(ms) for ms in points] == [cal.day(from_ms(ms)) for ms in points]


def test_tiers_at_their_boundaries_are_judged_as_one_account_alone() -> None:
    scope = Scope("w", END - dt.timedelta(days=30), END, timezone="America/Los_Angeles")
    cal, health = scope.calendar, Health()
    today = cal.day(END - dt.timedelta(microseconds=1))
    judge = _Judge(health, scope, [to_ms(END - dt.timedelta(days=40))])
    for age in (0, 6, 7, 29, 30, 31):
        for active in (0, 1, 2):
            # The last instant of the local day `age` days before D, and its first.
            for t in (cal.day_start(today - age + 1), cal.day_start(today - age)):
                ms = to_ms(t) - (1 if t == cal.day_start(today - age + 1) else 0)
                expected = health.judge(today - age, active, cal, today)
                assert judge(ms, active) == expected
                assert expected[0] == (
                    "active" if age < 7 and active >= 2 else "at_risk" if age < 30 else "dormant"
                )
    assert judge(None, 0) == ("dormant", "No activity yet.")
