"""The code's shape: stages import only downward, no import cycles, every module in a stage."""
import os
import subprocess
import sys

import grimp
import pytest

from helpers import ROOT

STAGES = ("cli", "server", "api", "render", "analysis", "program", "records", "evaluate", "engine", "language", "core")


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("eligibility")


def test_import_linter_layers_contract_is_kept():
    lint = os.path.join(os.path.dirname(sys.executable), "lint-imports")
    done = subprocess.run([lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Stages import only downward KEPT" in done.stdout


def test_every_module_sits_in_one_stage(graph):
    loose = [m for m in graph.modules
             if m not in ("eligibility", "eligibility.__main__") and m.split(".")[1] not in STAGES]
    assert loose == []


def test_no_import_cycle_among_modules(graph):
    """Tarjan's strongly connected components over module imports (imports inside functions included)."""
    modules = sorted(graph.modules)
    index, low, on_stack, stack, cycles = {}, {}, set(), [], []
    counter = [0]

    def visit(start):
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        top = stack.pop()
                        on_stack.discard(top)
                        component.append(top)
                        if top == node:
                            break
                    if len(component) > 1:
                        cycles.append(sorted(component))

    for m in modules:
        if m not in index:
            visit(m)
    # a package's __init__ importing its own submodule is not a cycle of logic
    real = [c for c in cycles if not all(m == c[0] or m.startswith(c[0] + ".") for m in c)]
    assert real == []
