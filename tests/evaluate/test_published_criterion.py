"""A criterion of kind `published` (the authority's published decision on the applicant) and the
verdict it gives with the verdict of the other criteria: every combination of the two, through
the public API, on each engine (docs/format.md, "A published decision")."""
import pytest

from eligibility import api

RULES = """
program: {id: call, title: Call}
facts:
  gate_ok: {type: bool}
  points_ok: {type: bool}
  decided: {type: bool, description: The authority's published decision selected the applicant.}
criteria:
  - {id: g, kind: gate, condition: gate_ok, basis: reported}
  - {id: s, kind: scored, points: 10, condition: points_ok, basis: official, points_basis: calibration}
%s
decision: {threshold: 10}
"""
PUBLISHED = ("  - {id: p, kind: published, condition: decided, "
             "basis: {kind: official, note: the authority published its decision only}}")

# the facts that give each verdict of the criteria alone (V)
CRITERIA = {"selected": {"gate_ok": True, "points_ok": True},
            "excluded": {"gate_ok": False, "points_ok": True},
            "undetermined": {"points_ok": True}}
OWN = {"selected": "selected: all 1 gates met and score 10 reaches the threshold of 10",
       "excluded": "excluded: gate 'g' not met, because gate_ok is false",
       "undetermined": "undetermined: gate 'g' is unknown; missing: gate_ok"}
NOT_SELECTED = ("excluded: not selected by the published decision (criterion 'p': decided is false); the verdict "
                "comes from the published decision, and no per-applicant reasons were published; ")
TABLE = [   # (published decision P, criteria verdict V) -> verdict, reason, decided by P
    (None, "selected", "selected", OWN["selected"], False),
    (None, "excluded", "excluded", OWN["excluded"], False),
    (None, "undetermined", "undetermined", OWN["undetermined"], False),
    (True, "selected", "selected", OWN["selected"], False),
    (True, "undetermined", "selected", "selected by the published decision (criterion 'p'); by this project's "
                                       "criteria alone it is " + OWN["undetermined"], True),
    (True, "excluded", "excluded", OWN["excluded"] + "; the published decision (criterion 'p') selected it, "
                                   "against this project's reading", False),   # a verdict the criteria decide stands

    (False, "excluded", "excluded", OWN["excluded"], False),
    (False, "undetermined", "excluded", NOT_SELECTED + "by this project's criteria alone it is " + OWN["undetermined"],
     True),
    (False, "selected", "selected", OWN["selected"] + "; the published decision (criterion 'p') did not select it, "
                                    "against this project's reading", False),  # a what-if shows what the criteria give
]


@pytest.fixture(scope="module")
def rules(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rules")
    (folder / "published.yaml").write_text(RULES % PUBLISHED, encoding="utf-8")
    (folder / "criteria.yaml").write_text(RULES % "", encoding="utf-8")
    return {"published": api.load_rules(str(folder / "published.yaml")),
            "criteria": api.load_rules(str(folder / "criteria.yaml"))}


def _evaluate(program, facts, engine="durable"):
    return api.evaluate_profile({"id": "a", "name": "A", "facts": facts}, program, engine)


@pytest.mark.parametrize("engine", ["durable", "python"])
@pytest.mark.parametrize("decided, own, verdict, reason, by_decision", TABLE,
                         ids=[f"P={p}-V={v}" for p, v, *_ in TABLE])
def test_the_published_decision_and_the_criteria_verdict(rules, engine, decided, own, verdict, reason, by_decision):
    facts = dict(CRITERIA[own], **({} if decided is None else {"decided": decided}))
    alone = _evaluate(rules["criteria"], CRITERIA[own], engine)
    assert alone.verdict == own                        # the criteria alone give V
    ev = _evaluate(rules["published"], facts, engine)
    assert (ev.verdict, ev.reason) == (verdict, reason)
    outcome = {None: "unknown", True: "met", False: "not_met"}[decided]
    assert {r.id: (r.kind, r.outcome, r.points) for r in ev.criteria}["p"] == ("published", outcome, 0)
    assert ev.score == alone.score                     # a published decision earns no points
    if by_decision:
        # nothing missing can change a verdict the decision gave; it rests on the decision alone
        assert ev.missing == ()
        assert ev.standing.rests_on == (("published decision p", "official"),)
        assert ev.standing.notes == ("the authority published its decision only",)
    else:
        assert ev.missing == alone.missing and ev.standing.rests_on == alone.standing.rests_on


def test_the_record_shows_the_published_criterion(rules):
    rec = api.record(_evaluate(rules["published"], {"points_ok": True, "decided": True}))
    crit = {c["id"]: c for c in rec["criteria"]}["p"]
    assert (crit["kind"], crit["outcome"], crit["points"], crit["awarded"]) == ("published", "met", None, None)
    assert crit["basis"]["kind"] == "official" and rec["verdict"] == "selected" and rec["gates_failed"] == []
    assert rec["basis_detail"]["rests_on"] == [{"what": "published decision p", "basis": "official"}]
    trace = {c["id"]: c for c in rec["trace"]["criteria"]}["p"]
    assert trace["because"] == ["decided is true"]
