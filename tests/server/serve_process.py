"""A real `eligibility serve` process on a free loopback port, for the API and browser tests."""
from __future__ import annotations

import os
import socket
import subprocess
import time

import httpx

from helpers import ROOT, console_script, stop_process


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, *args: str, env: dict | None = None, cwd: str = ROOT):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([console_script(), "serve", "--port", str(self.port), *args], cwd=cwd,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=dict(os.environ, **(env or {})))
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"eligibility serve exited: {self.proc.stderr.read()}")
            try:
                if httpx.get(self.url + "/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("eligibility serve did not answer within 30 s")
            time.sleep(0.1)

    def stop(self) -> str:
        """Stop the process; its stderr."""
        if self.proc.poll() is None:
            stop_process(self.proc)
        return self.proc.stderr.read()
