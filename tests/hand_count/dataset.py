"""A fresh B2B product history with every awkward case, as logical events (seeded: same seed,
same history).

About 300 people in 43 accounts over the 60 days before END: accounts in UTC, Asia/Kolkata,
America/Los_Angeles and Europe/Berlin send timestamps with their own offsets; visitors browse
anonymously days before signing up; ids are merged by Segment `alias` and Vero `reidentify`
(one chain A → B → C); some events are sent twice; test events come through every format;
traits arrive in pieces; some accounts are alive, some were active on one day only, some went
quiet more than 30 days before END. A few events sit exactly on day, week and month starts,
and the Los Angeles accounts are busy in the repeated hour of 2026-11-01 (end of DST).

An `Event` is what happened, plus how it travels (`wire`, `shape`); the test turns it into
a request, the reference counts from it.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal
from zoneinfo import ZoneInfo

Kind = Literal["track", "identify", "group", "page", "alias"]
Wire = Literal["native", "segment", "rudder", "vero"]

UTC = dt.UTC


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


END = dt.datetime(2026, 11, 29, tzinfo=UTC)
DAYS = 60
START = END - dt.timedelta(days=DAYS)
LA, KOLKATA, BERLIN = (
    ZoneInfo(z) for z in ("America/Los_Angeles", "Asia/Kolkata", "Europe/Berlin")
)
ZONES: tuple[dt.tzinfo, ...] = (UTC, UTC, KOLKATA, LA, LA, BERLIN)
FEATURES = ("reports", "dashboards", "alerts", "export", "api", "sso", "billing", "audit_log")
FEATURE_WEIGHTS = (30, 22, 15, 10, 8, 6, 5, 4)
APP_PAGES, SITE_PAGES = ("Dashboard", "Reports", "Settings"), ("Home", "Pricing", "Docs", "Blog")
WORDS = _words(
    "Acme Birch Cobalt Delta Ember Fjord Granite Harbor Indigo Juniper Kestrel Lumen Maple "
    "Nimbus Onyx Pioneer Quartz Redwood Summit Tundra"
)
NOUNS = ("Labs", "Systems", "Health", "Logistics", "Capital")
FIRST = _words("Ava Ben Chloe Dev Elif Farah Goran Hana Ivan Jon Kiran Lena Mateo Nia Omar Priya")
LAST = _words("Adams Bose Chen Diaz Evans Fischer Gupta Hall Iyer Jones Kato Lopez Meyer Nair")


@dataclass(frozen=True)
class Event:
    """One logical event: what happened, and how it is sent."""

    seq: int
    kind: Kind
    name: str | None = None
    user_id: str | None = None
    anonymous_id: str | None = None
    group_id: str | None = None
    # Aware, in the sender's zone (sent with that offset); None when the call cannot carry
    # a time (Vero's users/* calls): it is then the time the server received it.
    timestamp: dt.datetime | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    traits: dict[str, Any] = field(default_factory=dict)  # identify/group; Vero identity
    is_test: bool = False
    previous_id: str | None = None  # alias: the id merged into user_id
    message_id: str | None = None
    wire: Wire = "native"
    # How the wire carries it: "context.groupId", "groupId", "context.group_id", "group_id"
    # (top level), "event" (seed 001's name key), "context.traits", "context.test", "test",
    # "development_mode", "edit" (Vero users/edit), "no_traits".
    shape: frozenset[str] = frozenset()
    resend: bool = False  # sent a second time, as it was


@dataclass
class Account:
    group_id: str
    name: str
    zone: dt.tzinfo
    wire: Wire
    pattern: str  # steady, new, one_day, fading, dormant
    created: int  # day index
    until: int  # first day index with no activity
    name_source: str  # group (account_name trait), segment_name (name trait), property


@dataclass
class Person:
    ids: list[tuple[int, str]]  # (from day, user id): the ids they were known by, in order
    first: str
    last: str
    email: str
    account: Account
    join: int
    style: str  # how they identify: seed, native, segment, rudder
    owner: bool  # the one who created the account
    anonymous_id: str | None = None
    link: str = ""  # identify, track or alias: how the visitor was linked

    def id_on(self, day: int) -> str:
        return [uid for start, uid in self.ids if start <= day][-1]


class History:
    """Builds the events; `add` keeps content-deduplicated events distinct."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.events: list[Event] = []
        self._content: set[tuple[Any, ...]] = set()

    def new_id(self, prefix: str = "") -> str:
        return prefix + str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def at(self, zone: dt.tzinfo, day: int, hour: int, minute: int = 0) -> dt.datetime:
        """Local wall-clock time on the day-th date of the history, in `zone`."""
        date = START.date() + dt.timedelta(days=day)
        wall = dt.datetime.combine(date, dt.time(hour, minute), tzinfo=zone)
        return wall.astimezone(UTC).astimezone(zone)

    def when(self, zone: dt.tzinfo, day: int, first: int = 9, last: int = 19) -> dt.datetime:
        """A random second between the local hours `first` and `last` of a day."""
        seconds = self.rng.randrange((last - first) * 3600)
        return self.at(zone, day, first) + dt.timedelta(seconds=seconds)

    def add(
        self,
        kind: Kind,
        wire: Wire,
        who: str | None,
        at: dt.datetime | None,
        resend: float = 0.0,
        msg: bool = True,
        shape: str = "",
        **kw: Any,
    ) -> None:
        """One event by `who` (a user id) at `at`; `resend`: the chance it is sent twice."""
        message_id = None
        if wire in ("segment", "rudder") or (wire == "native" and msg):
            message_id = self.new_id("m-")
        elif at is not None:  # deduplicated by content: two real events must not look the same
            key: tuple[Any, ...] = (kind, kw.get("name"), who, kw.get("anonymous_id"))
            while (*key, at) in self._content:
                at += dt.timedelta(seconds=1)
            self._content.add((*key, at))
        again = at is not None and self.rng.random() < resend
        self.events.append(
            Event(len(self.events), kind, user_id=who, timestamp=at, message_id=message_id,
                  wire=wire, shape=frozenset(shape.split()), resend=again, **kw)
        )  # fmt: skip


