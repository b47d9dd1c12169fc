"""Operation status resources, the URLs that `Azure-AsyncOperation` and `Location` point at.

- `.../providers/<ns>/locations/<loc>/operations/<id>`: 200 `{"id", "name", "status", "startTime", "endTime",
  "error"}` (what AKS answers, docs/aks-facts.md), with the polling hint while InProgress.
- `.../providers/<ns>/locations/<loc>/operationresults/<id>` and `/subscriptions/<s>/operationresults/<id>` (resource
  group deletes): 202 with `Location` while running; then 204 for a delete, 200 with the resource for a PUT, or the
  operation's error status with the ARM error body if it failed.
"""

from __future__ import annotations

from ..errors import ArmError
from ..lro import Operation
from ..world import Reply, World


def _find(world: World, op_id: str) -> Operation:
    op = world.ops.get(op_id)
    if op is None:
        raise ArmError(404, "OperationNotFound", f"The operation '{op_id}' was not found.")
    return op


def operation_status(world: World, op_id: str, request_path: str) -> Reply:
    op = _find(world, op_id)
    reply = Reply(200, op.status_body(request_path))
    if not op.done:
        reply.headers.update(world.poll_hint(op.remaining(world.ops.now())))
    return reply


def operation_result(world: World, op_id: str, self_url: str, render) -> Reply:
    """`render(resource_id)` returns the resource body or None if it is gone."""
    op = _find(world, op_id)
    if not op.done:
        headers = {"Location": self_url, **world.poll_hint(op.remaining(world.ops.now()))}
        return Reply(202, None, headers)
    if op.status == "Failed":
        return Reply(op.error_status, {"error": op.error})
    if op.kind == "delete":
        return Reply(204)
    body = render(op.resource_id)
    return Reply(200, body) if body is not None else Reply(204)
