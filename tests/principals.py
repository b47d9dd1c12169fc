"""Principals for tests: a tenant, and object ids of users and groups derived from names (stable GUIDs), so that a
test says `principal("alice")` and the caller policy says `pid("alice")`."""

from __future__ import annotations

import uuid

from shared.domain.caller import Caller

TENANT = "72f988bf-0000-4000-8000-00000000e7e7"  # the ARM emulator's default tenant
OTHER_TENANT = "0badc0de-0000-4000-8000-00000000dead"
_NAMESPACE = uuid.UUID("6b5f4d1e-2c3a-4f7b-9e8d-1a2b3c4d5e6f")


def oid(name: str) -> str:
    """A stable object id for a name (a user, an app, a group)."""
    return str(uuid.uuid5(_NAMESPACE, name))


def pid(name: str, tenant: str = TENANT) -> str:
    """The policy's id of the principal named `name`: `<tenant>/<object id>`."""
    return f"{tenant}/{oid(name)}"


def principal(name: str, *, groups: tuple[str, ...] = (), roles: tuple[str, ...] = (),
              tenant: str = TENANT) -> Caller:
    """The caller `name`, in the groups named (by their object ids) and with these app roles."""
    return Caller(tenant, oid(name), frozenset(oid(g) for g in groups), frozenset(roles), name)
