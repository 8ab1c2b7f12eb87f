"""Two stateless Tracklog nodes on a two-shard ClickHouse cluster: exact counts, outages.

Two clickhouse-server processes are the two shards of the cluster `tracklog`; every table
is a Distributed table over both. Node A talks to shard 1's server, node B to shard 2's,
as two nodes behind a load balancer would. Skipped where no clickhouse-server is installed.
"""

from __future__ import annotations

import concurrent.futures as cf
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.clickhouse_server import ClickHouseServer, server_command, start_cluster
from tests.conftest import NO_CLICKHOUSE
from tests.support import ServerProcess, Tenant, new_tenant

pytestmark = pytest.mark.skipif(server_command() is None, reason=NO_CLICKHOUSE)

DATABASE = "cluster_test"


@dataclass
class Cluster:
    """The two shards and the two nodes."""

    shards: list[ClickHouseServer]
    nodes: list[ServerProcess]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    base = Path(tmp_path_factory.mktemp("chcluster"))
    shards = start_cluster(base, 2)
    nodes: list[ServerProcess] = []
    try:
        for i, shard in enumerate(shards):
            (base / f"node{i}").mkdir()
            node = ServerProcess(
                base / f"node{i}" / "data",
                store=shard.url(DATABASE, cluster=True),
                # Keys made through node A reach node B within half a second.
                extra_args=["--key-refresh-seconds", "0.5"],
            )
            nodes.append(node.start())
        yield Cluster(shards, nodes)
    finally:
        for node in nodes:
            node.stop()
        for shard in shards:
            shard.stop(signal.SIGKILL)  # throwaway data: no need for a graceful shutdown


def on_node(tenant: Tenant, node: ServerProcess) -> Tenant:
    """The same workspace and keys, sent to another node; waits until that node knows them."""
    other = Tenant(node, tenant.name, tenant.write_key, tenant.read_key)
    deadline = time.monotonic() + 10
    while other.get("/api/events", limit=1).status_code == 401:
        assert time.monotonic() < deadline, "node B never saw the keys made on node A"
        time.sleep(0.1)
    return other


def batch(start: int, n: int, prefix: str) -> list[dict[str, Any]]:
    return [
        {
            "event_name": "signed_in" if i % 2 else "feature_used",
            "user_id": f"u{i % 50}",
            "context": {"group_id": f"g{i % 5}"},
            "properties": {"feature_name": "export"},
            # Two monthly partitions (each insert writes a part per month it touches), and
            # every millisecond distinct.
            "timestamp": f"2024-{9 + i % 2:02d}-{1 + i % 28:02d}T10:{i // 60 % 60:02d}:"
            f"{i % 60:02d}.{i % 1000:03d}Z",
            "message_id": f"{prefix}-{i}",
        }
        for i in range(start, start + n)
    ]


def shard_counts(cluster: Cluster, workspace: str) -> list[int]:
    """Rows each shard holds for the workspace, after FINAL (what reads see)."""
    counts = []
    for shard in cluster.shards:
        client = shard.client(DATABASE)
        try:
            rows = client.execute(
                "SELECT count() FROM events_final WHERE workspace = %(ws)s", {"ws": workspace}
            )
        finally:
            client.disconnect()
        counts.append(int(rows[0][0]))
    return counts


def test_two_nodes_ingest_at_once_and_every_count_is_exact(cluster: Cluster) -> None:
    a = new_tenant(cluster.nodes[0], "both")
    b = on_node(a, cluster.nodes[1])
    unique = batch(0, 2000, "m")
    # Node A gets the first 1500, node B the last 1500: 1000 events go to both nodes at once.
    jobs = [(a, unique[i : i + 100]) for i in range(0, 1500, 100)]
    jobs += [(b, unique[i : i + 100]) for i in range(500, 2000, 100)]
    with cf.ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda job: job[0].post("/api/track", job[1]), jobs))
    assert all(r.status_code == 200 for r in replies), [r.text for r in replies][:3]
    receipts = [r.json() for r in replies]
    assert sum(r["accepted"] + r["duplicates"] for r in receipts) == 3000
    # Each node answers from the whole cluster, and each event is counted once.
    for tenant in (a, b):
        stored = tenant.events()
        assert len(stored) == 2000
        assert len({e["id"] for e in stored}) == 2000
        assert len(tenant.events(event_name="signed_in")) == 1000
        assert len(tenant.events(group_id="g3")) == 400
    # The rollup counts what each node inserted: an event both nodes inserted at the same
    # moment is counted twice there until it is rebuilt (docs/clickhouse.md, "The rollup").
    # The rebuild counts the events as FINAL reads them, once each.
    a.server.admin("rollups.rebuild", workspace="both")
    for tenant in (a, b):
        # u7 is every i with i % 50 == 7: all odd, all signed_in.
        assert tenant.get("/api/users/u7").json()["event_counts"] == {"signed_in": 40}
    per_shard = shard_counts(cluster, "both")
    assert sum(per_shard) == 2000 and min(per_shard) > 500, per_shard
    # Retrying everything through either node stores nothing new.
    again = b.post("/api/track", unique[:500]).json()
    assert again["duplicates"] == 500 and len(a.events()) == 2000


