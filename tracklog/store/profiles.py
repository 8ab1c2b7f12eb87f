"""Who is who and what is known about them: identity links and traits kept beside the events.

Each commit turns its events into facts (tracklog/ingest/profiles.py): an id seen on an event
together with a user id is *linked* to that user; an alias or reidentify call *merges* an id
into another; identify and group calls, and identity properties on other events, set
*traits*. Facts are idempotent and their outcome does not depend on the order they arrive
in, so a retry, a late event or a replay changes nothing it should not.

From the links each store keeps, per id that belongs to someone else, the *person* it
resolves to (`identities`), so a report maps an event to its person with one join on a small
table, and a merge that arrives late needs no rewrite of events. Traits are kept per subject
(an id, or an account) and key, the latest value winning; a person's traits are those of
every id that resolves to them. See docs/analytics.md, "Who is a person".
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import msgspec

# How many merges resolution follows (A → B → C …) before it stops.
MAX_STEPS = 8


# Facts are msgspec structs, not frozen dataclasses: a commit makes one or two per event, and a
# frozen dataclass's __init__ (object.__setattr__ per field) costs several times a struct's.
class Link(msgspec.Struct, frozen=True):
    """`id` belongs to `target`: seen together (merge False) or merged by an alias call."""

    workspace: str
    id: str
    target: str
    merge: bool
    at_ms: int  # the event's time: among merges of one id, the latest wins


class Trait(msgspec.Struct, frozen=True):
    """One key of a person's (an id's) or an account's traits, as of one event."""

    workspace: str
    kind: str  # "person" (subject: a user or anonymous id) or "account" (a group id)
    subject: str
    key: str
    value: str  # JSON text
    version: int  # `version(at_ms, value)`: the larger wins
    text: str | None = None  # the value when it is a string (what search and names read)


class Identity(msgspec.Struct, frozen=True):
    """An id and the person it belongs to (itself, when a loop of merges comes back to it)."""

    workspace: str
    id: str
    person: str


@dataclass
class ProfileFacts:
    """The links and traits a group of events carries, one per key (the latest)."""

    links: list[Link] = field(default_factory=list)
    traits: list[Trait] = field(default_factory=list)


def version(at_ms: int, value: str) -> int:
    """A trait value's rank: its time, ties broken by the value, so any order gives one winner.

    Epoch milliseconds fit in 42 bits until the year 2109; ten more bits of a hash of the
    value keep the version inside a signed 64-bit integer, which both stores hold.
    """
    return max(at_ms, 0) * 1024 + (zlib.crc32(value.encode()) & 1023)


def latest_links(links: Iterable[Link]) -> list[Link]:
    """One fact per (workspace, id, target, merge), the latest."""
    kept: dict[tuple[str, str, str, bool], Link] = {}
    for link in links:
        key = (link.workspace, link.id, link.target, link.merge)
        if key not in kept or link.at_ms > kept[key].at_ms:
            kept[key] = link
    return list(kept.values())


def latest_traits(traits: Iterable[Trait]) -> list[Trait]:
    """One trait per (workspace, kind, subject, key), the one with the largest version."""
    kept: dict[tuple[str, str, str, str], Trait] = {}
    for trait in traits:
        key = (trait.workspace, trait.kind, trait.subject, trait.key)
        if key not in kept or trait.version > kept[key].version:
            kept[key] = trait
    return list(kept.values())


def _next(links: Iterable[Link]) -> dict[str, str]:
    """Each id's own target: its latest merge, else the smallest user id it was seen with."""
    merges: dict[str, Link] = {}
    seen: dict[str, str] = {}
    for link in links:
        if link.merge:
            best = merges.get(link.id)
            if best is None or (link.at_ms, link.target) > (best.at_ms, best.target):
                merges[link.id] = link
        elif link.id not in seen or link.target < seen[link.id]:
            seen[link.id] = link.target
    return {**seen, **{i: link.target for i, link in merges.items()}}


