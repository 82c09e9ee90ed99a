import pytest
"""One reader for every profile: a YAML mapping and the same data as a plain mapping (a JSON line,
a CSV row) are accepted or refused alike, with the same values and the same messages."""
import json

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eligibility.core.errors import Problems
from eligibility.language.profile import applicant_from_data
from eligibility.language.rules import load_program
from eligibility.language.yamlsafe import load_yaml
from helpers import RULES

PROGRAM = load_program(RULES)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 8), st.floats(-1, 5, allow_nan=False),
                    st.sampled_from(["unknown", "none", "heavy", "limited", "true", "2", " 3 ", "x", "", "text;image"]))
VALUES = st.one_of(SCALARS, st.lists(st.sampled_from(["text", "image", "audio", "bogus", 3]), max_size=3),
                   st.fixed_dictionaries({"value": SCALARS}))
FACT_NAMES = st.sampled_from([*PROGRAM.facts, "no_such_fact"])
PROFILES = st.fixed_dictionaries(
    {"id": st.sampled_from(["a1", " a2 ", "bad id", "", 7])},
    optional={"name": st.sampled_from(["A", " B ", "", 3, None]), "lead": st.sampled_from(["L", None, 0, ""]),
              "notes": st.sampled_from(["n", None, 1]), "consortium": st.sampled_from([[], ["x"], "x", None, [1]]),
              "program": st.sampled_from([PROGRAM.id, "other"]), "facts": st.dictionaries(FACT_NAMES, VALUES, max_size=6),
              "extra": st.just(1)})


def read(data, line=4):
    problems = Problems("in")
    applicant = applicant_from_data(data, PROGRAM, "in", "d", problems, require_evidence=False, line=line)
    return (None if problems.errors else applicant), problems


def summary(a):
    return (a.id, a.name, a.lead, a.notes, a.consortium, a.bare,
            {k: [fv.value for fv in v] for k, v in a.facts().items()})


@pytest.mark.slow
@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(PROFILES)
def test_a_plain_mapping_reads_as_the_same_yaml_does(data):
    plain, plain_problems = read(data)
    positioned, yaml_problems = read(load_yaml("in", yaml.safe_dump(data, allow_unicode=True, sort_keys=False)))
    assert [p.message for p in plain_problems.items] == [p.message for p in yaml_problems.items], data
    assert (plain is None) == (positioned is None)
    if plain is not None:
        assert summary(plain) == summary(positioned)
    assert all(p.line == 4 and p.col == 1 for p in plain_problems.items)     # a plain record: its own line


def test_the_usual_bulk_shape():
    data = {"id": "a1", "name": "A", "facts": {"model_generations": "3", "planned_modalities": "text;image",
                                                "foreign_partner_dependency": "none", "open_weights_released": True,
                                                "commercial_use_allowed": "unknown"}}
    applicant, _ = read(json.loads(json.dumps(data)))
    assert applicant.bare and applicant.described_by_values
    assert applicant.values() == {"model_generations": 3, "planned_modalities": ("image", "text"),
                                  "foreign_partner_dependency": "none", "open_weights_released": True}
    assert applicant.fact("commercial_use_allowed").value is None and applicant.fact("no_such_fact") is None


def test_overrides_and_evidence_make_an_applicant_more_than_its_values():
    from eligibility.api import apply_overrides
    data = {"id": "a1", "facts": {"model_generations": 3, "open_weights_released": True}}
    applicant, _ = read(data)
    apply_overrides(applicant, PROGRAM, {"model_generations": "1", "open_weights_released": "unknown"})
    assert not applicant.described_by_values
    assert applicant.values() == {"model_generations": 1}
    with_evidence, _ = read({"id": "a2", "facts": {"model_generations": {
        "value": 2, "evidence": {"kind": "press", "note": "n", "source": {"title": "t", "date": "2025-01-02"}}}}})
    assert not with_evidence.bare and with_evidence.fact("model_generations").date == "2025-01-02"
    assert with_evidence.values("2025-01-01") == {} and with_evidence.values("2025-01-02") == {"model_generations": 2}
