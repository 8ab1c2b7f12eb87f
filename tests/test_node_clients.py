"""Segment's and RudderStack's Node libraries, pinned, sending to a real server.

Each sends a track with the account where those libraries' docs put it (`context.groupId`)
and an identify with traits; the event must land with `group_id` set and the identify with
its traits (issue 12, items 1 and 2). The packages are installed with npm from the registry
into a temporary directory once per session; without node and npm the tests skip and say so
(.ci/run installs Debian's nodejs and npm when the machine has none).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import Tenant

PACKAGES = {"@segment/analytics-node": "3.1.0", "@rudderstack/rudder-sdk-node": "3.0.13"}
# @segment/analytics-node 3 declares Node 20 or newer (Debian 12's own nodejs is 18).
NEEDS_NODE = {"segment": 20, "rudderstack": 16}

SCRIPT = r"""
const [lib, url, key, user, account] = process.argv.slice(2);
const traits = { email: `${user}@acme.io`, name: user };

async function segment() {
  const { Analytics } = require('@segment/analytics-node');
  const client = new Analytics({ writeKey: key, host: url, flushInterval: 100 });
  const errors = [];
  client.on('error', (e) => errors.push(e));
  client.track({ userId: user, event: 'signed_in', properties: { email: traits.email },
                 context: { groupId: account } });
  client.identify({ userId: user, traits });
  await client.closeAndFlush({ timeout: 30000 });
  if (errors.length) throw new Error(JSON.stringify(errors));
}

async function rudderstack() {
  const Analytics = require('@rudderstack/rudder-sdk-node');
  const errors = [];
  const client = new Analytics(key, { dataPlaneUrl: url, flushInterval: 100, retryCount: 0,
                                      errorHandler: (e) => errors.push(String(e)) });
  client.track({ userId: user, event: 'signed_in', properties: { email: traits.email },
                 context: { groupId: account } });
  client.identify({ userId: user, traits });
  await client.flush();
  if (errors.length) throw new Error(errors.join('; '));
}

(lib === 'segment' ? segment : rudderstack)().then(
  () => process.exit(0),
  (e) => { console.error(e); process.exit(1); });
"""


def node_major() -> int:
    out = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True)
    return int(out.stdout.strip().lstrip("v").split(".")[0])


@pytest.fixture(scope="session")
def node_clients(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A directory with the pinned libraries installed and the script that drives them."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are not installed (apt-get install nodejs npm)")
    home = Path(tmp_path_factory.mktemp("node-clients"))
    manifest = {"name": "tracklog-node-clients", "private": True, "dependencies": PACKAGES}
    (home / "package.json").write_text(json.dumps(manifest))
    (home / "send.js").write_text(SCRIPT)
    installed = subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
        cwd=home,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    yield home


@pytest.mark.parametrize("lib", sorted(NEEDS_NODE))
def test_node_library_sends_the_account_and_traits(
    node_clients: Path, tenant: Tenant, lib: str
) -> None:
    if node_major() < NEEDS_NODE[lib]:
        pytest.skip(f"{lib}'s Node library needs Node {NEEDS_NODE[lib]}; this is {node_major()}")
    user, account = f"{lib}-node-user", f"{lib}-node-account"
    sent = subprocess.run(
        ["node", "send.js", lib, tenant.server.url, tenant.write_key, user, account],
        cwd=node_clients,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert sent.returncode == 0, sent.stdout + sent.stderr
    by_type = {e["type"]: e for e in tenant.events(user_id=user)}
    assert set(by_type) == {"track", "identify"}
    track = by_type["track"]
    assert (track["event_name"], track["group_id"]) == ("signed_in", account)
    assert track["source"] == "segment"
    assert by_type["identify"]["properties"] == {"email": f"{user}@acme.io", "name": user}
