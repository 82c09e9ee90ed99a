"""What the tests share: paths of the shipped files, generators of profiles and rules, guards."""
import contextlib
import datetime as dt
import json
import os
import re
import shutil
import signal
import subprocess
import sys

from eligibility.language.numeric import NONE

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RULES = os.path.join(ROOT, "rules", "sovereign-ai-2025.yaml")
APPLICANTS = os.path.join(ROOT, "applicants")
DATA = os.path.join(ROOT, "tests", "data")
VERSIONS = os.path.join(ROOT, "rules", "sovereign-ai-2025")     # later rule versions RULES lists
EXAMPLE_RULES = os.path.join(ROOT, "examples", "innovation-voucher", "rules.yaml")   # ranks with rank_by
EXAMPLE_APPLICANTS = os.path.join(ROOT, "examples", "innovation-voucher", "applicants")


def with_versions(directory) -> None:
    """Copy the later rule versions that RULES lists next to a copy of RULES written in `directory`."""
    shutil.copytree(VERSIONS, os.path.join(str(directory), "sovereign-ai-2025"), dirs_exist_ok=True)


# The August rules record the ministry's published decision (criterion `ministry_selection`, fact
# `selected_in_august`), which settles every shipped applicant's verdict. Tests of what the
# project's own criteria do (what-if, flips, rule changes) set that fact unknown, or use the rules
# without that criterion.
UNDECIDED = ("--set", "selected_in_august=unknown")


def criteria_only(text: str) -> str:
    """The text of the August rules without the published-decision criterion."""
    start = text.index("  - id: ministry_selection\n")
    return text[:start] + text[text.index("\ndecision:", start):]


def write_criteria_only(directory) -> str:
    """The August rules without the published decision, written (with its versions) in `directory`."""
    path = os.path.join(str(directory), "criteria-only.yaml")
    with open(RULES, encoding="utf-8") as fh, open(path, "w", encoding="utf-8") as out:
        out.write(criteria_only(fh.read()))
    with_versions(directory)
    return path


def write_undecided_applicants(directory) -> str:
    """The shipped profiles (not the additional call's) without `selected_in_august`, written in
    `directory`: for a server whose loaded applicants the project's own criteria decide."""
    for name in sorted(os.listdir(APPLICANTS)):
        if name.endswith(".yaml"):
            with open(os.path.join(APPLICANTS, name), encoding="utf-8") as fh:
                text = re.sub(r"\n  selected_in_august:\n(?:    .*\n)*", "\n", fh.read())
            with open(os.path.join(str(directory), name), "w", encoding="utf-8") as out:
                out.write(text)
    return str(directory)


def console_script() -> str:
    """The installed `eligibility` script (next to this interpreter, else on PATH)."""
    here = os.path.join(os.path.dirname(sys.executable), "eligibility")
    return here if os.path.exists(here) else (shutil.which("eligibility") or "eligibility")


def domain(spec, program):
    """Values worth trying for a fact: the literals the conditions use, their neighbours, and more
    (and none, for an optional fact)."""
    return values_of(spec) + ([NONE] if spec.optional else [])


def values_of(spec):
    if spec.type == "bool":
        return [True, False]
    if spec.type == "int":
        return [-1, 0, 1, 2, 3, 4, 5, 6, 10, 11, 100, -12]
    if spec.type == "float":
        return [0.0, 0.25, 0.2499, 0.5, 0.5000001, 1.0, -3.5, 2, 0.1, 0.2, 0.3, -0.0, 1.5, 2.5]
    if spec.type == "enum":
        return list(spec.values)
    if spec.type == "string":
        return ["a", "b", "c", "", "A", 'quote"d', "back\\slash", "한국어", "1", "1.0", "01", "true"]
    if spec.type == "date":
        return [dt.date(2025, 8, 3), dt.date(2025, 8, 4), dt.date(2025, 8, 5), dt.date(2019, 12, 31),
                dt.date(2020, 1, 1), dt.date(2024, 2, 29), dt.date(2023, 3, 31), dt.date(2022, 8, 4), dt.date(1, 1, 5),
                dt.date(9999, 12, 30)]
    if spec.type == "list":
        pool = list(spec.values) or ["x", "y", "z", "red"]
        return [tuple(sorted(set(c))) for c in ([], pool[:1], pool[1:2], pool[:2], pool, pool[-1:], pool[::2])]
    raise AssertionError(spec.type)


def random_profile(rng, program, missing):
    return {name: rng.choice(domain(spec, program)) for name, spec in program.facts.items()
            if rng.random() >= missing}



@contextlib.contextmanager
def deadline(seconds=30):
    """Fail instead of hanging (the engine's hang is a busy loop in C: SIGALRM still interrupts between calls)."""
    def boom(*_):
        raise TimeoutError(f"no result within {seconds} s")
    old = signal.signal(signal.SIGALRM, boom)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def rules_text(n_facts, criteria, fact_type="int", extra_facts=""):
    facts = "".join(f"  f{i}: {{type: {fact_type}}}\n" for i in range(n_facts)) + extra_facts
    crit = "".join(f"  - {{id: c{i}, kind: scored, points: 1, condition: '{c}', source: {{ref: s, clause: x}}}}\n"
                   for i, c in enumerate(criteria))
    return ("program: {id: big, title: big, sources: [{id: s, title: s}]}\n"
            f"facts:\n{facts}criteria:\n{crit}decision: {{threshold: 1}}\n")


FACTS = ("in_house_architecture", "pretrained_from_scratch", "initialised_from_foreign_weights",
         "foreign_partner_dependency", "model_generations", "planned_modalities", "open_weights_released",
         "commercial_use_allowed", "commercial_deployment")


def finals(decision) -> dict:
    return {e.id: e.final for e in decision.entries}


def synthetic(i: int) -> dict:
    """A varied, deterministic profile mapping (evidence-free, for JSON Lines and CSV)."""
    mods = [["text"], ["text", "image"], ["text", "audio", "video"]][i % 3]
    return {"id": f"app-{i:05d}", "name": f"Applicant {i:05d}", "facts": {
        "in_house_architecture": i % 7 != 0, "pretrained_from_scratch": True,
        "initialised_from_foreign_weights": i % 11 == 0,
        "foreign_partner_dependency": ["none", "limited", "heavy"][i % 5 % 3],
        "model_generations": i % 4, "planned_modalities": mods if i % 13 else "unknown",
        "open_weights_released": i % 2 == 0, "commercial_use_allowed": i % 3 == 0,
        "commercial_deployment": "unknown" if i % 6 else True}}


def yaml_profile(i: int) -> str:
    data = synthetic(i)
    lines = [f"id: {data['id']}", f"name: {data['name']}", "facts:"]
    for name, value in data["facts"].items():
        lines += [f"  {name}:", f"    value: {json.dumps(value)}", "    evidence:",
                  "      - kind: analysis", "        note: generated", "        source: {title: test generator}"]
    return "\n".join(lines) + "\n"


def stop_process(proc) -> None:
    """Terminate a child process, and kill it if it has not stopped within 10 s."""
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def engine_agrees(program, profiles):
    """Every node's outcome from the durable engine equals the reference meaning, for each profile
    (under a deadline: a hang is a failure)."""
    from eligibility.api import Evaluator
    from eligibility.language.semantics import evaluate_nodes
    ev = Evaluator(program, engine="durable")
    try:
        with deadline(120):
            for values in profiles:
                assert ev.run(values).outcomes() == evaluate_nodes(program, values), values
    finally:
        ev.close()
