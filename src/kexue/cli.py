"""The ``kexue`` command: mounts each topic's sub-app, plus ``data`` and ``reproduce``.

No logic lives here: commands parse their arguments, call the library and print. Errors a
user can fix (:class:`kexue.errors.KexueError`, bad options) end with one line on stderr and
exit code 2; anything else is a bug (traceback, exit 1).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Annotated

import typer

try:  # typer >= 0.20 carries its own copy of click
    from typer._click import exceptions as _cx
except ImportError:  # older typer uses click itself
    from click import exceptions as _cx

from . import TOPICS, __version__
from . import data as kdata
from .console import JsonOpt, QuietOpt, emit, quiet_if, say
from .errors import KexueError

app = typer.Typer(name="kexue", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="The articles of Scientific Spaces (kexue.fm) as tools. "
                       "Start with `kexue reproduce --quick`, or `kexue TOPIC --help`.")
data_app = typer.Typer(no_args_is_help=True, help="Find, verify and download the data sets.")
app.add_typer(data_app, name="data")


def _version(value: bool) -> None:
    if value:
        print(f"kexue {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="Show the version and exit.")] = False,
          quiet: QuietOpt = False) -> None:
    quiet_if(quiet)


def _warn_broken(topic: str, e: Exception) -> None:
    print(f"kexue: warning: topic {topic!r} could not be loaded ({type(e).__name__}: {e}); "
          f"its commands are unavailable", file=sys.stderr)


def _mount_topics() -> None:
    """Add ``kexue.<topic>.cli.app`` for each topic that has one (its command name: ``NAME`` or the topic)."""
    for topic in TOPICS:
        try:
            mod = importlib.import_module(f"kexue.{topic}.cli")
        except ModuleNotFoundError as e:
            if e.name in (f"kexue.{topic}", f"kexue.{topic}.cli"):
                continue  # topic not built yet
            _warn_broken(topic, e)
            continue
        except Exception as e:  # a broken topic must not take the whole command down
            _warn_broken(topic, e)
            continue
        app.add_typer(mod.app, name=getattr(mod, "NAME", topic))


# ----------------------------------------------------------------------------- data
def _status_table(rows: list[dict]):
    from rich.table import Table

    t = Table("data set", "status", "files", "where", "missing")
    colour = {"complete": "green", "partial": "yellow", "incomplete": "red", "missing": "red"}
    for r in rows:
        miss = ", ".join(r["missing"][:2] + [f"(optional) {m}" for m in r["missing_optional"][:2]])
        t.add_row(r["name"], f"[{colour[r['status']]}]{r['status']}[/]", f"{r['files_present']}/{r['files_total']}",
                  r["path"] or "—", miss)
    return t


@data_app.command("list")
def data_list(json_out: JsonOpt = False) -> None:
    """List every known data set: found or not, where, and whether it is complete."""
    rows = []
    for name, sp in kdata.registry().items():
        rows.append(kdata.locate(name).to_dict() | {"title": sp.title, "licence": sp.licence,
                                                    "homepage": sp.homepage, "files_total": len(sp.files)})
    emit({"datasets": rows, "search_order": ["$KEXUE_DATA", str(kdata.cache_dir()), "system folders"]},
         json_out, lambda r: _status_table(r["datasets"]))


@data_app.command("verify")
def data_verify(names: Annotated[list[str] | None, typer.Argument(help="Data sets to check (default: all found).")]
                = None, json_out: JsonOpt = False) -> None:
    """Check the size and sha256 of every file of a data set; name each corrupt one (exit 2)."""
    if not names:
        names = [n for n in kdata.registry() if kdata.locate(n).root is not None]
    results = [kdata.verify(n).to_dict() for n in names]
    emit({"verified": results}, json_out,
         lambda r: "\n".join(f"{x['name']}: {x['files_present']} files OK ({x['status']}) in {x['path']}"
                             for x in r["verified"]))


@data_app.command("get")
def data_get(name: Annotated[str, typer.Argument(help="Data set to download (see `kexue data list`).")],
             required_only: Annotated[bool, typer.Option("--required-only", help="Skip optional files.")] = False,
             json_out: JsonOpt = False, quiet: QuietOpt = False) -> None:
    """Download a data set into the user cache, checking every file's sha256."""
    quiet_if(quiet, json_out)
    loc = kdata.get(name, include_optional=not required_only)
    emit(loc.to_dict(), json_out, lambda r: f"{r['name']}: {r['status']} in {r['path']}")


@data_app.command("path")
def data_path(name: Annotated[str, typer.Argument(help="Data set name.")]) -> None:
    """Print the folder where a data set was found (exit 2 if it is nowhere)."""
    print(kdata.require(name))


# ----------------------------------------------------------------------------- reproduce
@app.command("reproduce")
def reproduce_cmd(quick: Annotated[bool, typer.Option("--quick", help="Small, fast versions of each experiment.")]
                  = False,
                  out: Annotated[Path, typer.Option("--out", help="Folder for index.html and figures.")]
                  = Path("report"),
                  only: Annotated[list[str] | None, typer.Option("--only", help="Run only this topic (repeatable).")]
                  = None,
                  json_out: JsonOpt = False, quiet: QuietOpt = False) -> None:
    """Run every topic's headline experiment and write one HTML report (default report/index.html)."""
    from . import report
    from .errors import UsageError

    quiet_if(quiet, json_out)
    unknown = sorted(set(only or []) - set(TOPICS) - {"data"})
    if unknown:
        raise UsageError(f"unknown topic(s) {', '.join(unknown)}; choose from {', '.join(TOPICS)}")
    sections = report.reproduce(out, quick=quick, only=only, on_topic=lambda t: say(f"reproducing {t} ..."))
    rows = [report.summary_row(s) for s in sections]
    index = out / "index.html"

    def human(_):
        from rich.table import Table

        t = Table("topic", "status", "passed", "failed", "seconds", title=f"report: {index}")
        for r in rows:
            t.add_row(r["topic"], r["status"], str(r["passed"]), str(r["failed"]), f"{r['seconds']:.1f}")
        return t

    emit({"report": str(index), "sections": rows}, json_out, human)
    if any(s.status == "failed" for s in sections):
        raise typer.Exit(1)


# ----------------------------------------------------------------------------- entry point
_mounted: list[bool] = []


def main(argv: list[str] | None = None) -> int:
    """Console-script entry: run the app with one-line user errors (exit 2) and tracebacks for bugs."""
    if not _mounted:
        _mount_topics()
        _mounted.append(True)
    try:
        rv = app(args=argv, prog_name="kexue", standalone_mode=False)
    except _cx.NoArgsIsHelpError as e:
        print(e.ctx.get_help())
        rv = 0
    except _cx.UsageError as e:
        cmd = e.ctx.command_path if e.ctx else "kexue"
        print(f"{cmd}: error: {e.format_message()} (see '{cmd} --help')", file=sys.stderr)
        rv = 2
    except KexueError as e:
        print(f"kexue: error: {e}", file=sys.stderr)
        rv = e.exit_code
    except (typer.Abort, getattr(_cx, "Abort", typer.Abort), KeyboardInterrupt):
        print("kexue: interrupted", file=sys.stderr)
        rv = 130
    except BrokenPipeError:
        rv = 0
    if argv is None:
        sys.exit(rv if isinstance(rv, int) else 0)
    return rv if isinstance(rv, int) else 0
