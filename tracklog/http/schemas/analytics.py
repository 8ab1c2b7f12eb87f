"""The analytics answers: trends, top events, active users, retention, funnels, accounts, users.

The reports (tracklog/analytics/) return plain dicts; the routes convert them to these types
with `msgspec.convert`, which checks each answer against its type on the way out.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from tracklog.http.schemas.common import Date, Object, Time

Interval = Literal["hour", "day", "week", "month"]
Of = Literal["users", "accounts"]
Rate = Annotated[float, Meta(ge=0, description="a share, rounded to 4 decimals")]
Email = Annotated[Any, Meta(description="the latest `email` trait, as sent (usually a string)")]
Zone = Annotated[
    str, Meta(description="the IANA time zone whose days, weeks and months the answer counts")
]
Partial = Annotated[
    bool, Meta(description="the period starts before `from`, or ends after `to` or after now")
]
Offset = Annotated[int, Meta(ge=0, description="rows of the whole list before this page")]
Limit = Annotated[int, Meta(ge=1, description="rows per page at most")]


class Point(msgspec.Struct):
    """One bucket: its start (with the zone's offset then) and its value."""

    t: Time
    value: int
    partial: Partial


class Series(msgspec.Struct):
    """One line of a trend: an event name or a property value (`other`: the rest)."""

    name: str
    total: int
    points: list[Point]


class Trends(msgspec.Struct):
    """Per-bucket counts (or unique users), every bucket of the range present."""

    interval: Interval
    measure: Literal["count", "users"]
    breakdown: str | None
    series: list[Series]
    timezone: Zone
    from_: Time = msgspec.field(name="from")
    to: Time


class TopEvent(msgspec.Struct):
    """An event name, how often it happened and how many people did it."""

    event_name: str
    count: int
    users: int


class TopEvents(msgspec.Struct):
    """The most frequent events, most frequent first."""

    events: list[TopEvent]
    timezone: Zone


class ActiveLatest(msgspec.Struct):
    """The last day's numbers."""

    dau: int
    wau: int
    mau: int
    stickiness: Rate
    partial: Partial


class ActiveDay(msgspec.Struct):
    """Who was active that (local) day, in the 7 and in the 30 days ending that day; DAU/MAU.
    Partial when the day ends after `to` or after now."""

    date: Date
    dau: int
    wau: int
    mau: int
    stickiness: Rate
    partial: bool


class Active(msgspec.Struct):
    """DAU, WAU, MAU and stickiness for each day of the range, of users or accounts."""

    of: Of
    event: str | None
    points: list[ActiveDay]
    latest: ActiveLatest
    timezone: Zone


class Cohort(msgspec.Struct):
    """People whose first start event fell in the period beginning `start`; `returned[k]`
    came back k periods later (`returned[0]` is the cohort), `rates` the same as shares."""

    start: Time
    users: int
    returned: list[int]
    rates: list[Rate]
    partial: Annotated[
        list[int], Meta(description="the k whose period ends after `to` or after now")
    ]


class Retention(msgspec.Struct):
    """The cohort table, one row per period, newer rows shorter."""

    period: Literal["day", "week", "month"]
    start_event: str
    return_event: str
    cohorts: list[Cohort]
    timezone: Zone


class Step(msgspec.Struct):
    """A funnel step: who reached it, as a share of the first step and of the one before,
    and the median time they took from the step before."""

    event_name: str
    count: int
    conversion: Rate
    from_previous: Rate
    median_seconds: Annotated[
        float | None,
        Meta(
            description="the median, over those who reached this step, of the seconds from "
            "reaching the step before (times in whole seconds; the mean of the two middle "
            "values when their number is even); null for step 1 or when nobody reached it"
        ),
    ]


class FunnelSeries(msgspec.Struct):
    """The funnel of the subjects whose entry event had this value of the breakdown property
    ('' for none; `other`: the values after the 10 with most entries)."""

    value: str
    steps: list[Step]


class Funnel(msgspec.Struct):
    """The steps in order, counted by users or accounts within `window_seconds` of entry;
    with a breakdown, one funnel per value of the property on each subject's entry event."""

    by: Of
    window_seconds: int
    steps: list[Step]
    breakdown: str | None
    series: list[FunnelSeries]
    timezone: Zone


class AccountRef(msgspec.Struct):
    """An account: its id and name (the `account_name` trait, else `name`)."""

    group_id: str
    name: str | None


class FunnelPeople(msgspec.Struct):
    """A page of the subjects behind a funnel step: people (`users`, as the users list shows
    them) for a funnel by users, accounts (`accounts`, by id) for one by accounts; `total` in
    all."""

    by: Of
    users: list[User]
    accounts: list[AccountRef]
    total: int
    offset: Offset
    limit: Limit
    timezone: Zone


class LifecyclePeriod(msgspec.Struct):
    """One local period: how many subjects active in it were new (never active before),
    returning (active in the period before), resurrecting (active before, but not in the
    period before); and, negative, how many active in the period before were not in it."""

    start: Time
    partial: Partial
    new: int
    returning: int
    resurrecting: int
    dormant: Annotated[int, Meta(le=0, description="minus those who went dormant")]


class Lifecycle(msgspec.Struct):
    """New, returning, resurrecting and dormant people (or accounts) per local period of the
    range; each period counts its whole activity before `to`."""

    of: Of
    period: Literal["day", "week", "month"]
    event: str | None
    periods: list[LifecyclePeriod]
    timezone: Zone


class LifecyclePeople(msgspec.Struct):
    """A page of the subjects behind one lifecycle number: people (`users`, their events
    counted from the start of the period before to the end of this one) or accounts."""

    of: Of
    users: list[User]
    accounts: list[AccountRef]
    total: int
    offset: Offset
    limit: Limit
    timezone: Zone


class Account(msgspec.Struct):
    """An account's numbers and health tier."""

    group_id: str
    name: str | None
    users: int
    active_users_7d: int
    active_users_30d: int
    sign_ins: int
    events: int
    last_seen: Time | None
    health: Literal["active", "at_risk", "dormant"]
    health_reason: Annotated[str, Meta(description="why this tier, in a sentence")]


class Thresholds(msgspec.Struct):
    """The health settings the tiers were computed with."""

    active_days: int
    at_risk_days: int
    min_active_days: int


class Window(msgspec.Struct):
    """A window of local days as of `to`: from its first local midnight to `to`."""

    from_: Time = msgspec.field(name="from")
    to: Time


class Windows(msgspec.Struct):
    """The windows of `active_users_7d` (local days D-6 … D) and `active_users_30d`."""

    active_users_7d: Window
    active_users_30d: Window


class TierCounts(msgspec.Struct):
    """How many of the accounts matching `q` (whatever `health` asks) are in each tier."""

    active: int
    at_risk: int
    dormant: int


class Accounts(msgspec.Struct):
    """A page of the accounts with an event in the range, in the asked order (most active
    first): `total` match `q` and `health`, `counts` says how many of those matching `q` are
    in each tier. Windows, last activity and health are as of `to`."""

    accounts: list[Account]
    total: int
    offset: Offset
    limit: Limit
    counts: TierCounts
    thresholds: Thresholds
    windows: Windows
    timezone: Zone


class AccountWithTraits(Account):
    """An account's numbers, health tier and latest group traits."""

    traits: Object


class AccountUser(msgspec.Struct):
    """A user of an account, most recently seen first."""

    user_id: str
    name: str | None
    email: Email
    events: int
    sign_ins: int
    last_seen: Time | None


class AccountDay(msgspec.Struct):
    """An account's activity on one day."""

    date: Date
    events: int
    active_users: int
    partial: Partial


class AccountDetail(msgspec.Struct):
    """One account: its numbers and traits, its users and its daily activity."""

    account: AccountWithTraits
    users: list[AccountUser]
    activity: list[AccountDay]
    windows: Windows
    timezone: Zone


class User(msgspec.Struct):
    """A person with an event in the range: activity counted in the range, first and last
    activity over all their history before `to`, name and email from merged traits."""

    user_id: str
    email: Email
    name: str | None
    events: int
    sign_ins: int
    first_seen: Time | None
    last_seen: Time | None
    anonymous: bool


class UserPage(User):
    """A person's page: their list fields, every trait (merged per key, the latest value
    wins), the ids that belong to them, their accounts and their activity by event name."""

    traits: Object
    sign_in_count: int
    event_counts: dict[str, int]
    anonymous_ids: list[str]
    merged_ids: list[str]
    groups: list[str]
    timezone: Zone


class Users(msgspec.Struct):
    """A page of the people the list (or a drill-down) holds, in the asked order (most
    recently seen first); `total` in all."""

    users: list[User]
    total: int
    offset: Offset
    limit: Limit
    timezone: Zone


JsonType = Literal["string", "number", "boolean", "object", "array", "null"]


class TopValue(msgspec.Struct):
    """A value of a property and how many of the events carried it."""

    value: Annotated[str | float | int | bool, Meta(description="a string, number or boolean")]
    count: int


class PropertyInfo(msgspec.Struct):
    """A top-level property of an event: how many of its events carry it, the JSON types of
    its values (most frequent first) and its most frequent values (at most 10)."""

    name: str
    count: int
    types: list[JsonType]
    top_values: list[TopValue]


class EventInfo(msgspec.Struct):
    """An event name, how many times it happened in the range, and its properties (most
    frequent first, at most 100)."""

    event_name: str
    count: int
    properties: list[PropertyInfo]


class Schema(msgspec.Struct):
    """The activity events of the range, most frequent first (at most 200): what pickers of
    event names, properties and values suggest."""

    events: list[EventInfo]
    timezone: Zone
