"""``kexue vae``: train text and image VAEs whose BN heads keep the KL from vanishing; generate; interpolate."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..console import JsonOpt, QuietOpt, SeedOpt, emit, quiet_if
from ..errors import InputError, UsageError

NAME = "vae"
app = typer.Typer(no_args_is_help=True, help=(
    "VAEs with batch-normalised posterior heads (kexue.fm/archives/7381, Zhu et al. ACL 2020). "
    "A plain text VAE with an LSTM decoder collapses (KL -> 0, no active units); BN on the encoder mean "
    "with a fixed scale gamma keeps E[KL] >= (d/2) gamma^2. Start with "
    "`kexue vae train --data ptb --head bn --gamma 0.6 --epochs 1`."))

DATA_HELP = "ptb, mnist, fashion-mnist, or a UTF-8 text file with one sentence a line."
HEAD_HELP = ("plain (mu, log sigma^2), bn (Zhu et al.: BN on mu, gamma fixed) or bn-scaler "
             "(the blog: BN on mu and sigma, gamma_mu^2 + gamma_sigma^2 = 1).")
OBJ_HELP = ("elbo, anneal (KL weight 0.1 -> 1 over --warmup), free-bits (per-dimension floor "
            "--free-bits nats) or cyclic (Fu et al. 2019).")


def _fmt(v):
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _human(r: dict):
    from rich.table import Table

    t = Table(title=f"{r['data']} ({r['split']}), head {r['head']}, objective {r['objective']}, {r['epochs']} epochs")
    t.add_column("metric")
    t.add_column("value", justify="right")
    rows = [("NLL (IW, nats)", r.get("nll")), ("PPL", r.get("ppl")), ("KL (nats)", r.get("kl")),
            ("KL floor of the head", r.get("kl_bound")), ("MI (nats)", r.get("mi")), ("active units", r.get("au")),
            ("-ELBO (nats)", r.get("elbo")), ("reconstruction", r.get("rec")), ("seconds", r.get("seconds"))]
    for name, v in rows:
        if v is not None:
            t.add_row(name, _fmt(v))
    return t


@app.command()
def train(
    data: Annotated[str, typer.Option("--data", help=DATA_HELP)] = "ptb",
    head: Annotated[str, typer.Option("--head", help=HEAD_HELP)] = "bn",
    gamma: Annotated[float, typer.Option("--gamma",
        help="Fixed BN scale of the bn head (> 0); KL floor d*gamma^2/2.")] = 0.6,
    tau: Annotated[float, typer.Option("--tau", help="tau of the bn-scaler head, in (0, 1); KL floor d*tau/2.")] = 0.5,
    var_floor: Annotated[float, typer.Option("--var-floor", help="bn-scaler: each sample's sigma^2 is "
        "gamma_sigma^2 (L + (1 - L) s^2) for the BN-normalised std s, so it never falls below L gamma_sigma^2 "
        "(batch mean still gamma_sigma^2); 0 is the blog's literal head, which runs away on PTB.")] = 0.1,
    objective: Annotated[str, typer.Option("--objective", help=OBJ_HELP)] = "elbo",
    epochs: Annotated[int, typer.Option("--epochs", help="Epochs over the training set.")] = 10,
    out: Annotated[Path | None, typer.Option("--out", help="Folder for last.pt, metrics.jsonl, summary.json.")] = None,
    resume: Annotated[bool, typer.Option("--resume",
        help="Continue the run in --out from its last checkpoint.")] = False,
    preset: Annotated[str, typer.Option("--preset", help="Sizes emb/hidden/latent: cpu 256/256/32, tiny 64/64/32, "
                                        "paper 512/1024/32 (GPU). Images use --hidden/--latent only.")] = "cpu",
    emb: Annotated[int | None, typer.Option("--emb", help="Word embedding size (overrides the preset).")] = None,
    hidden: Annotated[int | None, typer.Option("--hidden",
        help="LSTM / MLP hidden size (overrides the preset).")] = None,
    latent: Annotated[int | None, typer.Option("--latent", help="Latent size d (overrides the preset).")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", help="0: 32 for text, 128 for images.")] = 0,
    batching: Annotated[str, typer.Option("--batching", help="Text: random (sentences drawn at random; what BN "
                                          "needs) or length (similar lengths per batch: faster).")] = "random",
    optimizer: Annotated[str, typer.Option("--optimizer", help="auto (SGD lr 1 for text as the paper, Adam 1e-3 "
                                           "for images), sgd or adam.")] = "auto",
    lr: Annotated[float, typer.Option("--lr", help="Learning rate (0: the optimizer's default).")] = 0.0,
    dropout: Annotated[float, typer.Option("--dropout", help="Decoder input/output dropout.")] = 0.3,
    word_dropout: Annotated[float, typer.Option("--word-dropout", help="Replace decoder inputs by <unk> with this "
                                                "probability (Bowman et al.).")] = 0.0,
    min_count: Annotated[int, typer.Option("--min-count", help="Keep words seen at least this often.")] = 1,
    dev: Annotated[float, typer.Option("--dev", help="Text: hold out this fraction of the training sentences "
                                       "(every k-th) as a dev set (0: none).")] = 0.1,
    select: Annotated[str, typer.Option("--select", help="Which epoch to evaluate: last, or dev (the one with "
                                        "the best dev -ELBO; the last one with --dev 0).")] = "dev",
    lr_decay: Annotated[float, typer.Option("--lr-decay", help="Multiply the learning rate by this after an epoch "
                                            "without dev improvement (needs --dev; 1: never).")] = 0.5,
    weight_decay: Annotated[float, typer.Option("--weight-decay", help="L2 weight decay of the optimizer.")] = 0.0,
    bn_stats: Annotated[str, typer.Option("--bn-stats", help="Text: BN population statistics (used at evaluation) "
                                          "from the training sentences (train) or the dev ones (dev).")] = "train",
    free_bits: Annotated[float, typer.Option("--free-bits",
        help="Nats per dimension for --objective free-bits.")] = 0.25,
    warmup: Annotated[float, typer.Option("--warmup", help="Fraction of the steps for the annealing ramp.")] = 0.5,
    cycles: Annotated[int, typer.Option("--cycles", help="Cycles of --objective cyclic.")] = 4,
    iw_samples: Annotated[int, typer.Option("--iw-samples",
        help="Importance samples for the NLL (literature: 500).")] = 100,
    nll_limit: Annotated[int, typer.Option("--nll-limit", help="Evaluation sentences/images for the IW-NLL "
                                           "(evenly spaced; 0 = all, slow on a CPU).")] = 400,
    eval_data: Annotated[Path | None, typer.Option("--eval-data", help="Evaluation text file for --data PATH "
                                                   "(default: its last 10%).")] = None,
    max_train: Annotated[int, typer.Option("--max-train", help="Use only the first N training items (0 = all).")] = 0,
    max_eval: Annotated[int, typer.Option("--max-eval", help="Use only the first N evaluation items (0 = all).")] = 0,
    device: Annotated[str, typer.Option("--device", help="auto, cpu, cuda or cuda:N.")] = "auto",
    seed: SeedOpt = 0,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Train a VAE and print its evaluation metrics: NLL, KL, MI, active units, PPL.

    PTB trains on ptb.train.txt when present, else on ptb.valid.txt, and evaluates on ptb.test.txt.
    Checkpoints are atomic; `--resume` continues a killed run exactly. Runs under `torchrun` too.

    Example: kexue vae train --data ptb --head plain --epochs 10   (watch the KL vanish)
    """
    from .text import PRESETS
    from .training import TrainConfig, public
    from .training import train as run

    quiet_if(quiet, json_out)
    if preset not in PRESETS:
        raise UsageError(f"unknown --preset {preset!r}; choose one of {', '.join(PRESETS)}")
    sizes = dict(PRESETS[preset])
    if data in ("mnist", "fashion-mnist") and preset == "cpu":
        sizes["hidden"] = 256
    for k, v in (("emb", emb), ("hidden", hidden), ("latent", latent)):
        if v is not None:
            sizes[k] = v
    if data not in ("ptb", "mnist", "fashion-mnist") and not Path(data).exists():
        raise InputError(f"--data {data!r}: not a known data set and no such file ({DATA_HELP})")
    cfg = TrainConfig(data=data, head=head, gamma=gamma, tau=tau, var_floor=var_floor, objective=objective,
                      epochs=epochs, batch_size=batch_size, batching=batching, optimizer=optimizer, lr=lr,
                      dropout=dropout, word_dropout=word_dropout, dev=dev, select=select, lr_decay=lr_decay,
                      weight_decay=weight_decay, bn_stats=bn_stats, min_count=min_count, free_bits=free_bits,
                      warmup=warmup, cycles=cycles, iw_samples=iw_samples, nll_limit=nll_limit,
                      eval_data=str(eval_data) if eval_data else None, max_train=max_train, max_eval=max_eval,
                      seed=seed, **sizes)
    summary = run(cfg, out, resume=resume, quiet=True if (quiet or json_out) else None, device=device)
    if summary["_rank"] == 0:  # under torchrun only the main process reports (it alone evaluated)
        emit(public(summary), json_out, _human)


