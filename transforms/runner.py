"""Builds staging.*, intermediate.* and marts.* from the SQL files in this folder.

One model per file: `staging/<name>.sql` becomes the view `staging.<name>` (a source renamed and
typed), `intermediate/<name>.sql` the view `intermediate.<name>` (what the marts derive from the
sources in common: fiscal years, discrete quarters, metrics), `marts/<name>.sql` the table
`marts.<name>`, and `macros/<name>.sql` the DuckDB macro `staging.<name>`: a rule used
twice, or a function analysts call (`staging.xbrl_facts_as_of(date '2026-02-01')`). Each file is
one query (a macro's: its body, an expression or, with `table: true`, a query); `<name>.yml`
beside it documents the model and every column (a macro: its parameters), and becomes COMMENT ON
statements. The run order comes from the references each file makes to other models
(`staging.x`, `intermediate.y`, `marts.z`); nobody keeps a list.

Queries read their parameters with `getvariable('name')`; the runner sets them as bound values.
Views read `as_of` only through the macro `staging.known_by()`, which means "all the data" where
the variable is unset (as in the analyst copy).

A table whose `.yml` declares `incremental: {scope: <predicate>}` can be updated instead of
rebuilt: its query then returns exactly the rows the predicate holds for (the rows the change set
in the variables `changed` and `changed_ciks` reaches), and the runner replaces those rows. Where
no change set is given the predicate holds everywhere and the query returns every row, so a full
build and an incremental one run the same SQL. Its query may read its own earlier rows as
`{{ this }}` (as in dbt): the table itself in an incremental build, and in a full build an empty
relation of its documented columns, so a full build derives everything from its sources.

A mart's `.yml` is its contract: its grain (`unique_key: [columns]`, which every mart declares and
its export is ordered by), its `tests` (`not_null: [columns]`, `accepted_range: {column: {min, max}}`)
and, for an incremental table, `incremental: {scope, also_checked}` (the rows of the mart, aliased `m`,
its check reads beside those in scope). `partition_by: {year: date}` exports a mart that grows with
time as one parquet file per year of that column. The build generates the expectations these state; any other
rule of the mart lives in `expectations/<mart>.py`, found by the mart's name.
"""

from __future__ import annotations

import functools
import graphlib
import re
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import duckdb
import yaml

ROOT = Path(__file__).parent
LAYERS = {"macros": "macro", "staging": "view", "intermediate": "view", "marts": "table"}
SCHEMA = {"macros": "staging", "staging": "staging", "intermediate": "intermediate", "marts": "marts"}
COMMENT = re.compile(r"--[^\n]*")
RELATION = re.compile(r"\b(raw|staging|intermediate|marts|meta)\.(\w+)\b")
NAME = re.compile(r"[a-z_][a-z0-9_]*")  # a model's file name becomes its name in DDL, unquoted
THIS = "{{ this }}"  # an incremental table's own rows, read by its query


# What a mart's parquet can be partitioned by: a part of a date column (date_part), as hive keys.
PARTS = ("year", "month")

# The change set of a full build: every row of every incremental table.
FULL = {"changed": None, "changed_ciks": None}


class ModelError(ValueError):
    pass


@dataclass(frozen=True)
class Contract:
    """What a mart's `.yml` declares that the build checks before publishing it."""

    name: str
    unique_key: tuple[str, ...]
    not_null: tuple[str, ...] = ()
    accepted_range: Mapping[str, tuple[float | None, float | None]] = field(default_factory=dict)
    scope: str | None = None  # an incremental table's: the rows a build derives
    also_checked: str | None = None  # the other rows its check reads in an incremental build
    # Its parquet export as one file per (part, column) value, e.g. ("year", "date"): a mart that
    # grows with time, so an export rewrites only the partitions whose rows changed.
    partition_by: tuple[str, str] | None = None


@dataclass(frozen=True)
class Model:
    schema: str
    name: str
    sql: str
    docs: Mapping[str, Any]  # the model's .yml as parsed, read-only: its shape is checked where it is read
    kind: str = "view"

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.name}"

    def references(self, names: set[str]) -> set[str]:
        return (relations(self.sql) & names) - {self.relation}


def relations(sql: str) -> set[str]:
    """Every `schema.table` of the warehouse's schemas that a query names, comments aside."""
    return {f"{s}.{n}" for s, n in RELATION.findall(COMMENT.sub("", sql))}


