"""Queue triggers: `cluster-requests` (the request contract, for systems that prefer a queue) and
`provisioning-steps` (the engine), each with a function on its poison queue so that nothing is lost silently.

A message that raises is retried by the host and, after host.json's maxDequeueCount (5), moved to
`<queue>-poison`. A cluster request is keyed by its message id, so a redelivered message is the same operation.
"""

from __future__ import annotations

import json
import logging

import azure.functions as func

from functions import runtime
from shared.domain.caller import QUEUE_CALLER
from shared.refusals import Refused

bp = func.Blueprint()
log = logging.getLogger("aksvend.queues")
CONNECTION = "AzureWebJobsStorage"


class RejectedMessage(ValueError):
    """The message is not a valid cluster request; retrying cannot help, the poison queue keeps it."""


@bp.queue_trigger(arg_name="msg", queue_name="cluster-requests", connection=CONNECTION)
async def cluster_requests(msg: func.QueueMessage) -> None:
    from shared.domain import jsontext

    try:
        raw = jsontext.loads(msg.get_body())  # strict and bounded, as every JSON from outside
    except jsontext.JsonRefused as refused:
        raise RejectedMessage(f"message {msg.id}: the body is not JSON aksvend reads ({refused.code})") from None
    rt = await runtime.runtime()
    try:
        accepted = await rt.clusters.create(raw, QUEUE_CALLER, idempotency_key=f"queue:{msg.id}", source="queue")
    except Refused as refusal:  # an invalid or refused request stays refused: the poison queue keeps it
        codes = ", ".join(f"{v.path} {v.code}" for v in refusal.violations[:20])
        raise RejectedMessage(f"message {msg.id}: {type(refusal).__name__} {refusal.code} {codes}".strip()) from None
    log.info("cluster request %s accepted as operation %s", msg.id, accepted.operation_id)


@bp.queue_trigger(arg_name="msg", queue_name="cluster-requests-poison", connection=CONNECTION)
async def cluster_requests_poison(msg: func.QueueMessage) -> None:
    rt = await runtime.runtime()
    await rt.rejected.record(msg.id or "(no id)", msg.get_body(),
                             "failed maxDequeueCount deliveries on cluster-requests")


@bp.queue_trigger(arg_name="msg", queue_name="provisioning-steps", connection=CONNECTION)
async def provisioning_steps(msg: func.QueueMessage) -> None:
    rt = await runtime.runtime()
    await rt.engine.handle(_json(msg))


@bp.queue_trigger(arg_name="msg", queue_name="provisioning-steps-poison", connection=CONNECTION)
async def provisioning_steps_poison(msg: func.QueueMessage) -> None:
    from shared.engine import poisoned

    rt = await runtime.runtime()
    await poisoned(rt.engine, _json(msg), msg.dequeue_count or 5)


def _json(msg: func.QueueMessage) -> dict:
    try:
        body = json.loads(msg.get_body())
    except (ValueError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}
