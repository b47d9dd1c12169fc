"""The reaction to `NewKubernetesVersionAvailable` (read in aks.py): an upgrade by the cluster's `autoUpgrade` channel.

The event only names a few versions (latest supported, latest stable, lowest minor, latest preview), so:
- `patch` (default): the newest version among those in the event that has the cluster's minor and a higher
  patch, e.g. 1.33.2 -> 1.33.5. Nothing when the event has no newer patch of the current minor.
- `stable`: towards the latest stable version; `rapid`: towards the latest supported (GA) version. AKS does not
  skip minors, so one minor at a time: to the named version when it is the next minor, else to the next minor
  written `major.minor` (AKS takes the newest patch of it); a newer patch of the current minor when the target
  has the current minor (or none is ahead).
- `none`: no upgrade, an `aksvend.cluster.upgradeAvailable` notice when something newer exists.
- `node-image`: AKS upgrades node images itself on that channel; the Kubernetes version stays, so only a notice.
Previews are never chosen, nothing is ever downgraded, and an upgrade already asked for (same version, in
the history) is not asked again. The current version must be the observed `major.minor.patch`, so this kind
`reads_version`: the service reads `currentKubernetesVersion` from ARM (the desired one may be `1.33`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from shared.domain.events.aks import AKS_PREFIX, AksSystemEvent, from_cluster_topic, read
from shared.domain.events.kind import EventKind
from shared.domain.events.model import (
    ClusterView,
    Decision,
    Notice,
    PastReaction,
    UpgradeCluster,
    UpgradeScope,
    nothing,
)
from shared.domain.events.senders import AZURE
from shared.domain.operation_source import OperationSource

UPGRADE_AVAILABLE = "aksvend.cluster.upgradeAvailable"
_VERSION = re.compile(r"^v?(\d{1,4})\.(\d{1,4})(?:\.(\d{1,6}))?\Z")

Version = tuple[int, int, int | None]


def parse_version(text: str | None) -> Version | None:
    """"1.33.2" -> (1, 33, 2); "1.33" -> (1, 33, None); None when it is not a version."""
    match = _VERSION.match(text.strip()) if isinstance(text, str) else None
    if not match:
        return None
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch) if patch is not None else None


def on_new_versions(event: AksSystemEvent, view: ClusterView, history: Sequence[PastReaction],
                    now: datetime) -> Decision:
    versions = event.versions
    assert versions is not None  # an AksSystemEvent of this kind always has them
    channel = view.reactions.auto_upgrade
    offered = [v for v in (versions.latest_supported, versions.latest_stable, versions.lowest_minor) if v]
    summary = f"versions offered: {', '.join(offered) or 'none'}; current {view.kubernetes_version}"
    current = parse_version(view.kubernetes_version)
    if channel in ("none", "node-image"):
        why = ("autoUpgrade is 'none'" if channel == "none"
               else "autoUpgrade is 'node-image': AKS refreshes node images, the Kubernetes version stays")
        return _notice_if_newer(f"{why} ({summary})", current, offered)
    if current is None or current[2] is None:
        return nothing(f"the current version '{view.kubernetes_version}' is not major.minor.patch, so no upgrade "
                       f"is chosen ({summary})")
    scope: UpgradeScope
    if channel == "patch":
        target, scope = _newest_patch(current, offered), "patch"
    else:
        named = versions.latest_stable if channel == "stable" else versions.latest_supported
        target, scope = _towards(current, parse_version(named), named), "minor"
        if target is None:
            target, scope = _newest_patch(current, offered), "patch"
    if target is None:
        return nothing(f"autoUpgrade '{channel}': nothing newer to move to ({summary})")
    asked = next((h for h in history if h.rule == "upgrade" and h.version == target), None)
    if asked is not None:
        return nothing(f"an upgrade to {target} was already asked for at {asked.at.isoformat()}")
    reason = (f"autoUpgrade '{channel}': upgrade {view.kubernetes_version} -> {target} ({scope}), control plane "
              f"first, then each pool ({summary})")
    record = PastReaction(now, event.key, "upgrade", version=target)
    return Decision((UpgradeCluster(target, scope, reason),), (record,))


def _newest_patch(current: Version, offered: Sequence[str]) -> str | None:
    newer: list[tuple[int, str]] = []
    for text in offered:
        version = parse_version(text)
        if version and version[:2] == current[:2] and version[2] is not None and version[2] > (current[2] or 0):
            newer.append((version[2], text))
    return max(newer)[1] if newer else None


def _towards(current: Version, target: Version | None, text: str | None) -> str | None:
    """The next step towards `target` when it is a later minor of the same major; None otherwise."""
    if target is None or text is None or target[0] != current[0] or target[1] <= current[1]:
        return None
    if target[1] == current[1] + 1:
        return text
    return f"{current[0]}.{current[1] + 1}"


def _notice_if_newer(reason: str, current: Version | None, offered: Sequence[str]) -> Decision:
    newer = [v for v in offered if current is None or _newer(parse_version(v), current)]
    if not newer:
        return nothing(reason)
    return nothing(reason, notices=[Notice(UPGRADE_AVAILABLE, f"Kubernetes {', '.join(newer)} available; {reason}")])


def _newer(candidate: Version | None, current: Version) -> bool:
    if candidate is None:
        return False
    return (candidate[0], candidate[1], candidate[2] or 0) > (current[0], current[1], current[2] or 0)


def _source(event: AksSystemEvent) -> OperationSource:
    return OperationSource.reaction("upgrade")


KIND = EventKind[AksSystemEvent](types=(AKS_PREFIX + "NewKubernetesVersionAvailable",), interpret=read,
                                 react=on_new_versions, source=_source, reads_version=True,
                                 senders=AZURE, origin=from_cluster_topic)