def _load(run_dir: Path):
    from .training import load_run

    return load_run(run_dir)


@app.command()
def generate(
    run: Annotated[Path, typer.Argument(help="The --out folder of a `kexue vae train` run.")],
    n: Annotated[int, typer.Option("--n", help="How many sentences (or images).")] = 5,
    greedy: Annotated[bool, typer.Option("--greedy/--sample", help="Greedy decoding or sampling.")] = False,
    temperature: Annotated[float, typer.Option("--temperature", help="Softmax temperature when sampling.")] = 1.0,
    max_len: Annotated[int, typer.Option("--max-len", help="Longest sentence, in words.")] = 40,
    png: Annotated[Path | None, typer.Option("--png", help="Image runs: write the samples as a PNG grid here.")] = None,
    seed: SeedOpt = 0,
    json_out: JsonOpt = False,
) -> None:
    """Decode sentences from z ~ N(0, I) (text runs), or sample images (image runs).

    Example: kexue vae generate runs/bn --n 5 --sample
    """
    import torch

    if n < 1:
        raise UsageError("--n must be at least 1")
    model, vocab, cfg = _load(run)
    gen = torch.Generator().manual_seed(seed)
    if vocab is None:
        imgs = model.sample_images(n, generator=gen)
        if png is not None:
            from .reproduce import save_grid

            save_grid(imgs, png, ncol=min(n, 10))
        emit({"images": n, "png": str(png) if png else None}, json_out,
             lambda r: f"sampled {n} images" + (f" -> {png}" if png else " (give --png to save them)"))
        return
    z = torch.randn((n, cfg.latent), generator=gen)
    sents = [" ".join(vocab.decode(s)) for s in
             model.generate(z, max_len=max_len, greedy=greedy, temperature=temperature, generator=gen)]
    emit({"sentences": sents, "greedy": greedy}, json_out, lambda r: "\n".join(r["sentences"]))


