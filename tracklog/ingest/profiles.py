"""The profile facts a group of events carries: identity links and traits (store/profiles.py).

- An event carrying both a user id and an anonymous id links the anonymous id to the user; an
  alias call (Segment's alias, Vero's reidentify: stored as user_id = the new id,
  anonymous_id = the previous one) merges the previous id into the new one.
- An identify call sets every trait it carries on its sender (its user id, else its
  anonymous id); any other event sets the *identity properties* it carries (`email`,
  `user_name`, … by default). A group call sets every trait it carries on its account; any
  other event with an account sets the *account properties* it carries (`account_name`).
- A null value sets nothing: it neither erases a trait nor wins over an older value.
- Test events set nothing: a development-mode identify must not rename a real person.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import msgspec
from tqdm import tqdm

from tracklog.events import Event, to_ms
from tracklog.store import events
from tracklog.store.base import Store
from tracklog.store.profiles import (
    Link,
    ProfileFacts,
    Trait,
    latest_links,
    latest_traits,
    version,
)

log = logging.getLogger("tracklog.profiles")
IDENTITY_PROPERTIES = ("email", "user_name", "name", "first_name", "last_name")
ACCOUNT_PROPERTIES = ("account_name",)
_encode = msgspec.json.Encoder()


@dataclass(frozen=True)
class ProfileRules:
    """Which properties of ordinary events describe the person and the account."""

    identity: tuple[str, ...] = IDENTITY_PROPERTIES
    account: tuple[str, ...] = ACCOUNT_PROPERTIES


def facts(events: Sequence[Event], rules: ProfileRules) -> ProfileFacts:
    """The profile facts of `events` (see the module docstring)."""
    links: list[Link] = []
    kept: dict[tuple[str, str, str, str], Trait] = {}
    identity, account = rules.identity, rules.account
    last: dt.datetime | None = None
    at = 0
    for e in events:
        if e.is_test:
            continue
        if e.timestamp is not last:  # events sent without a time share their request's
            last = e.timestamp
            at = to_ms(last)
        user, anonymous = e.user_id or "", e.anonymous_id or ""
        if user and anonymous and user != anonymous:
            links.append(Link(e.workspace, anonymous, user, e.type == "alias", at))
        props = e.properties
        if not props:
            continue  # no traits to set
        subject = user or anonymous
        type_ = e.type
        if type_ == "identify":
            _traits(kept, e.workspace, "person", subject, props, None, at)
        elif type_ == "group":
            if e.group_id:
                _traits(kept, e.workspace, "account", e.group_id, props, None, at)
            continue
        elif type_ != "alias":
            _traits(kept, e.workspace, "person", subject, props, identity, at)
        if e.group_id:
            _traits(kept, e.workspace, "account", e.group_id, props, account, at)
    return ProfileFacts(latest_links(links), list(kept.values()))


def _traits(
    kept: dict[tuple[str, str, str, str], Trait],
    workspace: str,
    kind: str,
    subject: str,
    values: dict[str, object],
    keys: tuple[str, ...] | None,
    at: int,
) -> None:
    """Add the traits of one event to `kept`, one per key, the largest version winning (the
    first of equal ones, as `latest_traits` keeps)."""
    if not subject:
        return
    base = max(at, 0) * 1024  # a string's version, before its tie-break bits
    for key in values if keys is None else keys:
        value = values.get(key)
        if value is None or key == "" or len(key) > 255:
            continue
        text: str | None
        if value.__class__ is str:
            text = value
            encoded, tie = _encoded_text(text)
            rank = base + tie
        else:
            text = None
            encoded = _encode.encode(value).decode()
            rank = version(at, encoded)
        slot = (workspace, kind, subject, key)
        found = kept.get(slot)
        if found is None or rank > found.version:
            kept[slot] = Trait(workspace, kind, subject, key, encoded, rank, text)


@lru_cache(maxsize=65_536)
def _encoded_text(value: str) -> tuple[str, int]:
    """A string trait value as JSON, and the tie-break bits `version` adds for it.

    Cached: the same person's email or name arrives on every sign-in, and encoding it and
    hashing it again was a tenth of a commit's time (issue 15).
    """
    encoded = _encode.encode(value).decode()
    return encoded, version(0, encoded)


BUILT = "profiles.built"
CURSOR = "profiles.cursor"


def build(store: Store, rules: ProfileRules, progress: bool = True, batch: int = 50_000) -> int:
    """Make the profiles of events stored before this version (once; resumable).

    What the events say is read aggregated by the store (each pair of ids seen together,
    each value an identity or account property took, with its latest time), so the build
    costs what the people cost, not the events; identify and group calls, whose every key
    is a trait, are read a batch at a time in time order, the position saved after each
    batch, so a build that was stopped goes on where it stopped. Returns how many calls and
    aggregates were applied.
    """
    if store.meta(BUILT):
        return 0
    log.info("building the profiles of events stored before profiles existed")
    done = 0
    if not store.meta(CURSOR):  # the aggregates go in one piece, before any batch
        done += _aggregates(store, rules)
        store.save_meta(CURSOR, "0|" + str(uuid.UUID(int=0)))
    ms, _, uid = (store.meta(CURSOR) or "").partition("|")
    after = (int(ms), uuid.UUID(uid))
    # A bar on a terminal only (tqdm's `disable=None`): a log file gets the two lines.
    bar = tqdm(desc="building profiles", unit=" calls", disable=None if progress else True)
    while chunk := events.profile_sources(store, after, batch):
        store.write([], [], facts(chunk, rules))
        last = chunk[-1]
        after = (to_ms(last.timestamp), uuid.UUID(bytes=last.id))
        store.save_meta(CURSOR, f"{after[0]}|{after[1]}")
        done += len(chunk)
        bar.update(len(chunk))
    bar.close()
    log.info("built the profiles of stored events (%d facts)", done)
    store.save_meta(BUILT, "1")
    return done


def _aggregates(store: Store, rules: ProfileRules) -> int:
    """Links and identity/account property traits, from the store's aggregates."""
    links = [Link(w, a, u, m, at) for w, a, u, m, at in events.links_seen(store)]
    traits: list[Trait] = []
    for kind, keys in (("person", rules.identity), ("account", rules.account)):
        for key in keys:
            for workspace, subject, raw, at in events.property_values(
                store, key, kind == "account"
            ):
                value = _decode_json(raw)
                if value is None:
                    continue
                encoded = _encode.encode(value).decode()
                text = value if isinstance(value, str) else None
                traits.append(
                    Trait(workspace, kind, subject, key, encoded, version(at, encoded), text)
                )
    found = ProfileFacts(latest_links(links), latest_traits(traits))
    store.write([], [], found)
    return len(found.links) + len(found.traits)


def _decode_json(raw: str) -> object:
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return None
