"""``kexue gan``: list and design GAN losses, train GANs, measure FID."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..console import JsonOpt, QuietOpt, SeedOpt, emit, quiet_if, say

app = typer.Typer(no_args_is_help=True, help=(
    "GANs by the likelihood-ratio recipe of 'Designing GANs' (kexue.fm/archives/7210): pick ω (the optimal "
    "discriminator output t* = ω(q/p)) and ρ > 0, get φ, ψ and a consistent GAN. `kexue gan losses` lists "
    "the built-in losses, `kexue gan derive` makes a new one, `kexue gan train` trains, `kexue gan fid` scores."))


def _fmt(x):
    return f"{x:.4g}" if isinstance(x, float) else str(x)


def _lines(res: dict) -> str:
    w = max(map(len, res))
    return "\n".join(f"{k:>{w}}: {_fmt(v)}" for k, v in res.items())


@app.command()
def losses(json_out: JsonOpt = False) -> None:
    """List the built-in losses: the article's rows A-F (from the recipe) and WGAN-GP, hinge (outside it).

    For each: ω, ω⁻¹, ρ, the derived φ and ψ (ψ shifted so ψ(ω(1)) = 0), the generator loss β, and
    d(r), the divergence the game minimises (for rows with β: α(ω(r)) + rβ(ω(r))).
    """
    from .losses import preset, preset_names

    rows = [preset(n).describe() for n in preset_names()]

    def human(res):
        lines = []
        for d in res["losses"]:
            lines.append(f"[bold]{d['name']}[/]  {d['title']}")
            if d["in_recipe"]:
                lines.append(f"    ω(r) = {d['omega']}   ω⁻¹(t) = {d['omega_inv']}   ρ(t) = {d['rho']}   "
                             f"Ω = ({d['domain'][0]}, {d['domain'][1]})")
            lines.append(f"    φ(t) = {d['phi']}   ψ(t) = {d['psi']}")
            gen = f"minimise E_q β(t), β(t) = {d['beta']}" if d["beta"] else "the same min-max"
            lines.append(f"    generator: {gen}   d(r) = {d['d']}")
            if d["note"]:
                lines.append(f"    [dim]{d['note']}[/]")
        return "\n".join(lines)

    emit({"losses": rows}, json_out, human)


@app.command()
def derive(omega: Annotated[str, typer.Option("--omega", help="ω(r), increasing on (0, ∞), e.g. 'log(r)'.")],
           rho: Annotated[str, typer.Option("--rho", help="ρ(t) > 0 on Ω, e.g. '1/(1+exp(t))'.")],
           omega_inv: Annotated[str | None, typer.Option("--omega-inv",
                                                         help="ω⁻¹(t); solved by sympy if left out.")] = None,
           beta: Annotated[str | None, typer.Option("--beta", help="Optional generator loss β(t).")] = None,
           alpha: Annotated[str | None, typer.Option("--alpha", help="α(t) paired with β (default 0).")] = None,
           method: Annotated[str, typer.Option("--method", help="auto | sympy | quadrature")] = "auto",
           json_out: JsonOpt = False) -> None:
    """Derive a GAN loss from your own ω and ρ: φ' = -ω⁻¹ρ, ψ' = ρ, shifted so ψ(ω(1)) = 0.

    Checks the conditions (ω increasing, ρ > 0, ω(1) inside Ω, β giving a convex d) and prints φ, ψ
    and d(r). Example: kexue gan derive --omega 'log(r)/2' --rho 'exp(-t)'
    """
    from .losses import make_loss

    loss = make_loss(omega, omega_inv, rho, beta=beta, alpha=alpha, method=method, name="custom")
    res = loss.describe()
    emit(res, json_out, lambda d: _lines({k: v for k, v in d.items() if v not in (None, "")}))


@app.command()
def train(data: Annotated[str, typer.Option("--data", help="toy2d | mnist | fashion-mnist")] = "toy2d",
          model: Annotated[str, typer.Option("--model",
                                             help="mlp (the article's toy; a small MLP on toy2d) | dcgan")] = "mlp",
          loss: Annotated[str, typer.Option("--loss", help="A-F, wgan-gp, hinge (see `kexue gan losses`)")] = "E",
          steps: Annotated[int, typer.Option("--steps", help="Generator steps.")] = 2000,
          out: Annotated[Path | None, typer.Option(
              "--out", help="Folder for last.pt, metrics.jsonl, samples/, curves.png.")] = None,
          resume: Annotated[bool, typer.Option("--resume", help="Continue from OUT/last.pt.")] = False,
          batch: Annotated[int | None, typer.Option("--batch", help="Batch size (default by data/model).")] = None,
          n_critic: Annotated[int | None, typer.Option("--n-critic", help="Critic steps per generator step.")] = None,
          lr: Annotated[float | None, typer.Option("--lr", help="Adam learning rate of both nets.")] = None,
          gp: Annotated[float | None, typer.Option(
              "--gp", help="Gradient-penalty weight (default: 10 for wgan-gp, else 0).")] = None,
          gp_kind: Annotated[str, typer.Option("--gp-kind",
                                               help="one-sided (the article's) | two-sided")] = "one-sided",
          every: Annotated[int | None, typer.Option("--every", help="Steps between samples and checkpoints.")] = None,
          ema: Annotated[float | None, typer.Option(
              "--ema", help="Decay of the generator's weight average used for samples/metrics (0: off).")] = None,
          width: Annotated[int | None, typer.Option(
              "--width", help="DCGAN base channels (default 32; 64 is the classic, slower size).")] = None,
          minutes: Annotated[float | None, typer.Option(
              "--minutes", help="Training-time budget: stop after the first --every chunk past it "
                                "(--steps is then a cap).")] = None,
          device: Annotated[str, typer.Option("--device", help="auto | cpu | cuda")] = "auto",
          threads: Annotated[int | None, typer.Option(
              "--threads", help="CPU threads for torch (1 is much faster on a busy machine).")] = None,
          seed: SeedOpt = 0, quiet: QuietOpt = False, json_out: JsonOpt = False) -> None:
    """Train a GAN with one of the losses; checkpoints are atomic and --resume continues a killed run.

    Defaults follow the article's Fashion-MNIST toy for --model mlp on images (batch 100, 5 critic steps,
    Adam 1e-4, β1 0.5, U(-1, 1) noise). On toy2d (a ring of 8 Gaussians) the summary reports the modes
    covered and the share of high-quality samples. Under `torchrun` it trains with DDP.

    Example: kexue gan train --data toy2d --loss E --steps 3000 --out runs/toy-E
    """
    from .training import GanConfig, train_gan

    quiet_if(quiet, json_out)
    if threads is not None:
        import torch

        if threads < 1:
            from ..errors import UsageError

            raise UsageError(f"--threads must be at least 1, got {threads}")
        torch.set_num_threads(threads)
    cfg = GanConfig(data=data, model=model, loss=loss, steps=steps, batch=batch, n_critic=n_critic, lr_d=lr,
                    lr_g=lr, gp=gp, gp_kind=gp_kind, every=every, ema=ema, seed=seed, device=device,
                    max_seconds=None if minutes is None else minutes * 60, width=width)
    if resume and out is None:
        from ..errors import UsageError

        raise UsageError("--resume needs --out (the folder of the run to continue)")
    say(f"training {cfg.loss} on {data}/{model} for {steps} generator steps")
    res = train_gan(cfg, out, resume=resume, quiet=quiet or json_out)
    res.pop("config", None)
    import os

    if int(os.environ.get("RANK", "0")) != 0:  # under torchrun only rank 0 reports: one JSON object
        return

    emit(res, json_out, _lines)


@app.command()
def fid(checkpoint: Annotated[Path, typer.Argument(help="A last.pt written by `kexue gan train`.")],
        n: Annotated[int, typer.Option("--n", help="Generated images (and test images) to compare.")] = 10000,
        floor: Annotated[bool, typer.Option("--floor",
                                            help="Also the floor: FID of n training vs n test images.")] = False,
        seed: SeedOpt = 0, quiet: QuietOpt = False, json_out: JsonOpt = False) -> None:
    """FID of a trained image generator against the test set, with the nn classifier's features.

    The features come from `kexue.nn.feature_extractor` (a small classifier trained on the data set);
    numbers are comparable only with the same features, not with Inception FIDs in papers.
    """
    import time

    import torch

    from ..errors import UsageError
    from .fid import default_feature_extractor, extract_features, feature_stats, frechet_distance
    from .training import generate, load_generator, load_images

    quiet_if(quiet, json_out)
    if n < 2:
        raise UsageError(f"--n must be at least 2, got {n}")
    G, cfg = load_generator(checkpoint)
    if cfg.data == "toy2d":
        raise UsageError("FID is for images; for toy2d runs the summary of `kexue gan train` has the mode metrics")
    start = time.perf_counter()
    feat = default_feature_extractor(cfg.data)
    test = load_images(cfg.data, "test")[:n]
    fake = generate(G, len(test), seed=seed)
    ft = feature_stats(extract_features(feat, test))
    res = {"checkpoint": str(checkpoint), "data": cfg.data, "model": cfg.model, "loss": cfg.loss,
           "n": len(test), "features": f"kexue.nn.feature_extractor({cfg.data!r})",
           "fid": frechet_distance(*feature_stats(extract_features(feat, fake)), *ft)}
    if floor:
        train_x = load_images(cfg.data, "train")
        idx = torch.randperm(len(train_x), generator=torch.Generator().manual_seed(seed))[:len(test)]
        res["floor"] = frechet_distance(*feature_stats(extract_features(feat, train_x[idx])), *ft)
        res["ratio_to_floor"] = res["fid"] / res["floor"] if res["floor"] > 0 else None
    res["seconds"] = time.perf_counter() - start
    emit(res, json_out, _lines)
