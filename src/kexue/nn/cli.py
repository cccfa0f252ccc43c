"""``kexue nn``: the essay's demos, gradient checks, and a fast (Fashion-)MNIST classifier."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from ..console import JsonOpt, QuietOpt, SeedOpt, emit, quiet_if, say
from ..errors import UsageError

app = typer.Typer(no_args_is_help=True, help=(
    "Neural networks from scratch and a fast CNN classifier (article 08: neural networks and deep learning). "
    "Try `kexue nn demo xor --plot xor.png`, then `kexue nn train --data fashion-mnist`."))

DataOpt = Annotated[str, typer.Option("--data", "-d", help="Data set: fashion-mnist or mnist.")]


def _check_demo(name: str) -> str:
    from .demos import DEMOS

    if name not in DEMOS:
        raise UsageError(f"unknown demo {name!r}; choose from {', '.join(DEMOS)}")
    return name


@app.command()
def demo(name: Annotated[str, typer.Argument(help="logic | xor | fit | features | autoencoder")],
         plot: Annotated[Path | None, typer.Option("--plot", help="Also save a figure (PNG) here.")] = None,
         data: DataOpt = "fashion-mnist",
         seed: SeedOpt = 0,
         json_out: JsonOpt = False) -> None:
    """Run one of the essay's demos and print what it shows.

    \b
    logic        threshold neurons θ(x)=±1 computing AND, OR, NOT, and XOR with two layers
    xor          gradient descent: one layer fails on XOR, two layers learn it
    fit          classification as fitting: decision boundaries for growing hidden layers
    features     y = x² + x: least squares on x, on (x, x²), and on learned features
    autoencoder  100-b-100 autoencoders on 10x10 (Fashion-)MNIST: error vs bottleneck (--data)
    """
    from . import demos

    _check_demo(name)
    quiet_if(False, json_out)
    if name == "logic":
        r = demos.logic()
        if plot:
            demos.plot_logic(r, plot)
        human = _logic_text
    elif name == "xor":
        r = demos.xor(seed=seed)
        if plot:
            demos.plot_xor(plot, seed=seed)
        human = _xor_text
    elif name == "fit":
        r = demos.fit(seed=seed)
        if plot:
            demos.plot_fit(plot, seed=seed)
        human = _fit_text
    elif name == "features":
        r = demos.features(seed=seed)
        if plot:
            demos.plot_features(plot, seed=seed)
        human = _features_text
    else:
        r = demos.autoencoder(data, seed=seed, return_models=plot is not None)
        if plot:
            demos.plot_autoencoder(r, plot)
        r = {k: v for k, v in r.items() if not k.startswith("_")}
        human = _ae_text
    if plot:
        r["plot"] = str(plot)
    emit({"demo": name} | r, json_out, human)


def _logic_text(r: dict) -> str:
    lines = ["McCulloch-Pitts neurons, θ(x) = 1 if x >= 0 else -1, inputs and outputs ±1:"]
    for name, g in r["gates"].items():
        if g["layers"] == 1:
            w = ", ".join(f"{v:+g}" for v in g["weights"])
            lines.append(f"  {name:5s} = θ(w·x + b)   w = ({w}), b = {g['bias']:+g}   correct: {g['correct']}")
        else:
            lines.append(f"  {name:5s} = θ(h1 + h2 - 1) with h1 = θ(x1 + x2 + 1) (OR), h2 = θ(-x1 - x2 + 1) (NAND)"
                         f"   correct: {g['correct']}")
        lines.append("        " + "  ".join(str(tuple(row[:-1])) + "->" + str(row[-1]) for row in g["truth_table"]))
    sep = r["linearly_separable"]
    lines.append("one neuron can compute (LP test): "
                 + ", ".join(f"{k}: {'yes' if v else 'NO'}" for k, v in sep.items()))
    lines.append("XOR net with θ replaced by tanh(kx), max error: "
                 + ", ".join(f"k={s['k']:g}: {s['max_error']:.2g}" for s in r["smooth"]))
    return "\n".join(lines)


def _xor_text(r: dict) -> str:
    out = []
    for name in ("one_layer", "two_layer"):
        x = r[name]
        out.append(f"{name.replace('_', ' '):10s} {x['sizes']}: solved {x['solved']}/{x['runs']} runs, "
                   f"best accuracy {x['best_accuracy']:.0%}")
    out.append("one layer can draw only one line, and no line separates XOR; two layers can.")
    return "\n".join(out)


def _fit_text(r: dict) -> str:
    rows = [f"{'hidden units':>12s} {'params':>7s} {'train acc':>10s} {'test acc':>9s}"]
    for x in r["results"]:
        rows.append(f"{x['hidden']:12d} {x['params']:7d} {x['train_accuracy']:10.1%} {x['test_accuracy']:9.1%}")
    return "two moons, tanh network, softmax cross-entropy, Adam:\n" + "\n".join(rows)


def _features_text(r: dict) -> str:
    return (f"y = x² + x on [-2, 2], {r['n']} points\n"
            f"  least squares on (1, x):       R² = {r['linear_on_x']['r2']:.4f}\n"
            f"  least squares on (1, x, x²):   R² = {r['hand_feature_x2']['r2']:.12f}  (the hand-made feature)\n"
            f"  network with {r['learned']['hidden']} tanh units: R² = {r['learned']['r2']:.6f}  (features learned)\n"
            f"  a dense layer from a 1000x1000 image to 10^6 units has {r['dense_weights_for_megapixel']:.0e} weights")


def _ae_text(r: dict) -> str:
    rows = [f"{'bottleneck':>10s} {'test MSE':>9s} {'PCA MSE':>9s} {'probe acc':>9s}"]
    for x in r["results"]:
        rows.append(f"{x['bottleneck']:10d} {x['test_mse']:9.5f} {x['pca_mse']:9.5f} {x['probe_accuracy']:9.1%}")
    return (f"100-b-100 autoencoders on {r['dataset']} ({r['input']}); linear probe on all pixels: "
            f"{r['probe_accuracy_raw_pixels']:.1%}\n" + "\n".join(rows))


@app.command()
def gradcheck(hidden: Annotated[str, typer.Option(help="Hidden activation: sigmoid, tanh or relu.")] = "tanh",
              loss: Annotated[str, typer.Option(help="Loss: ce (softmax cross-entropy) or mse.")] = "ce",
              seed: SeedOpt = 0, json_out: JsonOpt = False) -> None:
    """Compare the hand-written backpropagation of the numpy MLP with central finite differences."""
    from .scratch import gradient_check

    r = gradient_check(hidden=hidden, loss=loss, seed=seed)
    emit(r, json_out, lambda r: (f"MLP {r['sizes']} ({hidden}, {loss}): max relative error of the "
                                 f"backprop gradient against finite differences = {r['max_relative_error']:.2e}"))


def _dist_info():
    from ..train import DistInfo

    return DistInfo(int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1")),
                    int(os.environ.get("LOCAL_RANK", "0")))


@app.command()
def train(data: DataOpt = "fashion-mnist",
          epochs: Annotated[int, typer.Option("--epochs", "-e",
                                              help="Epochs (the learning-rate cycle spans them all).")] = 12,
          out: Annotated[Path | None, typer.Option("--out", "-o", help="Folder for last.pt, metrics.jsonl and "
                                                   "confusion.png (default runs/nn-DATA).")] = None,
          resume: Annotated[bool, typer.Option("--resume", help="Continue from OUT/last.pt (a killed run goes on "
                                               "exactly where its last finished epoch ended).")] = False,
          batch_size: Annotated[int, typer.Option("--batch-size", help="Global batch size (split over ranks).")] = 128,
          lr: Annotated[float, typer.Option("--lr", help="Peak learning rate (SGD, Nesterov momentum).")] = 0.1,
          subset: Annotated[int | None, typer.Option("--subset", help="Train on the first N images only.")] = None,
          device: Annotated[str, typer.Option("--device", help="auto, cpu, cuda or cuda:N.")] = "auto",
          bf16: Annotated[bool, typer.Option("--bf16", help="bfloat16 autocast: faster on CPUs with AVX-512 BF16 "
                                             "or AMX and on recent GPUs, slower elsewhere.")] = False,
          threads: Annotated[int | None, typer.Option("--threads", help="CPU threads per process (default: torch's)."
                                                      )] = None,
          seed: SeedOpt = 0, json_out: JsonOpt = False, quiet: QuietOpt = False) -> None:
    """Train the small CNN; print test accuracy, time and throughput; save a confusion-matrix picture.

    Runs unchanged under `torchrun --nproc_per_node 2 -m kexue nn train ...` (DDP: gloo on CPU,
    nccl on GPU). Checkpoints are written atomically after every epoch; `--resume` continues.
    """
    # idle OpenMP threads sleep instead of spinning: on a busy machine spinning threads slow
    # training down several times over (only effective if torch is not imported yet)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch

    from ..train import dist_teardown
    from .classifier import TrainConfig, plot_confusion
    from .classifier import train as train_cnn

    quiet_if(quiet, json_out)
    if threads is not None:
        if threads < 1:
            raise UsageError(f"--threads must be at least 1, got {threads}")
        torch.set_num_threads(threads)
    if subset is not None and subset < batch_size:
        raise UsageError(f"--subset must be at least the batch size ({batch_size}), got {subset}")
    out = out or Path("runs") / f"nn-{data}"
    cfg = TrainConfig(dataset=data, epochs=epochs, batch_size=batch_size, lr=lr, train_subset=subset, seed=seed,
                      bf16=bf16)
    info = _dist_info()
    if info.is_main and not resume and (out / "last.pt").is_file():
        raise UsageError(f"{out} already holds a run: add --resume to continue it, or choose another --out")
    try:
        r = train_cnn(cfg, out, resume=resume, device=device, quiet=quiet or json_out)
        if info.is_main:
            plot_confusion(r.confusion, data, out / "confusion.png")
    finally:
        dist_teardown(info)
    if not info.is_main:
        return
    summary = {"dataset": data, "test_accuracy": r.test_accuracy, "epochs": r.epochs,
               "train_seconds": round(r.train_seconds, 2), "images_per_second": round(r.images_per_second, 1),
               "train_cpu_seconds": round(r.cpu_seconds, 2),
               "world_size": info.world_size, "checkpoint": str(r.checkpoint),
               "confusion_png": str(out / "confusion.png"),
               "history": r.history}
    emit(summary, json_out, lambda s: (f"{data}: test accuracy {s['test_accuracy']:.2%} after {s['epochs']} epochs, "
                                       f"{s['train_seconds']:.0f} s of training ({s['images_per_second']:.0f} images/s)"
                                       f"\ncheckpoint {s['checkpoint']}, confusion matrix {s['confusion_png']}"))


@app.command()
def evaluate(checkpoint: Annotated[Path, typer.Argument(help="A last.pt written by `kexue nn train`.")],
             data: Annotated[str | None, typer.Option("--data", "-d", help="Evaluate on this data set's test "
                                                      "split instead of the one it was trained on.")] = None,
             plot: Annotated[Path | None, typer.Option("--plot", help="Save the confusion matrix (PNG).")] = None,
             json_out: JsonOpt = False) -> None:
    """Test accuracy, per-class accuracy and confusion matrix of a trained checkpoint."""
    from .classifier import evaluate as eval_cnn
    from .classifier import plot_confusion

    r = eval_cnn(checkpoint, data)
    if plot:
        import numpy as np

        plot_confusion(np.array(r["confusion"]), r["dataset"], plot)
        r["plot"] = str(plot)

    def human(r):
        lines = [f"{r['dataset']} test accuracy {r['test_accuracy']:.2%} ({r['images']} images, "
                 f"{r['images_per_second']:.0f} images/s)"]
        for name, row in zip(r["classes"], r["confusion"], strict=True):
            lines.append(f"  {name:12s} {row[r['classes'].index(name)] / max(sum(row), 1):.1%}")
        return "\n".join(lines)

    emit(r, json_out, human)


@app.command()
def features(data: DataOpt = "fashion-mnist", json_out: JsonOpt = False, quiet: QuietOpt = False) -> None:
    """Build (first time: train, about two minutes) or load the cached FID feature network."""
    import time

    from .classifier import feature_cache_path, feature_extractor

    quiet_if(quiet, json_out)
    path = feature_cache_path(data)
    cached = path.is_file()
    if not cached:
        say(f"training the feature network for {data} (cached afterwards in {path}) ...")
    start = time.perf_counter()
    fx = feature_extractor(data, quiet=quiet or json_out)
    from ..train import load_checkpoint

    acc = load_checkpoint(path).get("test_accuracy")
    emit({"dataset": data, "cache": str(path), "was_cached": cached, "num_features": fx.num_features,
          "classifier_test_accuracy": acc, "seconds": round(time.perf_counter() - start, 2)}, json_out,
         lambda r: f"{r['num_features']}-d features of a classifier with test accuracy "
                   f"{r['classifier_test_accuracy']:.2%} ({'loaded' if r['was_cached'] else 'trained'}): {r['cache']}")
