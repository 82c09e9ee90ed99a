"""The decision service through a real HTTP client against a real `eligibility serve` process."""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess

import httpx
import pytest
import yaml

from helpers import APPLICANTS, ROOT, UNDECIDED, write_undecided_applicants
from serve_process import Server
from eligibility.records.record import FIELDS
from eligibility.server.models import EvaluationRecord


@pytest.fixture(scope="module")
def server():
    s = Server()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def undecided_server(tmp_path_factory):
    """A server whose loaded applicants have no published decision on record (see UNDECIDED)."""
    s = Server("--applicants", write_undecided_applicants(tmp_path_factory.mktemp("applicants")))
    yield s
    s.stop()


def cli_record(run_cli, *args) -> dict:
    done = run_cli("check", *args, "-f", "json")
    assert done.returncode == 0, done.stderr
    rec = json.loads(done.stdout)
    del rec["command"]
    return rec


def kt_json() -> dict:
    """KT's YAML profile as JSON (dates as text)."""
    with open(os.path.join(APPLICANTS, "kt.yaml"), encoding="utf-8") as f:
        return json.loads(json.dumps(yaml.safe_load(f), default=str))


def post(server, path, body, **kw) -> httpx.Response:
    return httpx.post(server.url + path, json=body, timeout=60, **kw)


def test_kt_profile_as_json_gives_the_cli_record(server, run_cli):
    got = post(server, "/v1/evaluate", {"profile": kt_json()})
    assert got.status_code == 200, got.text
    rec, cli = got.json(), cli_record(run_cli, "applicants/kt.yaml")
    assert rec["verdict"] == cli["verdict"] == "excluded"
    assert rec["applicant"].pop("path") == "request" and rec["applicant"].pop("sha256")
    for key in ("path", "sha256"):
        del cli["applicant"][key]
    assert rec == cli            # every other field, the trace included


def test_loaded_applicant_with_overrides_gives_the_cli_record(server, run_cli):
    got = post(server, "/v1/evaluate", {"applicant": "kt", "parameters": {"score_threshold": 75},
                                        "facts": {"selected_in_august": None, "foreign_partner_dependency": "limited"}})
    cli = cli_record(run_cli, "applicants/kt.yaml", "--param", "score_threshold=75", *UNDECIDED,
                     "--set", "foreign_partner_dependency=limited")
    rec = got.json()
    # the trace names where an overridden fact was given: the request's `facts`, the CLI's --set
    for fact in ("foreign_partner_dependency", "selected_in_august"):
        evidence = [r["trace"]["facts"][fact]["evidence"][0]["source"] for r in (rec, cli)]
        assert [e.pop("title") for e in evidence] == ["facts override", "--set override"]
    assert rec == cli
    assert cli["verdict"] == "undetermined"
    assert cli["overrides"] == {"selected_in_august": None, "foreign_partner_dependency": "limited"}


def test_as_of_and_no_trace(server, run_cli):
    got = post(server, "/v1/evaluate", {"applicant": "naver-cloud", "as_of": "2026-01-15", "trace": False}).json()
    cli = cli_record(run_cli, "applicants/naver-cloud.yaml", "--as-of", "2026-01-15")
    del cli["trace"]
    assert got == cli and got["verdict"] == "excluded"


def test_the_record_type_mirrors_the_cli_record(run_cli):
    """The OpenAPI schema's record has exactly the fields `check -f json` writes (but `command`)."""
    cli = cli_record(run_cli, "applicants/kt.yaml")
    EvaluationRecord.model_validate(cli)        # extra fields are refused: a new CLI field fails here
    fields = {f.alias or name for name, f in EvaluationRecord.model_fields.items()}
    assert fields == {f.name for f in FIELDS} - {"command"}
    # a field present only for some programmes (evaluation_date: rules that read `today`) is optional
    assert set(cli) <= fields and {name for name, f in EvaluationRecord.model_fields.items()
                                   if not f.is_required()} == set(fields - set(cli)) | {"trace"}
    example = os.path.join(ROOT, "examples", "innovation-voucher")
    ranked = cli_record(run_cli, os.path.join(example, "applicants", "juniper.yaml"),
                        "--rules", os.path.join(example, "rules.yaml"))
    EvaluationRecord.model_validate(ranked)       # rank_keys: only for rules that rank by a fact
    assert set(ranked) == fields - {"evaluation_date"}
    assert ranked["rank_keys"] == {"cofinancing_share": {"value": 0.45, "missing": []}}


