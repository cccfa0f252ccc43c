"""``kexue reproduce`` section for article 06: the five CUMCM 2013 B attachments solved with no
human help (pictures, accuracy against the verified answer grids, time per attachment)."""

from __future__ import annotations

import time
from pathlib import Path

from ..report import Section


def reproduce(out_dir: Path, quick: bool = True) -> Section:
    """Solve attachments 1-5 from ``$KEXUE_DATA``, draw the pages, and check accuracy and time
    against the issue's targets (100 % each; under 5 s, attachment 5 under 10 s)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .. import data
    from .pieces import load_pieces
    from .render import render
    from .score import score
    from .solver import solve

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sec = Section("unshred", "Shredded-paper restoration (CUMCM 2013 B, article 06)")
    rows, pages = [], []
    for n in range(1, 6):
        t0 = time.perf_counter()
        pieces = load_pieces(data.cumcm_attachment(n))
        sol = solve(pieces)
        secs = time.perf_counter() - t0
        ans = data.cumcm_answer(n)
        sc = score(ans[0], sol.grid, ans[1] if len(ans) > 1 else None)
        pages.append((n, render(sol), sc))
        rows.append([n, f"{sol.rows} x {sol.cols}", "yes" if pieces.two_sided else "no",
                     f"{sc['neighbour']:.2%}", f"{sc['direct']:.2%}", "yes" if sc["perfect"] else "no",
                     f"{secs:.2f}", 0])
        limit = 10.0 if n == 5 else 5.0
        sec.check(f"attachment {n}: neighbour accuracy, no manual intervention", sc["neighbour"] == 1.0,
                  f"{sc['neighbour']:.2%}", "100 %")
        sec.check(f"attachment {n}: time (load + solve)", secs < limit, f"{secs:.2f} s", f"< {limit:.0f} s")
    sec.table("CUMCM 2013 B attachments solved automatically (0 manual interventions)",
              ["attachment", "layout", "two-sided", "neighbour acc.", "direct acc.", "perfect", "seconds",
               "interventions"], rows)
    fig, axes = plt.subplots(1, 5, figsize=(15, 4.6))
    for ax, (n, img, sc) in zip(axes, pages, strict=True):
        ax.imshow(img, cmap="gray", vmin=0, vmax=255)
        ax.set_title(f"attachment {n}: {sc['neighbour']:.0%}", fontsize=10)
        ax.axis("off")
    fig.tight_layout()
    path = out_dir / "unshred_attachments.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    sec.figure(path, "The five attachments as reassembled (front page for attachment 5), titled with the "
                     "neighbour accuracy against the verified answer grid.")
    sec.summary = ("Strips and cross-cut pages are reassembled by one asymmetric travelling-salesman tour "
                   "through the pieces and R row separators (seam costs that blend prediction errors with a "
                   "likelihood ratio learnt from the pieces' own interiors, text-line agreement, blank margins "
                   "as row ends), rows ordered by top-bottom seams and line pitch and phase, then a global 2-D "
                   "repair (segments exchanged between rows, column blocks moved, on left-right plus top-bottom "
                   "seams); a page grown in 2-D competes and the lower page energy wins. Two-sided pieces get "
                   "their faces by a parity vote; rows are turned over only when the whole page gets cheaper. "
                   "The article itself solved attachments 1 and 2; public contest code needs manual help for 3-5.")
    return sec
