"""How long long-running operations take, before the time factor.

Defaults come from docs/aks-facts.md ("Observed durations"): a cluster create took 3.5-13 min (we use 6), a node pool
create 4-14 min (4), a pool scale 3->53 nodes P50 1.67 min (100 s). Network operations take seconds in Azure; a
private endpoint about a minute. Everything is multiplied by the emulator's time factor, so 0.01 turns a 6-minute
cluster into 3.6 s. AKS clusters and pools take their time from what they build (workmodel.py); the rows below are
what a resource type without its own plan takes, and the AKS rows are what a PATCH or a plain update takes. The poll
hint (Retry-After) is `poll_interval` scaled, capped by what is left of the operation.
"""

from __future__ import annotations

from .workmodel import FIGURES

DEFAULT_SECONDS: dict[str, float] = {
    "Microsoft.ContainerService/managedClusters:create": 360.0,
    "Microsoft.ContainerService/managedClusters:update": 300.0,
    "Microsoft.ContainerService/managedClusters:delete": 300.0,
    "Microsoft.ContainerService/managedClusters/agentPools:create": 240.0,
    "Microsoft.ContainerService/managedClusters/agentPools:scale": 100.0,
    "Microsoft.ContainerService/managedClusters/agentPools:update": 180.0,
    "Microsoft.ContainerService/managedClusters/agentPools:delete": 180.0,
    "Microsoft.Network/privateEndpoints:create": 60.0,
    "Microsoft.Network/privateEndpoints:delete": 30.0,
    "Microsoft.Network/privateEndpoints/privateDnsZoneGroups:create": 15.0,
    "Microsoft.Network/virtualNetworks:create": 10.0,
    "Microsoft.Network/virtualNetworks/subnets:create": 5.0,
    "Microsoft.Network/privateDnsZones:create": 30.0,
    "Microsoft.Network/privateDnsZones/virtualNetworkLinks:create": 30.0,
    "Microsoft.Storage/storageAccounts:create": 20.0,
    "Microsoft.EventGrid/systemTopics:create": 15.0,
    "Microsoft.EventGrid/systemTopics/eventSubscriptions:create": 10.0,
    "Microsoft.Resources/resourceGroups:delete": 30.0,
    **FIGURES,  # the work-driven AKS figures (workmodel.py), overridable like the rest
}
FALLBACK_SECONDS = 10.0
POLL_INTERVAL_SECONDS = 10.0


class LatencyModel:
    """Durations by `<type>:<kind>` (kinds: create, update, scale, upgrade, delete), case-insensitive. A scale or an
    upgrade without its own entry takes the update duration, an update without one the create duration; anything
    else unknown takes 10 s.
    Overrides (from the control API) win over the defaults."""

    def __init__(self, overrides: dict[str, float] | None = None) -> None:
        self.overrides: dict[str, float] = {}
        self._table: dict[str, float] = {}
        self.override(overrides or {})

    def override(self, overrides: dict[str, float]) -> None:
        for name, value in overrides.items():
            if ":" not in name or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"latency override {name!r}={value!r}: want '<type>:<kind>' -> seconds >= 0")
        self.overrides.update({k: float(v) for k, v in overrides.items()})
        self._table = {k.lower(): v for k, v in self.table().items()}

    def reset(self) -> None:
        self.overrides.clear()
        self._table = {k.lower(): v for k, v in DEFAULT_SECONDS.items()}

    def seconds(self, type_name: str, kind: str) -> float:
        fallbacks = {"scale": "update", "upgrade": "update", "update": "create"}
        while kind:
            found = self._table.get(f"{type_name}:{kind}".lower())
            if found is not None:
                return found
            kind = fallbacks.get(kind, "")
        return FALLBACK_SECONDS

    def override_for(self, type_name: str, kind: str) -> float | None:
        """The overridden duration of exactly this type and kind, if a test or bench set one (it beats the work
        model: `PUT /_emulator/latency {"...managedClusters:create": 0}` still means "due at once")."""
        wanted = f"{type_name}:{kind}".lower()
        return next((v for k, v in self.overrides.items() if k.lower() == wanted), None)

    def figure(self, name: str) -> float:
        """One work-model figure (`aks/<figure>:<kind>`, workmodel.py), overrides applied."""
        return self._table[name.lower()]

    def table(self) -> dict[str, float]:
        return {**DEFAULT_SECONDS, **self.overrides}
