"""Replaying recorded ARM traffic against the emulator and comparing the answers field by field (issue 16).

A recording (tests/fixtures/arm-recordings/, README there) is a list of `{method, uri, request_body, status,
response_headers, response_body}`. `replay` sends each recorded request to the emulator with the host and the
subscription rewritten, and, instead of replaying the recorded status polls one by one, polls each long-running
operation the emulator starts until it ends.
It returns one `Step` per request: the recorded and the emulated answer side by side.

`differences(steps, SPEC)` compares them: status codes, the async headers (`Azure-AsyncOperation`/`Location` present
where the recording has them, `Retry-After` never), each operation's last status body against the recording's last
poll (`OPERATION`: status, name, startTime, endTime), and the body fields a spec names. A spec maps a field path
(`properties.agentPoolProfiles[*].count`: `[*]` walks a list, matching elements by `name`) to a rule:
- `equal`: the same value;
- `shape`: the same after GUIDs, numbers and the fqdn's random label are masked, in any case (ARM ids are
  case-insensitive: AKS writes `resourcegroups` in the kubelet identity's id);
- `version`: a Kubernetes version, `1.32` or `1.32.5`, either side;
- `present`: the emulator fills it in (non-empty) wherever the recording has it (defaults AKS fills);
- `set`: `equal` where the recording has a non-empty value (AKS shows `nodeLabels: {}` in some answers only).
Fields absent from the recorded body are not compared, so one spec serves PUT answers and final GETs alike, and
adding a recording is one line in the test's list.

Values that are the instance's own (the default version or VM size AKS picked, the node image) differ between Azure
and the emulator; the replay learns them from each compared answer (recorded value -> emulated value) and rewrites
later request bodies with them, so a recorded `az aks scale` that sends back what it read sends what the emulator
answered.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

import requests

ASYNC_HEADERS = ("Azure-AsyncOperation", "Location")
TERMINAL = {"Succeeded", "Failed", "Canceled"}
LEARNED = ("kubernetesVersion", "currentKubernetesVersion", "orchestratorVersion", "currentOrchestratorVersion",
           "vmSize", "nodeImageVersion", "osDiskSizeGB", "maxPods")
GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
FQDN_LABEL = re.compile(r"-[a-z0-9]{8}(?=\.(portal\.)?hcp\.)")
VERSION = re.compile(r"^\d+\.\d+(\.\d+)?$")
# The status resource of a long-running operation (ARM's async operation contract), against the recording's last poll.
OPERATION = {"status": "equal", "name": "present", "startTime": "present", "endTime": "present", "error.code": "equal"}


@dataclass
class Step:
    index: int
    method: str
    path: str
    recorded: dict[str, Any]
    status: int
    headers: dict[str, str]
    body: Any
    final: dict[str, Any] | None = None  # the emulator's last operation status body, for a long-running request
    recorded_final: dict[str, Any] | None = None  # the recording's last status poll of that operation


@dataclass
class Replayer:
    base_url: str
    ca_cert: str
    subscription: str | None = None  # the emulator's subscription, written into every recorded path
    timeout: float = 10.0
    learned: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.http = requests.Session()
        self.http.headers["Authorization"] = "Bearer replay"  # the emulator checks only that a bearer token is there

    def send(self, method: str, url: str, body: Any = None) -> requests.Response:
        data = None if body is None else self.rewrite(json.dumps(body))
        headers = {"Content-Type": "application/json"} if data is not None else {}
        return self.http.request(method, url, data=data, headers=headers, timeout=30, verify=self.ca_cert)

    def rewrite(self, text: str) -> str:
        for recorded, emulated in self.learned.items():
            text = text.replace(json.dumps(recorded), json.dumps(emulated))
        return text

    def wait(self, url: str) -> dict[str, Any]:
        """Poll an operation status URL until the operation ends (deadline `timeout`); its last status body."""
        deadline = time.monotonic() + self.timeout
        while True:
            body = self.http.get(url, timeout=30, verify=self.ca_cert).json()
            if body.get("status") in TERMINAL or time.monotonic() > deadline:
                return body
            time.sleep(0.005)  # a polling interval, not synchronisation: the loop ends on the status or the deadline

    def learn(self, recorded: Any, emulated: Any) -> None:
        """Remember the emulator's value of each instance-specific field the recording shows (same paths)."""
        if isinstance(recorded, dict) and isinstance(emulated, dict):
            for k, v in recorded.items():
                if k in LEARNED and isinstance(v, str) and isinstance(emulated.get(k), str) and v != emulated[k]:
                    self.learned.setdefault(v, emulated[k])
                else:
                    self.learn(v, emulated.get(k))
        elif isinstance(recorded, list) and isinstance(emulated, list):
            for r, e in zip(_by_name(recorded), _by_name(emulated), strict=False):
                self.learn(r, e)


