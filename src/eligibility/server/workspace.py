"""What the service evaluates: the rules and profiles read once at start, and the programs and
evaluators built from them for each set of parameter edits and as-of date. Only the engine thread
(server.engine) uses a Workspace: durable-rules is not thread-safe."""
from __future__ import annotations

import datetime as dt
import json
import os
from collections import OrderedDict
from typing import Any, Mapping

from eligibility import api
from eligibility.server.problems import ApiError, PointedText, escape, invalid

REQUEST_PATH = "request"        # how a profile sent in a request is named in records and messages
CONTEXTS = 8                    # programs (with their engine handles) kept for recent parameter sets


class Workspace:
    """The served rules (a snapshot in memory: editing the files does not change a running service)
    and the loaded applicants, by id."""

    def __init__(self, rules: str, applicants_dir: str):
        self.rules_path = rules
        main = api.load_rules(rules)            # from the disk, to find its version files
        files = {}
        for version in [main, *main.versions]:
            with open(version.path, encoding="utf-8", newline="") as f:
                files[version.path] = f.read()
        self.files = files
        self.source = api.MemorySource(files)
        self.program = api.load_rules(rules, source=self.source)
        self.profiles: dict[str, tuple[str, str]] = {}      # id -> (path, text)
        self.profile_errors: dict[str, str] = {}            # path -> first problem
        self._load_profiles(applicants_dir)
        self._contexts: OrderedDict[tuple, tuple[Any, Any]] = OrderedDict()

    def _load_profiles(self, directory: str) -> None:
        paths = sorted(os.path.join(directory, n) for n in os.listdir(directory)
                       if n.endswith((".yaml", ".yml")) and not n.endswith((".tests.yaml", ".tests.yml")))
        for path in paths:
            with open(path, encoding="utf-8", newline="") as f:
                text = f.read()
            try:
                applicant = api.load_profile(path, self.program, text)
            except api.InputError as exc:     # listed with its error, never dropped silently
                self.profile_errors[path] = str(exc).splitlines()[0]
                continue
            if applicant.id in self.profiles:
                self.profile_errors[path] = f"{path}: duplicate applicant id {applicant.id!r}"
                continue
            self.profiles[applicant.id] = (path, text)

    @property
    def paths(self) -> list[str]:
        return sorted([p for p, _ in self.profiles.values()] + list(self.profile_errors))

    # -- programs and evaluators ------------------------------------------------------------------
    def context(self, params: Mapping[str, Any], as_of: str | None, engine: str = "durable") -> tuple[Any, Any]:
        """(program, evaluator) for these parameter edits and date; the least recently used of
        more than CONTEXTS is closed (this thread is the only one using it)."""
        key = (json.dumps(params, sort_keys=True, default=str), as_of, engine)
        hit = self._contexts.get(key)
        if hit is not None:
            self._contexts.move_to_end(key)
            return hit
        try:
            program = api.load_rules(self.rules_path, dict(params) or None, as_of, source=self.source,
                                     params_label="parameters")
        except api.InputError as exc:
            raise invalid(exc, lambda p: _rules_pointer(p.message, params, as_of)) from None
        hit = self._contexts[key] = (program, api.Evaluator(program, engine))
        while len(self._contexts) > CONTEXTS:
            _, (_, old) = self._contexts.popitem(last=False)
            old.close()
        return hit

    def applicant(self, scenario: Any, program: Any) -> Any:
        """The scenario's applicant (a loaded one or the profile sent), with its fact overrides."""
        if (scenario.applicant is None) == (scenario.profile is None):
            raise ApiError(422, "invalid input", [("", "give either 'applicant' (the id of a loaded profile) "
                                                      "or 'profile' (a profile as JSON)")])
        if scenario.applicant is not None:
            if scenario.applicant not in self.profiles:
                raise ApiError(404, "no such applicant", [("/applicant", f"no loaded applicant {scenario.applicant!r}")])
            path, text = self.profiles[scenario.applicant]
            try:
                applicant = api.load_profile(path, program, text)
            except api.InputError as exc:
                raise invalid(exc, lambda p: "/applicant") from None
        else:
            applicant = profile_from_json(scenario.profile, program, "/profile")
        for name, value in scenario.facts.items():      # one at a time, so each problem has its pointer
            try:
                api.apply_overrides(applicant, program, {name: value}, label="facts")
            except api.InputError as exc:
                raise invalid(exc, lambda p: f"/facts/{escape(name)}") from None
        return applicant

    # -- the operations -----------------------------------------------------------------------------
    def evaluate(self, req: Any) -> dict[str, Any]:
        as_of = check_date(req.as_of)
        program, evaluator = self.context(req.parameters, as_of, req.engine)
        applicant = self.applicant(req, program)
        return api.evaluation_record(evaluator.evaluate(applicant, as_of, trace=req.trace), trace=req.trace)

    def evaluate_lines(self, lines: list[tuple[int, bytes]], as_of: str | None, trace: bool) -> list[dict]:
        """A stream's profiles, one JSON document a line: a record, or an error line naming the input line."""
        program, evaluator = self.context({}, as_of)
        out: list[dict] = []
        for number, raw in lines:
            try:
                try:
                    data = json.loads(raw)
                except ValueError as exc:
                    raise ApiError(422, "invalid input", [("", f"not JSON: {exc}")]) from None
                applicant = profile_from_json(data, program, "")
                out.append(api.evaluation_record(evaluator.evaluate(applicant, as_of, trace=trace), trace=trace))
            except ApiError as exc:
                out.append(error_line(number, exc.errors))
            except api.EngineError as exc:
                out.append(error_line(number, [("", str(exc))]))
        return out

    def flips(self, req: Any) -> dict[str, Any]:
        as_of = check_date(req.as_of)
        program, evaluator = self.context(req.parameters, as_of)
        return api.find_flips(program, self.applicant(req, program), as_of, durable=evaluator,
                              max_changes=req.max_changes)

    def impact(self, req: Any) -> dict[str, Any]:
        """The diff pipeline over the loaded applicants (rules as written -> with the edits), and the
        patch that makes the edits in the rules file (the service never writes it)."""
        as_of = check_date(req.as_of)
        old, _ = self.context({}, as_of)
        new, _ = self.context(req.parameters, as_of)
        report = api.compare(old, new, self.paths, "durable", as_of, as_of)
        edits = {name: new.parameters[name].value for name in req.parameters}
        report["patch_path"] = patch_path(new.path)
        report["patch"] = api.parameter_patch(new, self.files[new.path], edits, report["patch_path"])
        return report

    def replay(self, record: dict[str, Any]) -> dict[str, Any]:
        """Replay a record about files this service serves (a record cannot name any other path)."""
        program, applicant = record.get("program"), record.get("applicant")
        if not isinstance(program, dict) or not isinstance(applicant, dict):
            raise ApiError(422, "invalid input", [("/record", "missing 'applicant' or 'program'")])
        if _real(program.get("rules_path") or program.get("path")) != _real(self.rules_path) \
                or _real(program.get("path")) not in {_real(p) for p in self.files}:
            raise ApiError(422, "invalid input", [("/record/program/rules_path",
                                                   f"not a record of the rules this service serves ({self.rules_path})")])
        if _real(applicant.get("path")) not in {_real(p) for p, _ in self.profiles.values()}:
            raise ApiError(422, "invalid input", [("/record/applicant/path",
                                                   "not a record of a profile this service loaded")])
        if record.get("engine") not in (None, "durable", "python", "both"):
            raise ApiError(422, "invalid input", [("/record/engine", f"unknown engine {record.get('engine')!r}")])
        check_date(record.get("as_of"), "/record/as_of")
        return api.replay_record(record)

    def close(self) -> None:
        for _, evaluator in self._contexts.values():
            evaluator.close()
        self._contexts.clear()


