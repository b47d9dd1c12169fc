"""The demo (`make demo`, `python -m local.demo`): plan the production request (plan.py), build it on the local stack
with live progress (live.py), then evict spot nodes and show aksvend's reactions (reactions.py). It drives the
local host (local/host/) over HTTP, as a caller would; docs/local.md says what it shows."""
