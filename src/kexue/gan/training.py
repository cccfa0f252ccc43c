"""Train a GAN with any loss of :mod:`kexue.gan.losses` on the 2-D toy, MNIST or Fashion-MNIST.

One ``step`` of the shared :class:`kexue.train.Trainer` does the ``n_critic`` critic updates and
one generator update, and reports the losses, the gradient penalty and the likelihood-ratio
monitor: the median of r̂ = ω⁻¹(t) on a real and on a fake batch (both approach 1 as q → p).
An "epoch" is ``every`` generator steps; after each one the run writes a sample picture, the
metrics log and an atomic checkpoint (``last.pt``), so ``resume=True`` continues a killed run.
Runs unchanged under ``torchrun`` (DistributedDataParallel).

>>> cfg = GanConfig(data="toy2d", loss="E", steps=20, every=10)
>>> res = train_gan(cfg)
>>> res["steps"], 0 <= res["modes_covered"] <= 8
(20, True)
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import torch

from ..errors import KexueError, UsageError
from .losses import GanLoss, preset
from .models import build_models
from .toy import mode_metrics, sample_ring


class TrainingDiverged(KexueError):
    """The losses became NaN or infinite (the last good checkpoint is kept)."""


@dataclass
class GanConfig:
    """Everything that defines a run. ``None`` fields take the defaults of the data set and model.

    Images with ``mlp``: the article's toy (batch 100, Adam β1 = 0.5; WGAN-GP: 5 critic steps, Adam 1e-4 as in
    the article; the other losses 1 critic step, 2e-4: with 5 their critic wins outright, r̂ on real ~1e-15).
    Images with ``dcgan`` (width 32): batch 64, 1 critic step, Adam 5e-4, β1 = 0.5 (WGAN-GP: 5 steps, 2e-4);
    measured against width 64 / 2e-4 on a 2-minute CPU budget: FID 12.8 vs 18.5.
    ``toy2d``: batch 256, 1 critic step (5 for WGAN-GP), Adam 1e-3, β1 = 0.5.
    ``ema``: decay of an exponential moving average of the generator's weights, which is the
    generator used for samples, metrics and FID (0.99 on the toy, 0.999 on images, with a
    warm-up min(decay, (1+n)/(10+n)) so short runs are not dragged back to their start; 0 turns
    it off). Averaging damps the rotation of GAN dynamics around the equilibrium (Yazıcı et al. 2019).
    ``max_seconds``: a training-time budget; the run stops after the first epoch (``every`` steps) that
    ends past it (the time of the run's earlier epochs counts after a resume), ``steps`` is then a cap.
    """

    data: str = "toy2d"
    model: str = "mlp"
    loss: str = "E"
    steps: int = 2000
    batch: int | None = None
    n_critic: int | None = None
    lr_d: float | None = None
    lr_g: float | None = None
    beta1: float = 0.5
    beta2: float = 0.999
    gp: float | None = None
    gp_kind: str = "one-sided"
    every: int | None = None
    ema: float | None = None
    max_seconds: float | None = None
    width: int | None = None
    seed: int = 0
    device: str = "auto"
    extra: dict = field(default_factory=dict)

    def resolved(self) -> GanConfig:
        """A copy with every ``None`` replaced by its default (and the inputs checked)."""
        if self.data not in ("toy2d", "mnist", "fashion-mnist"):
            raise UsageError(f"unknown data {self.data!r}; use toy2d, mnist or fashion-mnist")
        if self.model not in ("mlp", "dcgan"):
            raise UsageError(f"unknown model {self.model!r}; use mlp or dcgan")
        if self.steps < 1:
            raise UsageError(f"--steps must be at least 1, got {self.steps}")
        if self.gp_kind not in ("one-sided", "two-sided"):
            raise UsageError(f"gp_kind must be one-sided or two-sided, not {self.gp_kind!r}")
        loss = preset(self.loss)
        wgan = loss.name == "wgan-gp"
        if self.data == "toy2d":
            d = dict(batch=256, n_critic=5 if wgan else 1, lr_d=1e-3, lr_g=1e-3, every=250, ema=0.99)
        elif self.model == "mlp":  # the article's WGAN-GP settings; the f-GAN losses get 1 critic step, 2e-4
            lr = 1e-4 if wgan else 2e-4
            d = dict(batch=100, n_critic=5 if wgan else 1, lr_d=lr, lr_g=lr, every=500, ema=0.999)
        else:
            lr = 2e-4 if wgan else 5e-4
            d = dict(batch=64, n_critic=5 if wgan else 1, lr_d=lr, lr_g=lr, every=500, ema=0.999)
        out = GanConfig(**{f.name: getattr(self, f.name) for f in fields(self)})
        out.loss = loss.name
        for k, v in d.items():
            if getattr(out, k) is None:
                setattr(out, k, v)
        if out.gp is None:
            out.gp = loss.gp
        for k in ("batch", "n_critic", "every"):
            if getattr(out, k) < 1:
                raise UsageError(f"{k} must be at least 1, got {getattr(out, k)}")
        if not 0 <= out.ema < 1:
            raise UsageError(f"ema must be in [0, 1), got {out.ema}")
        if out.max_seconds is not None and not out.max_seconds > 0:
            raise UsageError(f"max_seconds must be positive, got {out.max_seconds}")
        out.every = min(out.every, out.steps)
        return out


# ----------------------------------------------------------------------------- data
def load_images(data: str, split: str = "train") -> torch.Tensor:
    """``(N, 1, 28, 28)`` float32 images in [0, 1] of MNIST or Fashion-MNIST (via :mod:`kexue.data`)."""
    from .. import data as kdata

    x, _ = kdata.load_mnist(data, split)
    return torch.from_numpy(np.array(x, dtype=np.float32)).div_(255.0).unsqueeze(1)


# ----------------------------------------------------------------------------- the GAN step
class EmaCount(torch.nn.Module):
    """The number of updates of the averaged generator (a buffer, so checkpoints carry it)."""

    def __init__(self):
        super().__init__()
        self.register_buffer("n", torch.zeros((), dtype=torch.long))


def make_step(G, D, loss: GanLoss, opt_g, opt_d, *, gp: float, gp_kind: str, device, ema=None,
              ema_decay: float = 0.0, ema_count: EmaCount | None = None):
    """The function the Trainer calls: ``n_critic`` critic updates on the given real batches, then one
    generator update (and the update of the averaged generator ``ema``). ``batch`` is a tensor
    ``(n_critic, B, ...)`` of real samples."""
    from ..train import unwrap

    g_plain, d_plain = unwrap(G), unwrap(D)

    def step(batch):
        batch = batch.to(device, non_blocking=True)
        B = batch.shape[1]
        for real in batch:
            with torch.no_grad():
                fake = g_plain(g_plain.noise(B, device))
            inputs = [real, fake]
            if gp > 0:
                eps = torch.rand(B, *([1] * (real.dim() - 1)), device=device)
                x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
                inputs.append(x_hat)
            u = D(torch.cat(inputs))  # one forward: DDP-friendly, one reduction per update
            t = loss.critic_output(u)
            d_loss = loss.d_loss(t[:B], t[B:2 * B])
            total = d_loss
            pen = torch.zeros((), device=device)
            if gp > 0:
                (grad,) = torch.autograd.grad(u[2 * B:].sum(), x_hat, create_graph=True)
                norm = grad.flatten(1).norm(dim=1)
                pen = torch.relu(norm - 1).mean() if gp_kind == "one-sided" else ((norm - 1) ** 2).mean()
                total = d_loss + gp * pen
            opt_d.zero_grad(set_to_none=True)
            total.backward()
            opt_d.step()
        for p in d_plain.parameters():
            p.requires_grad_(False)
        fake = G(g_plain.noise(B, device))
        t_fake = loss.critic_output(d_plain(fake))
        g_loss = loss.g_loss(t_fake)
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        for p in d_plain.parameters():
            p.requires_grad_(True)
        if ema is not None:
            with torch.no_grad():
                decay = ema_decay
                if ema_count is not None:  # warm-up: average over about n/10 steps until that exceeds 1/(1-decay)
                    n = float(ema_count.n)
                    decay = min(ema_decay, (1 + n) / (10 + n))
                    ema_count.n += 1
                for pe, p in zip(ema.parameters(), g_plain.parameters(), strict=True):
                    pe.lerp_(p, 1 - decay)
                for be, b in zip(ema.buffers(), g_plain.buffers(), strict=True):
                    be.copy_(b)
        if not (torch.isfinite(d_loss) and torch.isfinite(g_loss)):
            raise TrainingDiverged(f"the losses became NaN/inf (critic {d_loss.item():.4g}, "
                                   f"generator {g_loss.item():.4g})")
        out = {"d_loss": d_loss.detach(), "g_loss": g_loss.detach()}
        if gp > 0:
            out["gp"] = pen.detach()
        r_real, r_fake = loss.r_hat(t[:B]), loss.r_hat(t_fake)
        if r_real is not None:
            out["r_real"] = r_real.median()
            out["r_fake"] = r_fake.median()
        return out

    return step


# ----------------------------------------------------------------------------- pictures
def save_grid(images: torch.Tensor, path: Path, nrow: int = 6, pad: int = 5) -> Path:
    """Save ``(N, 1, 28, 28)`` images in [0, 1] as one PNG grid with white separators (Su's 6x6 layout)."""
    from PIL import Image

    from ..utils import atomic_path

    x = images[: nrow * nrow].detach().cpu().clamp(0, 1).numpy()[:, 0]
    h, w = x.shape[1:]
    n = int(math.ceil(len(x) / nrow))
    canvas = np.ones((n * h + (n - 1) * pad, nrow * w + (nrow - 1) * pad))
    for k, img in enumerate(x):
        i, j = divmod(k, nrow)
        canvas[i * (h + pad):i * (h + pad) + h, j * (w + pad):j * (w + pad) + w] = img
    with atomic_path(path) as tmp:
        Image.fromarray((canvas * 255).round().astype(np.uint8)).save(tmp, format="PNG")
    return path


def save_scatter(samples: np.ndarray, path: Path, title: str = "") -> Path:
    """Scatter plot of 2-D samples over the ring's centres."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..utils import atomic_path
    from .toy import ring_centers

    fig, ax = plt.subplots(figsize=(3.2, 3.2), dpi=100)
    ax.scatter(samples[:, 0], samples[:, 1], s=2, alpha=0.4, color="tab:blue")
    c = ring_centers()
    ax.scatter(c[:, 0], c[:, 1], s=30, marker="x", color="tab:red")
    ax.set_xlim(-3, 3)
    ax.set_ylim(-3, 3)
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return path


def save_curves(history: list[dict], path: Path, title: str = "") -> Path:
    """Loss curves and the likelihood-ratio monitor against generator steps."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..utils import atomic_path

    steps = np.cumsum([h["steps"] for h in history])
    fig, axes = plt.subplots(1, 2, figsize=(8, 3), dpi=100)
    for k in ("d_loss", "g_loss", "gp"):
        if k in history[0]:
            axes[0].plot(steps, [h[k] for h in history], label=k)
    axes[0].set_xlabel("generator steps")
    axes[0].legend(fontsize=8)
    axes[0].set_title(title, fontsize=9)
    if "r_real" in history[0]:
        axes[1].plot(steps, [h["r_real"] for h in history], label="median r̂ on real")
        axes[1].plot(steps, [h["r_fake"] for h in history], label="median r̂ on fake")
        axes[1].axhline(1.0, color="gray", lw=0.8, ls="--")
        axes[1].set_yscale("log")
        axes[1].legend(fontsize=8)
        axes[1].set_title("likelihood-ratio monitor (→ 1)", fontsize=9)
    else:
        axes[1].text(0.5, 0.5, "no r̂ for a loss outside the recipe", ha="center", va="center")
        axes[1].set_axis_off()
    axes[1].set_xlabel("generator steps")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return path


# ----------------------------------------------------------------------------- the run
def train_gan(cfg: GanConfig, out_dir: str | Path | None = None, *, resume: bool = False,
              quiet: bool | None = True, return_generator: bool = False, evaluate=None):
    """Train ``cfg`` (writing samples, metrics and ``last.pt`` into ``out_dir`` if given); return a summary.

    The summary holds the final epoch's metrics (``d_loss``, ``g_loss``, ``r_real``, ``r_fake``,
    ``gp``), the wall time, and for ``toy2d`` the mode metrics of 2,500 samples
    (``modes_covered``, ``high_quality``). Raises :class:`TrainingDiverged` on NaN losses and
    :class:`kexue.errors.DataMissingError` when the image data set is not on this machine.
    With ``return_generator=True`` returns ``(summary, generator)``. ``evaluate(generator, step)``, if
    given, is called after each epoch on the main process with the generator used for samples; the
    dict it returns joins that epoch's line of ``metrics.jsonl`` (its time is not training time).
    """
    from ..train import Trainer, dist_teardown, shard_indices, wrap_ddp

    out = Path(out_dir) if out_dir is not None else None
    if out is not None and resume and (out / "last.pt").is_file():
        from ..train import load_checkpoint

        saved = load_checkpoint(out / "last.pt").get("extra", {}).get("config", {})
        if cfg.every is None:  # epochs are chunks of `every` steps: keep the run's own chunking
            cfg = GanConfig(**{**asdict(cfg), "every": saved.get("every")})
        elif saved.get("every") not in (None, cfg.every):
            raise UsageError(f"{out}/last.pt was trained with every = {saved.get('every')}; resume with the same")
        cfg = cfg.resolved()
        for k in ("data", "model", "loss"):
            if saved.get(k) != getattr(cfg, k):
                raise UsageError(f"{out}/last.pt was trained with {k} = {saved.get(k)!r}, not "
                                 f"{getattr(cfg, k)!r}; use another --out or the same {k}")
    cfg = cfg.resolved()
    trainer = Trainer(out, seed=cfg.seed, device=cfg.device, quiet=quiet,
                      desc=f"gan {cfg.data}/{cfg.model}/{cfg.loss}")
    info, device = trainer.info, trainer.device
    threads = torch.get_num_threads()
    if cfg.data == "toy2d" and device.type == "cpu":
        torch.set_num_threads(1)  # tiny matrices: one thread is faster, and far steadier on a busy machine
    try:
        loss = preset(cfg.loss, gp=None)
        torch.manual_seed(cfg.seed)
        G, D = build_models(cfg.data, cfg.model, cfg.width)
        G, D = G.to(device), D.to(device)
        opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr_g, betas=(cfg.beta1, cfg.beta2))
        opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr_d, betas=(cfg.beta1, cfg.beta2))
        G_ema = copy.deepcopy(G).requires_grad_(False) if cfg.ema > 0 else None
        ema_count = EmaCount().to(device)
        G_eval = G_ema if G_ema is not None else G
        Gw, Dw = wrap_ddp(G, info, device), wrap_ddp(D, info, device)
        step = make_step(Gw, Dw, loss, opt_g, opt_d, gp=cfg.gp, gp_kind=cfg.gp_kind, device=device, ema=G_ema,
                         ema_decay=cfg.ema, ema_count=ema_count)

        images = load_images(cfg.data) if cfg.data != "toy2d" else None
        epochs = math.ceil(cfg.steps / cfg.every)

        def batches(epoch):
            n_steps = min(cfg.every, cfg.steps - epoch * cfg.every)
            per_step = cfg.n_critic * cfg.batch
            if images is None:
                rng = np.random.default_rng([cfg.seed, epoch, info.rank])
                for _ in range(n_steps):
                    x = sample_ring(per_step, rng)
                    yield torch.from_numpy(x).view(cfg.n_critic, cfg.batch, 2)
                return
            need, parts, k = n_steps * per_step, [], 0
            while sum(len(p) for p in parts) < need:
                parts.append(shard_indices(len(images), info, cfg.seed, epoch * 1000 + k))
                k += 1
            idx = torch.from_numpy(np.concatenate(parts)[:need])
            for s in range(n_steps):
                sel = idx[s * per_step:(s + 1) * per_step]
                yield images[sel].view(cfg.n_critic, cfg.batch, 1, 28, 28)

        def fixed_samples(n):
            return generate(G_eval, n, seed=12345, device=device)

        def on_epoch_end(epoch, record):
            extra = {}
            step_no = (epoch + 1) * cfg.every if epoch + 1 < epochs else cfg.steps
            if cfg.data == "toy2d":
                x = fixed_samples(2500).numpy()
                m = mode_metrics(x)
                extra = {"modes_covered": m["modes_covered"], "high_quality": m["high_quality"]}
                if G_ema is not None:  # the raw generator too, for honesty
                    raw = mode_metrics(generate(G, 2500, seed=12345, device=device).numpy())
                    extra.update(modes_covered_raw=raw["modes_covered"], high_quality_raw=raw["high_quality"])
                if out is not None and info.is_main:
                    save_scatter(x, out / "samples" / f"step{step_no:07d}.png",
                                 f"{cfg.loss} step {step_no}: {m['modes_covered']}/8 modes")
            elif out is not None and info.is_main:
                save_grid(fixed_samples(36), out / "samples" / f"step{step_no:07d}.png")
            if evaluate is not None and info.is_main:
                extra.update(evaluate(G_eval, step_no) or {})
            return extra

        start = time.perf_counter()
        try:
            state = {"G": G, "D": D, "opt_g": opt_g, "opt_d": opt_d}
            if G_ema is not None:
                state["G_ema"] = G_ema
                state["G_ema_count"] = ema_count
            kw = dict(state=state, on_epoch_end=on_epoch_end, steps_per_epoch=cfg.every,
                      extra=lambda: {"config": asdict(cfg)})
            if cfg.max_seconds is None:
                hist = trainer.fit(step, batches, epochs=epochs, resume=resume, **kw)
            else:  # one epoch at a time, until the training time (all epochs of the run) passes the budget
                hist = trainer.fit(step, batches, epochs=1, resume=resume, **kw)
                while trainer.epoch < epochs and not _over_budget(trainer, cfg.max_seconds, info):
                    hist = trainer.fit(step, batches, epochs=trainer.epoch + 1, **kw)
        except TrainingDiverged as e:
            done = trainer.epoch * cfg.every
            kept = (f"the last good checkpoint (after {done} steps) is kept in {out / 'last.pt'}"
                    if out is not None and done else "no checkpoint was written")
            raise TrainingDiverged(f"{cfg.loss} on {cfg.data}/{cfg.model} diverged in the {done + 1}..."
                                   f"{done + cfg.every}th generator steps: {e}; {kept}. Try a smaller "
                                   f"learning rate or another loss") from None
        seconds = time.perf_counter() - start
        last = dict(hist[-1]) if hist else {}
        result = {"data": cfg.data, "model": cfg.model, "loss": cfg.loss, "steps": trainer.step_count,
                  "seconds": seconds, "train_seconds": sum(h.get("seconds", 0.0) for h in trainer.history),
                  "world_size": info.world_size, "config": asdict(cfg), "in_recipe": loss.in_recipe,
                  **{k: last[k] for k in ("d_loss", "g_loss", "gp", "r_real", "r_fake", "modes_covered",
                                          "high_quality", "modes_covered_raw", "high_quality_raw") if k in last}}
        if out is not None and info.is_main:
            result["checkpoint"] = str(out / "last.pt")
            result["curves"] = str(save_curves(trainer.history, out / "curves.png",
                                               f"{cfg.loss} on {cfg.data}/{cfg.model}"))
            result["samples"] = str(sorted((out / "samples").glob("step*.png"))[-1])
        return (result, G_eval) if return_generator else result
    finally:
        torch.set_num_threads(threads)
        dist_teardown(info)


