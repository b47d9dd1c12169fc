"""The agent signing that the docs show verifies with the app: the `ts=` and `sig=` lines of docs/events.md's `sh`
block, run with bash (they sign with python3), and the signing of the example DaemonSet's agent script
(docs/examples/preempt-notifier-daemonset.yaml), each posted to /api/events of the app in-process with cluster a's
real agent key: accepted (200, one event received). A body changed after signing is 401, so the check could fail."""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import time
import types
from typing import Any

import pytest
import yaml

from tests.integration.test_events_auth import SUB, api, cluster_id, env, key_of

pytestmark = pytest.mark.integration
ROOT = pathlib.Path(__file__).resolve().parents[2]
EVENTS_MD = ROOT / "docs" / "events.md"
DAEMONSET = ROOT / "docs" / "examples" / "preempt-notifier-daemonset.yaml"
CLUSTER_A = f"{SUB}/rg-a/a"


def _docs_signing_lines() -> str:
    """The lines of the events.md `sh` block that compute the timestamp and the signature (not its sample key,
    cluster and body, which the test gives)."""
    blocks = re.findall(r"^```sh\n(.*?)^```", EVENTS_MD.read_text(), flags=re.M | re.S)
    signing = [b for b in blocks if "hmac.new" in b and "sig=" in b]
    assert len(signing) == 1, "docs/events.md shows the agent's signing as one sh block"
    lines = [line for line in signing[0].splitlines() if re.match(r"(ts|sig)=", line)]
    assert len(lines) == 2, signing[0]
    return "\n".join(lines)


def _agent_script() -> types.ModuleType:
    """The DaemonSet's agent.py, loaded as a module (its main loop does not run on import)."""
    documents = list(yaml.safe_load_all(DAEMONSET.read_text()))
    source = next(d["data"]["agent.py"] for d in documents if d["kind"] == "ConfigMap" and "agent.py" in d["data"])
    module = types.ModuleType("preempt_notifier_agent")
    exec(compile(source, str(DAEMONSET), "exec"), module.__dict__)  # the repository's own example
    return module


def _notice(node: str) -> str:
    return json.dumps({"specversion": "1.0", "id": f"notice-{node}",
                       "source": f"{cluster_id('a')}/agents/preempt-notifier", "type": "aksvend.node.preemptNotice",
                       "datacontenttype": "application/json",
                       "data": {"clusterId": cluster_id("a"), "pool": "batch", "node": node}},
                      separators=(",", ":"))


def _shell_signature(key: str, body: str) -> dict[str, str]:
    script = f"{_docs_signing_lines()}\nprintf '%s\\n%s\\n' \"$ts\" \"$sig\""
    done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], env={
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "key": key, "body": body, "LANG": "C.UTF-8"},
        capture_output=True, text=True, timeout=30, check=True)
    stamp, sig = done.stdout.split()
    return {"X-Aksvend-Cluster": CLUSTER_A, "X-Aksvend-Timestamp": stamp, "X-Aksvend-Signature": f"sha256={sig}",
            "Content-Type": "application/cloudevents+json"}


async def test_the_shell_signing_of_docs_events_md_is_accepted(armemu):
    async with api(armemu, env()) as (client, rt):
        key = await key_of(rt, "a")
        body = _notice("aks-batch-12345678-vmss000003")
        headers = _shell_signature(key, body)
        accepted = await client.post("/api/events", content=body.encode(), headers=headers)
        assert accepted.status_code == 200 and accepted.json()["received"] == 1, accepted.text
        changed = body.replace("vmss000003", "vmss000004")
        refused = await client.post("/api/events", content=changed.encode(), headers=headers)
        assert refused.status_code == 401, refused.text


async def test_the_example_daemonsets_agent_signs_what_the_app_accepts(armemu):
    agent: Any = _agent_script()
    async with api(armemu, env()) as (client, rt):
        key = await key_of(rt, "a")
        now = time.time()
        body = agent.notice("imds-event-1", cluster_id("a"), "batch", "aks-batch-12345678-vmss000003", now)
        headers = agent.signed_headers(key, cluster_id("a"), body, now)
        assert headers["X-Aksvend-Cluster"] == CLUSTER_A
        accepted = await client.post("/api/events", content=body, headers=headers)
        assert accepted.status_code == 200 and accepted.json()["received"] == 1, accepted.text
        refused = await client.post("/api/events", content=body.replace(b"vmss000003", b"vmss000004"),
                                    headers=headers)
        assert refused.status_code == 401, refused.text
