"""Microsoft.EventGrid system topics and their event subscriptions (both long-running PUT and DELETE).

A system topic's `source` must exist (a cluster for `Microsoft.ContainerService.ManagedClusters`; the subscription
itself for `Microsoft.ResourceNotifications.HealthResources`). Webhook destinations keep their `endpointUrl`
internally, but GET shows only `endpointBaseUrl`, as Event Grid hides the URL's query (it may hold a secret). The
emulator delivers the events it emits to these webhooks too (events.py); it does not do the validation handshake.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ..errors import invalid
from ..store import Resource
from ..world import Call
from .base import ResourceType


class SystemTopics(ResourceType):
    type_name = "Microsoft.EventGrid/systemTopics"
    lro_put = "async"
    lro_delete = "async"
    patch_mode = "async"
    running_update = "Updating"

    def validate(self, call: Call, body: dict[str, Any], existing: Resource | None) -> None:
        props = body.get("properties") or {}
        source, topic_type = props.get("source", ""), props.get("topicType", "")
        if not source or not topic_type:
            raise invalid("A system topic needs properties.source and properties.topicType.", "properties")
        is_subscription = source.strip("/").count("/") == 1
        if not is_subscription and self.world.store.get(source) is None:
            raise invalid(f"The source resource '{source}' does not exist.", "properties.source", "InvalidRequest")

    def shape(self, call: Call, body: dict[str, Any], existing: Resource | None) -> dict[str, Any]:
        stored = super().shape(call, body, existing)
        stored["properties"]["metricResourceId"] = call.path.name + "-metrics"
        return stored


class EventSubscriptions(ResourceType):
    type_name = "Microsoft.EventGrid/systemTopics/eventSubscriptions"
    scope_kind = "child"
    lro_put = "async"
    lro_delete = "async"
    patch_mode = "async"
    requires_location = False

    def validate(self, call: Call, body: dict[str, Any], existing: Resource | None) -> None:
        destination = (body.get("properties") or {}).get("destination") or {}
        if destination.get("endpointType") == "WebHook":
            url = (destination.get("properties") or {}).get("endpointUrl", "")
            if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
                raise invalid(
                    "The webhook endpointUrl must be an https URL.", "properties.destination", "InvalidRequest"
                )
        elif not destination:
            raise invalid("An event subscription needs a destination.", "properties.destination")

    def shape(self, call: Call, body: dict[str, Any], existing: Resource | None) -> dict[str, Any]:
        stored = super().shape(call, body, existing)
        stored["properties"].setdefault("eventDeliverySchema", "EventGridSchema")
        stored["properties"]["topic"] = call.path.parent_id
        return stored

    def render(self, resource: Resource) -> dict[str, Any]:
        destination = resource.properties.get("destination") or {}
        if destination.get("endpointType") != "WebHook":
            return resource.body
        props = dict(destination.get("properties") or {})
        url = props.pop("endpointUrl", "")
        parts = urlsplit(url)
        props["endpointBaseUrl"] = f"{parts.scheme}://{parts.netloc}{parts.path}"
        return {
            **resource.body,
            "properties": {**resource.properties, "destination": {**destination, "properties": props}},
        }