def replay(recording: list[dict[str, Any]], replayer: Replayer) -> list[Step]:
    steps = []
    for i, entry in enumerate(recording):
        path = re.sub(r"^https://[^/]+", "", entry["uri"])
        if replayer.subscription:
            path = re.sub(r"^/subscriptions/[^/]+", f"/subscriptions/{replayer.subscription}", path, flags=re.I)
        if re.search(r"/(operations|operationresults)/", path, flags=re.I):
            continue  # recorded polls: the emulator's operation is polled to its end below instead
        answer = replayer.send(entry["method"], replayer.base_url + path, entry["request_body"])
        body = answer.json() if answer.content else None
        step = Step(i, entry["method"], path, entry, answer.status_code, dict(answer.headers), body)
        operation = answer.headers.get("Azure-AsyncOperation")
        if operation:
            step.final = replayer.wait(operation)
            step.recorded_final = _last_poll(recording, i)
        replayer.learn(entry["response_body"], body)
        steps.append(step)
    return steps


def differences(steps: list[Step], spec: dict[str, str]) -> list[str]:
    """Every way the emulator's answers differ from the recorded ones, one line each (empty when they match)."""
    out: list[str] = []
    for step in steps:
        rec = step.recorded
        where = f"#{step.index} {step.method} {step.path.split('?')[0].rsplit('/providers/', 1)[-1]}"
        if step.status != rec["status"]:
            out.append(f"{where}: status {step.status}, recorded {rec['status']}")
            continue
        for header in ASYNC_HEADERS:
            recorded_has = _has(rec["response_headers"], header)
            if recorded_has != _has(step.headers, header):
                out.append(f"{where}: header {header} {'missing' if recorded_has else 'extra'}")
        if _has(step.headers, "Retry-After"):
            out.append(f"{where}: Retry-After sent (AKS sends none)")
        if step.final is not None:
            recorded_final = step.recorded_final or {"status": "Succeeded"}
            out += [f"{where}: operation {line}" for line in compare(recorded_final, step.final, OPERATION)]
        out += [f"{where}: {line}" for line in compare(rec["response_body"], step.body, spec)]
    return out


def compare(recorded: Any, emulated: Any, spec: dict[str, str]) -> list[str]:
    if isinstance(recorded, dict) and isinstance(recorded.get("value"), list):  # a list answer: item by item
        emulated_items = {i.get("name"): i for i in (emulated or {}).get("value", [])}
        lines = []
        for item in recorded["value"]:
            if item.get("name") not in emulated_items:
                lines.append(f"list: {item.get('name')} missing")
            else:
                lines += compare(item, emulated_items[item.get("name")], spec)
        return lines
    lines = []
    for path, rule in spec.items():
        for concrete, rec_value in _walk(recorded, path.split(".")):
            emu_value = dict(_walk(emulated, concrete.split("."))).get(concrete)
            if not _matches(rule, rec_value, emu_value):
                lines.append(f"{concrete}: {emu_value!r}, recorded {rec_value!r} ({rule})")
    return lines


def shape(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    return re.sub(r"\d+", "9", FQDN_LABEL.sub("-<label>", GUID.sub("<guid>", value))).lower()  # ARM ids: any case


def _matches(rule: str, recorded: Any, emulated: Any) -> bool:
    if rule == "equal":
        return recorded == emulated
    if rule == "shape":
        return shape(recorded) == shape(emulated)
    if rule == "version":
        return isinstance(emulated, str) and VERSION.match(emulated) is not None
    if rule == "set":  # compared when the recording has a value: AKS shows an empty one in some answers only
        return recorded in (None, "", {}, []) or recorded == emulated
    if rule == "present":
        return recorded in (None, "", {}, []) or emulated not in (None, "", {}, [])
    raise ValueError(f"unknown rule {rule!r}")


def _walk(body: Any, parts: list[str], prefix: str = "") -> list[tuple[str, Any]]:
    """(concrete path, value) of every field a path names in a body; `key[*]` walks a list by element `name`, and a
    concrete path names the element (`key[nodepool1]`)."""
    if not parts:
        return [(prefix, body)]
    head, rest = parts[0], parts[1:]
    key, _, selector = head.partition("[")
    value = body.get(key) if isinstance(body, dict) else None
    here = f"{prefix}.{key}" if prefix else key
    if value is None:
        return []
    if not selector:
        return _walk(value, rest, here)
    wanted = selector.rstrip("]")
    items = value if isinstance(value, list) else []
    return [
        pair
        for item in items
        if isinstance(item, dict) and wanted in ("*", item.get("name"))
        for pair in _walk(item, rest, f"{here}[{item.get('name')}]")
    ]


def _last_poll(recording: list[dict[str, Any]], index: int) -> dict[str, Any] | None:
    """The body of the last recorded status poll right after entry `index` (None when the recording has none)."""
    last = None
    for entry in recording[index + 1 :]:
        if not re.search(r"/(operations|operationresults)/", entry["uri"], flags=re.I):
            break
        last = entry["response_body"]
    return last


def _by_name(items: list[Any]) -> list[Any]:
    return sorted(items, key=lambda i: str(i.get("name")) if isinstance(i, dict) else "")


def _has(headers: dict[str, str], name: str) -> bool:
    return any(k.lower() == name.lower() for k in headers)
