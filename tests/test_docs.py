"""The README and the CLI agree: every command has help and an example, the exit codes are the documented ones,
and CI runs exactly the README's test command."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from conftest import ROOT

from losscli.cli import ExitStatus, OutputFormat, app

README = (ROOT / "README.md").read_text()
COMMANDS = sorted(app.commands)


def test_the_commands_are_the_documented_ones() -> None:
    assert COMMANDS == ["classify", "export", "report", "show", "summary", "watch"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example_and_a_readme_example(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert f"Example: losscli {command}" in result.stdout
    assert f"losscli {command} " in README


def test_every_exit_code_is_in_the_readme_table() -> None:
    table = dict(re.findall(r"^\| (\d+) \| (.+) \|$", README, flags=re.MULTILINE))
    assert sorted(int(code) for code in table) == sorted(int(s) for s in ExitStatus)


def test_every_output_format_is_documented() -> None:
    for fmt in OutputFormat:
        assert f"`{fmt.value}`" in README


def test_ci_runs_the_readme_test_command() -> None:
    blocks = re.findall(r"```sh\n(.+?)\n```", README, flags=re.DOTALL)
    install_and_run, install_and_test = blocks[0], blocks[1]
    assert "losscli classify sample_logs/" in install_and_run
    assert install_and_test in (ROOT / ".ci" / "run").read_text()
