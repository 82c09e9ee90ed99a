"""Ranking by `rank_by` keys (facts and computed values), the explanation of each place, and
provisional verdicts: the example programme ranks equal scores by co-financing share."""
import csv
import dataclasses
import io
import json
import random
import re

import pytest

from helpers import APPLICANTS, EXAMPLE_APPLICANTS, EXAMPLE_RULES, RULES, finals
from eligibility import api
from eligibility.evaluate.rankvalues import RankValue
from eligibility.language.model import RankKey
from eligibility.program import batch, decision as dec
from eligibility.program.ranking import MAX_NAMED, Ranking


def example_batch(**params):
    return batch.run_batch(api.load_rules(EXAMPLE_RULES, params=params), [EXAMPLE_APPLICANTS])


def by_id(result):
    return {e.id: e for e in result.decision.entries}


def test_a_fact_breaks_a_tie_on_score():
    """Ibex and Alba both score 44: co-financing 0.38 against 0.35 orders them (not the name)."""
    result = example_batch()
    assert [(e.id, e.score) for e in result.decision.ranking] == [
        ("brightwave", 50), ("helix", 47), ("ibex", 44), ("alba", 44), ("gamma", 19)]
    e = by_id(result)
    assert e["ibex"].placement == ("ranked 3 of 5 (behind Helix Bio on score 44 vs 47; ahead of Alba Robotics on "
                                   "cofinancing_share 0.38 vs 0.35, tied on score 44)")
    assert e["brightwave"].placement == "ranked 1 of 5 (ahead of Helix Bio on score 50 vs 47)"
    assert e["alba"].final == "eligible-not-selected"
    assert e["alba"].reason.startswith("eligible, not selected: ranked 4 of 5 eligible (behind Ibex Instruments on "
                                       "cofinancing_share 0.35 vs 0.38, tied on score 44; ahead of Gamma Foods on "
                                       "score 44 vs 19), past the quota of 3 (all 5 gates met")


def test_unknown_rank_values_sort_last_in_either_order():
    program = api.load_rules(EXAMPLE_RULES)
    entries = [dec.Entry(key=i, id=f"a{i}", name=f"A{i}", verdict="selected", score=20,
                         values=(RankValue(v, ("cofinancing_share",) if v is None else ()),))
               for i, v in enumerate([0.3, None, 0.5, 0.4])]
    for order, expected in (("desc", ["a2", "a3", "a0", "a1"]), ("asc", ["a0", "a3", "a2", "a1"])):
        program.decision = dataclasses.replace(program.decision, rank_by=(
            RankKey("score", True), RankKey("cofinancing_share", order == "desc"), RankKey("id", False)))
        ranking = Ranking(program)
        assert [e.id for e in ranking.ranked(entries)] == expected
        # in its best case the unknown value comes first
        assert min(entries, key=lambda e: ranking.place(e, best=True)).id == "a1"


def test_rank_by_written_like_tie_breaks_orders_alike():
    """`tie_breaks: [criteria_order, name]` and `rank_by: [score, criteria_order, name]` rank the same."""
    program = api.load_rules(RULES, params={"quota": 3})
    legacy = batch.run_batch(program, [APPLICANTS])
    program.decision = dataclasses.replace(program.decision, tie_breaks=(), rank_by=(
        RankKey("score", True), RankKey("criteria_order", True), RankKey("name", False), RankKey("id", False)))
    written = batch.run_batch(program, [APPLICANTS])
    assert [e.id for e in legacy.decision.ranking] == [e.id for e in written.decision.ranking]
    assert finals(legacy.decision) == finals(written.decision)
    assert all(e.placement == "" for e in legacy.decision.entries)      # tie_breaks: outputs as before
    assert all(e.placement.startswith(f"ranked {e.rank} of 5") for e in written.decision.ranking)


def random_entries(rng, n):
    out = []
    for k in range(n):
        score = rng.choice([10, 20, 30])
        open_ = rng.random() < 0.3
        known = rng.random() < 0.7
        verdict = rng.choice(["selected", "selected", "undetermined"])
        gate_open = verdict == "undetermined"      # an undetermined applicant has a gate still open
        out.append(dec.Entry(
            key=k, id=f"x{rng.randrange(50):02d}", name=rng.choice(["Ann", "Bo", "Cy", "Di"]),
            verdict=verdict, score=score, gates_open=int(gate_open),
            awarded=(score,), awarded_max=(score + 10 * open_,), score_max=score + 10 * open_,
            open_facts=("team",) * open_ + ("country",) * gate_open,
            values=(RankValue(rng.choice([0.25, 0.3, 0.4]) if known else None, () if known else ("cofinancing_share",)),)))
    return out


