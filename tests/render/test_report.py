"""`eligibility report`: the self-contained HTML report, parsed back and rendered in headless Chromium."""
import hashlib
import os
import re
from html.parser import HTMLParser

import pytest

from chromium_cdp import Browser, find_chromium
from helpers import APPLICANTS, ROOT, RULES

ARTIFACTS = os.path.join(ROOT, "test-artifacts")
SELECTED = {"Naver Cloud", "Upstage", "SK Telecom", "NC AI", "LG AI Research"}
N_CRITERIA = 7                   # the August rules' criteria, the published decision included
EVIL = "<script>alert(1)</script>"
VOID = {"meta", "link", "br", "img", "input", "hr", "col", "area", "base", "source", "wbr", "path", "rect", "line",
        "circle", "stop"}


class Page(HTMLParser):
    """Elements with their ancestors, and the text under selected elements, from an HTML page."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict, tuple]] = []   # (tag, attrs, ancestors as (tag, class))
        self.stack: list[tuple[str, str]] = []
        self.text: list[tuple[tuple, str]] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.elements.append((tag, attrs, tuple(self.stack)))
        if tag not in VOID:
            self.stack.append((tag, attrs.get("class") or ""))

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs), tuple(self.stack)))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        self.text.append((tuple(self.stack), data))

    def find(self, tag: str, inside: str = "", cls: str = "") -> list[dict]:
        """Elements `tag` (with class `cls`) under an element whose class list contains `inside`."""
        return [a for t, a, anc in self.elements if t == tag and (not cls or cls in (a.get("class") or "").split())
                and (not inside or any(inside in c.split() for _, c in anc))]

    def all_text(self) -> str:
        return "".join(d for _, d in self.text)


def decision_rows(html: str) -> list[list[str]]:
    """The decision table as cell texts (rank, applicant, verdict, score, failed gates, reason)."""
    body = html.split('<table class="decision">', 1)[1].split("</table>", 1)[0]
    rows = []
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", body.split("<tbody>", 1)[1], re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)
        rows.append([" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in cells])
    return rows


@pytest.fixture(scope="module")
def shipped_report(tmp_path_factory):
    from eligibility.program.batch import collect_records
    from eligibility.cli.report import program_summary, reproduce_command
    from eligibility.render.html import render_report
    from eligibility import api
    program = api.load_rules(RULES)
    result, records = collect_records(program, [APPLICANTS])
    assert not result.errors
    html = render_report(records, result.decision, program_summary(program),
                         command=reproduce_command(["applicants"], "rules/sovereign-ai-2025.yaml", "report.html",
                                                   "durable", [], None),
                         generated="2025-08-04 00:00 UTC")
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(html, encoding="utf-8")
    return str(path), html


def evil_profiles(tmp_path) -> str:
    """A copy of the shipped KT profile with a script as its name and a javascript: evidence link."""
    text = open(os.path.join(APPLICANTS, "kt.yaml"), encoding="utf-8").read()
    text = re.sub(r"(?m)^name: .*$", "name: '" + EVIL + "'", text, count=1)
    text = re.sub(r"(?m)^(\s+)locator: (.*)$", r"\1url: 'javascript:alert(2)'", text, count=1)
    d = tmp_path / "evil"
    d.mkdir()
    (d / "evil.yaml").write_text(text, encoding="utf-8")
    return str(d)


def test_cli_writes_the_report(run_cli, tmp_path):
    out = tmp_path / "report.html"
    r = run_cli("report", "-o", str(out))
    assert r.returncode == 0, r.stderr
    html = out.read_text(encoding="utf-8")
    page = Page(html)
    rows = decision_rows(html)
    assert len(rows) == 7
    by_name = {row[1]: row for row in rows}
    assert {n for n, row in by_name.items() if "selected" in row[2] and "not" not in row[2]} == SELECTED
    assert [row[0] for row in rows[:5]] == ["1", "2", "3", "4", "5"]
    for name in ("KT", "Kakao"):
        assert "excluded" in by_name[name][2] and "foreign_independence" in by_name[name][5]
        # the exclusion rests on a press reading, and the page says so in the row and its badge
        assert "basis: reported, unofficial" in by_name[name][3]
        assert "excluded on a press reading" in by_name[name][6]
    assert "points: calibration, not published" in page.all_text()
    assert len(page.find("td", inside="matrix", cls="cell")) == 7 * N_CRITERIA
    # header: rules hash, engine version, reproducible command
    digest = hashlib.sha256(open(RULES, "rb").read()).hexdigest()
    text = page.all_text()
    assert digest in text and "durable-rules 2.0.28" in text
    assert "eligibility report applicants --rules rules/sovereign-ai-2025.yaml -o" in text
    # self-contained: no scripts, no external resources
    assert not page.find("script") and not page.find("link") and not page.find("img") and not page.find("iframe")
    assert not re.search(r"""(src=|@import|url\((?!#))""", html)


def test_chart_has_a_bar_per_applicant_threshold_and_quota_cut(run_cli, tmp_path):
    out = tmp_path / "report.html"
    r = run_cli("report", "--param", "quota=3", "-o", str(out))
    assert r.returncode == 0, r.stderr
    html = out.read_text(encoding="utf-8")
    page = Page(html)
    bars = page.find("rect", inside="bar", cls="fill")
    assert len(bars) == 7                       # every applicant scores above 0
    widths = [float(b["width"]) for b in bars]
    scores = [int(row[4].split()[0]) for row in decision_rows(html)]
    # bar lengths are proportional to the scores, on a 0-100 axis
    assert all(abs(w / s - widths[0] / scores[0]) < 0.01 for w, s in zip(widths, scores))
    threshold = page.find("line", cls="threshold")[0]
    assert abs(float(threshold["x1"]) - float(bars[0]["x"]) - widths[0] * 50 / scores[0]) < 0.2
    cut = page.find("line", cls="cut")
    assert len(cut) == 1
    ys = [float(b["y"]) for b in bars]
    assert ys[2] < float(cut[0]["y1"]) < ys[3]  # between the 3rd and 4th ranked
    assert "quota cut: 3 selected, 2 eligible not selected" in page.all_text()
    assert sum("eligible, not selected" in row[2] for row in decision_rows(html)) == 2


def test_input_text_is_escaped(tmp_path):
    from eligibility import api
    from eligibility.program.batch import collect_records
    from eligibility.cli.report import program_summary
    from eligibility.render.html import render_report
    program = api.load_rules(RULES)
    result, records = collect_records(program, [evil_profiles(tmp_path)])
    html = render_report(records, result.decision, program_summary(program), command="eligibility report x",
                         generated="now")
    page = Page(html)
    assert not page.find("script")
    assert EVIL in page.all_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    hrefs = [a.get("href", "") for a in page.find("a")]
    assert not any(h.strip().lower().startswith("javascript:") for h in hrefs)


def test_bad_paths_are_input_errors(run_cli, tmp_path):
    r = run_cli("report", "nowhere/", "-o", str(tmp_path / "r.html"))
    assert r.returncode == 2
    assert r.stderr.strip() == "eligibility: error: nowhere/: no such file or directory"
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: bad\nname: Bad\nfacts:\n  no_such_fact: {value: 1}\n")
    r = run_cli("report", str(bad), "-o", str(tmp_path / "r.html"))
    assert r.returncode == 2 and "bad.yaml:4:3:" in r.stderr and "unknown fact 'no_such_fact'" in r.stderr
    assert not (tmp_path / "r.html").exists()


def chromium_or_skip() -> str:
    binary = find_chromium()
    if not binary:
        pytest.skip("no chromium binary found (install Debian's `chromium` package, or set $CHROMIUM)")
    return binary


def test_report_in_headless_chromium(shipped_report):
    binary = chromium_or_skip()
    path, _ = shipped_report
    url = "file://" + path
    os.makedirs(ARTIFACTS, exist_ok=True)
    with Browser(binary) as browser:
        browser.open(url)
        assert browser.evaluate("document.querySelectorAll('table.decision tbody tr').length") == 7
        assert browser.evaluate("document.querySelectorAll('table.matrix td.cell').length") == 7 * N_CRITERIA
        assert browser.evaluate("document.querySelectorAll('svg.chart g.bar').length") == 7
        assert browser.evaluate("document.querySelectorAll('details.trace').length") == 7
        assert browser.evaluate("document.scripts.length") == 0
        # the chart is laid out (has a real size), the page is wider than tall only if something broke
        width = browser.evaluate("document.querySelector('svg.chart').getBoundingClientRect().width")
        assert width > 600
        browser.screenshot(os.path.join(ARTIFACTS, "report.png"))
        browser.evaluate("document.querySelectorAll('details.trace').forEach(d => d.open = true); true")
        browser.screenshot(os.path.join(ARTIFACTS, "report-traces-open.png"))
        requests = browser.requests()
        errors = browser.console_errors()
    assert requests == [url], f"the page requested more than itself: {requests}"
    assert errors == []
    png = open(os.path.join(ARTIFACTS, "report.png"), "rb").read()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000


def test_script_in_a_name_is_not_run_in_the_browser(tmp_path, run_cli):
    binary = chromium_or_skip()
    out = tmp_path / "evil.html"
    r = run_cli("report", evil_profiles(tmp_path), "-o", str(out))
    assert r.returncode == 0, r.stderr
    with Browser(binary) as browser:
        browser.open("file://" + str(out))
        assert browser.evaluate("document.scripts.length") == 0
        assert browser.evaluate(f"document.body.textContent.includes({EVIL!r})") is True
        errors = browser.console_errors()
    assert not any(e.startswith("dialog") for e in errors) and errors == []
