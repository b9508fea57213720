"""README's table of run parameters, generated from `RunParameters`.

`python -m cli.docs` rewrites the block between the markers in README.md; tests/test_run_parameters.py
fails when the README's block is not what the model generates.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pipeline.runtime.run_parameters import RunParameters, exposed
from pipeline.runtime.settings import PROJECT

README = PROJECT / "README.md"
START = "<!-- run-parameters:start -->"
END = "<!-- run-parameters:end -->"


def table(model: type[RunParameters] = RunParameters) -> str:
    """One row per parameter: its name, the flows that take it, its `thesis` flag and commands."""
    rows = ["| parameter | flows | `thesis` flag (commands) | meaning |", "|---|---|---|---|"]
    for name, (info, where) in exposed(model).items():
        flag = where.flag or f"--{name.replace('_', '-')}"
        shown = f"`{flag}`" if flag.startswith("-") else f"`{where.metavar or flag}...`"
        commands = f"{shown} ({', '.join(where.commands)})" if where.commands else ""
        flows = ", ".join(f"`{flow}`" for flow in where.flows)
        meaning = (info.description or "").replace("|", "\\|")
        rows.append(f"| `{name}` | {flows} | {commands} | {meaning} |")
    return "\n".join(rows)


def with_table(readme: str, model: type[RunParameters] = RunParameters) -> str:
    """`readme` with the block between the markers replaced by the model's table."""
    before, rest = readme.split(START, 1)
    _, after = rest.split(END, 1)
    return f"{before}{START}\n{table(model)}\n{END}{after}"


def main(readme: Path = README) -> int:
    text = readme.read_text()
    updated = with_table(text)
    if updated != text:
        readme.write_text(updated)
        print(f"updated the run parameters in {readme}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
