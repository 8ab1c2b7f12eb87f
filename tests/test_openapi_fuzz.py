"""Schema-driven fuzzing: schemathesis generates requests for every operation in /openapi.json.

Against a real server of its own per store (write, read or admin key as the operation needs):
no 5xx; every status code, content type, header and body the document declares is the one
sent; a 405 names what is allowed; an operation that declares a key refuses a request without
one or with a wrong one; and the same request with the workspace's other key is refused
(401/403) in the declared shape.

Bodies are checked against their schemas (response_schema_conformance), which the document
generates from the answer types (tracklog/http/schemas/), so an answer that drifts from its
type fails here. The answers' schemas are closed for the check (no property beyond those
listed), so a field that is sent but not documented fails too; the served document leaves
them open, so clients may accept fields added later.

On DuckDB every phase runs (the schema's examples, coverage of each parameter's boundaries,
then random fuzzing); on ClickHouse random fuzzing alone, enough to meet its own limits
(DateTime holds only 1970-2105) at a fraction of the time.
Random examples per operation: 6, or 100 with TRACKLOG_TORTURE=long, or TRACKLOG_FUZZ_EXAMPLES.

Not checked: that every schema-valid request is accepted and every schema-violating one is
refused. Ingest is lenient on purpose (integer ids, Vero's loose identities) and some rules
span fields (`from` before `to`, a user or an anonymous id), which OpenAPI cannot state.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from tests.clickhouse_server import ClickHouseServer
from tests.support import ServerProcess, Tenant, new_tenant
from tracklog.http.app import api_document

# The document the server serves, built by the same function (test_served_document_is_this).
DOCUMENT = api_document()
REF = "#/components/schemas/"


def closed_answers(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of `document` whose answer schemas allow no property they do not list.

    Only components reachable from a response are closed (requests keep their open shapes,
    such as a free-form `context`); free-form objects (`properties`, `traits`) list none and
    stay open.
    """
    doc = copy.deepcopy(document)
    components = doc["components"]["schemas"]
    seen: set[str] = set()

    def close(schema: Any) -> None:
        if isinstance(schema, list):
            for item in schema:
                close(item)
            return
        if not isinstance(schema, dict):
            return
        ref = schema.get("$ref", "")
        if ref.startswith(REF) and ref[len(REF) :] not in seen:
            seen.add(ref[len(REF) :])
            close(components[ref[len(REF) :]])
        if schema.get("type") == "object" and "properties" in schema:
            schema.setdefault("additionalProperties", False)
        for value in schema.values():
            close(value)

    for item in doc["paths"].values():
        for operation in item.values():
            close(operation["responses"])
    return doc


STRICT = closed_answers(DOCUMENT)
LONG = os.environ.get("TRACKLOG_TORTURE") == "long"
EXAMPLES = int(os.environ.get("TRACKLOG_FUZZ_EXAMPLES", "100" if LONG else "6"))


def load_schema(coverage: bool) -> Any:
    """The document as schemathesis sees it, with or without the coverage phase."""
    # /api/live is a stream that never ends, so no response to it completes;
    # tests/test_live.py and tests/test_security.py cover it.
    loaded = schemathesis.openapi.from_dict(STRICT).exclude(path="/api/live")
    loaded.config.phases.coverage.enabled = coverage
    return loaded


schema = load_schema(coverage=True)
fuzz_only = load_schema(coverage=False)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    unsupported_method,
    ignored_auth,
]
AUTH_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


WRITES = ("POST", "PUT", "DELETE")
MALFORMED = "Invalid HTTP request received."  # uvicorn's answer to a request it cannot parse
KEYS: dict[str, str] = {}  # the fuzzed workspace's keys, set by `keys_for`


