"""The reaction to `NewKubernetesVersionAvailable` (read in aks.py): an upgrade by the cluster's `autoUpgrade`
channel, only ever to a version ARM's upgrade profile for the cluster offers.

Whoever can deliver an event can name any version (`1.33.999`), so the event is a trigger and a hint, never the
source of the target: the service reads `GET managedClusters/{name}/upgradeProfiles/default` (`offered_versions`
reads its body) and the view carries what it offers (`ClusterView.upgrades`; None when it could not be read: no
upgrade). The policy picks only among the offered GA versions newer than the current one:
- `patch` (default): a newer patch of the current minor, e.g. 1.33.2 -> 1.33.5.
- `rapid`: the next minor when one is offered (AKS never skips one), else a newer patch; `stable`: the same, but the
  next minor only when the event's `latestStableKubernetesVersion` is a later minor than the current one.
- Of the allowed versions of that scope, the newest one the event names, else the newest offered.
- `none`: no upgrade; `node-image`: AKS refreshes node images itself, the Kubernetes version stays. Both, and
  `patch`/`stable` when what is offered is not theirs to take, give an `aksvend.cluster.upgradeAvailable` notice
  listing the newer GA versions offered.
Previews are never chosen, nothing is ever downgraded, a named version ARM does not offer is said in the reason, and
an upgrade already asked for (same version, in the history) is not asked again. The current version must be the
observed `major.minor.patch`, so this kind `reads_version`: the service reads `currentKubernetesVersion` and the
upgrade profile from ARM (the desired version may be `1.33`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from shared.domain.events.aks import AKS_PREFIX, AksSystemEvent, from_cluster_topic, read
from shared.domain.events.kind import EventKind
from shared.domain.events.model import (
    ClusterView,
    Decision,
    Notice,
    OfferedVersion,
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
MAX_OFFERED = 100  # upgrades read from one profile (AKS offers a handful)


def parse_version(text: str | None) -> Version | None:
    """"1.33.2" -> (1, 33, 2); "1.33" -> (1, 33, None); None when it is not a version."""
    match = _VERSION.match(text.strip()) if isinstance(text, str) else None
    if not match:
        return None
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch) if patch is not None else None


def offered_versions(body: Any) -> tuple[OfferedVersion, ...] | None:
    """The upgrades in an upgrade profile's body (`properties.controlPlaneProfile.upgrades`), each written
    `major.minor.patch`; entries that are not such a version are left out, and anything but an absent or false
    `isPreview` counts as a preview. None when the body is not an upgrade profile."""
    props = body.get("properties") if isinstance(body, Mapping) else None
    plane = props.get("controlPlaneProfile") if isinstance(props, Mapping) else None
    upgrades = plane.get("upgrades") if isinstance(plane, Mapping) else None
    if not isinstance(plane, Mapping) or not isinstance(upgrades, list | None):
        return None
    offered: list[OfferedVersion] = []
    for item in (upgrades or [])[:MAX_OFFERED]:
        version = _full(item.get("kubernetesVersion")) if isinstance(item, Mapping) else None
        if version is not None:
            offered.append(OfferedVersion(version, item.get("isPreview") not in (None, False)))
    return tuple(offered)


def on_new_versions(event: AksSystemEvent, view: ClusterView, history: Sequence[PastReaction],
                    now: datetime) -> Decision:
    versions = event.versions
    assert versions is not None  # an AksSystemEvent of this kind always has them
    channel = view.reactions.auto_upgrade
    named = [v for v in (versions.latest_supported, versions.latest_stable, versions.lowest_minor) if v]
    if view.upgrades is None:
        return nothing(f"ARM's upgrade profile of the cluster could not be read, so no upgrade (the event names "
                       f"{', '.join(named) or 'no version'}; current {view.kubernetes_version})")
    current = parse_version(view.kubernetes_version)
    offered = [o.version for o in view.upgrades if not o.preview]
    summary = _summary(view, offered, named, current)
    if channel in ("none", "node-image"):
        why = ("autoUpgrade is 'none'" if channel == "none"
               else "autoUpgrade is 'node-image': AKS refreshes node images, the Kubernetes version stays")
        return _notice_if_newer(f"{why} ({summary})", current, offered)
    if current is None or current[2] is None:
        return nothing(f"the current version '{view.kubernetes_version}' is not major.minor.patch, so no upgrade "
                       f"is chosen ({summary})")
    target, scope = _choose(channel, current, [v for v in offered if _newer(parse_version(v), current)], named,
                            parse_version(versions.latest_stable))
    if target is None:
        return _notice_if_newer(f"autoUpgrade '{channel}': nothing it may move to is offered ({summary})", current,
                                offered)
    asked = next((h for h in history if h.rule == "upgrade" and h.version == target), None)
    if asked is not None:
        return nothing(f"an upgrade to {target} was already asked for at {asked.at.isoformat()}")
    reason = (f"autoUpgrade '{channel}': upgrade {view.kubernetes_version} -> {target} ({scope}), control plane "
              f"first, then each pool ({summary})")
    record = PastReaction(now, event.key, "upgrade", version=target)
    return Decision((UpgradeCluster(target, scope, reason),), (record,))


def _choose(channel: str, current: Version, newer: Sequence[str], named: Sequence[str],
            stable: Version | None) -> tuple[str | None, UpgradeScope]:
    """The target among the newer offered GA versions: the next minor when the channel takes it, else a patch."""
    patches = [v for v in newer if _minor(v) == current[:2]]
    minors = [v for v in newer if _minor(v) == (current[0], current[1] + 1)]
    takes_minor = channel == "rapid" or (channel == "stable" and stable is not None and stable[:2] > current[:2])
    if takes_minor and minors:
        return _preferred(minors, named), "minor"
    return (_preferred(patches, named) if patches else None), "patch"


def _preferred(candidates: Sequence[str], named: Sequence[str]) -> str:
    """The newest candidate the event names, else the newest candidate."""
    hinted = {_full(n) for n in named}
    return max([v for v in candidates if v in hinted] or candidates, key=lambda v: parse_version(v) or (0, 0, 0))


def _summary(view: ClusterView, offered: Sequence[str], named: Sequence[str], current: Version | None) -> str:
    offers = {o.version for o in view.upgrades or ()}
    unoffered = [n for n in dict.fromkeys(named)
                 if _full(n) not in offers and (current is None or _newer(parse_version(n), current))]
    text = f"ARM offers: {', '.join(offered) or 'none'}; current {view.kubernetes_version}"
    return text + (f"; named by the event but not offered: {', '.join(unoffered)[:200]}" if unoffered else "")


def _full(text: Any) -> str | None:
    """`major.minor.patch` written canonically, or None."""
    version = parse_version(text)
    return None if version is None or version[2] is None else f"{version[0]}.{version[1]}.{version[2]}"


def _minor(text: str) -> tuple[int, int] | None:
    version = parse_version(text)
    return (version[0], version[1]) if version else None


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
