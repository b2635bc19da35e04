"""The CLI harness of ``tests/cli`` serves the sync commands' tests too."""

from tests.cli.conftest import harness, run_cli

__all__ = ["harness", "run_cli"]
