"""A small, known product history, and the answers to analytics questions computed from it in
plain Python (never by the SQL under test)."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

START = dt.datetime(2026, 9, 1)
DAYS = 40
END = START + dt.timedelta(days=DAYS)
PLANS = ("free", "pro", "team", "enterprise")


@dataclass
class History:
    """Events as sent, and each event's person (after identity merging) for the expectations."""

    events: list[dict[str, Any]] = field(default_factory=list)
    # (event_name, timestamp, person, group, properties) of every track event
    tracks: list[tuple[str, dt.datetime, str, str | None, dict[str, Any]]] = field(
        default_factory=list
    )
    emails: dict[str, str] = field(default_factory=dict)
    account_names: dict[str, str] = field(default_factory=dict)


def iso(t: dt.datetime) -> str:
    return t.isoformat(timespec="milliseconds") + "Z"


def build(seed: int = 7) -> History:
    """30 users in 5 accounts over 40 days; 5 of them browse anonymously before signing up."""
    rng = random.Random(seed)
    h = History()
    for a in range(5):
        h.account_names[f"acct{a}"] = f"Account {a}"
        h.events.append(
            {
                "type": "group",
                "group_id": f"acct{a}",
                "user_id": f"u{a}",
                "traits": {"account_name": f"Account {a}"},
                "timestamp": iso(START),
            }
        )
    for u in range(30):
        user, group = f"u{u}", f"acct{u % 5}"
        joined = START + dt.timedelta(days=rng.randrange(0, 30), hours=rng.randrange(0, 24))
        h.emails[user] = f"person{u}@example.com"
        if u < 5:  # browsed anonymously first, then identified with both ids
            anon = f"anon-{u}"
            for k in range(2):
                t = joined - dt.timedelta(hours=3 - k)
                props = {"plan": "free", "count": k}
                h.events.append(
                    {
                        "event_name": "viewed_pricing",
                        "anonymous_id": anon,
                        "properties": props,
                        "timestamp": iso(t),
                    }
                )
                h.tracks.append(("viewed_pricing", t, user, None, props))
            h.events.append(
                {
                    "type": "identify",
                    "user_id": user,
                    "anonymous_id": anon,
                    "traits": {"email": h.emails[user], "name": f"Person {u}"},
                    "timestamp": iso(joined),
                }
            )
        else:
            h.events.append(
                {
                    "type": "identify",
                    "user_id": user,
                    "traits": {
                        "email": h.emails[user],
                        "first_name": "Person",
                        "last_name": str(u),
                    },
                    "timestamp": iso(joined),
                }
            )
        plan = PLANS[u % 4]

        def track(name: str, t: dt.datetime, **extra: Any) -> None:
            props = {"plan": plan, **extra}
            h.events.append(
                {
                    "event_name": name,
                    "user_id": user,
                    "properties": props,
                    "timestamp": iso(t),
                    "context": {"group_id": group},
                }
            )
            h.tracks.append((name, t, user, group, props))

        track("signed_up", joined)
        t = joined + dt.timedelta(minutes=5)
        while t < END:
            track("signed_in", t)
            if rng.random() < 0.6:
                track("feature_used", t + dt.timedelta(minutes=2), count=rng.randrange(1, 10))
            t += dt.timedelta(days=rng.choice((1, 1, 2, 3, 7)), hours=rng.randrange(-3, 4))
    return h


def daily_counts(h: History) -> dict[str, Counter[dt.date]]:
    out: dict[str, Counter[dt.date]] = defaultdict(Counter)
    for name, t, *_ in h.tracks:
        out[name][t.date()] += 1
    return out


def active_sets(h: History, of: str = "users") -> dict[dt.date, set[str]]:
    days: dict[dt.date, set[str]] = defaultdict(set)
    for _name, t, person, group, _p in h.tracks:
        subject = group if of == "accounts" else person
        if subject:
            days[t.date()].add(subject)
    return days