def _over_budget(trainer, max_seconds: float, info) -> bool:
    """Has the run trained for ``max_seconds``? (All ranks agree: the slowest decides.)"""
    over = sum(h.get("seconds", 0.0) for h in trainer.history) >= max_seconds
    if info.distributed:
        flag = torch.tensor([float(over)])
        torch.distributed.all_reduce(flag, op=torch.distributed.ReduceOp.MAX)
        over = bool(flag.item())
    return over


def load_generator(checkpoint: str | Path, device: str = "cpu") -> tuple[torch.nn.Module, GanConfig]:
    """The generator of a training checkpoint (``last.pt``; its weight average when the run kept one) and the
    run's config."""
    from ..train import load_checkpoint

    ck = load_checkpoint(checkpoint, device)
    raw = ck.get("extra", {}).get("config")
    if raw is None or "G" not in ck.get("state", {}):
        raise UsageError(f"{checkpoint} is not a checkpoint of `kexue gan train`")
    raw = {"width": 64 if raw.get("model") == "dcgan" else None, **raw}  # runs made before `width` had 64
    cfg = GanConfig(**raw)
    G, _ = build_models(cfg.data, cfg.model, cfg.width)
    G.load_state_dict(ck["state"].get("G_ema", ck["state"]["G"]))  # the averaged generator when there is one
    return G.to(device).eval(), cfg


@torch.no_grad()
def generate(G: torch.nn.Module, n: int, seed: int = 0, batch: int = 1000, device: str = "cpu",
             uniform: bool | None = None) -> torch.Tensor:
    """``n`` samples of generator ``G`` (in eval mode), reproducible from ``seed``.

    >>> from kexue.gan.models import build_models
    >>> g, _ = build_models("mnist", "mlp")
    >>> tuple(generate(g, 5, seed=1).shape)
    (5, 1, 28, 28)
    """
    gen = torch.Generator().manual_seed(seed)
    if uniform is None:
        uniform = type(G).__name__ == "MLPGenerator"
    was = G.training
    G.eval()
    out = []
    for i in range(0, n, batch):
        m = min(batch, n - i)
        z = torch.rand(m, G.z_dim, generator=gen) * 2 - 1 if uniform else torch.randn(m, G.z_dim, generator=gen)
        out.append(G(z.to(device)).cpu())
    G.train(was)
    return torch.cat(out)
