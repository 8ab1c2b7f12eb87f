"""Operations: /metrics read by Prometheus' parser, JSON logs without keys, doctor (and the
rollup it samples), `tracklog rollups rebuild`."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support import ServerProcess, Tenant, new_tenant
from tracklog.logs import redact
from tracklog.store.duckdb import DuckDBStore


def scrape(server: ServerProcess, key: str | None = None) -> dict[str, float]:
    """Every sample of /metrics by name and labels, as Prometheus would read it."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    r = httpx.get(server.url + "/metrics", headers=headers, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
            samples[f"{s.name}{{{labels}}}"] = s.value
    return samples


def test_metrics_count_accepted_duplicate_rejected_and_commit_latency(tenant: Tenant) -> None:
    before = scrape(tenant.server)
    events = [
        {"event_name": "signed_in", "user_id": f"u{i}", "message_id": f"m{i}"} for i in range(5)
    ]
    assert tenant.post("/api/track", events).json()["accepted"] == 5
    assert tenant.post("/api/track", events[:2]).json()["duplicates"] == 2
    bad = [{"user_id": "u"}, {"event_name": "x", "user_id": "u", "timestamp": "yesterday"}]
    assert tenant.post("/api/track", bad).json()["rejected"] == 2
    after = scrape(tenant.server)

    def delta(name: str) -> float:
        return after.get(name, 0.0) - before.get(name, 0.0)

    assert delta("tracklog_events_accepted_total{}") == 5
    assert delta("tracklog_events_duplicate_total{}") == 2
    assert delta("tracklog_events_rejected_total{code=missing_field}") == 1
    assert delta("tracklog_events_rejected_total{code=invalid_timestamp}") == 1
    assert delta("tracklog_commits_total{}") == 3
    assert delta("tracklog_commit_seconds_count{}") == 3
    assert after["tracklog_commit_seconds_sum{}"] > before.get("tracklog_commit_seconds_sum{}", 0)
    assert (
        after["tracklog_commit_seconds_bucket{le=+Inf}"] == after["tracklog_commit_seconds_count{}"]
    )
    assert after["tracklog_queue_depth{}"] >= 0
    assert after["tracklog_store_errors_total{}"] == 0


