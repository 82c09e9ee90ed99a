"""Plain profiles (JSON Lines, CSV) have a fast reader; it must accept exactly what the full reader accepts."""
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eligibility.core.errors import Problems
from eligibility.language.profile import plain_applicant, _positioned, _ProfileReader
from eligibility.language.rules import load_program

from conftest import RULES

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


def full_reader(data):
    problems = Problems("in.jsonl")
    applicant = _ProfileReader(problems, PROGRAM, require_evidence=False).read(_positioned(data, 4), "in.jsonl", "d")
    return None if problems.errors else applicant


def summary(a):
    return (a.id, a.name, a.lead, a.notes, a.consortium,
            {k: [fv.value for fv in v] for k, v in a.history.items()})


@settings(max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck))
@given(PROFILES)
def test_fast_reader_agrees_with_full_reader(data):
    fast = plain_applicant(data, PROGRAM, "in.jsonl", "d", 4)
    full = full_reader(data)
    if fast is not None:       # the fast path may decline, but what it accepts the full reader accepts, the same way
        assert full is not None, data
        assert summary(fast) == summary(full)


def test_fast_reader_takes_the_usual_shape():
    data = {"id": "a1", "name": "A", "facts": {"model_generations": "3", "planned_modalities": "text;image",
                                                "foreign_partner_dependency": "none", "open_weights_released": True,
                                                "commercial_use_allowed": "unknown"}}
    fast = plain_applicant(data, PROGRAM, "in.jsonl", "d", 4)
    assert fast is not None and summary(fast) == summary(full_reader(data))
    assert fast.values() == {"model_generations": 3, "planned_modalities": ("image", "text"),
                             "foreign_partner_dependency": "none", "open_weights_released": True}


def test_bare_applicant_behaves_like_a_full_one():
    """The lazily built history of a bare applicant: same facts, values, overrides and copies."""
    import dataclasses

    from eligibility.api import apply_overrides
    data = {"id": "a1", "name": "A", "facts": {"model_generations": 3, "planned_modalities": ["text", "image"],
                                                "open_weights_released": True, "commercial_use_allowed": "unknown"}}
    fast = plain_applicant(data, PROGRAM, "in.jsonl", "d", 4)
    full = full_reader(data)
    for name in [*PROGRAM.facts, "no_such_fact"]:
        assert fast.fact(name) == full.fact(name) and fast.fact(name, "2020-01-01") == full.fact(name, "2020-01-01")
    assert fast.values() == full.values() and fast.history == full.history
    for a in (fast, full):
        apply_overrides(a, PROGRAM, {"model_generations": "1", "open_weights_released": "unknown"})
    assert fast.values() == full.values() == {"model_generations": 1, "planned_modalities": ("image", "text")}
    assert fast.fact("model_generations") == full.fact("model_generations")
    copy = dataclasses.replace(fast, overrides={})
    assert copy.values() == {"model_generations": 3, "planned_modalities": ("image", "text"),
                             "open_weights_released": True}
    assert copy.history == fast.history


JSON_VALUES = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5)),
                           lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=3), inner, max_size=3)),
                           max_leaves=8)
AROUND = st.sampled_from(["", " ", "\t", "\r", " \r", "x", "}", ",", "{}", "\u00a0", "\x0b"])


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(JSON_VALUES, AROUND, AROUND, st.booleans())
def test_a_json_line_decodes_as_the_full_decoder_does(value, before, after, duplicate):
    """inputs._decode_line hands a bare object straight to the scanner: the value, or the error
    and its position, must be those of the full decoder, whatever surrounds the object."""
    import json

    from eligibility.program.inputs import _JSONL_DECODER, _DuplicateKey, _decode_line
    text = json.dumps({"id": "a1", "facts": value}, ensure_ascii=False)
    if duplicate:
        text = text[:-1] + ', "id": "a2"}'
    line = before + text + after

    def outcome(decode):
        try:
            return "value", decode(line)
        except _DuplicateKey as exc:
            return "duplicate", exc.args
        except ValueError as exc:
            return "error", (type(exc), getattr(exc, "msg", str(exc)), getattr(exc, "colno", None))
    assert outcome(_decode_line) == outcome(_JSONL_DECODER.decode)
