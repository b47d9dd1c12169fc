"""The Kubernetes versions the emulator's AKS knows: which exist (GA or preview), what a `major.minor` alias
resolves to, and which upgrades a cluster's upgrade profile offers.

As AKS does, a cluster on `M.m.p` is offered the newer patches of its own minor and every patch of the next minor
(`M.m+1.*`), previews marked `isPreview: true`; a minor is never skipped and nothing older is offered. A
`kubernetesVersion` of `M.m` resolves to the newest GA patch of that minor.

The table is one per emulator (`World.versions`), reset to `DEFAULT` by `POST /_emulator/reset`, and set for tests
with `PUT /_emulator/kubernetes-versions {"versions": ["1.33.5", {"version": "1.35.0", "isPreview": true}, ...]}`
(which replaces it); `GET` shows it, `DELETE` restores the default. The default's newest GA patches (1.31.9, 1.32.6,
1.33.2, 1.34.1) are what the emulator always resolved the aliases to.
"""

from __future__ import annotations

import re
from typing import Any

Version = tuple[int, int, int]
MAX_VERSIONS = 200
_FULL = re.compile(r"^(\d{1,4})\.(\d{1,4})\.(\d{1,6})\Z")
DEFAULT: dict[str, bool] = {
    **dict.fromkeys(("1.31.7", "1.31.8", "1.31.9"), False),
    **dict.fromkeys(("1.32.4", "1.32.5", "1.32.6"), False),
    **dict.fromkeys(("1.33.0", "1.33.1", "1.33.2"), False),
    **dict.fromkeys(("1.34.0", "1.34.1"), False),
    "1.35.0": True,
}


def parse(text: Any) -> Version | None:
    """`"1.33.2"` -> (1, 33, 2); None for anything else (a `major.minor` alias included)."""
    match = _FULL.match(text) if isinstance(text, str) else None
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


class VersionTable:
    """Version text -> whether it is a preview."""

    def __init__(self) -> None:
        self.versions: dict[str, bool] = dict(DEFAULT)

    def reset(self) -> None:
        self.versions = dict(DEFAULT)

    def replace(self, spec: Any) -> None:
        """Replace the table from `{"versions": [...]}`, each a `"M.m.p"` or `{"version", "isPreview"?}`; a bad entry
        is a ValueError naming it (the control API's 400), and the table is left as it was."""
        entries = spec.get("versions") if isinstance(spec, dict) else None
        if not isinstance(entries, list) or not 0 < len(entries) <= MAX_VERSIONS:
            raise ValueError(f"versions must be a list of 1 to {MAX_VERSIONS} versions")
        table: dict[str, bool] = {}
        for i, entry in enumerate(entries):
            text, preview = (entry, False) if isinstance(entry, str) else (
                (entry.get("version"), entry.get("isPreview", False)) if isinstance(entry, dict) else (None, False))
            version = parse(text)
            if version is None or not isinstance(preview, bool):
                raise ValueError(f"versions[{i}] must be 'major.minor.patch' or {{\"version\", \"isPreview\": bool}}")
            table[_text(version)] = preview
        self.versions = table

    def to_json(self) -> dict[str, Any]:
        ordered = sorted(self.versions, key=lambda v: parse(v) or (0, 0, 0))
        return {"versions": [{"version": v, "isPreview": self.versions[v]} for v in ordered]}

    def resolve(self, version: str) -> str:
        """The full version a cluster or pool runs for a requested one: `M.m` -> its newest GA patch here (`M.m.0`
        when the table has none); a full version as it is."""
        if parse(version) is not None:
            return version
        minor = parse(f"{version}.0")
        newest = max((v for text, preview in self.versions.items()
                      if not preview and (v := parse(text)) and minor and v[:2] == minor[:2]), default=None)
        return _text(newest) if newest else f"{version}.0"

    def default(self) -> str:
        """The version AKS runs when none is asked for (`kubernetesVersion` absent or "", as `az aks create` sends
        it): the newest patch of the GA minor below the newest one, the minor `az aks get-versions` marks
        `isDefault` (AKS "Supported Kubernetes versions": the default is N-1); the newest GA if only one minor."""
        ga = sorted(v for text, preview in self.versions.items() if not preview and (v := parse(text)))
        minors = sorted({v[:2] for v in ga})
        if not minors:
            return "1.33.0"
        minor = minors[-2] if len(minors) > 1 else minors[-1]
        return _text(max(v for v in ga if v[:2] == minor))

    def running(self, requested: str, previous: str | None) -> str:
        """The version a cluster or pool runs after a PUT asking for `requested`, having run `previous`: an alias of
        the minor it already runs keeps its patch (AKS moves a patch only when asked for one, so a newer patch in the
        table upgrades nothing by itself); anything else resolves."""
        before, minor = parse(previous), parse(f"{requested}.0")
        if before is not None and parse(requested) is None and minor is not None and minor[:2] == before[:2]:
            return _text(before)
        return self.resolve(requested)

    def upgrades(self, current: str) -> list[dict[str, Any]]:
        """What an upgrade profile offers from `current`: newer patches of its minor and the next minor's patches,
        oldest first, previews marked."""
        now = parse(self.resolve(current))
        if now is None:
            return []
        offered = sorted((v, text) for text in self.versions if (v := parse(text)) is not None
                         and v[0] == now[0] and (v[1] == now[1] + 1 or (v[1] == now[1] and v[2] > now[2])))
        return [{"kubernetesVersion": text, **({"isPreview": True} if self.versions[text] else {})}
                for _, text in offered]

    def event_data(self) -> dict[str, str]:
        """The data of a `NewKubernetesVersionAvailable` from this table: the newest GA version, the newest patch of
        the minor below it (stable), of the lowest minor, and the newest preview."""
        ga = sorted(v for text, preview in self.versions.items() if not preview and (v := parse(text)))
        previews = sorted(v for text, preview in self.versions.items() if preview and (v := parse(text)))
        minors = sorted({v[:2] for v in ga})
        newest_of = {minor: max(v for v in ga if v[:2] == minor) for minor in minors}
        data: dict[str, str] = {}
        if ga:
            data["latestSupportedKubernetesVersion"] = _text(ga[-1])
            data["latestStableKubernetesVersion"] = _text(newest_of[minors[-2] if len(minors) > 1 else minors[-1]])
            data["lowestMinorKubernetesVersion"] = _text(newest_of[minors[0]])
        if previews:
            data["latestPreviewKubernetesVersion"] = _text(previews[-1])
        return data


def _text(version: Version) -> str:
    return ".".join(map(str, version))
