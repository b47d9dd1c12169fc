"""The events use case: Event Grid and CloudEvents deliveries in, reactions out as engine operations.

service.py (`EventService`: the webhook's checks, deliveries, the sweeper), intake.py (schema detection, the index
of managed clusters), react.py (the cluster view, each action as an engine operation, notices as CloudEvents),
store.py (the `events` table: dedupe, history, leases), model.py (settings and answers).
"""

from shared.services.events.model import Acknowledged, EventSettings, SweepReport, Validation
from shared.services.events.service import EventService

__all__ = ["Acknowledged", "EventService", "EventSettings", "SweepReport", "Validation"]
