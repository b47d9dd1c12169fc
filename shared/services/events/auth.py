"""Who delivered a request to `/api/events`: one check, in this order, that yields a sender (shared/domain/events/
senders.py) or refuses. docs/events.md, "How each source is authenticated", shows the headers.

1. `Authorization: Bearer <token>`: Event Grid's webhook delivery with Entra authentication. The token is validated
   as callers' tokens are (the `TokenValidator` of shared/services/callers.py: issuer, tenant, audience, signature)
   and must carry the app role `EventSettings.grid_role` (`AzureEventGridSecureWebhookSubscriber`): `EventGrid`.
   Invalid: 401; valid without the role (a caller of the API): 403; the signing keys unreachable: 503.
2. `X-Aksvend-Signature: sha256=<hex>` with `X-Aksvend-Cluster: <subscription>/<resource group>/<name>` and
   `X-Aksvend-Timestamp: <unix seconds>`: an in-cluster agent. The HMAC-SHA256 of `"<timestamp>.<raw body>"` under
   one of the cluster's valid keys (agent_keys.py), compared in constant time, within `signature_skew_seconds` of
   now, for a cluster aksvend manages: `Agent(cluster id)`. Anything else: 401.
3. Local mode only: the shared secret (`X-Aksvend-Secret` or `?code=`, constant time), or nothing when the secret
   is unset and `unchecked`: `Local`. Outside local mode the shared secret is refused (401), whatever its value.

A secret, a token or a signature is never put in a message, a log line or an exception.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Mapping

from shared.domain.events.senders import Agent, EventGrid, Local, Sender
from shared.engine.ports import Clock
from shared.engine.registry import ClusterRegistry
from shared.refusals import MalformedInput, NotAuthenticated, NotPermitted
from shared.services.callers import CallerUnverifiable, TokenRejected, TokenValidator
from shared.services.events.agent_keys import AgentKeys, cluster_id_of, scope_of
from shared.services.events.model import EventSettings

log = logging.getLogger("aksvend.events")
SECRET_HEADER = "x-aksvend-secret"
CLUSTER_HEADER = "x-aksvend-cluster"
TIMESTAMP_HEADER = "x-aksvend-timestamp"
SIGNATURE_HEADER = "x-aksvend-signature"
_SIGNATURE = re.compile(r"^sha256=([0-9a-fA-F]{64})\Z")
_TIMESTAMP = re.compile(r"^[0-9]{1,12}\Z")
_CLUSTER = re.compile(r"^([0-9a-fA-F-]{36})/([-\w._()]{1,90})/([A-Za-z0-9][-_A-Za-z0-9]{0,62})\Z")


class EventAuth:
    def __init__(self, settings: EventSettings, clock: Clock, registry: ClusterRegistry, *,
                 tokens: TokenValidator | None = None, agent_keys: AgentKeys | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self.registry = registry
        self.tokens = tokens
        self.agent_keys = agent_keys

    async def sender(self, headers: Mapping[str, str], query: Mapping[str, str], body: bytes) -> Sender:
        """The sender of a request with these headers, query parameters and raw body; or a refusal."""
        lower = {k.lower(): v for k, v in headers.items()}
        if "authorization" in lower:
            return await self._event_grid(lower["authorization"])
        if SIGNATURE_HEADER in lower:
            return await self._agent(lower, body)
        if self.settings.local:
            return self._local(lower, query)
        if lower.get(SECRET_HEADER) or query.get("code"):
            raise NotAuthenticated("Unauthorized", "the shared secret is accepted in local mode only; "
                                   f"{self.accepted()}")
        raise NotAuthenticated("Unauthorized", f"the events webhook needs credentials; {self.accepted()}")

    def accepted(self) -> str:
        """The ways in, for the 401's detail (configured values only)."""
        ways = ["an in-cluster agent's X-Aksvend-Signature"] if self.agent_keys is not None else []
        if self.tokens is not None:
            ways.insert(0, f"Authorization: Bearer <an Entra ID token with the app role {self.settings.grid_role}>")
        if self.settings.local and (self.settings.webhook_secret or self.settings.unchecked):
            ways.append("the local shared secret (X-Aksvend-Secret)")
        return "send " + " or ".join(ways) if ways else "no way in is configured: the events webhook is off"

    async def _event_grid(self, authorization: str) -> EventGrid:
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or self.tokens is None:
            raise NotAuthenticated("Unauthorized", f"the Authorization header cannot be checked here; "
                                   f"{self.accepted()}")
        try:
            claims = await self.tokens.validate(token.strip())
        except TokenRejected as exc:
            if exc.check == "keys-unavailable":
                raise CallerUnverifiable("the token could not be checked: the signing keys are unreachable; try "
                                         "again shortly") from None
            log.info("an events delivery's bearer token was refused: %s", exc.check)
            raise NotAuthenticated("Unauthorized", f"the bearer token was refused: {exc.reason}") from None
        if self.settings.grid_role not in claims.roles:
            raise NotPermitted("Forbidden", f"the token does not carry the app role {self.settings.grid_role}: only "
                                            "Event Grid's identity may deliver events")
        return EventGrid()

    async def _agent(self, lower: Mapping[str, str], body: bytes) -> Agent:
        cluster, stamp = lower.get(CLUSTER_HEADER, ""), lower.get(TIMESTAMP_HEADER, "")
        signature = _SIGNATURE.fullmatch(lower.get(SIGNATURE_HEADER, "").strip())
        named = _CLUSTER.fullmatch(cluster.strip())
        if signature is None or named is None or not _TIMESTAMP.fullmatch(stamp.strip()):
            raise MalformedInput("MalformedSignature", "a signed events delivery needs X-Aksvend-Cluster "
                                 "(<subscription>/<resource group>/<name>), X-Aksvend-Timestamp (unix seconds) and "
                                 "X-Aksvend-Signature (sha256=<64 hex digits>)")
        skew = abs(self.clock.now().timestamp() - int(stamp))
        if skew > self.settings.signature_skew_seconds:
            raise NotAuthenticated("Unauthorized", f"X-Aksvend-Timestamp is more than "
                                   f"{self.settings.signature_skew_seconds:.0f} s from now (a replay, or a clock off)")
        cluster_id = cluster_id_of(named[1], named[2], named[3])
        record = await self.registry.get(scope_of(cluster_id))
        keys = await self.agent_keys.valid(cluster_id) if self.agent_keys and record and record.state != "deleted" \
            else ()
        message = stamp.strip().encode() + b"." + body
        expected = signature[1].lower().encode()
        # every key is compared, so the time taken does not say which one matched
        matched = [hmac.compare_digest(hmac.new(k.encode(), message, hashlib.sha256).hexdigest().encode(), expected)
                   for k in keys]
        if not any(matched):
            raise NotAuthenticated("Unauthorized", "X-Aksvend-Signature does not verify with a key of that cluster")
        return Agent(cluster_id)

    def _local(self, lower: Mapping[str, str], query: Mapping[str, str]) -> Local:
        expected = self.settings.webhook_secret
        if not expected:
            if self.settings.unchecked:
                return Local()
            raise NotAuthenticated("Unauthorized", "the events webhook is off: no shared secret is configured")
        for presented in (lower.get(SECRET_HEADER), query.get("code")):
            if presented and hmac.compare_digest(presented.encode(), expected.encode()):
                return Local()
        raise NotAuthenticated("Unauthorized", "the events webhook needs the shared secret (header "
                                               "X-Aksvend-Secret or query parameter code)")
