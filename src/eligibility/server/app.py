"""The FastAPI application: versioned endpoints over `eligibility.api`, and the workbench page."""
from __future__ import annotations

import contextlib
import json
from importlib import resources
from typing import Any, AsyncIterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.requests import ClientDisconnect
from starlette.exceptions import HTTPException

from eligibility import __version__
from eligibility.server import models as m
from eligibility.server.describe import applicant_summaries, describe_program
from eligibility.server.engine import EngineThread
from eligibility.server.guard import Guard
from eligibility.server.problems import PROBLEM_TYPE, ApiError, escape
from eligibility.server.settings import Settings
from eligibility.server.workspace import Workspace, check_date, error_line

JSONL = "application/x-ndjson"
STREAM_BATCH = 64           # stream lines evaluated per trip to the engine thread

def _problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    titles = {401: "no or wrong bearer token", 404: "no such programme or applicant", 413: "request too large",
              421: "Host is not a loopback name", 422: "invalid input (each error has a JSON pointer and the CLI's message)",
              503: "busy or over the time limit (Retry-After)"}
    return {s: {"model": m.ProblemDetails, "description": titles[s],
                "content": {PROBLEM_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}}}
            for s in statuses}


COMMON = (401, 413, 421, 422, 503)


def create_app(settings: Settings) -> Guard:
    """The ASGI application for these settings (the Guard wraps FastAPI)."""
    ws = Workspace(settings.rules, settings.applicants)     # bad files fail here, before the service starts
    state: dict[str, Any] = {"workspace": ws, "programs": describe_program(ws), "applicants": applicant_summaries(ws)}

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        engine = state["engine"] = EngineThread(settings.max_pending, settings.timeout)
        workspace = state["workspace"]
        engine.call(workspace.context, {}, None)       # compile and warm the engine before the first request
        state["ready"] = True
        try:
            yield
        finally:
            engine.call(workspace.close)
            engine.shutdown()

    app = FastAPI(title="eligibility decision service", version=__version__, lifespan=lifespan,
                  openapi_url="/v1/openapi.json", docs_url=None, redoc_url=None,
                  description="Rules-as-code eligibility decisions over HTTP: the records `eligibility check "
                              "--format json` writes, with the same messages. Errors are problem details "
                              "(RFC 9457). See docs/server.md.")

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> Response:
        return problem(exc)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_: Request, exc: RequestValidationError) -> Response:
        errors = [("".join("/" + escape(part) for part in e["loc"][1:]), e["msg"]) for e in exc.errors()]
        return problem(ApiError(422, "invalid input", errors))

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> Response:
        return problem(ApiError(exc.status_code, str(exc.detail), detail=str(exc.detail)))

    def engine() -> EngineThread:
        return state["engine"]

    def workspace() -> Workspace:
        return state["workspace"]

    # -- service --------------------------------------------------------------------------------
    @app.get("/v1/health", response_model=m.Health, tags=["service"])
    async def health() -> dict:
        """Liveness: the process answers (no token needed)."""
        return {"status": "ok"}

    @app.get("/v1/ready", response_model=m.Ready, tags=["service"], responses=_problems(401, 421))
    async def ready() -> dict:
        """Readiness: the rules are loaded and the engine has run."""
        ws = workspace()
        return {"status": "ready" if state.get("ready") else "starting", "program": ws.program.id,
                "applicants": len(ws.profiles), "profile_errors": sorted(ws.profile_errors.values())}

    # -- programmes and applicants ---------------------------------------------------------------------
    @app.get("/v1/programs", tags=["rules"], responses=_problems(401, 421))
    async def programs() -> list[dict]:
        """The programmes served: facts schema, parameters (basis and dated values), criteria with sources."""
        return [state["programs"]]

    @app.get("/v1/programs/{program_id}", tags=["rules"], responses=_problems(401, 404, 421))
    async def program(program_id: str) -> dict:
        """One programme, described as in GET /v1/programs."""
        if program_id != state["programs"]["id"]:
            raise ApiError(404, "no such programme", [("", f"no programme {program_id!r}")])
        return state["programs"]

    @app.get("/v1/applicants", response_model=list[m.ApplicantSummary], tags=["rules"],
             responses=_problems(401, 421))
    async def applicants() -> list[dict]:
        """The profiles the service loaded (and any it could not, with their error)."""
        return state["applicants"]

    # -- decisions ------------------------------------------------------------------------------------
    @app.post("/v1/evaluate", response_model=m.EvaluationRecord, response_model_by_alias=True,
              tags=["decisions"], responses=_problems(*COMMON, 404))
    async def evaluate(req: m.EvaluateRequest) -> Response:
        """One applicant: the record `eligibility check --format json` writes (without `command`)."""
        return JSONResponse(await engine().run(workspace().evaluate, req))

    @app.post("/v1/evaluate/stream", tags=["decisions"], responses={
        **_problems(*COMMON), 200: {"content": {JSONL: {"schema": {"$ref": "#/components/schemas/EvaluationRecord"}}},
                                    "description": "one record (or an `eligibility.error/1` line) per input line"}},
        openapi_extra={"requestBody": {"required": True, "content": {JSONL: {"schema": {"type": "object"}}},
                                       "description": "one applicant profile (JSON) per line"}})
    async def evaluate_stream(request: Request, as_of: str | None = None, trace: bool = False) -> Response:
        """Profiles as JSON Lines in, records as JSON Lines out, streamed both ways; a line that cannot
        be evaluated gets an error line naming it (nothing is dropped)."""
        day = check_date(as_of, "/as_of")
        await engine().run(workspace().context, {}, day)    # a bad date fails before the stream starts
        return LineStream(_stream(request, day, trace))

    async def _stream(request: Request, as_of: str | None, trace: bool) -> AsyncIterator[bytes]:
        try:
            async for line in _evaluated(request, as_of, trace):
                yield line
        except ClientDisconnect:
            return
        except ApiError as exc:           # busy or timed out part-way: say so on the stream, and stop
            yield _line(error_line(0, [("", exc.detail)]))

    async def _evaluated(request: Request, as_of: str | None, trace: bool) -> AsyncIterator[bytes]:
        limit, seen, number, buffer = settings.max_stream_body, 0, 0, b""
        batch: list[tuple[int, bytes]] = []
        async for chunk in request.stream():
            seen += len(chunk)
            if seen > limit:
                yield _line(error_line(number + 1, [("", f"the stream is over the limit of {limit} bytes: "
                                                          "stopped here")]))
                return
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for raw in lines:
                number += 1
                if raw.strip():
                    batch.append((number, raw))
            if len(batch) >= STREAM_BATCH:
                for out in await engine().run(workspace().evaluate_lines, batch, as_of, trace):
                    yield _line(out)
                batch = []
        if buffer.strip():
            batch.append((number + 1, buffer))
        if batch:
            for out in await engine().run(workspace().evaluate_lines, batch, as_of, trace):
                yield _line(out)

    @app.post("/v1/flips", tags=["analysis"], response_model=m.FlipReport, responses=_problems(*COMMON, 404))
    async def flips(req: m.FlipsRequest) -> Response:
        """The smallest fact changes that flip the verdict (`check --flip`), each confirmed on durable."""
        return JSONResponse(await engine().run(workspace().flips, req))

    @app.post("/v1/impact", tags=["analysis"], response_model=m.ImpactReport, responses=_problems(*COMMON))
    async def impact(req: m.ImpactRequest) -> Response:
        """Parameter edits across the loaded applicants (`eligibility diff`): verdicts, ranks and flips,
        and the rules-file patch that makes the edits (the service never writes its rules)."""
        return JSONResponse(await engine().run(workspace().impact, req))

    @app.post("/v1/replay", tags=["analysis"], response_model=m.ReplayResult, responses=_problems(*COMMON))
    async def replay(req: m.ReplayRequest) -> Response:
        """Re-run a record about the served rules and a loaded profile (`eligibility replay`)."""
        return JSONResponse(await engine().run(workspace().replay, req.record))

    # -- the workbench ----------------------------------------------------------------------------------
    @app.get("/", include_in_schema=False)
    async def page() -> Response:
        return _asset("workbench.html", "text/html; charset=utf-8")

    @app.get("/workbench.js", include_in_schema=False)
    async def script() -> Response:
        return _asset("workbench.js", "text/javascript; charset=utf-8")

    @app.get("/workbench.css", include_in_schema=False)
    async def style() -> Response:
        return _asset("workbench.css", "text/css; charset=utf-8")

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/report.css", include_in_schema=False)
    async def report_style() -> Response:
        text = resources.files("eligibility").joinpath("templates/report.css").read_text(encoding="utf-8")
        return Response(text, media_type="text/css; charset=utf-8")

    return Guard(app, settings)


class LineStream(Response):
    """JSON Lines sent as they are made. Unlike StreamingResponse it does not read the request's
    messages while it sends (under ASGI 2.3 that would swallow the body the lines come from)."""

    media_type = JSONL

    def __init__(self, lines: AsyncIterator[bytes]):
        super().__init__(media_type=JSONL)
        self.lines = lines
        del self.headers["content-length"]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        async for line in self.lines:
            await send({"type": "http.response.body", "body": line, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def problem(exc: ApiError) -> Response:
    return JSONResponse(exc.body(), status_code=exc.status, media_type=PROBLEM_TYPE, headers=exc.headers)


def _line(value: dict) -> bytes:
    return (json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def _asset(name: str, media_type: str) -> Response:
    return Response(resources.files("eligibility.server").joinpath("static", name).read_bytes(), media_type=media_type)
