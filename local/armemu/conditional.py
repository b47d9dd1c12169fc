"""Conditional writes: `If-None-Match: *` on a PUT creates the resource only when it does not exist.

ARM's resource providers that support ETags answer a PUT with `If-None-Match: *` on an existing resource with
412 Precondition Failed and change nothing; AKS documents it for managed clusters and agent pools ("Enhance
concurrency control with entity tags (eTags) in Azure Kubernetes Service",
https://learn.microsoft.com/azure/aks/use-etags: `az aks create ... --if-none-match "*"` "validates the resource does
not exist"; an existing one gets 412). The emulator honours it for every resource type it serves, as aksvend sends
it only on a create's first cluster PUT (shared/engine/adopt.py `only_new`).
"""

from __future__ import annotations

from collections.abc import Mapping

from .armid import ArmPath
from .errors import ArmError
from .store import Store


def check_if_none_match(method: str, headers: Mapping[str, str], path: ArmPath | None, store: Store) -> None:
    """412 PreconditionFailed for a PUT with `If-None-Match: *` whose resource exists; nothing otherwise."""
    if method != "PUT" or path is None or path.is_collection or headers.get("If-None-Match", "").strip() != "*":
        return
    if store.get(path.resource_id) is not None:
        raise ArmError(412, "PreconditionFailed", f"The resource '{path.resource_id}' already exists and the request "
                                                  "asked to create it only if it does not (If-None-Match: *).")