def best_case(e, key_desc=True):
    """The entry as its unknown facts could at best make it, as plain values (an unknown rank value
    becomes a value beyond every real one)."""
    (rv,) = e.values
    beyond = 1e9 if key_desc else -1e9
    return dataclasses.replace(e, verdict="selected", score=e.score_max, awarded=e.awarded_max,
                               values=(RankValue(beyond, ()) if rv.missing else rv,))


@pytest.mark.parametrize("seed", range(4))
def test_provisional_means_the_best_case_of_others_or_its_own_crosses_the_cut(seed):
    """A selected verdict is provisional exactly when the others at their best push it past the
    quota; an eligible-not-selected one exactly when its own best case comes within the quota."""
    rng = random.Random(seed)
    program = api.load_rules(EXAMPLE_RULES)
    for _ in range(150):
        quota = rng.randrange(1, 5)
        program.decision = dataclasses.replace(program.decision, quota=quota)
        entries = random_entries(rng, rng.randrange(2, 12))
        d = dec.decide(program, [dataclasses.replace(e) for e in entries])
        ranking = Ranking(program)
        for e in d.ranking:
            others = [x for x in d.entries if x.key != e.key and x.verdict in ("selected", "undetermined")]
            if e.final == "selected":
                field = ranking.ranked([dataclasses.replace(e), *[best_case(x) for x in others]])
            else:
                field = ranking.ranked([best_case(e), *[dataclasses.replace(x) for x in others if x.verdict == "selected"]])
            position = [x.key for x in field].index(e.key) + 1
            changes = position > quota if e.final == "selected" else position <= quota
            assert bool(e.provisional) == changes, (e, quota)
            assert ("provisional: " in e.reason) == changes


@pytest.mark.parametrize("seed", range(3))
def test_a_pool_gives_the_decision_of_every_entry(seed):
    """A batch keeps, of its undetermined applicants, only those that could still reach the quota
    against the eligible ones gathered so far (decision.Pool): on random streams the decision (ranks,
    finals, reasons, provisional verdicts) equals the one made with every entry, and entries are left out."""
    rng = random.Random(seed)
    program = api.load_rules(EXAMPLE_RULES)
    left_out = 0
    for _ in range(200):
        quota = rng.choice([None, 0, 1, 2, 4])
        program.decision = dataclasses.replace(program.decision, quota=quota)
        entries = random_entries(rng, rng.randrange(2, 30))
        whole = dec.decide(program, [dataclasses.replace(e) for e in entries])
        pool = dec.Pool(program)
        for e in entries:
            pool.add(dataclasses.replace(e))
        pooled = dec.decide(program, pool.entries)
        shown = lambda d: [(e.key, e.rank, e.final, e.reason, e.provisional) for e in d.ranking]   # noqa: E731
        assert shown(pooled) == shown(whole)
        undetermined = sum(e.verdict == "undetermined" for e in entries)
        kept = sum(e.verdict == "undetermined" for e in pool.entries)
        assert kept <= undetermined and (quota is not None or kept == 0)
        left_out += undetermined - kept
    assert left_out > 0


def test_placement_names_the_first_key_the_ranking_tells_apart():
    rng = random.Random(3)
    program = api.load_rules(EXAMPLE_RULES)
    ranking = Ranking(program)
    for _ in range(200):
        entries = [dataclasses.replace(e, verdict="selected") for e in random_entries(rng, rng.randrange(2, 8))]
        ranked = ranking.ranked(entries)
        for n in range(len(ranked) - 1):
            ahead, behind = ranked[n], ranked[n + 1]
            place_a, place_b = ranking.place(ahead), ranking.place(behind)
            first = next((i for i, (a, b) in enumerate(zip(place_a, place_b)) if a != b))
            text = ranking.placement(ranked, n)
            said = re.search(r"ahead of \S+ on (\S+)", text).group(1)
            assert said == ([k.key for k in ranking.keys] + ["input"])[first], (text, place_a, place_b)


def test_ibex_is_provisional_while_juniper_has_no_marks():
    e = by_id(example_batch())
    assert e["ibex"].final == "selected"
    assert e["ibex"].provisional == ("could lose its place if Juniper Systems (missing: impact, innovation, team) "
                                     "rise above it")
    assert e["helix"].provisional == ""       # one rival cannot push the second place past a quota of 3
    assert e["juniper"].final == "undetermined" and e["juniper"].rank is None


