"""`eligibility serve`: the decision service and the analyst workbench, over HTTP."""
from __future__ import annotations

import os
from typing import Optional

import typer

from eligibility.api import InputError, Problem, find_rules
from eligibility.cli.app import RulesOption, app

TOKEN_ENV = "ELIGIBILITY_TOKEN"


@app.command()
def serve(
    rules: Optional[str] = RulesOption,
    applicants: str = typer.Option("applicants", "--applicants", metavar="DIR", help="Directory of the profiles the workbench "
                                   "and the impact endpoint use."),
    host: str = typer.Option("127.0.0.1", "--host", metavar="ADDRESS", help="Address to listen on (default: loopback only)."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, metavar="PORT", help="Port to listen on."),
    token_file: Optional[str] = typer.Option(None, "--token-file", metavar="FILE", help="File holding the bearer token that every "
                                             f"request but health must send (or set {TOKEN_ENV})."),
    max_body: int = typer.Option(1 << 20, "--max-body", min=1024, metavar="BYTES", help="Largest request body, in bytes."),
    timeout: float = typer.Option(30.0, "--timeout", min=0.1, metavar="SECONDS", help="Seconds a request may wait for and use the engine."),
    max_pending: int = typer.Option(256, "--max-pending", min=1, metavar="N", help="Requests that may wait for the engine at once."),
) -> None:
    """Serve decisions over HTTP (OpenAPI at /v1/openapi.json) and the workbench page at /.

    The rules are read once at start and never written. See docs/server.md and SECURITY.md.
    """
    from eligibility.server import Settings, create_app
    import uvicorn
    if not os.path.isdir(applicants):
        raise InputError(Problem(applicants, 0, 0, "no such directory of applicant profiles: use --applicants"))
    settings = Settings(rules=rules or find_rules(), applicants=applicants, host=host, port=port,
                        token=_token(token_file), max_body=max_body, timeout=timeout, max_pending=max_pending)
    asgi = create_app(settings)
    where = f"[{host}]" if ":" in host else host
    print(f"eligibility: serving {settings.rules} on http://{where}:{port}/ "
          f"({'bearer token required' if settings.token else 'no token'}); Ctrl-C stops", flush=True)
    uvicorn.run(asgi, host=host, port=port, log_level="warning", access_log=False, server_header=False,
                timeout_graceful_shutdown=5, timeout_keep_alive=30)


def _token(path: Optional[str]) -> Optional[str]:
    """The bearer token from --token-file, else from the environment, else none."""
    if path is not None:
        try:
            with open(path, encoding="utf-8") as f:
                token = f.read().strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(Problem(path, 0, 0, f"cannot read the token file: {exc.__class__.__name__}")) from None
        if not token:
            raise InputError(Problem(path, 0, 0, "the token file is empty"))
        return token
    return os.environ.get(TOKEN_ENV, "").strip() or None
