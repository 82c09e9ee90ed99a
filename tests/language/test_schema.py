"""`eligibility schema`: the committed schemas are the command's output, and the shipped files fit them."""
import glob
import json
import os

import pytest

from eligibility.language.yamlsafe import load_yaml
from schema_check import KEYWORDS, errors, plain, used_keywords

from helpers import APPLICANTS, ROOT, RULES

SCHEMAS = os.path.join(ROOT, "docs", "schema")


@pytest.mark.parametrize("kind", ["rules", "applicant"])
def test_committed_schema_is_command_output(run_cli, kind):
    r = run_cli("schema", kind)
    assert r.returncode == 0, r.stderr
    printed = json.loads(r.stdout)
    with open(os.path.join(SCHEMAS, f"{kind}.schema.json"), encoding="utf-8") as fh:
        committed = fh.read()
    assert r.stdout == committed, f"regenerate: eligibility schema {kind} -o docs/schema/{kind}.schema.json"
    assert printed["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert used_keywords(printed) <= KEYWORDS      # the test validator understands every keyword used


def _load(path):
    return plain(load_yaml(path))


def _schema(kind):
    with open(os.path.join(SCHEMAS, f"{kind}.schema.json"), encoding="utf-8") as fh:
        return json.load(fh)


def test_shipped_rules_fit_schema():
    assert errors(_load(RULES), _schema("rules")) == []
    first = open(RULES, encoding="utf-8").readline()
    assert first.strip() == "# yaml-language-server: $schema=../docs/schema/rules.schema.json"


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(APPLICANTS, "*.yaml"))))
def test_shipped_profiles_fit_schema(run_cli, path):
    assert errors(_load(path), _schema("applicant")) == []
    r = run_cli("schema", "applicant", "--rules", RULES)
    assert r.returncode == 0, r.stderr
    assert errors(_load(path), json.loads(r.stdout)) == []
    assert open(path, encoding="utf-8").readline().startswith("# yaml-language-server: $schema=")


def test_schema_rejects_broken_files(run_cli):
    rules = _load(RULES)
    rules["criteria"][0]["kind"] = "mandatory"
    rules["facts"]["in_house_architecture"]["typ"] = "bool"
    errs = errors(rules, _schema("rules"))
    assert any("'mandatory'" in e for e in errs) and any("'typ'" in e for e in errs)
    profile = _load(os.path.join(APPLICANTS, "kt.yaml"))
    profile["facts"]["foreign_partner_dependence"] = profile["facts"].pop("foreign_partner_dependency")
    specific = json.loads(run_cli("schema", "applicant", "--rules", RULES).stdout)
    assert any("foreign_partner_dependence" in e for e in errors(profile, specific))
    profile = _load(os.path.join(APPLICANTS, "kt.yaml"))
    profile["facts"]["model_generations"]["value"] = "two"
    assert errors(profile, specific) and not errors(profile, _schema("applicant"))
