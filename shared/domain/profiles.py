"""Profiles: what a request does not say, the profile fills in. Explicit fields always win.

Merging happens on the raw JSON, before parsing, so that a violation's JSON pointer still points into what
the caller wrote: objects merge key by key, lists (userPools, zones, taints ...) replace the profile's list
whole, an explicit `null` clears a default (at the top level the field then takes the contract's own default;
see `NULL_CLEARS`). A user pool that leaves out its VM size or count gets the profile's choice for its workload.
A region written another way than its programmatic name ("West Europe", "WestEurope") becomes that name
("westeurope"), with the warning LOCATION_NORMALIZED: ARM and AKS use it, in ids and in the node resource group's
name, which aksvend must know to map node events to the cluster.
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Mapping, Sequence
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from shared.domain.regions import lookup_region
from shared.domain.request import ClusterRequest
from shared.domain.violations import ARM_NAMING, CONTRACT, Violation, pointer

DEFAULT_PROFILE = "development"
DEFAULT_KUBERNETES_VERSION = "1.33"
# Keeps application pods off the system pool (use-system-pools). A default like any other: a request that lists
# its own system pool taints replaces it, and rule SYSTEM_POOL_UNTAINTED warns when it is gone.
CRITICAL_ADDONS_TAINT = "CriticalAddonsOnly=true:NoSchedule"
# The top-level fields a request may set to null (the nullable ones of the schema): null clears the profile's
# value, and the field takes the contract's own default (none for systemPool, which is then missing).
NULL_CLEARS = ("subscriptionId", "kubernetesVersion", "systemPool", "userPools", "network", "addons", "reactions",
               "deletionProtection", "apiServer", "entraId", "security", "maintenance")

_NETWORK = {
    "plugin": "azure-overlay",
    "vnetAddressSpace": "10.40.0.0/16",
    "serviceCidr": "10.0.0.0/16",
    "dnsServiceIp": "10.0.0.10",
}

# What the AKS baseline architecture asks of a production cluster (issue 18; docs/request.md, "Production options"):
# a private API server, Entra ID with Azure RBAC and no local accounts, workload identity, Azure CNI Overlay powered
# by Cilium, and maintenance windows. Pools run Azure Linux (POOL_OS_SKUS). Each is an ordinary default: a request
# may turn it off (`"apiServer": {"private": false}`, `"entraId": null` ...).
_WINDOW = {"startTime": "00:00", "durationHours": 4, "utcOffset": "+00:00"}
PRODUCTION_OPTIONS: Mapping[str, Any] = {
    "apiServer": {"private": True, "privateDnsZone": "system"},
    "entraId": {"managed": True, "azureRbac": True, "disableLocalAccounts": True},
    "security": {"workloadIdentity": True, "oidcIssuer": True},
    "maintenance": {"nodeOsUpgradeChannel": "NodeImage",
                    "autoUpgradeWindow": {"dayOfWeek": "Sunday", **_WINDOW},
                    "nodeOsUpgradeWindow": {"dayOfWeek": "Saturday", **_WINDOW}},
}
# The OS SKU a Linux pool gets when it names none, by profile; GPU pools keep Ubuntu (AKS: the NC A100 v4 sizes are
# not offered with Azure Linux, use-nvidia-gpu.md), as does the development profile (AKS's own default).
POOL_OS_SKUS: Mapping[str, str] = {"production": "AzureLinux"}

PROFILES: Mapping[str, Mapping[str, Any]] = {
    # The typical production setup: a dedicated system pool of 3 x D4s_v5 over three zones, general apps on
    # 5 x D8s_v5 with autoscaling, 2 GPU VMs, and a spot pool for batch work.
    "production": {
        "kubernetesVersion": DEFAULT_KUBERNETES_VERSION,
        "systemPool": {"name": "system", "vmSize": "Standard_D4s_v5", "count": 3, "zones": ["1", "2", "3"],
                       "taints": [CRITICAL_ADDONS_TAINT]},
        "userPools": [
            {"name": "apps", "vmSize": "Standard_D8s_v5", "count": 5, "autoscale": {"min": 3, "max": 10},
             "zones": ["1", "2", "3"]},
            {"name": "gpu", "workload": "gpu", "vmSize": "Standard_NC24ads_A100_v4", "count": 2,
             "taints": ["sku=gpu:NoSchedule"]},
            {"name": "batch", "workload": "batch", "vmSize": "Standard_D8s_v5", "count": 0,
             "spot": {"evictionPolicy": "Delete", "maxPrice": -1}, "autoscale": {"min": 0, "max": 20}},
        ],
        "network": {**_NETWORK, "serviceEndpoints": ["Microsoft.Storage", "Microsoft.KeyVault", "Microsoft.Sql"],
                    "policy": "cilium", "dataplane": "cilium"},
        "addons": {"monitoring": True, "azurePolicy": True, "defender": False, "csiDrivers": ["disk", "file", "blob"]},
        "reactions": {"spotFallback": "on-demand", "maxNodesPerPool": 50, "cooldownSeconds": 600,
                      "autoUpgrade": "patch"},
        "deletionProtection": True,
        **PRODUCTION_OPTIONS,
    },
    # Small and cheap: one 2-vCPU system node and one small autoscaled user pool.
    "development": {
        "kubernetesVersion": DEFAULT_KUBERNETES_VERSION,
        "systemPool": {"name": "system", "vmSize": "Standard_D2s_v5", "count": 1, "taints": [CRITICAL_ADDONS_TAINT]},
        "userPools": [
            {"name": "apps", "vmSize": "Standard_D2s_v5", "count": 1, "autoscale": {"min": 1, "max": 3}},
        ],
        "network": dict(_NETWORK),
        "addons": {"monitoring": False, "azurePolicy": False, "defender": False, "csiDrivers": ["disk", "file"]},
        "reactions": {"spotFallback": "on-demand", "maxNodesPerPool": 10, "cooldownSeconds": 600,
                      "autoUpgrade": "patch"},
        "deletionProtection": False,
    },
}

# The VM size a user pool gets when it names only its workload.
WORKLOAD_SIZES: Mapping[str, Mapping[str, str]] = {
    "production": {"general": "Standard_D8s_v5", "memory": "Standard_E8s_v5", "gpu": "Standard_NC24ads_A100_v4",
                   "batch": "Standard_D8s_v5"},
    "development": {"general": "Standard_D2s_v5", "memory": "Standard_E2s_v5", "gpu": "Standard_NC4as_T4_v3",
                    "batch": "Standard_D2s_v5"},
}


def expand(raw: Any, *, default_subscription_id: str) -> tuple[ClusterRequest | None, list[Violation]]:
    """Apply the profile to a raw request and parse it. Returns the request and the warnings of the expansion
    (LOCATION_NORMALIZED), or None and every shape error."""
    if not isinstance(raw, dict):
        return None, [Violation("SCHEMA_TYPE", "", "the request must be a JSON object", source=CONTRACT)]
    profile = raw.get("profile", DEFAULT_PROFILE)
    defaults = PROFILES.get(profile) if isinstance(profile, str) else None
    merged = merge(defaults or PROFILES[DEFAULT_PROFILE], raw)
    if None in merged.values():  # rare: no scan of NULL_CLEARS otherwise (planning is hot: bench/bench_plan.py)
        for key in NULL_CLEARS:
            if key in merged and merged[key] is None:
                del merged[key]  # the model's default applies, or the field is reported missing
    merged.setdefault("subscriptionId", default_subscription_id)
    merged.setdefault("kubernetesVersion", DEFAULT_KUBERNETES_VERSION)
    sizes = WORKLOAD_SIZES[profile if defaults else DEFAULT_PROFILE]
    os_sku = POOL_OS_SKUS.get(profile) if defaults else None
    pools = merged.get("userPools")
    if isinstance(pools, list):
        merged["userPools"] = [_fill_pool(p, sizes, os_sku) for p in pools]
    if isinstance(merged.get("systemPool"), dict):
        merged["systemPool"] = _with_os_sku({"name": "system", **merged["systemPool"]}, os_sku)
    _linux_only_dataplane(merged, raw)
    _existing_subnet_endpoints(merged, raw)
    notes = _programmatic_location(merged)
    try:
        return ClusterRequest.model_validate(merged), notes
    except ValidationError as exc:
        return None, schema_violations(exc)


def _linux_only_dataplane(merged: dict[str, Any], raw: dict[str, Any]) -> None:
    """The production profile's Cilium dataplane and policy run on Linux nodes only (Azure/AKS#4540): a request with
    a Windows pool that does not choose them itself keeps the Azure dataplane and no policy engine instead (the
    profile's default gives way; an explicit choice is left to rule CILIUM_WINDOWS)."""
    network, given = merged.get("network"), raw.get("network")
    pools = merged.get("userPools")
    if not isinstance(network, dict) or network.get("dataplane") != "cilium" or not isinstance(pools, list):
        return
    chosen = given if isinstance(given, dict) else {}
    if "dataplane" in chosen or not any(isinstance(p, dict) and p.get("os") == "Windows" for p in pools):
        return
    merged["network"] = {**network, "dataplane": "azure",
                         "policy": chosen.get("policy", "none") if network.get("policy") == "cilium" else
                         network.get("policy")}


def _existing_subnet_endpoints(merged: dict[str, Any], raw: dict[str, Any]) -> None:
    """An existing node subnet (network.existing) is its owner's: the profile's service endpoints give way (an explicit
    list is left to rule SERVICE_ENDPOINTS_ON_EXISTING_SUBNET)."""
    network, given = merged.get("network"), raw.get("network")
    if isinstance(network, dict) and isinstance(given, dict) and given.get("existing") is not None \
            and "serviceEndpoints" not in given:
        merged["network"] = {**network, "serviceEndpoints": []}


def _programmatic_location(merged: dict[str, Any]) -> list[Violation]:
    """A known region given another way than its programmatic name takes that name (an unknown one is left to the
    rule LOCATION_UNKNOWN)."""
    given = merged.get("location")
    region = lookup_region(given) if isinstance(given, str) else None
    if region is None or region.name == given:
        return []
    merged["location"] = region.name
    group, name = merged.get("resourceGroup"), merged.get("name")
    nodes = f"MC_{group}_{name}_{region.name}" if isinstance(group, str) and isinstance(name, str) else "its name"
    return [Violation("LOCATION_NORMALIZED", "/location",
                      f"location '{given}' is region {region.name} ({region.display_name}): the request uses the "
                      f"programmatic name '{region.name}', as ARM and AKS do (the node resource group: {nodes})",
                      severity="warning", source=ARM_NAMING)]


def merge(defaults: Mapping[str, Any], explicit: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge two JSON objects into a new one; `explicit` wins, lists replace whole. Neither input is changed,
    and nothing here changes the result's shared leaves afterwards (pools are copied before they are filled), so
    no deep copy is needed: planning is hot (see bench/bench_plan.py)."""
    out = dict(defaults)
    for key, value in explicit.items():
        current = out.get(key)
        if isinstance(value, dict) and isinstance(current, Mapping):
            out[key] = merge(current, value)
        else:
            out[key] = value
    return out


def _with_os_sku(pool: dict[str, Any], os_sku: str | None) -> dict[str, Any]:
    """The profile's OS SKU for a Linux pool that names none and is not a GPU pool (a copy when one is added)."""
    if os_sku is None or "osSku" in pool or pool.get("os", "Linux") != "Linux" or pool.get("workload") == "gpu":
        return pool
    return {**pool, "osSku": os_sku}


def _fill_pool(pool: Any, sizes: Mapping[str, str], os_sku: str | None = None) -> Any:
    if not isinstance(pool, dict):
        return pool
    filled = _with_os_sku(dict(pool), os_sku)
    workload = filled.get("workload", "general")
    if "vmSize" not in filled and isinstance(workload, str) and workload in sizes:
        filled["vmSize"] = sizes[workload]
    if "count" not in filled:
        autoscale = filled.get("autoscale")
        low = autoscale.get("min") if isinstance(autoscale, dict) else None
        filled["count"] = low if isinstance(low, int) else 1
    return filled


_SCHEMA_CODES = {
    "extra_forbidden": "SCHEMA_UNKNOWN_FIELD",
    "missing": "SCHEMA_REQUIRED",
    "literal_error": "SCHEMA_ENUM",
    "string_too_long": "SCHEMA_TOO_LONG",
    "string_too_short": "SCHEMA_TOO_SHORT",
    "too_long": "SCHEMA_TOO_MANY_ITEMS",
    "too_short": "SCHEMA_TOO_FEW_ITEMS",
    "greater_than_equal": "SCHEMA_RANGE",
    "less_than_equal": "SCHEMA_RANGE",
    "greater_than": "SCHEMA_RANGE",
    "less_than": "SCHEMA_RANGE",
}


def schema_violations(exc: ValidationError) -> list[Violation]:
    """Pydantic's errors as violations. Input values are never echoed: they may be huge or secret."""
    out = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = [p for p in err["loc"] if p != "[key]"]
        path = pointer(*loc)
        code = _SCHEMA_CODES.get(err["type"], "SCHEMA_TYPE")
        field = str(loc[-1]) if loc else "request"
        if code == "SCHEMA_UNKNOWN_FIELD":
            hint = _closest_field(loc)
            message = (f"unknown field '{field}': the request contract has no such field (check the spelling)"
                       + (f"; did you mean '{hint}'?" if hint else ""))
        elif code == "SCHEMA_REQUIRED":
            message = f"'{field}' is required"
        else:
            message = f"'{field}': {err['msg']}"
        out.append(Violation(code, path, message, source=CONTRACT))
    return out


def _closest_field(loc: Sequence[str | int]) -> str | None:
    """The field of the object at `loc[:-1]` whose name is closest to the unknown `loc[-1]` (case ignored), if any
    is close: `profle` -> `profile`, `vmsize` -> `vmSize`."""
    annotation: Any = ClusterRequest
    for part in loc[:-1]:
        annotation = _inner(annotation, part)
    model = next((m for m in _members(annotation) if isinstance(m, type) and issubclass(m, BaseModel)), None)
    typo = loc[-1] if loc else None
    if model is None or not isinstance(typo, str) or len(typo) > 64:
        return None
    names = {(f.alias or n).lower(): f.alias or n for n, f in model.model_fields.items()}
    found = difflib.get_close_matches(typo.lower(), list(names), n=1, cutoff=0.6)
    return names[found[0]] if found else None


def _inner(annotation: Any, part: str | int) -> Any:
    """The type found at `part` (a field name, or a list index) of a value of type `annotation`; None if none."""
    for member in _members(annotation):
        if isinstance(part, int) and get_origin(member) is list:
            return get_args(member)[0]
        if isinstance(part, str) and isinstance(member, type) and issubclass(member, BaseModel):
            for name, f in member.model_fields.items():
                if part in (name, f.alias):
                    return f.annotation
    return None


def _members(annotation: Any) -> tuple[Any, ...]:
    """The types of a union (`Autoscale | None`), or the type itself."""
    return get_args(annotation) if get_origin(annotation) in (Union, types.UnionType) else (annotation,)
