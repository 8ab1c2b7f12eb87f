"""The privacy answers: erasure counts, an access export (JSON, or NDJSON lines), the
suppression list and the audit log."""

from __future__ import annotations

import msgspec

from tracklog.http.schemas.common import Object, QuarantinedElement, StoredEvent, Time


class Erased(msgspec.Struct):
    """What was erased: events in all, of which identify traits, group memberships and
    aliases; quarantined elements; the anonymous ids that were linked to the user."""

    events: int
    traits: int
    group_memberships: int
    aliases: int
    quarantined: int
    anonymous_ids: int


class Deleted(msgspec.Struct):
    """The user's data is erased and their new events are refused (`suppressed`)."""

    workspace: str
    user_id: str
    deleted: Erased
    suppressed: bool


class ExportedGroup(msgspec.Struct):
    """An account the user joined, with the traits its group calls sent."""

    group_id: str
    first_seen: Time
    traits: Object


class Export(msgspec.Struct):
    """Everything stored about a user: merged identify traits, accounts, anonymous ids,
    events (oldest first) and quarantined elements that name them."""

    workspace: str
    user_id: str
    exported_at: Time
    suppressed: bool
    traits: Object
    anonymous_ids: list[str]
    groups: list[ExportedGroup]
    events: list[StoredEvent]
    quarantined: list[QuarantinedElement]


class ExportUserLine(msgspec.Struct, tag_field="kind", tag="user"):
    """The first NDJSON line: the export without its events and quarantined elements."""

    workspace: str
    user_id: str
    exported_at: Time
    suppressed: bool
    traits: Object
    anonymous_ids: list[str]
    groups: list[ExportedGroup]


class ExportEventLine(StoredEvent, tag_field="kind", tag="event"):
    """An NDJSON line per event."""


class ExportQuarantinedLine(QuarantinedElement, tag_field="kind", tag="quarantined"):
    """An NDJSON line per quarantined element."""


# One line of `format=ndjson` (each line is a JSON object with `kind` first).
ExportLine = ExportUserLine | ExportEventLine | ExportQuarantinedLine


class Suppression(msgspec.Struct):
    """A user whose new events are refused, since when."""

    user_id: str
    suppressed_at: Time


class Suppressions(msgspec.Struct):
    """The workspace's suppressed users, oldest first."""

    suppressions: list[Suppression]


class Unsuppressed(msgspec.Struct):
    """The user's new events are accepted again."""

    workspace: str
    user_id: str
    suppressed: bool


class AuditEntry(msgspec.Struct):
    """One deletion, export, suppression lifted or retention drop: who (a key id), when,
    what (`action`, e.g. user.delete, user.export, user.unsuppress, retention.drop), of whom
    (`subject`) and how much (`counts`)."""

    id: str
    workspace: str
    at: Time
    actor: str
    action: str
    subject: str
    counts: dict[str, int]


class AuditLog(msgspec.Struct):
    """Audit entries, newest first."""

    entries: list[AuditEntry]
