"""The dev stack: what stands in for Azure on one machine. The product (function_app.py, functions/, shared/) never
imports it (an import-linter contract); the local host hands the app what differs instead (local/host/app.py).

| part | what |
|---|---|
| `armemu/` | the ARM emulator (`python -m local.armemu`, docs/emulator.md); imports nothing of the product |
| `host/` | the local Functions host (`python -m local.host`, `make serve`) and its worker without HTTP |
| `azurite.py` | the Azurite runner (`python -m local.azurite`) |
| `demo/` | the demo (`python -m local.demo`, `make demo`), driving the local host over HTTP |
| `topic_sink.py` | an Event Grid topic stand-in for lifecycle events (`python -m local.topic_sink`) |
| `credential.py` | the offline credential for the Azure SDK clients against the emulator |
| `polling.py` | waiting for a condition with a deadline |
| `testing.py` | pytest fixtures of Azurite and the topic sink (the emulator's are in `armemu/testing.py`) |
"""
