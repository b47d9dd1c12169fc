"""The ticketing systems' mapping files: the built-in ones in shared/domain/tickets/mappings/, each of which an
override directory (`AKSVEND_TICKET_MAPPINGS_DIR`) may replace. Read once at startup by bootstrap."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import shared.domain.tickets as tickets_pkg
from shared.domain.tickets import REGISTRY, MappingError, TicketMapping, TicketSystem, parse_mapping

__all__ = ["BUILTIN_MAPPINGS", "load_mappings"]

BUILTIN_MAPPINGS = Path(tickets_pkg.__file__).resolve().parent / "mappings"


def load_mappings(directory: Path = BUILTIN_MAPPINGS, *, override: Path | None = None,
                  systems: Mapping[str, TicketSystem] = REGISTRY) -> dict[str, TicketMapping]:
    """Read each registered system's mapping file (`<system>.yaml`) found in `directory`, or in `override` when it
    has that file (so that one system's mapping can be adapted alone); MappingError names the file that is wrong."""
    found: dict[str, TicketMapping] = {}
    for system, declared in systems.items():
        path = directory / declared.mapping_file
        if override is not None and (override / declared.mapping_file).is_file():
            path = override / declared.mapping_file
        if not path.is_file():
            continue
        try:
            mapping = parse_mapping(path.read_text(encoding="utf-8"), systems)
        except MappingError as exc:
            raise MappingError(f"{path.name}: {exc}") from None
        if mapping.system != system:
            raise MappingError(f"{path.name}: says system '{mapping.system}', expected '{system}'")
        found[system] = mapping
    return found
