"""`eligibility serve`: the decision service (HTTP, OpenAPI) and the analyst workbench page.

The service calls only `eligibility.api`; every evaluation runs on one engine thread (see
docs/server.md for why)."""
from __future__ import annotations

from eligibility.server.app import create_app
from eligibility.server.settings import Settings

__all__ = ["Settings", "create_app"]
