"""Routers of the API: ``uploads`` (the tenant-scoped resource) and ``system`` (health, readiness, metrics)."""