# Models do not change while a process runs, and a build asks for them many times (each week the
# timeline scores, each contract): read and parsed once per root, and handed out read-only.
@functools.cache
def discover(root: Path = ROOT) -> tuple[Model, ...]:
    models = []
    for layer, kind in LAYERS.items():
        for path in sorted((root / layer).glob("*.sql")):
            if not NAME.fullmatch(path.stem):
                raise ModelError(f"{path.name}: a model's file name is its SQL name; use a-z, 0-9 and _ only")
            docs_path = path.with_suffix(".yml")
            if not docs_path.exists():
                raise ModelError(f"{path.name} has no {docs_path.name} documenting its columns")
            sql = path.read_text().strip().rstrip(";")
            docs = read_only(yaml.load(docs_path.read_text(), Loader=yaml.CSafeLoader))
            # A view computed more than once per build (read by several marts) can ask to be a table.
            models.append(Model(SCHEMA[layer], path.stem, sql, docs, docs.get("materialized", kind)))
            if layer == "marts":
                contract(models[-1])  # refuses a contract naming no grain or a column it does not document
    return tuple(models)


def read_only(value: Any) -> Any:
    """Parsed YAML with every mapping read-only and every list a tuple: shared by every caller."""
    if isinstance(value, dict):
        return MappingProxyType({k: read_only(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(read_only(v) for v in value)
    return value


def contract(model: Model) -> Contract:
    """A mart's contract, from its `.yml`; ModelError where the grain is missing or a test names a
    column the `.yml` does not document."""
    docs = model.docs
    tests = dict(docs.get("tests") or {})  # type: ignore[call-overload]
    incremental = dict(docs.get("incremental") or {})  # type: ignore[call-overload]
    if not docs.get("unique_key"):
        raise ModelError(f"{model.name}.yml declares no unique_key: a mart's grain, one row per which columns")
    partition = dict(docs.get("partition_by") or {})  # type: ignore[call-overload]
    if len(partition) > 1 or not set(partition) <= set(PARTS):
        raise ModelError(f"{model.name}.yml: partition_by takes one of {', '.join(PARTS)} and a date column")
    ranges = {
        column: (bounds.get("min"), bounds.get("max"))
        for column, bounds in dict(tests.get("accepted_range") or {}).items()
    }
    declared = Contract(
        model.name,
        tuple(docs["unique_key"]),  # type: ignore[arg-type]
        tuple(tests.get("not_null") or ()),
        ranges,
        incremental.get("scope"),
        incremental.get("also_checked"),
        next(iter(partition.items()), None),
    )
    named = {*declared.unique_key, *declared.not_null, *declared.accepted_range, *partition.values()}
    unknown = sorted(named - set(dict(docs.get("columns") or {})))  # type: ignore[call-overload]
    if unknown:
        raise ModelError(f"{model.name}.yml tests columns it does not document: {unknown}")
    return declared


def contracts(root: Path = ROOT) -> list[Contract]:
    """Every mart's contract, by mart name."""
    return [contract(m) for m in discover(root) if m.schema == "marts"]


def run_order(models: Sequence[Model]) -> list[Model]:
    by_relation = {m.relation: m for m in models}
    graph = {m.relation: m.references(set(by_relation)) for m in models}
    return [by_relation[r] for r in graphlib.TopologicalSorter(graph).static_order()]


def build(
    con: duckdb.DuckDBPyConnection,
    variables: Mapping[str, object],
    root: Path = ROOT,
    only: set[str] | None = None,
    incremental: bool = False,
    within: Callable[[str], AbstractContextManager[object]] | None = None,
    comments: bool = True,
) -> list[str]:
    """Build every model (or those in `only`) in dependency order; returns the relations built.
    `incremental`: the caller has set the change set, and incremental tables that exist are updated.
    `within(relation)`: the bound each model's queries run inside (none: unbounded). `comments`:
    False for a build that is rolled back, whose COMMENT ON statements nobody would read."""
    set_variables(con, variables)
    if not incremental:
        set_variables(con, FULL)
    built = []
    for model in run_order(discover(root)):
        if only is not None and model.relation not in only:
            continue
        with within(model.relation) if within else nullcontext():
            if incremental and model.docs.get("incremental") and exists(con, model):
                built.append(update(con, model))
            else:
                built.append(materialize(con, model, comments))
    return built


def unique_keys(root: Path = ROOT) -> dict[str, tuple[str, ...]]:
    """mart name -> its unique key."""
    return {c.name: c.unique_key for c in contracts(root)}


def partitions(root: Path = ROOT) -> dict[str, tuple[str, str]]:
    """mart name -> how its parquet is partitioned, (part, column), for those that declare it."""
    return {c.name: c.partition_by for c in contracts(root) if c.partition_by is not None}


def exists(con: duckdb.DuckDBPyConnection, model: Model) -> bool:
    return bool(
        con.execute(
            "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?", [model.schema, model.name]
        ).fetchall()[0][0]
    )


def update(con: duckdb.DuckDBPyConnection, model: Model) -> str:
    """Replace the rows of an incremental table its scope predicate reaches with what its query
    derives now; the other rows stay as they are."""
    scope = model.docs["incremental"]["scope"]
    # The query reads (as `{{ this }}`) only rows outside its scope, which the delete keeps.
    con.execute(f"delete from {model.relation} where {scope}")
    con.execute(f"insert into {model.relation} by name\n{query(model, incremental=True)}")
    return model.relation


def query(model: Model, incremental: bool) -> str:
    """The model's query, its `{{ this }}` read as the table itself in an incremental build and as
    an empty relation of its documented columns in a full one."""
    if incremental:
        return model.sql.replace(THIS, model.relation)
    columns = ", ".join(f'null as "{c}"' for c in dict(model.docs.get("columns") or {}))  # type: ignore[call-overload]
    return model.sql.replace(THIS, f"(select {columns} where false)")


def tables_depending_on(sources: set[str], root: Path = ROOT) -> set[str]:
    """The tables (marts) that read any of `sources`, directly or through other models. Views need
    no rebuilding: they read their inputs, and the as-of date, when queried."""
    models = discover(root)
    names = {m.relation for m in models} | sources
    reached = set(sources)
    for model in run_order(models):
        if model.references(names) & reached:
            reached.add(model.relation)
    return {m.relation for m in models if m.kind == "table" and m.relation in reached}


def lineage(names: set[str], root: Path = ROOT) -> set[str]:
    """`names` and every relation they read, through the models, down to the raw tables."""
    models = {m.relation: m for m in discover(root)}
    reached: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name not in reached:
            reached.add(name)
            todo.extend(relations(models[name].sql) if name in models else ())
    return reached


def materialize(con: duckdb.DuckDBPyConnection, model: Model, comments: bool = True) -> str:
    """Create or replace one model's view, table or macro, with its comments (unless `comments` is False)."""
    if model.kind == "macro":
        table = bool(model.docs.get("table"))
        parameters = ", ".join(model.docs.get("parameters") or {})
        con.execute(f"create or replace macro {model.relation}({parameters}) as {'table ' if table else ''}{model.sql}")
        if comments:
            con.execute(f"comment on macro {'table ' if table else ''}{model.relation} is {literal(macro_doc(model))}")
        return model.relation
    other = "view" if model.kind == "table" else "table"
    if con.execute(
        f"select count(*) from duckdb_{other}s() where schema_name = ? and {other}_name = ?", [model.schema, model.name]
    ).fetchall()[0][0]:
        con.execute(f"drop {other} {model.relation}")  # a model whose materialization changed
    con.execute(f"create or replace {model.kind} {model.relation} as\n{query(model, incremental=False)}")
    if comments:
        comment(con, model, model.kind)
    return model.relation


def macro_doc(model: Model) -> str:
    """The description, then each parameter's."""
    parameters = dict(model.docs.get("parameters") or {})
    return " ".join([str(model.docs["description"]).strip(), *(f"{n}: {d}" for n, d in parameters.items())])


def set_variables(con: duckdb.DuckDBPyConnection, variables: Mapping[str, object]) -> None:
    """The values queries read with getvariable(). Only tables may read them: a view would read
    them on every query, and the analyst copy has none set."""
    for name, value in variables.items():
        con.execute(f"set variable {name} = ?", [value])


def comment(con: duckdb.DuckDBPyConnection, model: Model, kind: str) -> None:
    columns = [
        r[0]
        for r in con.execute(
            "select column_name from duckdb_columns() where schema_name = ? and table_name = ? order by column_index",
            [model.schema, model.name],
        ).fetchall()
    ]
    documented = dict(model.docs.get("columns") or {})
    undocumented = [c for c in columns if not documented.get(c)]
    stale = sorted(set(documented) - set(columns))
    if undocumented or stale:
        raise ModelError(f"{model.relation}: undocumented columns {undocumented}, documented but absent {stale}")
    con.execute(f"comment on {kind} {model.relation} is {literal(model.docs['description'])}")
    for column in columns:
        con.execute(f'comment on column {model.relation}."{column}" is {literal(documented[column])}')


def literal(text: object) -> str:
    """A SQL string literal. COMMENT ON takes no bound parameters; the text is our own YAML."""
    return "'" + str(text).strip().replace("'", "''") + "'"


def metric_periods(root: Path = ROOT) -> dict[str, str]:
    """metric -> duration or instant: the metrics intermediate.metric_quarters derives from the concept
    map, as its `.yml` declares them."""
    [model] = [m for m in discover(root) if m.relation == "intermediate.metric_quarters"]
    return dict(model.docs["periods"])
