"""`ResourceType`: everything aksvend knows about one ARM resource type, in one record.

Each type's record sits next to its body builder (`core.py`, `networking.py`, `aks.py`); the package's
`__init__` indexes them. What a record says, and who reads it:

* `api_version`: the one the pinned SDK sends (tests/unit/test_arm_bodies.py checks it against the packages);
  the plan and the operations put it on every request.
* `body`: the builder of the PUT body, exactly as the SDK would serialize it (the same test checks that).
* `seconds`: typical durations by action, for the plan's critical path and an operation's progress. Figures
  from docs/aks-facts.md (observed: cluster create 3.5-13 min, node pool create 4-14 min, pool scale P50
  1.67 min; private endpoint about 1 minute) and the ARM docs for the quick control-plane writes. Estimates
  for planning, not promises: the engine never waits on them, it polls. (The emulator's latency model is its
  own: local/armemu/latency.py.)
* `family`: which SDK client sends its requests; `shared/adapters/arm_families.py` maps the name to the
  client class, the one fact about a type that needs the SDK.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

Action = Literal["put", "delete", "scale"]


@dataclass(frozen=True, slots=True)
class ResourceType:
    name: str  # the full ARM type, e.g. "Microsoft.Network/virtualNetworks"
    api_version: str
    family: str  # "aks", "network", "privatedns", "identity", "authorization", "resources"
    seconds: Mapping[Action, int]  # typical duration of each action the engine takes on it
    body: Callable[..., dict[str, Any]]  # the PUT body builder (its arguments differ by type)