def test_metrics_can_require_an_admin_key(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", extra_args=["--metrics-access", "admin"]).start()
    try:
        assert httpx.get(server.url + "/metrics").json()["error"]["code"] == "missing_key"
        read = httpx.get(server.url + "/metrics", headers={"x-api-key": server.read_key})
        assert read.status_code == 403
        admin_key = server.admin("keys.create", workspace="default", scope="admin")["key"]
        assert "tracklog_events_accepted_total{}" in scrape(server, admin_key)
    finally:
        server.stop()


def test_json_logs_never_contain_keys(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = ServerProcess(
        data, extra_args=["--log-format", "json"], env={"TRACKLOG_LOG_LEVEL": "DEBUG"}
    ).start()
    try:
        tenant = new_tenant(server, "acme")
        admin_key = server.admin("keys.create", workspace="acme", scope="admin")["key"]
        keys = [server.write_key, server.read_key, tenant.write_key, tenant.read_key, admin_key]
        assert tenant.post("/api/track", [{"event_name": "signed_in", "user_id": "u"}]).is_success
        assert tenant.post("/api/track", content=b"{not json").status_code == 400
        assert tenant.get("/api/events", key=tenant.write_key).status_code == 403
        assert tenant.get("/api/events", key=tenant.read_key + "x").status_code == 401
        assert scrape(server, admin_key)
    finally:
        server.stop()
    log = (tmp_path / f"server-{server.port}.log").read_text()
    lines = [json.loads(line) for line in log.splitlines() if line.strip()]
    assert any("listening on" in entry["message"] for entry in lines), log
    assert all({"time", "level", "logger", "message"} <= set(entry) for entry in lines)
    for path in [tmp_path / f"server-{server.port}.log", *data.rglob("*")]:
        if path.is_file():
            content = path.read_bytes()
            for key in keys:
                assert key.encode() not in content, f"a key is in {path}"


def test_redaction_of_keys_and_url_passwords() -> None:
    text = "got tlw_AbCdEfGhIjKlMnOpQrStUvWxYz012345 from clickhouse://app:s3cret@db:9000/t"
    assert redact(text) == "got tlw_*** from clickhouse://app:***@db:9000/t"


def doctor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tracklog", "doctor", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_doctor_through_a_running_server_and_on_its_own(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = ServerProcess(data).start()
    try:
        healthy = doctor("--data-dir", str(data))
        assert healthy.returncode == 0, healthy.stdout + healthy.stderr
        assert "No problems found." in healthy.stdout
        server.admin("workspaces.create", name="lonely")
        sick = doctor("--data-dir", str(data))
        assert sick.returncode == 1
        assert "Workspace 'lonely' has no active key" in sick.stdout
    finally:
        server.stop()
    # Without the server the store is opened directly and says the same.
    assert "Workspace 'lonely' has no active key" in doctor("--data-dir", str(data)).stdout

    blocker = tmp_path / "a-file"
    blocker.write_text("")
    broken = doctor("--data-dir", str(blocker / "data"), "--port", "70000", "--log-format", "xml")
    assert broken.returncode == 1
    assert "--port is 70000" in broken.stdout and "use text or json" in broken.stdout
    assert "Cannot write in the data directory" in broken.stdout


def tracklog(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tracklog", *args], capture_output=True, text=True, timeout=120
    )


@pytest.mark.duckdb_only
def test_doctor_finds_a_rollup_that_disagrees_with_the_events_and_says_how_to_fix_it(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    server = ServerProcess(data).start()
    try:
        tenant = new_tenant(server, "sampled")
        events = [
            {"event_name": name, "user_id": f"u{i % 3}", "timestamp": f"2026-05-0{day}T1{i}:00:00Z"}
            for day in (1, 2)
            for i, name in enumerate(("signed_in", "signed_in", "feature_used"))
        ]
        assert tenant.post("/api/track", events).status_code == 200
        healthy = doctor("--data-dir", str(data))  # through the server's socket
        assert healthy.returncode == 0, healthy.stdout + healthy.stderr
        assert "ok       rollups: The rollup equals a raw count" in healthy.stdout
        assert "sampled 2026-04-26…2026-05-02" in healthy.stdout
    finally:
        server.stop()
    # A lost row, as a failed insert on ClickHouse would leave: through the store itself.
    store = DuckDBStore(data / "tracklog.duckdb")
    try:
        lost = store.delete_rows(
            "activity_days",
            "workspace = $w AND day = $d AND event_name = 'signed_in' AND actor = 'u1'",
            {"w": "sampled", "d": (dt.date(2026, 5, 1) - dt.date(1970, 1, 1)).days},
        )
        assert lost == 1
    finally:
        store.close()
    sick = doctor("--data-dir", str(data))
    assert sick.returncode == 1
    assert (
        "PROBLEM  rollups sampled: The rollup of workspace 'sampled' disagrees with its stored "
        "events, so reports read from it are wrong: 2026-05-01 signed_in in activity_days: 1 "
        "counted, 2 in the events."
    ) in sick.stdout, sick.stdout
    assert "`tracklog rollups rebuild --workspace sampled`" in sick.stdout
    fixed = tracklog("rollups", "rebuild", "--workspace", "sampled", "--data-dir", str(data))
    assert fixed.returncode == 0, fixed.stderr
    assert fixed.stdout == "sampled\tcounted again from its events\n"
    again = doctor("--data-dir", str(data))
    assert again.returncode == 0, again.stdout
    nobody = tracklog("rollups", "rebuild", "--workspace", "nope", "--data-dir", str(data))
    assert nobody.returncode != 0 and "No workspace named 'nope'" in nobody.stderr
