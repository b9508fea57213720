"""Run parameters declared once (pipeline/runtime/run_parameters.py): the flags, the flows' schema, the
settings and README's table all follow the model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pytest
from pydantic import Field

from cli.docs import README, table, with_table
from cli.main import flow_parameters, given, parser, settings_from
from pipeline.runtime.run_parameters import Exposed, RunParameters

THE_DEPLOYMENTS_PARAMETERS = {
    "data_dir",
    "replay_from",
    "tickers",
    "tickers_file",
    "benchmark",
    "anchor_date",
    "as_of",
    "full_build",
    "task_runner",
    "dask_address",
    "sec_bulk",
}


class Extended(RunParameters):
    lookback_days: Annotated[int | None, Exposed(("daily",), ("run",))] = Field(
        None, description="calendar days fetched again before the last stored date"
    )


def test_a_field_added_to_the_model_is_a_flag_a_setting_a_flow_parameter_and_a_readme_row(tmp_path, capsys):
    from prefect import flow
    from prefect.exceptions import ParameterTypeError

    from flows.parameters import takes_run_parameters

    args = parser(Extended).parse_args(["run", "--lookback-days", "3", "--data-dir", str(tmp_path)])
    assert given(args, Extended) == {"lookback_days": "3", "data_dir": tmp_path}
    # It is a setting too (THESIS_LOOKBACK_DAYS, default 10): the flag overrides it.
    assert settings_from(args, Extended).lookback_days == 3
    with pytest.raises(SystemExit):
        parser(Extended).parse_args(["build", "--lookback-days", "3"])  # only `run` takes it
    assert "unrecognized arguments: --lookback-days 3" in capsys.readouterr().err

    probe = flow(name="probe")(takes_run_parameters("daily", Extended)(lambda parameters: parameters))
    schema = probe.parameters.properties["lookback_days"]
    assert schema["description"] == "calendar days fetched again before the last stored date"
    assert {"type": "integer"} in schema["anyOf"]
    assert probe.fn(lookback_days=3).lookback_days == 3
    with pytest.raises(ParameterTypeError, match="lookback_days"):
        probe.validate_parameters({"lookback_days": "many"})

    assert (
        "| `lookback_days` | `daily` | `--lookback-days` (run) | calendar days fetched again before the last stored "
        "date |"
    ) in table(Extended).splitlines()


def test_the_flags_given_override_the_settings(tmp_path):
    args = parser().parse_args(["run", "--tickers", "amd", "--anchor-date", "2025-09-02", "--data-dir", str(tmp_path)])
    settings = settings_from(args)
    assert settings.tickers == ("AMD",)
    assert str(settings.anchor_date) == "2025-09-02"
    assert settings.data_dir == tmp_path


def test_every_parameter_of_the_deployment_has_a_description():
    from flows.daily import daily

    properties = daily.parameters.properties
    assert set(properties) == THE_DEPLOYMENTS_PARAMETERS
    assert all(p.get("description") for p in properties.values())


def test_command_line_values_become_json_parameters(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    parameters = flow_parameters(
        {"tickers": "nvda, orcl", "data_dir": Path("var"), "import_files": [Path("a.csv")], "full_build": True}
    )
    assert parameters == {
        "tickers": ["NVDA", "ORCL"],
        "data_dir": str(tmp_path / "var"),
        "import_files": [str(tmp_path / "a.csv")],
        "full_build": True,
    }


def test_readme_s_run_parameters_are_the_model_s():
    text = README.read_text()
    assert with_table(text) == text, "README's run parameters differ from the model: run `python -m cli.docs`"
