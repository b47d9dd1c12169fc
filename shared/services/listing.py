"""`GET /api/clusters`: the clusters a caller may read, filtered and in pages (docs/api.md, "Listing clusters").

Filters (all optional, all must hold): `owner` (the request's `access.ownerGroup`, a GUID), `resourceGroup`
(case-insensitive, as ARM's names are), `state` (one of `STATES`) and `tag=key:value` (repeatable; keys
case-insensitive as ARM's tag names are, values exact). Pages follow the registry's order (the cluster key) and
hold at most `$top` items (1-`MAX_TOP`, `DEFAULT_TOP` by default); `continuationToken` of an answer fetches the next.

The token is opaque to callers: base64url JSON of the last key shown and a hash of the filters it was made for,
checked when it comes back (400 `InvalidContinuationToken` when it does not decode, or was made for other filters).
It carries no right: the policy and the filters are applied to every page again, so an edited token can only start
a page somewhere else among what the caller may read anyway.

What a page costs (`read_page`): the registry's table is read from the token's key on, in key order, with the
`state` filter handed to the table (Table Storage compares properties, not what is inside the request's JSON), a
chunk of about a page at a time; the other filters and the policy are applied to what comes back, and the reading
stops once the page is full and one more match shows that more follow. At most `MAX_SCAN` records are read for
one page: when that many in a row do not match, the page is shorter than `$top` (even empty) and its token
resumes after the last record read, so a caller who may read few of many clusters pages through them, each page
bounded, instead of one request reading the whole registry.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.domain import armid
from shared.engine import ClusterRegistry
from shared.engine.records import ClusterRecord
from shared.refusals import MalformedInput

STATES = ("provisioning", "ready", "failed", "deleting", "deleted")
DEFAULT_TOP = 50
MAX_TOP = 200
MAX_TOKEN_CHARS = 1024
MAX_TAGS = 10
MAX_SCAN = 1000  # registry records read for one page at most (one Table Storage page)


@dataclass(frozen=True, slots=True)
class Query:
    owner: str | None = None
    resource_group: str | None = None
    state: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    top: int = DEFAULT_TOP
    after: str | None = None  # the last key of the page before

    def fingerprint(self) -> str:
        """The filters (not the page): a token is good for the query it was made for only."""
        filters = [self.owner, self.resource_group, self.state, sorted(self.tags)]
        return hashlib.sha256(json.dumps(filters).encode()).hexdigest()[:16]

    def matches(self, c: ClusterRecord) -> bool:
        request = c.request
        owner = (request.get("access") or {}).get("ownerGroup")
        tags = {str(k).lower(): v for k, v in (request.get("tags") or {}).items()}
        return ((self.owner is None or (isinstance(owner, str) and owner.lower() == self.owner))
                and (self.resource_group is None or c.resource_group.lower() == self.resource_group)
                and (self.state is None or c.state == self.state)
                and all(tags.get(k) == v for k, v in self.tags))


def parse_query(params: Iterable[tuple[str, str]]) -> Query:
    """The query of `GET /api/clusters` from its parameters; 400 naming the parameter and its rule otherwise."""
    given: dict[str, list[str]] = {}
    for key, value in params:
        given.setdefault(key, []).append(value)
    known = {"owner", "resourceGroup", "state", "tag", "$top", "continuationToken"}
    unknown = sorted(set(given) - known)
    if unknown:
        raise MalformedInput("InvalidQuery", f"unknown query parameter '{unknown[0][:40]}'; this route reads "
                                             f"{', '.join(sorted(known))}")
    single = {k: _single(k, v) for k, v in given.items() if k != "tag"}
    owner = single.get("owner")
    if owner is not None and not armid.GUID.fullmatch(owner):
        raise MalformedInput("InvalidQuery", "owner must be an Entra ID group's object id (a GUID)")
    group = single.get("resourceGroup")
    if group is not None and not (0 < len(group) <= 90):
        raise MalformedInput("InvalidQuery", "resourceGroup must be 1-90 characters")
    state = single.get("state")
    if state is not None and state not in STATES:
        raise MalformedInput("InvalidQuery", f"state must be one of {', '.join(STATES)}")
    query = Query(owner.lower() if owner else None, group.lower() if group else None, state,
                  _tags(given.get("tag", [])), _top(single.get("$top")))
    token = single.get("continuationToken")
    return query if token is None else _resume(query, token)


def page(records: Sequence[ClusterRecord], query: Query) -> tuple[list[ClusterRecord], str | None]:
    """The records of this page (in key order) and the token of the next, None on the last page."""
    chosen = [c for c in sorted(records, key=lambda c: c.key)
              if (query.after is None or c.key > query.after) and query.matches(c)]
    shown = chosen[:query.top]
    more = len(chosen) > query.top
    return shown, token_for(query, shown[-1].key) if more and shown else None


async def read_page(registry: ClusterRegistry, query: Query,
                    readable: Callable[[ClusterRecord], bool]) -> tuple[list[ClusterRecord], str | None]:
    """The page of `query` among the records `readable` allows, read from the registry in chunks (above), and the
    token of the next page (None: none follows)."""
    shown: list[ClusterRecord] = []
    after, scanned = query.after, 0
    while scanned < MAX_SCAN:
        wanted = min(query.top + 1, MAX_SCAN - scanned)
        chunk = await registry.page(after, query.state, wanted)
        for c in chunk:
            scanned, after = scanned + 1, c.key
            if readable(c) and query.matches(c):
                if len(shown) == query.top:  # one match more than the page: more follow
                    return shown, token_for(query, shown[-1].key)
                shown.append(c)
        if len(chunk) < wanted:
            return shown, None  # the registry has no more
    return shown, token_for(query, after) if after is not None else None


def token_for(query: Query, after: str) -> str:
    raw = json.dumps({"v": 1, "after": after, "q": query.fingerprint()}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def owner_of(request: Mapping[str, Any]) -> str | None:
    owner = (request.get("access") or {}).get("ownerGroup")
    return owner if isinstance(owner, str) else None


def _single(name: str, values: list[str]) -> str:
    if len(values) != 1:
        raise MalformedInput("InvalidQuery", f"{name} may be given once")
    return values[0]


def _tags(values: list[str]) -> tuple[tuple[str, str], ...]:
    if len(values) > MAX_TAGS:
        raise MalformedInput("InvalidQuery", f"at most {MAX_TAGS} tag filters")
    tags = []
    for value in values:
        key, sep, wanted = value.partition(":")
        if not sep or not key or len(key) > 512 or len(wanted) > 256:
            raise MalformedInput("InvalidQuery", "tag must be key:value (a tag name of 1-512 characters, a value of "
                                                 "at most 256)")
        tags.append((key.lower(), wanted))
    return tuple(tags)


def _top(value: str | None) -> int:
    if value is None:
        return DEFAULT_TOP
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= MAX_TOP:
        raise MalformedInput("InvalidQuery", f"$top must be a whole number from 1 to {MAX_TOP}")
    return int(value)


def _resume(query: Query, token: str) -> Query:
    bad = MalformedInput("InvalidContinuationToken", "continuationToken is not one this route gave for these "
                                                     "filters: start again without it")
    if len(token) > MAX_TOKEN_CHARS:
        raise bad
    try:
        doc = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError):
        raise bad from None
    if not (isinstance(doc, dict) and doc.get("v") == 1 and doc.get("q") == query.fingerprint()
            and isinstance(doc.get("after"), str) and 0 < len(doc["after"]) <= 300 and _key_shaped(doc["after"])):
        raise bad
    return Query(query.owner, query.resource_group, query.state, query.tags, query.top, doc["after"])


def _key_shaped(after: str) -> bool:
    """A registry key as `token_for` wrote it: printable text that encodes as UTF-8 (a lone surrogate or a control
    character never came from this route, and the table service would refuse it: a 400 here, not a 503 there)."""
    try:
        after.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return after.isprintable()