@app.command()
def interpolate(
    run: Annotated[Path, typer.Argument(help="The --out folder of a text `kexue vae train` run.")],
    a: Annotated[str, typer.Argument(help="First sentence.")],
    b: Annotated[str, typer.Argument(help="Second sentence.")],
    steps: Annotated[int, typer.Option("--steps", help="Points on the line from z(a) to z(b), ends included.")] = 5,
    max_len: Annotated[int, typer.Option("--max-len", help="Longest sentence, in words.")] = 40,
    json_out: JsonOpt = False,
) -> None:
    """Greedy decodings along the straight line between the posterior means of two sentences.

    Example: kexue vae interpolate runs/bn "the market fell" "the company said it would buy"
    """
    from .text import interpolate as interp

    if steps < 2:
        raise UsageError("--steps must be at least 2")
    model, vocab, _ = _load(run)
    if vocab is None:
        raise UsageError(f"{run} is an image run; interpolate works on text runs")
    sents = [" ".join(s) for s in interp(model, vocab, a.split(), b.split(), steps=steps, max_len=max_len)]
    emit({"sentences": sents}, json_out, lambda r: "\n".join(f"{i}: {s}" for i, s in enumerate(r["sentences"])))


@app.command()
def bound(
    latent: Annotated[int, typer.Option("--latent", help="Latent size d.")] = 32,
    gamma: Annotated[float | None, typer.Option("--gamma", help="BN scale on mu.")] = None,
    tau: Annotated[float | None, typer.Option("--tau", help="tau of the scaler head.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """The KL floor a BN head guarantees: (d/2) gamma^2, or d tau / 2.

    Example: kexue vae bound --latent 32 --gamma 0.6   ->  5.76 nats
    """
    from .heads import check_gamma, check_latent, check_tau, kl_bound

    check_latent(latent)
    if (gamma is None) == (tau is None):
        raise UsageError("give exactly one of --gamma or --tau")
    if gamma is not None:
        check_gamma(gamma)
    else:
        check_tau(tau)
    v = kl_bound(latent, gamma=gamma, tau=tau)
    emit({"latent": latent, "gamma": gamma, "tau": tau, "kl_bound": v}, json_out,
         lambda r: f"E[KL] >= {r['kl_bound']:.6g} nats")
