"""What a running service was started with: files, address, token and limits."""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class Settings:
    rules: str                          # the rules file served (read once, at start)
    applicants: str = "applicants"      # the directory of profiles the workbench and impact use
    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None            # bearer token required for everything but health
    max_body: int = 1 << 20             # bytes in one request body
    max_stream_body: int = 64 << 20     # bytes in one JSON Lines stream
    timeout: float = 30.0               # seconds one request may wait for and use the engine
    max_pending: int = 256              # requests waiting for or using the engine at once
    max_flip_changes: int = 3

    @property
    def loopback(self) -> bool:
        if self.host in LOOPBACK_NAMES:
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False
