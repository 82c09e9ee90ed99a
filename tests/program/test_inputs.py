"""JSON Lines inputs: each line decodes as the standard JSON decoder would, whatever surrounds it."""
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eligibility.core.errors import InputError
from eligibility.language.rules import load_program
from eligibility.program.inputs import Item, parse_items
from helpers import RULES

PROGRAM = load_program(RULES)
JSON_VALUES = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5)),
                           lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=3), inner, max_size=3)),
                           max_leaves=8)
AROUND = st.sampled_from(["", " ", "\t", "\r", " \r", "x", "}", ",", "{}", "\u00a0", "\x0b"])


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(JSON_VALUES, AROUND, AROUND, st.booleans())
def test_a_json_line_decodes_as_the_standard_decoder_does(value, before, after, duplicate):
    """A JSON line is an input of its own: when the standard decoder refuses it, the input is
    an error naming the decoder's message and column; a repeated key is an error too; any
    other line is read as a profile (valid or with problems of its own)."""
    text = json.dumps({"id": "a1", "facts": value}, ensure_ascii=False)
    if duplicate:
        text = text[:-1] + ', "id": "a2"}'
    line = before + text + after
    (parsed,) = parse_items([Item(0, "jsonl", "in.jsonl", 1, line)], PROGRAM)
    try:
        json.JSONDecoder(object_pairs_hook=_refuse_duplicates).decode(line)
    except _Duplicate:
        assert [p.message for p in parsed.problems] == ["duplicate key 'id'"], line
        return
    except json.JSONDecodeError as exc:
        assert isinstance(parsed, InputError)
        (problem,) = parsed.problems
        assert problem.message == f"invalid JSON: {exc.msg}" and problem.col == exc.colno, (line, problem)
        return
    messages = [p.message for p in parsed.problems] if isinstance(parsed, InputError) else []
    assert not any(m.startswith(("invalid JSON", "duplicate key")) for m in messages), (line, messages)


class _Duplicate(Exception):
    pass


def _refuse_duplicates(pairs):
    if len({k for k, _ in pairs}) != len(pairs):
        raise _Duplicate
    return dict(pairs)
