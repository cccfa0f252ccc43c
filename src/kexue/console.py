"""Shared command-line pieces: the common options and the one way to print results.

Every verb takes ``--json`` (exactly one JSON object on stdout, nothing else there) and, where it
works for long, ``--quiet``. Topic ``cli.py`` files import the option types from here:

    from kexue.console import JsonOpt, QuietOpt, emit

    @app.command()
    def run(json_out: JsonOpt = False, quiet: QuietOpt = False):
        emit({"answer": 42}, json_out, lambda r: f"the answer is {r['answer']}")
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer

from .utils import _json_default, set_quiet

JsonOpt = Annotated[bool, typer.Option("--json", help="Print exactly one JSON object on stdout.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or chatter.")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Random seed; the same seed gives the same result.")]


def print_json(obj: Any) -> None:
    """Print ``obj`` as one JSON document on stdout (numpy values and paths are converted)."""
    sys.stdout.write(json.dumps(obj, default=_json_default, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def emit(result: Any, json_out: bool, human: Callable[[Any], Any] | None = None) -> None:
    """Print ``result`` as JSON (``--json``) or through ``human`` (a string, a rich renderable, or None)."""
    if json_out:
        print_json(result)
        return
    shown = human(result) if human is not None else json.dumps(result, indent=2, default=_json_default)
    if shown is not None:
        from rich.console import Console

        Console(soft_wrap=True).print(shown, highlight=False)


def quiet_if(quiet: bool, json_out: bool = False) -> None:
    """Turn progress bars off for ``--quiet`` (and for ``--json``, whose stdout must stay clean)."""
    if quiet or json_out:
        set_quiet(True)


def say(message: str) -> None:
    """A short status line on stderr (skipped when quiet)."""
    from .utils import is_quiet

    if not is_quiet():
        print(message, file=sys.stderr)
