"""Queue triggers: `cluster-requests` (the request contract, for systems that prefer a queue) and
`provisioning-steps` (the engine), each with a function on its poison queue so that nothing is lost silently.

A cluster request is keyed by its message id, so a redelivered message is the same operation. A request that is
refused (not JSON, invalid, not permitted) is recorded in the `rejected` table with the refusal at once: retrying
cannot change it. A message that raises is retried by the host and, after host.json's maxDequeueCount (5), moved
to `<queue>-poison`, whose function records it (cluster-requests) or retries or fails its step from the step's
saved state (provisioning-steps: `shared.engine.poisoned`). A step message whose handling meets a storage fault
is sent again with a delay instead of raising (`shared.engine.deliver`), so an outage does not burn deliveries.
"""

from __future__ import annotations

import logging

import azure.functions as func

from functions import runtime
from shared.domain.caller import QUEUE_CALLER
from shared.refusals import Refused

bp = func.Blueprint()
log = logging.getLogger("aksvend.queues")
CONNECTION = "AzureWebJobsStorage"


@bp.queue_trigger(arg_name="msg", queue_name="cluster-requests", connection=CONNECTION)
async def cluster_requests(msg: func.QueueMessage) -> None:
    from shared.domain import jsontext

    rt = await runtime.runtime()
    try:
        raw = jsontext.loads(msg.get_body())  # strict and bounded, as every JSON from outside
        accepted = await rt.clusters.create(raw, QUEUE_CALLER, idempotency_key=f"queue:{msg.id}", source="queue")
    except jsontext.JsonRefused as refused:  # refused stays refused: recorded with the reason, not retried
        await rt.rejected.record(msg.id or "(no id)", msg.get_body(), f"the body is not JSON aksvend reads "
                                                                      f"({refused.code}): {refused}")
        return
    except Refused as refusal:
        codes = ", ".join(f"{v.path} {v.code}" for v in refusal.violations[:20])
        await rt.rejected.record(msg.id or "(no id)", msg.get_body(),
                                 f"{type(refusal).__name__} {refusal.code}: {refusal.detail} {codes}".strip())
        return
    log.info("cluster request %s accepted as operation %s", msg.id, accepted.operation_id)


@bp.queue_trigger(arg_name="msg", queue_name="cluster-requests-poison", connection=CONNECTION)
async def cluster_requests_poison(msg: func.QueueMessage) -> None:
    rt = await runtime.runtime()
    await rt.rejected.record(msg.id or "(no id)", msg.get_body(),
                             "failed maxDequeueCount (5) deliveries on cluster-requests without being refused "
                             "(a storage fault or a bug: see the function's logs)")


@bp.queue_trigger(arg_name="msg", queue_name="provisioning-steps", connection=CONNECTION)
async def provisioning_steps(msg: func.QueueMessage) -> None:
    from shared.engine import deliver
    from shared.services.rejected import step_message

    rt = await runtime.runtime()
    await deliver(rt.engine, step_message(msg.get_body()))


@bp.queue_trigger(arg_name="msg", queue_name="provisioning-steps-poison", connection=CONNECTION)
async def provisioning_steps_poison(msg: func.QueueMessage) -> None:
    from shared.services.rejected import step_poisoned

    rt = await runtime.runtime()
    await step_poisoned(rt.engine, rt.rejected, msg.id or "(no id)", msg.get_body())
