"""PREFECT_API_URL read without importing Prefect (pipeline/runtime/settings.py `PrefectApi`): the
same value Prefect's own settings give, for the variable, the profiles file and the active profile."""

import ast
import os
import subprocess
import sys

import pytest

from pipeline.runtime.settings import PrefectApi

REMOTE = "http://10.1.2.3:4200/api"
ELSEWHERE = "http://10.9.9.9:4200/api"
PROFILES = f"""\
active = "remote"

[profiles.remote]
PREFECT_API_URL = "{REMOTE}"

[profiles.quiet]
PREFECT_LOGGING_LEVEL = "WARNING"
"""


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A Prefect home holding PROFILES, and no PREFECT_* variable but PREFECT_HOME."""
    for name in ("PREFECT_API_URL", "PREFECT_PROFILE", "PREFECT_PROFILES_PATH"):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "prefect-home"
    home.mkdir()
    (home / "profiles.toml").write_text(PROFILES)
    monkeypatch.setenv("PREFECT_HOME", str(home))
    return home


def elsewhere(home, active: str = "there") -> str:
    path = home.parent / "elsewhere.toml"
    path.write_text(f'active = "{active}"\n\n[profiles.there]\nPREFECT_API_URL = "{ELSEWHERE}"\n')
    return str(path)


CASES = {
    "the home's active profile": ({}, REMOTE),
    "a variable over the profile": ({"PREFECT_API_URL": "http://127.0.0.1:9/api"}, "http://127.0.0.1:9/api"),
    "an empty variable is a value": ({"PREFECT_API_URL": ""}, ""),
    "PREFECT_PROFILE picks another": ({"PREFECT_PROFILE": "quiet"}, None),
    "a profile the file lacks": ({"PREFECT_PROFILE": "gone"}, None),
    "an empty PREFECT_PROFILE is unset": ({"PREFECT_PROFILE": ""}, REMOTE),
    "PREFECT_PROFILES_PATH over the home": ({"PREFECT_PROFILES_PATH": elsewhere}, ELSEWHERE),
    "a profiles path that is missing": ({"PREFECT_PROFILES_PATH": lambda home: str(home / "none.toml")}, None),
}


def prefect_reads() -> str | None:
    """PREFECT_API_URL as Prefect itself reads it, in a child: Prefect imported here would keep this
    test's profile as the settings of every later test in the process."""
    script = "from prefect.settings import Settings; print(repr(Settings().api.url))"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return ast.literal_eval(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("env, expected", CASES.values(), ids=CASES.keys())
def test_the_api_url_is_read_as_prefect_reads_it(home, monkeypatch, env, expected):
    for name, value in env.items():
        monkeypatch.setenv(name, value(home) if callable(value) else value)
    assert PrefectApi().url() == expected
    assert prefect_reads() == expected  # Prefect's own reading agrees


def test_an_active_profile_missing_from_the_home_is_the_bundled_default(home, monkeypatch):
    """A profiles file naming an active profile it does not hold: Prefect's bundled `ephemeral`,
    which sets no API."""
    (home / "profiles.toml").write_text('active = "gone"\n')
    assert PrefectApi().url() is None


def test_without_any_profiles_file_the_bundled_local_profile_names_its_server(tmp_path, monkeypatch):
    """No PREFECT_HOME and no ~/.prefect/profiles.toml: Prefect's bundled file, whose `local` profile
    points at a server on port 4200."""
    for name in ("PREFECT_API_URL", "PREFECT_HOME", "PREFECT_PROFILES_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("PREFECT_PROFILE", "local")
    assert PrefectApi().url() == "http://127.0.0.1:4200/api"


def test_a_profiles_file_that_is_not_toml_gives_no_api(home):
    (home / "profiles.toml").write_text("active = \n")
    assert PrefectApi().url() is None


def test_a_local_run_does_not_import_prefect(home, tmp_path):
    """Deciding that a run is local (no API configured, threads) reads no Prefect."""
    (home / "profiles.toml").write_text('active = "quiet"\n[profiles.quiet]\nPREFECT_LOGGING_LEVEL = "WARNING"\n')
    script = (
        "import sys; from cli.main import orchestrated; from pipeline.runtime.settings import Settings; "
        "print(orchestrated(Settings()), 'prefect' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=dict(os.environ), cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False"]