@schema.auth(refresh_interval=None)
@fuzz_only.auth(refresh_interval=None)
class TenantKeys:
    """The workspace's write key on write operations, its read key on the others."""

    def get(self, case: Any, ctx: Any) -> str:
        # Explicit examples are built at collection, before any server: a stand-in then.
        return KEYS.get(scope_of(case), "unset")

    def set(self, case: Any, key: str, ctx: Any) -> None:
        with_key(case, key)


def fuzz_server(data: Path, store: str = "") -> Iterator[tuple[Tenant, str]]:
    """A server of its own (fuzzing leaves a lot behind), committing at once, and its keys."""
    server = ServerProcess(data, store=store, extra_args=["--commit-interval", "0"]).start()
    tenant = new_tenant(server, "schemathesis")
    admin = server.admin("keys.create", workspace=tenant.name, scope="admin")["key"]
    yield tenant, admin
    server.stop()


@pytest.fixture(scope="module")
def on_duckdb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Tenant, str]]:
    yield from fuzz_server(tmp_path_factory.mktemp("fuzz-duckdb") / "data")


@pytest.fixture(scope="module")
def on_clickhouse(
    clickhouse: ClickHouseServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Tenant, str]]:
    yield from fuzz_server(tmp_path_factory.mktemp("fuzz-ch") / "data", clickhouse.url("fuzz"))


def keys_for(found: tuple[Tenant, str]) -> Tenant:
    """Make `found`'s keys the ones the auth provider hands out; return its workspace."""
    tenant, admin = found
    KEYS.update(write=tenant.write_key, read=tenant.read_key, admin=admin)
    return tenant


def scope_of(case: Any) -> str:
    """The key an operation needs: admin where its summary says so, else by its method."""
    if "admin key" in case.operation.definition.raw.get("summary", ""):
        return "admin"
    return "write" if case.method.upper() in WRITES else "read"


def test_served_document_is_this(on_duckdb: tuple[Tenant, str]) -> None:
    served = httpx.get(on_duckdb[0].server.url + "/openapi.json").json()
    assert served == DOCUMENT


def with_key(case: Any, key: str) -> None:
    """Put `key` where the operation's declared scheme carries it, replacing a generated one."""
    headers = dict(case.headers or {})
    for name in ("x-api-key", "authorization", "Authorization"):
        headers.pop(name, None)
    headers["Authorization"] = f"Bearer {key}"
    case.headers = headers
    if case.query and "auth_token" in case.query:
        case.query = {**case.query, "auth_token": key}
    if isinstance(case.body, dict):
        # A key in the body is not a declared scheme (OpenAPI has none for it): leave it out,
        # so taking the declared one away leaves the request without a key.
        case.body = {k: v for k, v in case.body.items() if k not in ("auth_token", "writeKey")}


def exercise(case: Any, tenant: Tenant) -> None:
    """Send `case` with the other key (refused), then with the right one, and check both."""
    declared = case.method.upper() == case.operation.method.upper()  # not a TRACE probe
    if declared and case.operation.definition.raw.get("security"):
        scope = scope_of(case)
        with_key(case, KEYS["read" if scope == "write" else "write"])
        response = case.call(base_url=tenant.server.url)
        # (or 400 from the HTTP parser, before any key is read, for a generated header such
        # as an empty Content-Length)
        refused = response.status_code in (401, 403) or response.text == MALFORMED
        assert refused, (case.path, response.status_code, response.text)
        case.validate_response(response, checks=AUTH_CHECKS)
        with_key(case, KEYS[scope])
    case.call_and_validate(base_url=tenant.server.url, checks=CHECKS)


SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))


@schema.parametrize()
@SETTINGS
def test_every_operation(case: Any, on_duckdb: tuple[Tenant, str]) -> None:
    exercise(case, keys_for(on_duckdb))


@fuzz_only.parametrize()
@SETTINGS
def test_fuzzing_only_on_clickhouse(case: Any, on_clickhouse: tuple[Tenant, str]) -> None:
    exercise(case, keys_for(on_clickhouse))
