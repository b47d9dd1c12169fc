"""The provisioning engine (see docs/engine.md and docs/architecture.md)."""
