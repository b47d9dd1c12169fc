"""Event Grid notifications the emulator emits, and their delivery to webhooks the way Event Grid does it.

Shapes follow shared/fixtures/eventgrid/: Event Grid schema, delivered as a JSON array with
`aeg-event-type: Notification`. Spot evictions become
`Microsoft.ResourceNotifications.HealthResources.ResourceAnnotated`
events with `annotationName: VirtualMachinePreempted` on the VMSS instance (synthetic, as no official sample exists);
AKS system events (`NodePoolRolling*`, `NewKubernetesVersionAvailable`, `ClusterSupportEnding` ...) carry the cluster
as topic. Delivery goes to the configured webhook URL and to every WebHook event subscription of a matching system
topic, retried on failure (scaled by the time factor) except for 400/401/403/413, which Event Grid does not retry.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any

import aiohttp

from .lro import utc_now_iso
from .world import World

log = logging.getLogger(__name__)
RETRY_SCHEDULE_SECONDS = (10.0, 30.0, 60.0)
NOT_RETRIED = {400, 401, 403, 413}
MAX_ANSWER_BYTES = 64 * 1024  # of a webhook's answer kept with its delivery
HEALTH_TOPIC_TYPE = "microsoft.resourcenotifications.healthresources"
AKS_TOPIC_TYPE = "microsoft.containerservice.managedclusters"


def preempted_event(subscription: str, vm_id: str) -> dict[str, Any]:
    now = utc_now_iso()
    annotation_id = str(uuid.uuid4())
    return {
        "id": str(uuid.uuid4()),
        "topic": f"/subscriptions/{subscription}",
        "subject": vm_id,
        "data": {
            "resourceInfo": {
                "id": f"{vm_id}/providers/Microsoft.ResourceHealth/resourceAnnotations/{annotation_id}",
                "name": annotation_id,
                "type": "Microsoft.ResourceHealth/resourceAnnotations",
                "properties": {
                    "targetResourceId": vm_id,
                    "targetResourceType": "Microsoft.Compute/virtualMachineScaleSets/virtualMachines",
                    "occurredTime": now,
                    "annotationName": "VirtualMachinePreempted",
                    "reason": "Spot eviction",
                    "summary": "This virtual machine was preempted: Azure needed the capacity back (Spot eviction).",
                    "context": "Platform Initiated",
                    "category": "Unplanned",
                },
            },
            "operationalInfo": {"resourceEventTime": now},
            "apiVersion": "2022-08-01",
        },
        "eventType": "Microsoft.ResourceNotifications.HealthResources.ResourceAnnotated",
        "dataVersion": "1",
        "metadataVersion": "1",
        "eventTime": now,
    }


def aks_event(cluster_id: str, event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    short = event_type.removeprefix("Microsoft.ContainerService.")
    return {
        "topic": cluster_id,
        "subject": cluster_id.rsplit("/", 1)[-1],
        "eventType": f"Microsoft.ContainerService.{short}",
        "eventTime": utc_now_iso(),
        "id": str(uuid.uuid4()),
        "data": data,
        "dataVersion": "1",
        "metadataVersion": "1",
    }


class WebhookDeliverer:
    """Delivers event batches in the background; `deliveries` records each attempt for the control API."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.deliveries: list[dict[str, Any]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None

    def emit(self, events: list[dict[str, Any]], topic: str) -> list[str]:
        """Schedule delivery of `events` (all from `topic`); returns the target URLs."""
        targets = self._targets(topic)
        for url in targets:
            task = asyncio.get_running_loop().create_task(self._deliver(url, events))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return targets

    def _targets(self, topic: str) -> list[str]:
        urls = [self.world.settings.webhook_url] if self.world.settings.webhook_url else []
        subscription = topic.split("/")[2] if topic.count("/") >= 2 else self.world.settings.subscription_id
        for system_topic in self.world.store.in_subscription(subscription, "Microsoft.EventGrid/systemTopics"):
            props = system_topic.properties
            topic_type = str(props.get("topicType", "")).lower()
            matches = (topic_type == HEALTH_TOPIC_TYPE and topic.count("/") == 2) or (
                topic_type == AKS_TOPIC_TYPE and str(props.get("source", "")).lower() == topic.lower()
            )
            if not matches:
                continue
            for sub in self.world.store.children(
                system_topic.id, "Microsoft.EventGrid/systemTopics/eventSubscriptions"
            ):
                destination = sub.properties.get("destination") or {}
                url = (destination.get("properties") or {}).get("endpointUrl")
                if destination.get("endpointType") == "WebHook" and url:
                    urls.append(url)
        return urls

    async def _deliver(self, url: str, events: list[dict[str, Any]]) -> None:
        payload = json.dumps(events).encode()
        headers = {"Content-Type": "application/json", "aeg-event-type": "Notification"}
        for attempt in range(len(RETRY_SCHEDULE_SECONDS) + 1):
            status, answer = await self._post(url, payload, {**headers, "aeg-delivery-count": str(attempt)})
            self.deliveries.append(
                {
                    "url": url,
                    "attempt": attempt,
                    "status": status,
                    "events": len(events),
                    "eventIds": [e["id"] for e in events],
                    "time": utc_now_iso(),
                    "response": answer,
                }
            )
            if status is not None and (200 <= status <= 204 or status in NOT_RETRIED):
                return
            if attempt < len(RETRY_SCHEDULE_SECONDS):
                await asyncio.sleep(RETRY_SCHEDULE_SECONDS[attempt] * self.world.settings.time_factor)

    async def _post(self, url: str, payload: bytes, headers: dict[str, str]) -> tuple[int | None, str | None]:
        """The status and the start of the body the webhook answered (what it did with the events, for the demo
        and tests; Event Grid itself keeps only the status)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        try:
            async with self._session.post(url, data=payload, headers=headers) as response:
                answer = b""
                while len(answer) < MAX_ANSWER_BYTES and (chunk := await response.content.read(MAX_ANSWER_BYTES)):
                    answer += chunk
                return response.status, answer[:MAX_ANSWER_BYTES].decode(errors="replace")
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.info("event delivery to %s failed: %s", url, exc)
            return None, None

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