def resolve(workspace: str, links: Iterable[Link]) -> dict[str, Identity]:
    """Every linked id's person: its target, followed through later merges (MAX_STEPS at most).

    An id that comes back to itself (A merged into B, B into A) belongs to the smallest id of
    the loop, so the answer does not depend on the order the calls arrived in.
    """
    step = {i: t for i, t in _next(links).items() if t != i}
    out: dict[str, Identity] = {}
    for start, first in step.items():
        path = [start]
        current = first
        while current in step and len(path) <= MAX_STEPS:
            if current in path:
                loop = path[path.index(current) :]
                current = min(loop)
                break
            path.append(current)
            current = step[current]
        if current != start:
            out[start] = Identity(workspace, start, current)
    return out


class IdentityRows(Protocol):
    """What `identity_changes` reads from a store (inside the write, where it has one)."""

    def identities_of(self, workspace: str, ids: Sequence[str]) -> dict[str, Identity]:
        """The stored identities of these ids (ids that belong to no one else are absent)."""

    def members_of(self, workspace: str, persons: Sequence[str]) -> dict[str, Identity]:
        """The stored identities that resolve to one of these persons."""

    def links_of(self, workspace: str, ids: Sequence[str]) -> list[Link]:
        """The stored links whose id is one of these."""


def identity_changes(workspace: str, new: Sequence[Link], rows: IdentityRows) -> list[Identity]:
    """The identity rows to write after `new` links (of one workspace) are stored.

    Only the ids near the new links can change: the linked ids, their targets, the persons
    these resolve to and every id that resolves to one of those persons. Their links are
    read back and resolved again; an id that now belongs to itself gets a row with itself as
    its person (a store never has to delete one).
    """
    near = {link.id for link in new} | {link.target for link in new}
    current = rows.identities_of(workspace, sorted(near))
    persons = near | {i.person for i in current.values()}
    current.update(rows.members_of(workspace, sorted(persons)))
    component = persons | set(current)
    resolved = resolve(workspace, [*rows.links_of(workspace, sorted(component)), *new])
    changed = []
    for one in sorted(component):
        want = resolved.get(one, Identity(workspace, one, one))
        have = current.get(one, Identity(workspace, one, one))
        if want != have:
            changed.append(want)
    return changed


class Known:
    """Facts this process already wrote, so a busy stream of repeats costs no store work.

    A browser sends both of its ids on every event and a sign-in its email every time: after
    the first, those facts change nothing and are dropped here. Bounded: past `limit` keys
    it forgets everything and learns again. Only an optimisation: the store stays right
    without it, and `forget` (after a deletion) keeps it from hiding a fact that must be
    written again.
    """

    def __init__(self, limit: int = 1_000_000) -> None:
        self.limit = limit
        self._links: dict[tuple[str, str, str, bool], int] = {}
        self._traits: dict[tuple[str, str, str, str], int] = {}

    def new_links(self, links: Sequence[Link]) -> list[Link]:
        """The links not written before (a merge also when it is newer than the one written)."""
        return [
            link
            for link in links
            if (seen := self._links.get((link.workspace, link.id, link.target, link.merge))) is None
            or (link.merge and link.at_ms > seen)
        ]

    def new_traits(self, traits: Sequence[Trait]) -> list[Trait]:
        """The traits that would win over what this process wrote before."""
        return [
            t
            for t in traits
            if self._traits.get((t.workspace, t.kind, t.subject, t.key), -1) < t.version
        ]

    def wrote(self, links: Sequence[Link], traits: Sequence[Trait]) -> None:
        """Remember facts once they are durably stored."""
        if (
            len(self._links) + len(links) > self.limit
            or len(self._traits) + len(traits) > self.limit
        ):
            self.forget()
        for link in links:
            key = (link.workspace, link.id, link.target, link.merge)
            self._links[key] = max(self._links.get(key, link.at_ms), link.at_ms)
        for t in traits:
            self._traits[(t.workspace, t.kind, t.subject, t.key)] = t.version

    def forget(self) -> None:
        """Drop everything (rows were deleted: a fact may have to be written again)."""
        self._links.clear()
        self._traits.clear()