def test_no_quota_makes_nothing_provisional():
    program = api.load_rules(EXAMPLE_RULES)
    program.decision = dataclasses.replace(program.decision, quota=None)
    result = batch.run_batch(program, [EXAMPLE_APPLICANTS])
    assert all(e.provisional == "" for e in result.decision.entries)


def test_an_eligible_applicant_past_the_quota_with_open_points_is_provisional(run_cli):
    """The shipped programme with three places: Upstage (55, two criteria unknown) could still come in."""
    r = run_cli("batch", "--param", "quota=3", "--format", "json")
    assert r.returncode == 0, r.stderr
    recs = {a["applicant"]["id"]: a for a in json.loads(r.stdout)["applicants"]}
    assert recs["upstage"]["final_verdict"] == "eligible-not-selected"
    assert recs["upstage"]["final_reason"].endswith(
        "; provisional: could still come within the quota (missing: open_weights_released, "
        "commercial_deployment, commercial_use_allowed)")
    assert "provisional" not in recs["sk-telecom"]["final_reason"]     # no one can reach 100
    assert "placement" not in recs["upstage"]                           # tie_breaks: no new fields


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_every_output_says_the_same(run_cli, tmp_path, jobs):
    """JSON (all entries kept) and JSON Lines (only what the decision reads kept, over workers)
    give the same placement and provisional verdict; the engines agree on them."""
    args = ["batch", EXAMPLE_APPLICANTS, "--rules", EXAMPLE_RULES, "--jobs", jobs]
    doc = json.loads(run_cli(*args, "--format", "json").stdout)
    assert doc["decision"]["rank_by"] == [{"key": "score", "order": "desc"}, {"key": "cofinancing_share", "order": "desc"},
                                          {"key": "name", "order": "asc"}, {"key": "id", "order": "asc"}]
    from_json = {a["applicant"]["id"]: (a["rank"], a["final_verdict"], a["placement"], a["provisional"])
                 for a in doc["applicants"] if a["rank"] is not None}
    lines = run_cli(*args, "--format", "jsonl").stdout.splitlines()
    summary = json.loads(lines[-1])
    from_jsonl = {r["id"]: (r["rank"], r["final_verdict"], r["placement"], r["provisional"]) for r in summary["ranking"]}
    assert from_json == from_jsonl and from_json["ibex"][3].startswith("could lose its place")
    python = json.loads(run_cli(*args, "--format", "json", "--engine", "python").stdout)
    assert [(a["applicant"]["id"], a["final_reason"]) for a in python["applicants"]] == \
        [(a["applicant"]["id"], a["final_reason"]) for a in doc["applicants"]]
    text = run_cli(*args).stdout
    assert "ranked by score desc, cofinancing_share desc, name, id" in text
    md = run_cli(*args, "--format", "markdown").stdout
    assert "selected, ranked 2 of 5 (behind Brightwave Optics on score 47 vs 50" in md


def test_csv_and_report_show_the_placement(run_cli, tmp_path):
    args = [EXAMPLE_APPLICANTS, "--rules", EXAMPLE_RULES]
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(run_cli("batch", *args, "-f", "csv").stdout))}
    assert rows["alba"]["reason"].startswith("eligible, not selected: ranked 4 of 5 eligible (behind Ibex Instruments "
                                             "on cofinancing_share 0.35 vs 0.38")
    assert "; provisional: could lose its place if Juniper Systems" in rows["ibex"]["reason"]
    report = tmp_path / "report.html"
    assert run_cli("report", *args, "-o", str(report)).returncode == 0
    page = report.read_text(encoding="utf-8")
    assert "ranked by score desc, cofinancing_share desc, name, id; up to 3 selected" in page
    assert "selected, ranked 3 of 5 (behind Helix Bio on score 44 vs 47; ahead of Alba Robotics on " \
           "cofinancing_share 0.38 vs 0.35, tied on score 44)" in page


