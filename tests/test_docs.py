"""The docs site: docs/tables.md is what `python -m transforms.docs` writes from the models' .yml
files, and README stays a first screen that links into docs/."""

import re

from tests.conftest import PROJECT
from transforms.docs import PAGE, render


def test_the_committed_tables_page_is_what_the_generator_writes():
    assert PAGE == PROJECT / "docs" / "tables.md"
    assert PAGE.read_text() == render(), "docs/tables.md is stale: run `.venv/bin/python -m transforms.docs`"


def test_a_model_and_a_macro_render_with_their_description_grain_and_columns(tmp_path):
    for layer in ("macros", "staging", "marts"):
        (tmp_path / layer).mkdir()
    (tmp_path / "marts" / "quotes.sql").write_text("select 1 as day, 'A' as ticker")
    (tmp_path / "marts" / "quotes.yml").write_text(
        "unique_key: [ticker, day]\n"
        "description: >\n  Quotes, one row\n  per ticker and day.\n"
        "columns:\n  day: The day.\n  ticker: 'A symbol: A|B means either.'\n"
    )
    (tmp_path / "macros" / "twice.sql").write_text("2 * x")
    (tmp_path / "macros" / "twice.yml").write_text("description: Doubles x.\nparameters:\n  x: A number.\n")
    page = render(tmp_path)
    # No staging or intermediate model here: their sections are left out.
    assert "## Staging" not in page and "## Intermediate" not in page
    marts = page[page.index("## Marts") : page.index("## Macros")]
    assert marts == (
        "## Marts (tables)\n\n"
        "### `marts.quotes`\n\n"
        "Quotes, one row per ticker and day.\n\n"
        "Grain: one row per (`ticker`, `day`).\n\n"
        "| column | meaning |\n|---|---|\n"
        "| `day` | The day. |\n"
        "| `ticker` | A symbol: A\\|B means either. |\n\n"
    )
    assert page[page.index("## Macros") :] == (
        "## Macros\n\n### `staging.twice(x)`\n\nDoubles x.\n\n| parameter | meaning |\n|---|---|\n| `x` | A number. |\n"
    )


def test_every_model_of_transforms_has_its_section():
    headings = re.findall(r"^### `(\w+)\.(\w+)", PAGE.read_text(), re.M)
    files = sorted(p.stem for p in (PROJECT / "transforms").glob("*/*.sql"))
    assert sorted(name for _, name in headings) == files
    assert ("marts", "relative_performance") in headings and ("staging", "known_by") in headings


def test_readme_is_a_first_screen_that_links_into_the_site():
    readme = (PROJECT / "README.md").read_text()
    assert len(readme.splitlines()) < 200
    assert readme.startswith("# thesis-pipeline\n") and "```\nmake demo\nmake test\n```" in readme[:1200]
    links = re.findall(r"\]\((docs/[\w.]+\.md)\)", readme)
    assert {"docs/configuration.md", "docs/operations.md", "docs/tables.md"} <= set(links)
    assert all((PROJECT / link).is_file() for link in links)
    assert readme.index("<!-- run-parameters:start -->") < readme.index("<!-- run-parameters:end -->")
