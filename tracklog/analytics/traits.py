"""Traits of people and accounts as every endpoint shows them: merged per key, latest wins.

The store keeps the latest value of each key per id and per account (tracklog/store/
profiles.py); a person's traits are those of every id that resolves to them, each key taken
from whichever of their ids set it last. A null never erases a value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from tracklog.analytics.scope import identities, person_of
from tracklog.store.query import Query, new_query

NAME_TRAITS = ("name", "user_name", "username", "full_name")
# The keys the users list shows and searches.
LIST_KEYS = ("email", *NAME_TRAITS, "first_name", "last_name")
ACCOUNT_KEYS = ("account_name", "name")
_decode = msgspec.json.Decoder()


def traits_source(
    q: Query,
    workspace: str,
    kind: str,
    keys: Sequence[str] | None,
    subjects: Sequence[str] | None = None,
) -> str:
    """A subquery of (subject, key, value, version, text) rows: a person's (resolved) or an
    account's; with `subjects`, at least theirs (callers keep only theirs)."""
    only = f" AND {q.one_of('key', keys)}" if keys is not None else ""
    if subjects is not None:
        # Only the rows of their own ids are resolved: not every person's (30 ms at 100k
        # people for a page of 50).
        theirs = q.one_of("subject", subjects)
        if kind == "person":
            theirs = (
                f"({theirs} OR subject IN (SELECT id FROM {q.identities} WHERE workspace = "
                f"{q.param(workspace)} AND {q.one_of('person', subjects)}))"
            )
        only += f" AND {theirs}"
    rows = (
        f"SELECT subject AS actor, key, value, version, text FROM {q.traits} "
        f"WHERE workspace = {q.param(workspace)} AND kind = {q.param(kind)}{only}"
    )
    if kind != "person":
        return (
            f"(SELECT actor AS subject, key, value, version, text FROM ({rows}) AS {q.alias('t')})"
        )
    return (
        f"(SELECT {person_of()} AS subject, key, value, version, text FROM ({rows}) "
        f"AS {q.alias('traits')} {q.dialect.left_join} {identities(q, workspace)} "
        f"AS {q.alias('persons')} USING (actor))"
    )


def latest_values(
    q: Query,
    workspace: str,
    kind: str,
    keys: Sequence[str] | None,
    subjects: Sequence[str] | None = None,
) -> str:
    """A subquery of (subject, key, value, text): each subject's (of `subjects`, if given)
    current value of each key."""
    # The subjects are kept before the GROUP BY: ClickHouse 18.16 does not push a filter of
    # the groups into it, and grouped every person's traits for a page of 50.
    only = f" WHERE {q.one_of('subject', subjects)}" if subjects is not None else ""
    return (
        f"(SELECT subject, key, argMax(value, version) AS value, argMax(text, version) AS text "
        f"FROM {traits_source(q, workspace, kind, keys, subjects)}{only} GROUP BY subject, key)"
    )


def merged(
    store: Any,
    workspace: str,
    kind: str,
    subjects: Sequence[str] | None,
    keys: Sequence[str] | None = None,
) -> dict[str, dict[str, Any]]:
    """The traits of each subject (all subjects if None; all keys if `keys` is None)."""
    if subjects is not None and not subjects:
        return {}
    q = new_query(store)
    latest = latest_values(q, workspace, kind, keys, subjects)
    rows = q.run(store, f"SELECT subject, key, value FROM {latest}")
    out: dict[str, dict[str, Any]] = {}
    for subject, key, value in rows:
        out.setdefault(str(subject), {})[str(key)] = _decode.decode(value)
    return out


def _named(column: str) -> str:
    return f"coalesce({column}, '') != ''"


def people_names(q: Query, workspace: str, prefix: str = "t") -> str:
    """A subquery of (subject, {prefix}_mail, {prefix}_name): each person's email trait and
    name as `email` and `display_name` make them ('' for none). `prefix` keeps the column
    names of two copies in one statement apart (ClickHouse's aliases are statement-wide)."""
    pivot = ", ".join(
        f"max(CASE WHEN key = {q.param(key)} THEN text END) AS {prefix}_{key}" for key in LIST_KEYS
    )
    first, last = f"{prefix}_first_name", f"{prefix}_last_name"
    names = " ".join(f"WHEN {_named(f'{prefix}_{k}')} THEN {prefix}_{k}" for k in NAME_TRAITS)
    name = (
        f"CASE {names} WHEN {_named(first)} AND {_named(last)} "
        f"THEN concat({first}, ' ', {last}) WHEN {_named(first)} "
        f"THEN {first} ELSE coalesce({last}, '') END"
    )
    return (
        f"(SELECT subject, coalesce({prefix}_email, '') AS {prefix}_mail, {name} AS {prefix}_name "
        f"FROM (SELECT subject, {pivot} FROM {latest_values(q, workspace, 'person', LIST_KEYS)} "
        f"AS {q.alias('values')} GROUP BY subject) AS {q.alias('pivot')})"
    )


def matching_people(q: Query, workspace: str, needle: str) -> str:
    """A subquery of the people whose email or name (as `display_name` makes it) contains
    `needle`, case-insensitively."""
    found = q.param(needle)
    contains = q.dialect.contains
    return (
        f"(SELECT subject FROM {people_names(q, workspace, 'found')} AS {q.alias('people')} "
        f"WHERE {contains('found_mail', found)} OR {contains('found_name', found)})"
    )


def display_name(traits: dict[str, Any], *keys: str) -> str | None:
    """The first non-empty name-like trait, or "first last"."""
    for key in keys or NAME_TRAITS:
        if isinstance(traits.get(key), str) and traits[key]:
            return str(traits[key])
    parts = [traits.get("first_name"), traits.get("last_name")]
    joined = " ".join(p for p in parts if isinstance(p, str) and p)
    return joined or None


def account_name(traits: dict[str, Any]) -> str | None:
    """An account's name: its `account_name` trait, else its `name`."""
    for key in ACCOUNT_KEYS:
        if isinstance(traits.get(key), str) and traits[key]:
            return str(traits[key])
    return None


def email(traits: dict[str, Any]) -> str | None:
    """A person's email trait, when it is text."""
    value = traits.get("email")
    return value if isinstance(value, str) and value else None