def test_clickhouse_down_means_503_and_nothing_lost(cluster: Cluster) -> None:
    a = new_tenant(cluster.nodes[0], "outage")
    b = on_node(a, cluster.nodes[1])
    assert a.post("/api/track", batch(0, 300, "before")).json()["accepted"] == 300
    pending = batch(300, 300, "during")
    # A shard down: the insert cannot reach every shard, so nothing is acknowledged.
    cluster.shards[1].stop(signal.SIGKILL)
    try:
        for tenant in (a, b):
            r = tenant.post("/api/track", pending)
            assert r.status_code == 503, r.text
            assert r.headers["retry-after"] and r.json()["error"]["code"] == "store_unavailable"
            health = httpx.get(tenant.server.url + "/healthz", timeout=30)
            assert tenant is a or health.status_code == 503  # B's own server is down
    finally:
        cluster.shards[1].start()
    # Back: the nodes reconnect by themselves and the retry completes the batch exactly once.
    deadline = time.monotonic() + 30
    while (r := a.post("/api/track", pending)).status_code == 503:
        assert time.monotonic() < deadline, r.text
        time.sleep(0.2)
    receipt = r.json()
    assert receipt["accepted"] + receipt["duplicates"] == 300
    for tenant in (a, b):
        assert len(tenant.events()) == 600
    assert sum(shard_counts(cluster, "outage")) == 600


def test_cli_manages_keys_on_clickhouse_without_a_socket(cluster: Cluster, tmp_path: Path) -> None:
    url = cluster.shards[0].url(DATABASE, cluster=True)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        # An empty data directory: no admin socket, the command opens ClickHouse itself.
        return subprocess.run(
            [sys.executable, "-m", "tracklog", *args, "--store", url, "--data-dir", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert cli("workspaces", "create", "viacli").returncode == 0
    made = cli("keys", "create", "--workspace", "viacli", "--scope", "write")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    node = cluster.nodes[1]
    deadline = time.monotonic() + 10
    event = [{"event_name": "signed_up", "user_id": "u1"}]
    post = lambda: httpx.post(  # noqa: E731
        node.url + "/api/track", json=event, headers={"Authorization": f"Bearer {key}"}
    )
    while (r := post()).status_code == 401:
        assert time.monotonic() < deadline, "a key made by the CLI never reached the node"
        time.sleep(0.1)
    assert r.status_code == 200
    listed = cli("keys", "list")
    key_id = next(
        line.split("\t")[0] for line in listed.stdout.splitlines() if "viacli\twrite" in line
    )
    assert key not in listed.stdout
    assert cli("keys", "revoke", key_id).returncode == 0
    # Revoked on the shared store: every node stops accepting it within its refresh interval.
    deadline = time.monotonic() + 10
    while post().status_code != 401:
        assert time.monotonic() < deadline, "a revoked key kept working"
        time.sleep(0.1)
    assert "revoked" in cli("keys", "list").stdout


def test_deleting_a_user_reaches_every_shard_and_every_node(
    cluster: Cluster, tmp_path: Path
) -> None:
    a = new_tenant(cluster.nodes[0], "privacy")
    b = on_node(a, cluster.nodes[1])
    events = [
        {"event_name": "signed_in", "user_id": "gone" if i % 2 else "kept", "message_id": f"p{i}"}
        for i in range(200)
    ]
    assert a.post("/api/track", events[:100]).json()["accepted"] == 100
    assert b.post("/api/track", events[100:]).json()["accepted"] == 100
    admin = a.server.admin("keys.create", workspace="privacy", scope="admin")["key"]
    # A third node whose cache stays stale for 30 s: it accepts the user's events after the
    # deletion, as any node may until its next refresh.
    slow = ServerProcess(
        tmp_path / "data",
        store=cluster.shards[0].url(DATABASE, cluster=True),
        extra_args=["--key-refresh-seconds", "30"],
    ).start()
    try:
        c = Tenant(slow, a.name, a.write_key, a.read_key)
        r = httpx.delete(
            a.server.url + "/api/users/gone",
            headers={"Authorization": f"Bearer {admin}"},
            timeout=60,
        )
        assert r.status_code == 200 and r.json()["deleted"]["events"] == 100, r.text
        # Gone from both shards, as every node reads them, as soon as the answer came.
        for tenant in (a, b, c):
            assert tenant.events(user_id="gone") == []
            assert len(tenant.events(user_id="kept")) == 100
        assert sum(shard_counts(cluster, "privacy")) == 100
        late = c.post("/api/track", [{"event_name": "late", "user_id": "gone"}])
        assert late.json()["accepted"] == 1
        # Node A erases again once every node should have refreshed (0.5 s + 0.2 s + 1 s).
        deadline = time.monotonic() + 15
        while a.events(user_id="gone"):
            assert time.monotonic() < deadline, "the late event of a deleted user stayed"
            time.sleep(0.2)
    finally:
        slow.stop()
    # Node B refreshes every 0.5 s: it refuses the user now.
    r = b.post("/api/track", [{"event_name": "x", "user_id": "gone"}])
    assert r.status_code == 400 and r.json()["results"][0]["code"] == "user_suppressed"
    # The second pass writes its audit entry after it counted the rollup's days again, a
    # moment after the events were gone.
    deadline = time.monotonic() + 30
    while len(audit := a.server.admin("audit.list", workspace="privacy")) < 2:
        assert time.monotonic() < deadline, audit
        time.sleep(0.2)
    assert [e["action"] for e in audit] == ["user.delete.late", "user.delete"]
