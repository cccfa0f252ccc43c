"""``kexue unshred``: reassemble shredded pages; shred your own pages; score a result."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from ..console import JsonOpt, QuietOpt, emit, quiet_if, say
from ..errors import InputError, UsageError

app = typer.Typer(no_args_is_help=True,
                  help="Reassemble shredded pages automatically: strips, cross-cut pieces, two-sided pieces "
                       "(CUMCM 2013 problem B and any page of text). Try `kexue unshred demo`.")

RowsOpt = Annotated[int | None, typer.Option("--rows", help="Rows of pieces on the page (default: worked out).")]
ColsOpt = Annotated[int | None, typer.Option("--cols", help="Columns of pieces on the page (default: worked out).")]


def _write_outputs(sol, out: Path, report: dict) -> None:
    from PIL import Image

    from ..utils import atomic_path, atomic_write, atomic_write_json
    from .render import confidence_image, render
    from .synth import grid_to_csv

    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".kexue-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        raise InputError(f"cannot write to the output folder {out}: {e.strerror or e}") from None
    # fast PNG compression: half the time of the default level (0.13 instead of 0.27 s for the
    # three pictures of CUMCM attachment 5), files within 12 % of its size
    with atomic_path(out / "page.png") as tmp:
        Image.fromarray(render(sol)).save(tmp, format="PNG", compress_level=1)
    with atomic_path(out / "confidence.png") as tmp:
        Image.fromarray(confidence_image(sol)).save(tmp, format="PNG", compress_level=1)
    if sol.pieces.two_sided:
        with atomic_path(out / "page_back.png") as tmp:
            Image.fromarray(render(sol, back=True)).save(tmp, format="PNG", compress_level=1)
        atomic_write(out / "grid_back.csv", grid_to_csv(sol.grid_back))
    atomic_write_json(out / "report.json", report)
    atomic_write(out / "grid.csv", grid_to_csv(sol.grid))  # last: grid.csv means "done"


@app.command()
def solve(pieces_dir: Annotated[Path, typer.Argument(help="Folder of piece images (bmp, png, jpg, tif); "
                                                            "a piece's id is its file stem.")],
          out: Annotated[Path, typer.Option("--out", "-o", help="Folder for grid.csv, page.png, "
                                                                "confidence.png and report.json.")],
          rows: RowsOpt = None, cols: ColsOpt = None,
          double_sided: Annotated[bool, typer.Option("--double-sided", help="Force two-sided mode (stems "
                                                     "000a/000b are recognised without it).")] = False,
          lock: Annotated[list[str] | None, typer.Option("--lock", help="A:B = B is right of A; A/B = B is "
                                                         "below A. Repeatable.")] = None,
          forbid: Annotated[list[str] | None, typer.Option("--forbid", help="A:B or A/B that must NOT hold. "
                                                           "Repeatable.")] = None,
          json_out: JsonOpt = False, quiet: QuietOpt = False) -> None:
    """Reassemble the pieces in PIECES_DIR into a page, with no human help.

    The layout (one row of strips, or a grid) comes from the piece count and shape; if it is
    ambiguous you are asked for --rows/--cols. Writes OUT/grid.csv (rows of piece ids, top to
    bottom, as in the CUMCM answer files), OUT/grid_back.csv for two-sided sets, page.png,
    confidence.png (least certain seams in red) and report.json (times, confidences).

    Example: kexue unshred solve attachment3/ --out result/
    """
    from .pieces import load_pieces
    from .solver import Constraint
    from .solver import solve as do_solve

    quiet_if(quiet, json_out)
    t0 = time.perf_counter()
    pieces = load_pieces(pieces_dir, double_sided=True if double_sided else None)
    t_load = time.perf_counter() - t0
    cons = [Constraint.parse("lock", x) for x in (lock or [])] + [Constraint.parse("forbid", x) for x in (forbid or [])]
    say(f"{pieces.n} pieces of {pieces.shape[0]}x{pieces.shape[1]} px"
        f"{' (two-sided)' if pieces.two_sided else ''}; solving...")
    sol = do_solve(pieces, rows, cols, cons)
    times = {"load": t_load} | sol.times
    times["total"] = time.perf_counter() - t0
    report = {
        "pieces_dir": str(pieces_dir), "pieces": pieces.n, "piece_size": list(pieces.shape),
        "two_sided": pieces.two_sided, "rows": sol.rows, "cols": sol.cols,
        "layout": "strips" if sol.rows == 1 or sol.cols == 1 else "grid",
        "constraints": [f"{c.kind} {c.a}{'/' if c.down else ':'}{c.b}" for c in cons],
        "notes": sol.notes, "seconds": {k: round(v, 4) for k, v in times.items()},
        "mean_confidence": float(sol.lr_conf.mean()) if sol.lr_conf.size else 1.0,
        "weakest_seams": sol.weakest_seams(10),
        "tied_blocks": [{"rows": list(a), "with": list(b)} for a, b in sol.ties],
        "seam_confidence": {"lr": sol.lr_conf.round(4).tolist(), "tb": sol.tb_conf.round(4).tolist()},
        "grid": sol.grid, "grid_back": sol.grid_back,
    }
    _write_outputs(sol, out, report)

    def human(r):
        lines = [f"{r['rows']} x {r['cols']} {'two-sided ' if r['two_sided'] else ''}{r['layout']} "
                 f"solved in {r['seconds']['total']:.2f} s "
                 f"({', '.join(f'{k} {v:.2f}' for k, v in r['seconds'].items() if k != 'total')})",
                 f"wrote {out}/grid.csv" + (", grid_back.csv" if r["two_sided"] else "")
                 + ", page.png, confidence.png, report.json"]
        lines += [f"[yellow]{n}[/]" for n in r["notes"]]
        return "\n".join(lines)

    emit({k: v for k, v in report.items() if k not in ("seam_confidence",)} | {"out": str(out)}, json_out, human)


@app.command()
def shred(page_image: Annotated[Path, typer.Argument(help="The page to cut (any image; colour is turned grey).")],
          rows: Annotated[int, typer.Option("--rows", help="Rows of pieces.")],
          cols: Annotated[int, typer.Option("--cols", help="Columns of pieces.")],
          out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the pieces (truth in OUT/truth/).")],
          back: Annotated[Path | None, typer.Option("--back", help="A second page: the back side "
                                                    "(makes a two-sided set, 000a/000b).")] = None,
          noise: Annotated[float, typer.Option("--noise", help="Grey-level noise sigma (scanner-like), 0-255.")] = 0.0,
          seed: Annotated[int, typer.Option("--seed", help="Random seed for the shuffle, faces and noise.")] = 0,
          json_out: JsonOpt = False) -> None:
    """Cut a page image into shuffled, renamed pieces, to test the solver on your own pages.

    Example: kexue unshred shred page.png --rows 11 --cols 19 --out pieces/ ; then
    kexue unshred solve pieces/ --out result/ ; kexue unshred score pieces/truth/grid.csv result/grid.csv
    """
    import numpy as np

    from .pieces import _read_grey
    from .synth import shred as do_shred
    from .synth import write_shredded

    if noise < 0:
        raise UsageError(f"--noise must be >= 0, got {noise}")
    for p in [page_image] + ([back] if back else []):
        if not p.is_file():
            raise InputError(f"page image {p} does not exist")
    page = _read_grey(page_image)
    bpage = _read_grey(back) if back else None
    s = do_shred(np.asarray(page), rows, cols, seed=seed, back=bpage, noise=noise)
    write_shredded(s, out)
    emit({"out": str(out), "pieces": s.pieces.n, "piece_size": list(s.pieces.shape), "two_sided": back is not None,
          "truth": str(out / "truth" / "grid.csv")}, json_out,
         lambda r: f"{r['pieces']} pieces of {r['piece_size'][0]}x{r['piece_size'][1]} px in {r['out']}; "
                   f"truth in {r['truth']}")


@app.command()
def score(true_grid: Annotated[Path, typer.Argument(help="The true grid CSV (e.g. OUT/truth/grid.csv).")],
          grid: Annotated[Path, typer.Argument(help="The solver's grid.csv.")],
          true_back: Annotated[Path | None, typer.Option("--true-back", help="The true back grid of a "
                                                         "two-sided set (default: grid_back.csv beside "
                                                         "TRUE_GRID, if there).")] = None,
          pieces: Annotated[Path | None, typer.Option("--pieces", help="The pieces folder: pieces with "
                                                      "identical pixels (blank paper) count as one.")] = None,
          json_out: JsonOpt = False) -> None:
    """Neighbour accuracy (share of true neighbour pairs kept), direct accuracy (pieces in their
    true cell) and whether the result is perfect. Two-sided: either face may be the front. With
    --pieces, pieces that look exactly alike count as one (no solver can tell them apart)."""
    from .pieces import load_pieces
    from .score import alike_pieces, read_grid
    from .score import score as do_score

    t = read_grid(true_grid)
    g = read_grid(grid)
    if true_back is None and (true_grid.parent / "grid_back.csv").is_file():
        true_back = true_grid.parent / "grid_back.csv"
    tb = read_grid(true_back) if true_back else None
    alike = alike_pieces(load_pieces(pieces)) if pieces is not None else None
    r = do_score(t, g, tb, alike)
    if alike is not None:
        r["alike_pieces"] = sum(k != v for k, v in alike.items())
    emit(r, json_out, lambda r: f"neighbour accuracy {r['neighbour']:.2%} (left-right {r['lr']:.2%}, "
                                f"top-bottom {r['tb']:.2%}), direct {r['direct']:.2%}, "
                                f"{'perfect' if r['perfect'] else 'not perfect'}"
                                + (f" ({r['alike_pieces']} pieces that look exactly like another counted as it)"
                                   if r.get("alike_pieces") else ""))


@app.command()
def demo(out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the pieces and the result.")] = Path(
             "unshred-demo"),
         rows: Annotated[int, typer.Option("--rows", help="Rows of pieces.")] = 8,
         cols: Annotated[int, typer.Option("--cols", help="Columns of pieces.")] = 10,
         two_sided: Annotated[bool, typer.Option("--two-sided", help="Print a back page too.")] = False,
         noise: Annotated[float, typer.Option("--noise", help="Grey noise sigma.")] = 0.0,
         seed: Annotated[int, typer.Option("--seed", help="Random seed (text, shuffle).")] = 0,
         json_out: JsonOpt = False, quiet: QuietOpt = False) -> None:
    """Render a page of text with an installed font, shred it, solve it and score the result."""
    from .score import score as do_score
    from .solver import solve as do_solve
    from .synth import shred as do_shred
    from .synth import text_page, write_shredded

    quiet_if(quiet, json_out)
    page = text_page(1000, 1400, seed=seed)
    back = text_page(1000, 1400, seed=seed + 1000) if two_sided else None
    s = do_shred(page, rows, cols, seed=seed, back=back, noise=noise)
    write_shredded(s, out / "pieces")
    t0 = time.perf_counter()
    sol = do_solve(s.pieces, rows, cols)
    secs = time.perf_counter() - t0
    sc = do_score(s.true_grid, sol.grid, s.true_back)
    _write_outputs(sol, out / "result", {"score": sc, "seconds": sol.times, "grid": sol.grid})
    emit({"out": str(out), "rows": rows, "cols": cols, "seconds": secs} | sc, json_out,
         lambda r: f"{rows} x {cols} pieces solved in {secs:.2f} s: neighbour accuracy {r['neighbour']:.2%}, "
                   f"{'perfect' if r['perfect'] else 'not perfect'}; see {out}/result/page.png")
