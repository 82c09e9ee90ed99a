"""`eligibility schema`: JSON Schemas of rules files and profiles, for editors and CI."""
from __future__ import annotations

import json
from typing import Optional

import typer

from eligibility import api
from eligibility.render.output import write_atomic
from eligibility.language.schema import applicant_schema, rules_schema
from eligibility.cli.app import OutputOption, app


def schema_text(kind: str, rules: Optional[str] = None) -> str:
    """The schema as the command prints it (the committed docs/schema files are this text)."""
    if kind == "rules":
        data = rules_schema()
    else:
        data = applicant_schema(api.load_rules(rules) if rules else None)
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


@app.command()
def schema(
    kind: str = typer.Argument(..., metavar="KIND", help="rules or applicant."),
    rules: Optional[str] = typer.Option(None, "--rules", "-r", metavar="FILE",
                                        help="applicant only: list this program's facts with their value types."),
    output: Optional[str] = OutputOption,
) -> None:
    """Print a JSON Schema (draft 2020-12) for rules files or applicant profiles.

    Point an editor at it with a first line such as
    `# yaml-language-server: $schema=../docs/schema/rules.schema.json`.
    """
    if kind not in ("rules", "applicant"):
        raise typer.BadParameter("choose rules or applicant", param_hint="KIND")
    if rules and kind != "applicant":
        raise typer.BadParameter("--rules applies to the applicant schema", param_hint="--rules")
    write_atomic(output, schema_text(kind, rules))
