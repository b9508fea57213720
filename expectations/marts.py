"""A mart's suite: the expectations its contract (the `.yml` beside its SQL) states, generated, plus
the rules of `expectations/<mart>.py` where that module exists.

Such a module holds what a contract cannot state (an identity between columns, a pattern, a rule
across rows) and has the shape of `Rules`. A mart without one is checked on its contract alone.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, cast

import duckdb

if TYPE_CHECKING:  # Great Expectations is imported by the functions that build a suite
    import great_expectations as gx
    from great_expectations import expectations as gxe


class Rules(Protocol):
    """`expectations/<mart>.py`."""

    # The columns derived() and expectations() read beside the contract's (None: every column):
    # the mart's other columns are not fetched for the check.
    COLUMNS: tuple[str, ...] | None

    def derived(self, variables: Mapping[str, object]) -> dict[str, str]:
        """The columns the expectations read that the mart does not hold: name -> SQL over its rows."""
        ...

    def expectations(self) -> list[gxe.Expectation]: ...


@dataclass(frozen=True)
class MartSuite:
    """What pipeline.runtime.runs.check reads of a suite (NAME, ID_COLUMNS, suite()), for one mart."""

    NAME: str
    ID_COLUMNS: tuple[str, ...]  # the grain: failing rows are named by it
    not_null: tuple[str, ...] = ()
    accepted_range: Mapping[str, tuple[float | None, float | None]] = field(default_factory=dict)
    rules: Rules | None = None

    def suite(self) -> gx.ExpectationSuite:
        import great_expectations as gx
        from great_expectations import expectations as gxe

        s = gx.ExpectationSuite(name=self.NAME)
        if len(self.ID_COLUMNS) == 1:  # GX's compound check wants two columns or more
            [key] = self.ID_COLUMNS
            s.add_expectation(gxe.ExpectColumnValuesToBeUnique(column=key, description=f"one row per {key}"))
        else:
            s.add_expectation(
                gxe.ExpectCompoundColumnsToBeUnique(
                    column_list=list(self.ID_COLUMNS), description=f"one row per ({', '.join(self.ID_COLUMNS)})"
                )
            )
        for column in self.not_null:
            s.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=column, description=f"{column} is not null"))
        for column, (low, high) in self.accepted_range.items():
            s.add_expectation(
                gxe.ExpectColumnValuesToBeBetween(
                    column=column, min_value=low, max_value=high, description=range_description(column, low, high)
                )
            )
        for expectation in self.rules.expectations() if self.rules else ():
            s.add_expectation(expectation)
        return s

    def rows(
        self, con: duckdb.DuckDBPyConnection, query: str, variables: Mapping[str, object]
    ) -> duckdb.DuckDBPyRelation:
        """The rows of `query` (the mart's, in the columns the suite reads) with the rules' derived
        columns: a relation the suite runs over where it is, no frame pulled from it."""
        derived = self.rules.derived(variables) if self.rules else {}
        extra = "".join(f", {sql} as {name}" for name, sql in derived.items())
        return con.sql(f"select *{extra} from ({query})")

    @property
    def columns(self) -> tuple[str, ...] | None:
        """The columns the suite reads (None: every column)."""
        contract = (*self.ID_COLUMNS, *self.not_null, *self.accepted_range)
        if self.rules is None:
            return tuple(dict.fromkeys(contract))
        if self.rules.COLUMNS is None:
            return None
        return tuple(dict.fromkeys((*contract, *self.rules.COLUMNS)))


def range_description(column: str, low: float | None, high: float | None) -> str:
    """`capex >= 0`, `x <= 1`, `drawdown within [-1, 0]`."""
    if high is None:
        return f"{column} >= {low}"
    if low is None:
        return f"{column} <= {high}"
    return f"{column} within [{low}, {high}]"


def mart_suite(
    name: str,
    unique_key: Sequence[str],
    not_null: Sequence[str] = (),
    accepted_range: Mapping[str, tuple[float | None, float | None]] | None = None,
) -> MartSuite:
    """The suite of the mart `name` with this contract, and the rules of `expectations/<name>.py`."""
    module = f"{__package__}.{name}"
    rules = cast(Rules, importlib.import_module(module)) if importlib.util.find_spec(module) else None
    if rules is not None and not callable(getattr(rules, "expectations", None)):
        # A mart named like a module of another kind (validate, rules, raw_prices) would take its rules.
        raise ValueError(f"expectations/{name}.py holds no expectations() for the mart {name}: rename the mart")
    return MartSuite(name, tuple(unique_key), tuple(not_null), dict(accepted_range or {}), rules)