def _accounts(h: History) -> list[Account]:
    patterns = ["steady"] * 25 + ["one_day"] * 5 + ["dormant"] * 6 + ["fading"] * 4 + ["new"] * 3
    h.rng.shuffle(patterns)
    names = h.rng.sample([f"{w} {n}" for w in WORDS for n in NOUNS], len(patterns))
    accounts = []
    for i, (pattern, name) in enumerate(zip(patterns, names, strict=True)):
        created, until = {
            "steady": (h.rng.randrange(0, 25), DAYS),
            "new": (h.rng.randrange(48, 54), DAYS),
            "one_day": (h.rng.randrange(53, 59), 0),
            "dormant": (h.rng.randrange(0, 6), h.rng.randrange(18, 26)),
            "fading": (h.rng.randrange(0, 20), h.rng.randrange(36, 50)),
        }[pattern]
        wire: Wire = ("native", "segment", "rudder")[i % 3]
        source = ("group", "segment_name" if wire != "native" else "group", "property")[i % 4 % 3]
        group_id, zone = h.new_id("acct_")[:13], ZONES[i % len(ZONES)]
        until = until or created + 1
        accounts.append(Account(group_id, name, zone, wire, pattern, created, until, source))
    return accounts


def _group_shape(h: History, wire: Wire) -> str:
    """Where the account rides on an event: mostly where each library puts it."""
    if wire == "native":
        return h.rng.choice(["context.group_id", "group_id"])
    return h.rng.choice(["context.groupId"] * 8 + ["groupId", "context.group_id"])


