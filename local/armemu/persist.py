"""`--state-dir`: keep resources across restarts in `state.json`.

On stop, running operations are ended first (as if the emulator had waited for them), so the saved state has only
terminal provisioning states; operation ids do not survive a restart. Good enough for `make serve` sessions; tests do
not use it.
"""

from __future__ import annotations

import json
from pathlib import Path

from .store import Resource
from .world import World

STATE_FILE = "state.json"


def save(world: World, directory: Path) -> Path:
    world.ops.finish_all()
    path = directory / STATE_FILE
    resources = [
        {
            "id": r.id,
            "type": r.type,
            "body": r.body,
            "parent": r.parent,
            "subscription": r.subscription,
            "topLevel": r.top_level,
            "extra": r.extra,
        }
        for r in world.store.all()
    ]
    state = {"resources": resources, "quota": world.quota_limits, "subscriptions": list(world.subscriptions.values())}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state))
    tmp.replace(path)
    return path


def load(world: World, directory: Path) -> int:
    path = directory / STATE_FILE
    if not path.exists():
        return 0
    state = json.loads(path.read_text())
    for item in state.get("resources", []):
        world.store.add(
            Resource(
                item["id"],
                item["type"],
                item["body"],
                item["parent"],
                item["subscription"],
                item["topLevel"],
                extra=item.get("extra") or {},
            )
        )
    world.quota_limits.update(state.get("quota") or {})
    for subscription in state.get("subscriptions", []):
        world.note_subscription(subscription)
    return len(world.store)
