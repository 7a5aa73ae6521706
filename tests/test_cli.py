"""`corpusctl`: every command teaches through --help, and start-up stays light."""

from __future__ import annotations

import subprocess
import sys

from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from corpus import __version__
from corpus.cli import app

runner = CliRunner()


def _command_paths(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in sorted(group.commands.items()):
        found.append((*prefix, name))
        if hasattr(command, "commands"):
            found.extend(_command_paths(command, (*prefix, name)))
    return found


COMMANDS = _command_paths(typer.main.get_command(app))  # type: ignore[arg-type]


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"corpusctl {__version__}"


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help(command: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output and len(result.output) > 200


def test_help_does_not_import_the_heavy_libraries() -> None:
    code = (
        "import sys; from corpus.cli import app; "
        "heavy = [m for m in ('polars', 'dvc', 'sigstore', 'pandera', 'sklearn') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_a_sample_too_small_for_its_planted_cases_is_a_usage_error(tmp_path: Any) -> None:
    result = runner.invoke(app, ["sample", "generate", "--rows", "-5", "--root", str(tmp_path)])
    assert result.exit_code == 2 and "Invalid value for '--rows'" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not any(tmp_path.iterdir())