def test_openapi_document_validates_and_covers_every_endpoint_and_error(server):
    from openapi_spec_validator import validate
    doc = httpx.get(server.url + "/v1/openapi.json").json()
    validate(doc)
    assert set(doc["paths"]) == {"/v1/health", "/v1/ready", "/v1/programs", "/v1/programs/{program_id}",
                                 "/v1/applicants", "/v1/evaluate", "/v1/evaluate/stream", "/v1/flips",
                                 "/v1/impact", "/v1/replay"}
    for path, ops in doc["paths"].items():
        for op in ops.values():
            if path != "/v1/health":
                assert {"401", "421"} <= set(op["responses"]), path
            if "requestBody" in op:
                assert {"413", "422", "503"} <= set(op["responses"]), path
    assert "ProblemDetails" in doc["components"]["schemas"]


def test_malformed_profile_gets_pointers_and_the_cli_messages(server, run_cli, tmp_path):
    profile = {"id": "x", "name": "X", "facts": {"model_generations": {"value": "many"}, "bogus": True}}
    got = post(server, "/v1/evaluate", {"profile": profile})
    assert got.status_code == 422
    assert got.headers["content-type"] == "application/problem+json"
    errors = got.json()["errors"]
    assert [e["pointer"] for e in errors] == ["/profile/facts/model_generations/value", "/profile/facts/bogus"]
    (tmp_path / "x.yaml").write_text(yaml.safe_dump(profile), encoding="utf-8")
    done = run_cli("validate", str(tmp_path / "x.yaml"))
    for e in errors:
        assert e["detail"] in done.stdout + done.stderr


def test_bad_overrides_and_dates_point_at_their_field(server):
    cases = [({"applicant": "kt", "parameters": {"score_threshold": "abc"}}, "/parameters/score_threshold"),
             ({"applicant": "kt", "facts": {"foreign_partner_dependency": "huge"}}, "/facts/foreign_partner_dependency"),
             ({"applicant": "kt", "as_of": "2026-13-01"}, "/as_of"),
             ({"applicant": "nobody"}, "/applicant"),
             ({"applicant": 5}, "/applicant"),
             ({"applicant": "kt", "profile": {}}, "")]
    for body, pointer in cases:
        got = post(server, "/v1/evaluate", body)
        assert got.status_code in (404, 422), (body, got.text)
        assert got.json()["errors"][0]["pointer"] == pointer, (body, got.text)


def test_request_over_the_size_limit_is_refused(server):
    got = httpx.post(server.url + "/v1/evaluate", content=b" " * (1 << 20 + 1), timeout=30,
                     headers={"content-type": "application/json"})
    assert got.status_code == 413
    assert got.json()["detail"] == "the request body is over the limit of 1048576 bytes"

    def chunks():                   # no Content-Length: held to the limit as it arrives
        for _ in range(40):
            yield b" " * 65536
    got = httpx.post(server.url + "/v1/evaluate", content=chunks(), timeout=30)
    assert got.status_code == 413


def test_other_host_names_are_refused_on_loopback(server):
    got = httpx.get(server.url + "/v1/ready", headers={"Host": "attacker.example"})
    assert got.status_code == 421


def test_security_headers(server):
    got = httpx.get(server.url + "/")
    assert got.status_code == 200
    assert got.headers["content-security-policy"].startswith("default-src 'self'")
    assert "<script" in got.text and "<script>" not in got.text          # no inline script


