"""The command line: parse options, call the library, hand the results to a reporter. Nothing else lives here.

One module per command (`classify`, `show`, `report`, `summary`, `export`, `watch`), each a click command registered
on the group below; the options they share are defined once in `options`, and how a command reports problems and
ends is in `session`. Heavy modules (pandas, numpy, plotly, protobuf) are imported inside the commands, so
`--help` and `--version` start as fast as Python does.
"""

from __future__ import annotations

import click

from losscli._version import __version__
from losscli.cli.classify import classify
from losscli.cli.export import export
from losscli.cli.options import OutputFormat
from losscli.cli.report import report
from losscli.cli.session import ExitStatus
from losscli.cli.show import show
from losscli.cli.summary import summary
from losscli.cli.watch import watch

__all__ = ["ExitStatus", "OutputFormat", "app", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, no_args_is_help=True)
@click.version_option(__version__, "--version", prog_name="losscli", message="%(prog)s %(version)s")
def app() -> None:
    """Tell, for every training run under the given paths, whether its loss curve is smooth or stepped at epoch
    boundaries, with the evidence."""


for _command in (classify, show, report, summary, export, watch):
    app.add_command(_command)


def main() -> None:
    app(prog_name="losscli")