def _people(h: History, accounts: list[Account]) -> list[Person]:
    people = []
    for acc in accounts:
        domain = acc.name.lower().replace(" ", "") + ".example"
        for n in range(h.rng.randint(3, 11)):
            first, last = h.rng.choice(FIRST), h.rng.choice(LAST)
            span = max(1, (acc.until - acc.created) // 3)
            join = min(acc.until - 1, acc.created + (h.rng.randrange(span) if n else 0))
            style = acc.wire if acc.wire != "native" else h.rng.choice(["seed", "native"])
            email = f"{first}.{last}{n}@{domain}".lower()
            p = Person([(0, h.new_id())], first, last, email, acc, join, style, n == 0)
            if h.rng.random() < 0.4 and join >= 3:
                p.anonymous_id = h.new_id("anon-")
                links = ["identify", "track"] + (["alias"] if acc.wire != "native" else [])
                p.link = h.rng.choice(links)
            people.append(p)
    return people


def _merges(h: History, people: list[Person]) -> None:
    """Old ids merged into new ones: Segment alias, Vero reidentify, and a chain A → B → C."""
    long_lived = [p for p in people if p.account.until - p.join > 12 and not p.anonymous_id]
    chosen = h.rng.sample(long_lived, 6)
    for p in chosen[:3]:  # a legacy user id, aliased (Segment) to the new one mid-history
        p.ids = [(0, h.new_id("legacy-")), (p.join + 5, p.ids[0][1])]
    for p in chosen[3:5]:  # Vero knew them by email: reidentify email → the product's id
        p.ids = [(0, p.email), (p.join + 4, p.ids[0][1])]
    chain = chosen[5]  # A → B by a Segment alias, B → C by a Vero reidentify
    chain.ids = [(0, "chain-a"), (chain.join + 3, "chain-b"), (chain.join + 8, chain.ids[0][1])]
    for p in chosen:
        for (_, old), (switch, new) in itertools.pairwise(p.ids):
            if old.startswith(("legacy-", "chain-a")):
                h.add("alias", "segment", new, h.at(p.account.zone, switch, 7), previous_id=old)
            else:  # Vero's reidentify carries no time: it happens when it is received
                h.add("alias", "vero", new, None, previous_id=old)


def _identify(h: History, p: Person) -> None:
    """At sign-up, as each sender does it (seed-style senders have no identify call)."""
    t, uid = h.when(p.account.zone, p.join, 8, 9), p.id_on(p.join)
    anon = p.anonymous_id if p.link == "identify" else None
    if p.style == "native":
        traits = {"email": p.email, "first_name": p.first, "last_name": p.last}
        h.add("identify", "native", uid, t, anonymous_id=anon, traits=traits)
    elif p.style in ("segment", "rudder"):
        traits = {"email": p.email, "name": f"{p.first} {p.last}", "plan": "trial"}
        shape = "context.traits" if p.style == "rudder" else ""  # RudderStack's Python SDK
        h.add("identify", p.account.wire, uid, t, shape=shape, anonymous_id=anon, traits=traits)
    elif anon:  # a seed-style visitor is still linked by an identify with both ids
        h.add("identify", "native", uid, t, anonymous_id=anon)


def _track(
    h: History, p: Person, name: str, t: dt.datetime, props: dict[str, Any], **kw: Any
) -> None:
    acc = p.account
    wire: Wire = "native" if p.style in ("seed", "native") else acc.wire
    shape = _group_shape(h, wire)
    if shape == "group_id" and h.rng.random() < 0.5:
        shape += " event"  # seed 001: `event` for the name, `group_id` at the top level
    msg = wire != "native" or h.rng.random() < 0.5  # the seeds send no message_id
    who = p.id_on((t.astimezone(UTC) - START).days)
    h.add("track", wire, who, t, 0.04, msg, shape, name=name, group_id=acc.group_id,
          properties=props, **kw)  # fmt: skip


def _life(h: History, p: Person) -> None:
    """Anonymous visits, sign-up, then sessions on working days until the account goes quiet."""
    acc, rng = p.account, h.rng
    site: Wire = "rudder" if acc.wire == "rudder" else "segment"
    for _ in range(h.rng.randint(1, 4) if p.anonymous_id else 0):  # 1-5 days before
        t = h.when(acc.zone, p.join - rng.randint(1, 5), 8, 22)
        page = rng.choice(SITE_PAGES)
        h.add("page", site, None, t, 0.05, name=page, anonymous_id=p.anonymous_id)
    _identify(h, p)
    t0 = h.when(acc.zone, p.join, 9, 10)
    both = {"anonymous_id": p.anonymous_id} if p.link == "track" else {}
    _track(h, p, "signed_up", t0, {"plan": "trial"}, **both)
    if p.link == "alias":
        h.add("alias", acc.wire, p.id_on(p.join), t0, previous_id=p.anonymous_id)
    gw: Wire = "native" if acc.wire == "native" else "segment"
    if p.owner:
        props = {"account_name": acc.name} if acc.name_source == "property" else {}
        _track(h, p, "account_created", t0 + dt.timedelta(seconds=40), props)
        if acc.name_source != "property":
            key = "name" if acc.name_source == "segment_name" else "account_name"
            traits = {key: acc.name, "plan": "trial", "industry": rng.choice(["saas", "retail"])}
            t = t0 + dt.timedelta(seconds=80)
            h.add("group", gw, p.id_on(p.join), t, group_id=acc.group_id, traits=traits)
    else:
        _track(h, p, "account_added_user", t0 + dt.timedelta(seconds=40), {})
    for day in range(p.join, acc.until):
        weekday = (START.date() + dt.timedelta(days=day)).weekday()
        chance = {"one_day": 1.0, "new": 0.6, "steady": 0.5}.get(acc.pattern, 0.35)
        if day == p.join or rng.random() < (chance if weekday < 5 else chance / 4):
            _session(h, p, day)
    if rng.random() < 0.5:  # later, a group call without traits (Segment's group(groupId))
        day = min(acc.until - 1, p.join + rng.randrange(1, 10))
        t = h.when(acc.zone, day, 18, 19)
        h.add("group", gw, p.id_on(day), t, shape="no_traits", group_id=acc.group_id)


def _session(h: History, p: Person, day: int) -> None:
    rng, acc = h.rng, p.account
    t = h.when(acc.zone, day, 10, 18)
    props: dict[str, Any] = {"method": rng.choice(["password", "sso"])}
    if p.style == "seed":  # the seeds' signed_in names the person in its properties
        props = {"email": p.email, "user_name": f"{p.first} {p.last}"}
    _track(h, p, "signed_in", t, props)
    for _ in range(rng.choice([0, 1, 1, 2, 3, 4])):
        t += dt.timedelta(seconds=rng.randrange(60, 2400))
        _track(h, p, "feature_used", t, {"feature": rng.choices(FEATURES, FEATURE_WEIGHTS)[0]})
    for _ in range(rng.randint(0, 2) if acc.wire != "native" else 0):
        t += dt.timedelta(seconds=rng.randrange(60, 1200))
        h.add("page", acc.wire, p.id_on(day), t, 0.04, shape=_group_shape(h, acc.wire),
              name=rng.choice(APP_PAGES), group_id=acc.group_id)  # fmt: skip
    if p.owner and rng.random() < 0.2:
        _track(h, p, "invite_sent", t + dt.timedelta(minutes=3), {"role": "member"})
    if rng.random() < 0.1:
        _track(h, p, "signed_out", t + dt.timedelta(minutes=30), {})


def _pieces(h: History, people: list[Person]) -> None:
    """Traits in pieces: CRM lifecycle-only identifies, a null, renamed people, Vero."""
    rng = h.rng
    for p in rng.sample(people, 90):
        day = rng.randrange(p.join, p.account.until)
        traits: dict[str, Any] = {"lifecycle": rng.choice(["lead", "customer", "champion"])}
        if rng.random() < 0.1:
            traits["plan"] = None  # a null does not erase a trait
        wire: Wire = rng.choice(["native", "segment"])
        h.add("identify", wire, p.id_on(day), h.when(p.account.zone, day, 20, 21), traits=traits)
    for p in rng.sample(people, 4):  # a new name, later
        day = rng.randrange(p.join, p.account.until)
        name = f"{p.first} {rng.choice(LAST)}-{p.last}"
        h.add("identify", "segment", p.id_on(day), h.when(p.account.zone, day, 21, 22),
              traits={"name": name})  # fmt: skip
    for p in rng.sample(people, 15):  # Vero's users/track: no time, first and last name
        traits = {"email": p.email, "first_name": p.first, "last_name": p.last}
        h.add("identify", "vero", p.ids[-1][1], None, traits=traits)
    for p in rng.sample(people, 3):  # Vero's users/edit
        h.add("identify", "vero", p.ids[-1][1], None, shape="edit", traits={"lifecycle": "churn"})
    for p in rng.sample(people, 20):  # product events sent to Vero too: no account
        for _ in range(rng.randint(1, 3)):
            day = rng.randrange(p.join, p.account.until)
            props = {"format": rng.choice(["csv", "pdf"])}
            h.add("track", "vero", p.id_on(day), h.when(p.account.zone, day), 0.2,
                  name="report_exported", properties=props, traits={"email": p.email})  # fmt: skip


def _test_events(h: History, people: list[Person]) -> None:
    """Test events in every format: Vero development_mode, context.test, a top-level test."""
    rng, staging = h.rng, h.new_id("acct_")[:13]
    for i in range(12):
        how = ["development_mode", "context.test", "test"][i % 3]
        wire: Wire = "vero" if i % 3 == 0 else "segment" if i % 6 == 1 else "native"
        who = rng.choice(people)
        uid = "qa-bot" if i < 6 else who.id_on(DAYS - 1)
        group = None if wire == "vero" else (staging if i < 6 else who.account.group_id)
        name = rng.choice(["signed_in", "feature_used", "signed_up"])
        props = {"feature": "reports"} if name == "feature_used" else {}
        traits = {"email": "qa@tracklog.example"} if wire == "vero" else {}
        h.add("track", wire, uid, h.when(UTC, rng.randrange(DAYS), 0, 24), shape=how, name=name,
              group_id=group, properties=props, traits=traits, is_test=True)  # fmt: skip


BOUNDARIES = {  # instants on day, week and month starts, range ends, and around the DST change
    UTC: "2026-11-01T00:00:00+00:00 2026-11-23T00:00:00+00:00 2026-11-20T12:00:00+00:00 "
    "2026-11-27T12:00:00+00:00 2026-10-31T07:00:00+00:00 2026-11-03T08:00:00+00:00",
    LA: "2026-11-01T00:00:00-07:00 2026-11-23T00:00:00-08:00 2026-11-01T00:59:59-07:00 "
    "2026-11-01T01:30:00-07:00 2026-11-01T01:30:00-08:00 2026-11-01T02:00:00-08:00 "
    "2026-11-02T00:00:00-08:00 2026-10-31T23:59:59-07:00",
    KOLKATA: "2026-11-01T00:00:00+05:30 2026-11-23T00:00:00+05:30 2026-11-10T10:30:00+05:30",
}


def _awkward(h: History, people: list[Person], accounts: list[Account]) -> None:
    """Boundary instants, the repeated hour of the DST change, a shared device, visitors."""
    for zone, times in BOUNDARIES.items():
        steady = [p for p in people if p.account.zone is zone and p.account.pattern == "steady"]
        for text in times.split():
            p = h.rng.choice([p for p in steady if p.join < 30 and len(p.ids) == 1])
            t = dt.datetime.fromisoformat(text).astimezone(UTC).astimezone(zone)
            _track(h, p, "feature_used", t, {"feature": h.rng.choice(FEATURES[:3])})
    # A shared browser: a visitor who became X, then Y signs in on it; the anonymous id is
    # the smaller of X's and Y's ids.
    x = next(p for p in people if p.link == "identify" and p.account.wire == "segment")
    y = next(p for p in people if p.account is x.account and p is not x and len(p.ids) == 1)
    t = h.at(x.account.zone, max(x.join, y.join) + 1, 19, 5)
    _track(h, y, "signed_in", t, {"method": "password"}, anonymous_id=x.anonymous_id)
    # Invited, never active: an identify and a traitless group call, nothing else.
    alive = [a for a in accounts if a.wire == "segment" and a.pattern == "steady"]
    for acc in h.rng.sample(alive, 3):
        uid, t = h.new_id(), h.when(acc.zone, 40, 11, 12)
        h.add("identify", "segment", uid, t, traits={"email": f"{uid[:6]}@invited.example"})
        t += dt.timedelta(minutes=1)
        h.add("group", "segment", uid, t, shape="no_traits", group_id=acc.group_id)
    for _ in range(40):  # visitors who never sign up
        anon, zone = h.new_id("anon-"), h.rng.choice(ZONES)
        for _ in range(h.rng.randint(1, 6)):
            t = h.when(zone, h.rng.randrange(DAYS), 0, 24)
            wire: Wire = h.rng.choice(["segment", "rudder"])
            h.add("page", wire, None, t, 0.05, name=h.rng.choice(SITE_PAGES), anonymous_id=anon)


def generate(seed: int = 12) -> list[Event]:
    """The whole history, in the order it is sent."""
    h = History(seed)
    accounts = _accounts(h)
    people = _people(h, accounts)
    _merges(h, people)
    for p in people:
        _life(h, p)
    _pieces(h, people)
    _test_events(h, people)
    _awkward(h, people, accounts)
    return h.events
