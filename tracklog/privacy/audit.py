"""The audit log: who (a key id, never a key) deleted, exported or dropped what, and when."""

from __future__ import annotations

import uuid
from typing import Any

from tracklog.events import iso, utcnow
from tracklog.store.base import AuditEntry, Store


def audit(
    store: Store, workspace: str, actor: str, action: str, subject: str, counts: dict[str, int]
) -> AuditEntry:
    """Record one act in the audit log."""
    entry = AuditEntry(uuid.uuid4(), workspace, utcnow(), actor, action, subject, counts)
    store.add_audit(entry)
    return entry


def audit_log(store: Store, workspace: str | None, limit: int = 100) -> list[dict[str, Any]]:
    """The newest audit entries as the API shows them."""
    return [
        {
            "id": str(e.id),
            "workspace": e.workspace,
            "at": iso(e.at),
            "actor": e.actor,
            "action": e.action,
            "subject": e.subject,
            "counts": e.counts,
        }
        for e in store.audit_entries(workspace, limit)
    ]
