"""Hostile input files: each one gives clean `file:line:col: message` lines and exit 2, never a traceback.

Time and memory per file are measured by benchmarks/hostile.py (not asserted here)."""
import re

import pytest
import yaml

from eligibility.language import yamlsafe
from eligibility.core.errors import InputError
from eligibility.language.rules import load_program
from eligibility.language.yamlsafe import load_yaml

from helpers import RULES
from hostile_corpus import GOOD_PROFILE, benign, corpus, write

LINE = re.compile(r"^eligibility: error: (?P<path>.+?)(?::(?P<line>\d+):(?P<col>\d+))?: (?P<msg>.+)$")
CORPUS = corpus(open(RULES, encoding="utf-8").read())


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile")
    paths = write(str(d), CORPUS)
    paths.update(write(str(d), benign()))
    return paths


def problem_lines(result, path):
    assert "Traceback" not in result.stderr + result.stdout
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert lines, "no message"
    parsed = []
    for line in lines:
        m = LINE.match(line)
        assert m, f"not a clean problem line: {line[:300]!r}"
        assert m["path"] == path, line
        parsed.append(m)
    return parsed


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_hostile_profile(run_cli, files, name):
    _, fragment, where = CORPUS[name]
    (m,) = problem_lines(run_cli("check", files[name], "--rules", RULES), files[name])
    assert fragment in m["msg"], m["msg"]
    if where:
        assert int(m["line"]) == where[0]
        if where[1]:
            assert int(m["col"]) == where[1]


@pytest.mark.parametrize("name", sorted(n for n in CORPUS if n != "rules_file.yaml"))   # that one is valid
def test_hostile_rules_file(run_cli, files, name):
    lines = problem_lines(run_cli("check", files["plain.yaml"], "--rules", files[name]), files[name])
    assert len(lines) == 1, [m.group(0) for m in lines]


def test_profile_given_as_rules_file(run_cli, files):
    (m,) = problem_lines(run_cli("check", files["plain.yaml"], "--rules", files["plain.yaml"]), files["plain.yaml"])
    assert "applicant profile" in m["msg"]


@pytest.mark.parametrize("name", sorted(benign()))
def test_benign_variants_load_the_same(name, files):
    assert load_yaml(files[name]) == load_yaml(files["plain.yaml"])


def test_debug_shows_the_traceback(run_cli, files):
    result = run_cli("--debug", "check", files["nul_byte.yaml"], "--rules", RULES)
    assert result.returncode != 0 and "Traceback" in result.stderr


# -- the loader itself, in process ------------------------------------------------------------------
def load_text(text: str):
    return load_yaml("t.yaml", text)


def error_of(text: str) -> str:
    with pytest.raises(InputError) as info:
        load_text(text)
    (problem,) = info.value.problems
    return str(problem)


@pytest.fixture(params=["libyaml", "pure-python"])
def loader(request, monkeypatch):
    if request.param == "pure-python":
        monkeypatch.setattr(yamlsafe, "_LOADER", yaml.SafeLoader)
    elif not getattr(yaml, "__with_libyaml__", False):
        pytest.skip("libyaml not available")
    return request.param


@pytest.mark.parametrize("name", sorted(n for n in CORPUS if n.endswith(".yaml") and CORPUS[n][0][:1] != b"" and
                                        n not in ("ten_megabytes.yaml", "dense_under_size_limit.yaml", "rules_file.yaml", "huge_line.yaml",
                                                  "empty.yaml", "only_comment.yaml", "top_level_list.yaml",
                                                  "top_level_scalar.yaml", "bad_int_key.yaml", "huge_int.yaml",
                                                  "invalid_utf8.yaml", "latin1.yaml")))
def test_both_parsers_refuse_the_yaml_level_corpus(loader, name):
    data, fragment, where = CORPUS[name]
    message = error_of(data.decode("utf-8"))
    assert message.startswith("t.yaml:"), message
    if "nesting" in fragment:
        assert "nest" in message
    else:
        assert fragment in message, message
    if where and where[1] and name != "deep_flow_seq.yaml":
        assert message.startswith(f"t.yaml:{where[0]}:{where[1]}:"), message


def test_positions_and_values_survive(loader):
    doc = load_text("a: 1\nb:\n  - x\n  - {c: 2020-01-02, d: 'q'}\n")
    assert doc == {"a": 1, "b": ["x", {"c": __import__("datetime").date(2020, 1, 2), "d": "q"}]}
    assert (doc.pos("a").line, doc.pos("a").col) == (1, 4)
    assert doc["b"].pos(1).line == 4 and doc["b"][1].pos("d").style == "'"
    assert doc.pos("a").style is None


def test_small_aliases_are_fine_and_counted(loader):
    doc = load_text("base: &b {x: 1, y: [1, 2]}\none: *b\ntwo: *b\n")
    assert doc["one"] == doc["two"] == {"x": 1, "y": [1, 2]}
    # 9 ** 6 expanded nodes: refused although the file is tiny
    lines = ["l0: &l0 [a, a, a, a, a, a, a, a, a]"] + [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]"
                                                         for i in range(1, 7)]
    assert "alias expansion" in error_of("\n".join(lines))


def test_recursive_and_unknown_aliases_are_refused(loader):
    assert "no complete anchor" in error_of("a: &a [1, *a]\n")
    assert "no complete anchor" in error_of("a: *nowhere\n") or "invalid YAML" in error_of("a: *nowhere\n")


def test_nesting_limit_is_exact(loader):
    n = yamlsafe.MAX_DEPTH - 1          # the top-level mapping is the first level
    load_text("a: " + "[" * n + "]" * n)
    assert "nesting too deep" in error_of("a: " + "[" * (n + 1) + "]" * (n + 1))


def test_size_limit_is_configurable(monkeypatch, tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(GOOD_PROFILE)
    monkeypatch.setenv("ELIGIBILITY_MAX_INPUT_BYTES", "20")
    with pytest.raises(InputError, match="over the limit of 20 .*ELIGIBILITY_MAX_INPUT_BYTES"):
        load_yaml(str(path))
    with pytest.raises(InputError, match="over the limit of 20"):
        load_yaml("x.yaml", GOOD_PROFILE)
    monkeypatch.setenv("ELIGIBILITY_MAX_INPUT_BYTES", "lots")
    with pytest.raises(InputError, match="ELIGIBILITY_MAX_INPUT_BYTES: must be a positive whole number"):
        load_yaml(str(path))
    monkeypatch.setenv("ELIGIBILITY_MAX_INPUT_BYTES", "1000")
    assert load_yaml(str(path))["id"] == "acme"


def test_control_characters_in_messages_are_escaped(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text('id: a\nname: b\nfacts:\n  "x\\n\\tred": {value: 1}\n')
    program = load_program(RULES)
    from eligibility.language.profile import load_applicant
    with pytest.raises(InputError) as info:
        load_applicant(str(path), program)
    text = str(info.value)
    assert "\t" not in text and "\n" not in text and "\\n\\tred" in text


def test_missing_file_is_clean(run_cli, tmp_path):
    missing = str(tmp_path / "nope.yaml")
    (m,) = problem_lines(run_cli("check", missing, "--rules", RULES), missing)
    assert "cannot read file" in m["msg"]
    (m,) = problem_lines(run_cli("check", missing, "--rules", str(tmp_path)), str(tmp_path))