def test_token_is_required_for_everything_but_health(tmp_path):
    token = tmp_path / "token"
    token.write_text("s3cret-token\n")
    s = Server("--token-file", str(token))
    try:
        assert httpx.get(s.url + "/v1/health").status_code == 200
        for path in ("/v1/ready", "/v1/programs", "/v1/applicants", "/v1/openapi.json"):
            missing = httpx.get(s.url + path)
            assert missing.status_code == 401, path
            assert missing.json()["detail"] == "a bearer token is required: send 'Authorization: Bearer TOKEN'"
            assert missing.headers["www-authenticate"].startswith("Bearer")
        wrong = httpx.post(s.url + "/v1/evaluate", json={"applicant": "kt"}, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        good = httpx.post(s.url + "/v1/evaluate", json={"applicant": "kt"},
                          headers={"Authorization": "Bearer s3cret-token"}, timeout=30)
        assert good.status_code == 200 and good.json()["verdict"] == "excluded"
    finally:
        s.stop()


def test_token_from_the_environment(tmp_path):
    s = Server(env={"ELIGIBILITY_TOKEN": "from-env"})
    try:
        assert httpx.get(s.url + "/v1/applicants").status_code == 401
        assert httpx.get(s.url + "/v1/applicants", headers={"Authorization": "Bearer from-env"}).status_code == 200
    finally:
        s.stop()


def test_bad_start_is_one_line_and_no_traceback(run_cli, tmp_path):
    done = run_cli("serve", "--rules", str(tmp_path / "none.yaml"), "--port", "1")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith("eligibility: error: ") and len(done.stderr.splitlines()) == 1
    (tmp_path / "empty").write_text("")
    done = run_cli("serve", "--token-file", str(tmp_path / "empty"))
    assert done.returncode == 2 and "the token file is empty" in done.stderr


def test_stream_keeps_every_line_in_order(server, run_cli):
    lines = [json.dumps({"id": f"a{i}", "name": f"A {i}", "facts": {"model_generations": i % 4}}) for i in range(150)]
    lines[70] = "{not json"
    lines[71] = json.dumps({"id": "bad", "facts": {"bogus": 1}})
    got = httpx.post(server.url + "/v1/evaluate/stream", content="\n".join(lines) + "\n", timeout=60)
    assert got.status_code == 200 and got.headers["content-type"].startswith("application/x-ndjson")
    out = [json.loads(line) for line in got.text.splitlines()]
    assert len(out) == 150
    assert out[70]["schema"] == "eligibility.error/1" and out[70]["input"] == 71
    assert out[71]["errors"][0] == {"pointer": "/facts/bogus",
                                    "detail": "unknown fact 'bogus' (not in the fact schema of sovereign-ai-2025)"}
    ids = [o["applicant"]["id"] for o in out if o["schema"] == "eligibility.evaluation/1"]
    assert ids == [f"a{i}" for i in range(150) if i not in (70, 71)]


def test_flips_are_those_of_check_flip(server, run_cli):
    got = post(server, "/v1/flips", {"applicant": "kt", "facts": {"selected_in_august": None}}).json()
    done = run_cli("check", "applicants/kt.yaml", "--flip", "-f", "json", *UNDECIDED)
    assert got == json.loads(done.stdout)["flips"]
    assert got["found"][0]["set"] == ["foreign_partner_dependency=none"]


def test_impact_patch_applied_to_the_rules_gives_the_same_verdicts(undecided_server, run_cli, tmp_path):
    report = post(undecided_server, "/v1/impact", {"parameters": {"score_threshold": 60}}).json()
    flipped = {r["id"]: (r["old"]["verdict"], r["new"]["verdict"]) for r in report["applicants"] if r["status"] == "flipped"}
    assert flipped["nc-ai"][0] == "selected" and flipped["nc-ai"][1] != "selected"
    for aid, (_, after) in flipped.items():          # each flip is what `check --param` says
        assert cli_record(run_cli, f"applicants/{aid}.yaml", "--param", "score_threshold=60",
                          *UNDECIDED)["verdict"] == after
    shutil.copytree(os.path.join(ROOT, "rules"), tmp_path / "rules")
    (tmp_path / "change.patch").write_text(report["patch"], encoding="utf-8")
    done = subprocess.run(["patch", "-p1", "-i", "change.patch"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    for aid, (_, after) in flipped.items():
        patched = cli_record(run_cli, f"applicants/{aid}.yaml", "--rules", str(tmp_path / "rules" / "sovereign-ai-2025.yaml"),
                             *UNDECIDED)
        assert patched["verdict"] == after and patched["threshold"] == 60
    with open(os.path.join(ROOT, "rules", "sovereign-ai-2025.yaml"), encoding="utf-8") as f:
        assert "value: 50" in f.read()          # the service never wrote its rules


def test_replay_of_a_cli_record_and_refusal_of_other_paths(server, run_cli):
    done = run_cli("check", "applicants/kt.yaml", "-f", "json")
    rec = json.loads(done.stdout)
    got = post(server, "/v1/replay", {"record": rec}).json()
    assert got["identical"] is True and got["verdict"] == "excluded"
    rec["applicant"]["path"] = "/etc/passwd"
    refused = post(server, "/v1/replay", {"record": rec})
    assert refused.status_code == 422 and refused.json()["errors"][0]["pointer"] == "/record/applicant/path"


def test_programme_lists_facts_parameters_with_dated_values_and_sourced_criteria(server):
    (program,) = httpx.get(server.url + "/v1/programs").json()
    assert program["parameters"]["score_threshold"]["values"][0] == {"effective": "2025-08-04",
                                                                      "version": "2025-08 selection", "value": 50}
    gate = next(c for c in program["criteria"] if c["id"] == "foreign_independence")
    assert gate["source"]["publisher"] == "NewDaily"
    assert program["facts"]["foreign_partner_dependency"]["values"] == ["none", "limited", "heavy"]
    assert httpx.get(server.url + "/v1/programs/nope").status_code == 404


def test_64_concurrent_requests_give_the_serial_answers(server):
    ids = ["kt", "kakao", "lg-ai-research", "naver-cloud", "nc-ai", "sk-telecom", "upstage"]
    bodies = [{"applicant": ids[i % 7], "parameters": {"score_threshold": 40 + i % 5}, "trace": False} for i in range(64)]
    serial = [post(server, "/v1/evaluate", b).json() for b in bodies[:7]]

    async def run():
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
            return await asyncio.gather(*(client.post("/v1/evaluate", json=b) for b in bodies))
    answers = asyncio.run(run())
    assert [a.status_code for a in answers] == [200] * 64
    assert [a.json() for a in answers[:7]] == serial
