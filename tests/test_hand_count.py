"""Every number Tracklog shows equals a hand count of the raw events (issue 12).

A fresh B2B history (tests/hand_count/dataset.py: offsets, anonymous visitors who sign up
later, merges, resends, test events, traits in pieces, DST) is sent once per store in the
native, Segment/RudderStack and Vero formats. Each test is one check of one endpoint, for a
case (UTC; `tz=America/Los_Angeles`; `tz=Asia/Kolkata`; UTC with include_test=true), over
several ranges: the default, 7 days, a `to` on a week start and on a month start, and the
DST change. The expected values come from tests/hand_count/reference.py, written from the
definitions, not from Tracklog's code.

Every check passes on both stores: a disagreement is a bug in Tracklog or in the reference,
to be found and fixed, never marked as expected.
"""

from __future__ import annotations

import datetime as dt
import itertools
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.hand_count import checks, reference, wire
from tests.hand_count.dataset import KOLKATA, LA, Event, generate
from tests.support import ServerProcess, new_tenant

_workspaces = itertools.count()
NOW = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)


def _params() -> list[Any]:
    return [
        pytest.param(name, case, id=f"{name}-{case}")
        for name, check in checks.CHECKS.items()
        for case in check.cases
    ]


class Outcomes(dict[tuple[str, str], object]):
    """Each selected (check, case) and its Outcome (or the exception it raised)."""

    def __repr__(self) -> str:
        return f"<{len(self)} outcomes>"


@pytest.fixture(scope="module")
def outcomes(server: ServerProcess, request: pytest.FixtureRequest) -> Outcomes:
    """The dataset sent to a new workspace, then every selected check run (a few at a time)."""
    tenant = new_tenant(server, f"hand{next(_workspaces)}")
    events = generate()
    delivery, received = wire.send(server.url, tenant.write_key, events)
    filled = reference.fill_received(events, received)
    ctx = checks.Ctx(server.url, tenant.read_key, filled, delivery)
    wanted = [
        (item.callspec.params["name"], item.callspec.params["case"])
        for item in request.session.items
        if getattr(item, "module", None) is request.module and hasattr(item, "callspec")
    ]

    def run(key: tuple[str, str]) -> object:
        try:
            return checks.CHECKS[key[0]].run(ctx, checks.CASES[key[1]])
        except Exception as exc:  # reported by the test it belongs to
            return exc

    with ThreadPoolExecutor(4) as pool:
        found = Outcomes(zip(wanted, pool.map(run, wanted), strict=True))
    ctx.close()
    return found


# The first check of a store runs its whole history and every report (the module fixture):
# a minute on a quiet machine, which a loaded one may stretch past the default timeout.
@pytest.mark.timeout(900)
@pytest.mark.parametrize(("name", "case"), _params())
def test_hand_count(name: str, case: str, outcomes: Outcomes) -> None:
    """The endpoint's answers equal the hand count, in every range of the case."""
    outcome = outcomes[(name, case)]
    if isinstance(outcome, BaseException):
        raise outcome
    assert isinstance(outcome, checks.Outcome)
    assert outcome.compared, f"{name}: nothing was compared"
    if outcome.diffs:
        pytest.fail(outcome.message(f"{name} [{case}]"), pytrace=False)


# -- the reference itself: its calendar and identity rules on cases worked out by hand -------


def _utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)


def test_reference_days_are_local_and_23_or_25_hours_across_dst() -> None:
    fall = reference.Range(_utc("2026-11-01T00:00-07:00"), _utc("2026-11-02T00:00-08:00"), NOW)
    assert [(e - s).total_seconds() / 3600 for s, e in reference.periods(fall, "day", LA)] == [25]
    spring = reference.Range(_utc("2026-03-08T00:00-08:00"), _utc("2026-03-09T00:00-07:00"), NOW)
    assert [(e - s).total_seconds() / 3600 for s, e in reference.periods(spring, "day", LA)] == [23]


def test_reference_hours_follow_the_local_clock() -> None:
    fall = reference.Range(_utc("2026-11-01T00:00-07:00"), _utc("2026-11-02T00:00-08:00"), NOW)
    starts = [s.astimezone(LA) for s, _ in reference.periods(fall, "hour", LA)]
    assert len(starts) == 25  # the repeated hour is two buckets, with different offsets
    assert [s.isoformat() for s in starts if s.hour == 1] == [
        "2026-11-01T01:00:00-07:00",
        "2026-11-01T01:00:00-08:00",
    ]
    spring = reference.Range(_utc("2026-03-08T00:00-08:00"), _utc("2026-03-09T00:00-07:00"), NOW)
    hours = [s.astimezone(LA).hour for s, _ in reference.periods(spring, "hour", LA)]
    assert hours[:3] == [0, 1, 3] and len(hours) == 23  # 2 am does not exist
    half = reference.period_start(_utc("2026-11-10T05:10:00Z"), "hour", KOLKATA)
    assert half == _utc("2026-11-10T04:30:00Z") == _utc("2026-11-10T10:00:00+05:30")


def test_reference_weeks_start_monday_and_months_on_the_first_local_midnight() -> None:
    sunday_night = _utc("2026-11-22T23:59:59-08:00")  # Monday 07:59 UTC
    assert reference.period_start(sunday_night, "week", LA) == _utc("2026-11-16T00:00-08:00")
    assert reference.period_start(sunday_night, "week", dt.UTC) == _utc("2026-11-23T00:00Z")
    assert reference.period_start(_utc("2026-10-31T19:00Z"), "month", KOLKATA) == _utc(
        "2026-11-01T00:00+05:30"
    )
    assert reference.next_start(_utc("2026-10-01T00:00-07:00"), "month", LA) == _utc(
        "2026-11-01T00:00-07:00"
    )


def test_reference_people_links_merges_and_chains() -> None:
    at = _utc("2026-11-01T12:00Z")

    def ev(seq: int, kind: str, **kw: object) -> Event:
        return Event(seq, kind, timestamp=at + dt.timedelta(minutes=seq), **kw)  # type: ignore[arg-type]

    w = reference.World(
        [
            ev(0, "page", name="Home", anonymous_id="v1"),
            ev(1, "track", name="signed_in", user_id="u9", anonymous_id="v1"),
            ev(2, "identify", user_id="u2", anonymous_id="v1"),  # v1 goes to the smaller: u2
            ev(3, "alias", user_id="b", previous_id="a"),
            ev(4, "alias", user_id="c", previous_id="b"),
            ev(5, "track", name="x", user_id="a"),
            ev(6, "page", name="Docs", anonymous_id="v2"),
        ],
        include_test=False,
    )
    assert [w.person[s] for s in range(7)] == ["u2", "u9", "u2", "c", "c", "c", "v2"]
    assert w.anonymous("v2") and not w.anonymous("c")
    page = reference.user(w, reference.Range(at - dt.timedelta(days=1), NOW, NOW), "c")
    assert page is not None and page["merged_ids"] == ["a", "b"]