def test_a_computed_date_ranks_earliest_first_with_none_last(run_cli, tmp_path):
    """First the firm whose lookback ended earliest (a computed date); firms that never had a
    voucher have none and rank after, by id. The record path (JSON Lines) agrees with the batch."""
    text = open(EXAMPLE_RULES, encoding="utf-8").read().replace(
        "rank_by: [score, {key: cofinancing_share, order: desc}, name]", "rank_by: [{key: voucher_free_from, order: asc}]")
    rules = tmp_path / "rules.yaml"
    rules.write_text(text, encoding="utf-8")
    doc = json.loads(run_cli("batch", EXAMPLE_APPLICANTS, "--rules", str(rules), "-f", "json").stdout)
    ranked = [a for a in doc["applicants"] if a["rank"] is not None]
    assert [a["applicant"]["id"] for a in ranked] == ["brightwave", "helix", "alba", "gamma", "ibex"]
    assert ranked[1]["rank_keys"] == {"voucher_free_from": {"value": "2026-03-31", "missing": []}}
    assert ranked[1]["placement"] == ("ranked 2 of 5 (behind Brightwave Optics on voucher_free_from 2026-03-31 vs "
                                      "2025-05-10; ahead of Alba Robotics on voucher_free_from 2026-03-31 vs none)")
    assert ranked[2]["placement"].endswith("ahead of Gamma Foods on id alba vs gamma, tied on voucher_free_from none)")
    summary = json.loads(run_cli("batch", EXAMPLE_APPLICANTS, "--rules", str(rules), "-f", "jsonl").stdout.splitlines()[-1])
    assert [(r["id"], r["placement"]) for r in summary["ranking"]] == [(a["applicant"]["id"], a["placement"]) for a in ranked]


def test_a_published_decision_is_open_only_for_an_undetermined_applicant(tmp_path):
    """A published decision settles only a verdict the other criteria leave open: an eligible
    applicant with the ministry's decision unknown cannot be moved by it, so that fact is not named
    as what could still change its verdict; for an undetermined applicant it is."""
    program = api.load_rules(RULES)
    assert any(c.kind == "published" for c in program.criteria)
    facts = {"in_house_architecture": True, "pretrained_from_scratch": True, "initialised_from_foreign_weights": False,
             "foreign_partner_dependency": "none", "model_generations": 3, "planned_modalities": ["text", "image"],
             "open_weights_released": "unknown", "commercial_use_allowed": True, "commercial_deployment": True}
    eligible = {"id": "e", "name": "E", "facts": {**facts, "selected_in_august": "unknown"}}
    undetermined = {"id": "u", "name": "U", "facts": {**facts, "in_house_architecture": "unknown",
                                                       "selected_in_august": "unknown"}}
    pop = tmp_path / "pop.jsonl"
    pop.write_text("\n".join(json.dumps(p) for p in (eligible, undetermined)) + "\n", encoding="utf-8")
    entries = {e.id: e for e in batch.run_batch(program, [str(pop)], batch.BatchOptions(keep_all=True)).decision.entries}
    assert entries["e"].verdict == "selected" and entries["u"].verdict == "undetermined"
    assert "open_weights_released" in entries["e"].open_facts
    assert "selected_in_august" not in entries["e"].open_facts
    assert "selected_in_august" in entries["u"].open_facts


@pytest.mark.parametrize("seed", range(3))
def test_the_ranking_is_the_order_of_places_and_names_the_rivals_in_best_case_order(seed):
    """`ranked` sorts one key at a time, and `provisional` keeps only counts and the first rivals:
    on random entries the order is that of the whole place, and a provisional selected verdict
    names the open entries from outside the quota whose best case comes before it, best first,
    the first MAX_NAMED of them and how many more."""
    rng = random.Random(seed)
    program = api.load_rules(EXAMPLE_RULES)
    ranking = Ranking(program)
    named = 0
    for _ in range(200):
        quota = rng.randrange(1, 4)
        program.decision = dataclasses.replace(program.decision, quota=quota)
        entries = random_entries(rng, rng.randrange(2, 40))
        selected = [e for e in entries if e.verdict == "selected"]
        assert [e.key for e in ranking.ranked(selected)] == [e.key for e in sorted(selected, key=ranking.place)]
        d = dec.decide(program, [dataclasses.replace(e) for e in entries])
        within = {e.key for e in d.ranking[:quota]}
        outsiders = [x for x in d.entries if x.key not in within and x.verdict in ("selected", "undetermined")
                     and (x.verdict == "undetermined" or ranking.place(x, best=True) != ranking.place(x))]
        for e in d.ranking[:quota]:
            if not e.provisional:
                continue
            rivals = sorted((x for x in outsiders if ranking.place(x, best=True) < ranking.place(e)),
                            key=lambda x: ranking.place(x, best=True))
            assert re.findall(r"(\w+) \(missing: ", e.provisional) == [x.name for x in rivals[:MAX_NAMED]]
            more = len(rivals) - MAX_NAMED
            assert (f" or {more} more rise" in e.provisional) == (more > 0), e.provisional
            named += 1
    assert named > 20