def profile_from_json(data: Any, program: Any, base: str) -> Any:
    """An Applicant from a JSON profile; problems point into the request under `base`."""
    pointed = PointedText(data, base)
    try:
        parsed = api.parse_document(REQUEST_PATH, pointed.text)
        return api.profile_from_data(parsed, program, REQUEST_PATH, pointed.digest)
    except api.InputError as exc:
        raise invalid(exc, lambda p: pointed.pointer(p.line)) from None


def check_date(value: Any, pointer: str = "/as_of") -> str | None:
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise ValueError
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise ApiError(422, "invalid input", [(pointer, f"not a date YYYY-MM-DD: {value!r}")]) from None


def error_line(number: int, errors: list[tuple[str, str]]) -> dict[str, Any]:
    """A stream's line that could not be evaluated (like batch's `eligibility.error/1` lines)."""
    return {"schema": "eligibility.error/1", "input": number, "verdict": "error",
            "errors": [{"pointer": p, "detail": d} for p, d in errors]}


def patch_path(path: str) -> str:
    """The rules file as a patch names it: relative to the service's directory."""
    rel = os.path.relpath(path)
    return os.path.basename(path) if rel.startswith("..") else rel.replace(os.sep, "/")


def _real(path: Any) -> str | None:
    return os.path.realpath(path) if isinstance(path, str) and path else None


def _rules_pointer(message: str, params: Mapping[str, Any], as_of: str | None) -> str:
    for name in params:
        if message.startswith((f"parameters {name}:", f"parameters {name}=")):
            return f"/parameters/{escape(name)}"
    return "/as_of" if as_of else ""
