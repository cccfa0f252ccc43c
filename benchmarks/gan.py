"""Benchmark of the gan topic: every loss on the 2-D toy, the training-loop overhead, a Fashion-MNIST FID table.

    python benchmarks/gan.py                 # the full benchmark (FID runs of --minutes each: long)
    python benchmarks/gan.py --quick         # a reduced version (short runs, a few configurations)

Writes benchmarks/results/gan.json. Targets (issue 7): every preset covers >= 7 of the 8 modes of the
ring within 2 minutes; Fashion-MNIST: the best configuration within 3x the real-data floor, each run
<= 20 minutes; the shared training loop's step time within 10% of a plain PyTorch loop.

FID features: ``kexue.nn.feature_extractor`` when the nn topic provides it; otherwise a small CNN
classifier trained here (seed 0, one epoch), reported as such. FIDs are only comparable with the
same features, never with the Inception FIDs of papers (anchor: Lucic et al. 2018, Fashion-MNIST
best FIDs 21.5-30.7 with Inception features).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from kexue.gan.losses import preset_names  # noqa: E402
from kexue.gan.models import build_models  # noqa: E402
from kexue.gan.training import GanConfig, generate, load_images, train_gan  # noqa: E402
from kexue.utils import atomic_write_json  # noqa: E402


def toy_table(steps: int, out: Path) -> list[dict]:
    rows = []
    for name in preset_names():
        start = time.perf_counter()
        try:
            res = train_gan(GanConfig(data="toy2d", loss=name, steps=steps, every=500, seed=0), out / f"toy-{name}")
            hist = [json.loads(s) for s in (out / f"toy-{name}" / "metrics.jsonl").read_text().splitlines()]
            row = {"loss": name, "modes_covered": res["modes_covered"], "high_quality": res["high_quality"],
                   "modes_covered_per_500_steps": [h["modes_covered"] for h in hist],
                   "r_real": res.get("r_real"), "r_fake": res.get("r_fake"), "diverged": False}
        except Exception as e:  # noqa: BLE001 - a diverging loss is a result, not a crash
            row = {"loss": name, "modes_covered": 0, "high_quality": 0.0, "diverged": True, "error": str(e)}
        row["seconds"] = time.perf_counter() - start
        row["target_met"] = row["modes_covered"] >= 7 and row["seconds"] <= 120
        rows.append(row)
        print(f"toy2d {name:8s} modes {row['modes_covered']}/8  high-quality {row['high_quality']:.3f}  "
              f"{row['seconds']:.0f} s", flush=True)
    return rows


def plain_loop(data: str, model: str, steps: int, seed: int = 0) -> float:
    """The same GAN step written as a bare PyTorch loop (no Trainer, no loss factory): seconds per step."""
    torch.manual_seed(seed)
    G, D = build_models(data, model)
    cfg = GanConfig(data=data, model=model, loss="wgan-gp", steps=steps).resolved()
    og = torch.optim.Adam(G.parameters(), lr=cfg.lr_g, betas=(0.5, 0.999))
    od = torch.optim.Adam(D.parameters(), lr=cfg.lr_d, betas=(0.5, 0.999))
    B, nc = cfg.batch, cfg.n_critic
    if data == "toy2d":
        from kexue.gan.toy import sample_ring

        rng = np.random.default_rng(seed)

        def real_batch():
            return torch.from_numpy(sample_ring(B, rng))
    else:
        images = load_images(data)
        g = torch.Generator().manual_seed(seed)

        def real_batch():
            return images[torch.randint(0, len(images), (B,), generator=g)]
    start = time.perf_counter()
    for _ in range(steps):
        for _ in range(nc):
            real = real_batch()
            with torch.no_grad():
                fake = G(G.noise(B, "cpu"))
            eps = torch.rand(B, *([1] * (real.dim() - 1)))
            xh = (eps * real + (1 - eps) * fake).requires_grad_(True)
            u = D(torch.cat([real, fake, xh]))
            (gr,) = torch.autograd.grad(u[2 * B:].sum(), xh, create_graph=True)
            loss = u[:B].mean() - u[B:2 * B].mean() + 10 * torch.relu(gr.flatten(1).norm(dim=1) - 1).mean()
            od.zero_grad()
            loss.backward()
            od.step()
        for p in D.parameters():
            p.requires_grad_(False)
        lg = D(G(G.noise(B, "cpu"))).mean()
        og.zero_grad()
        lg.backward()
        og.step()
        for p in D.parameters():
            p.requires_grad_(True)
    return (time.perf_counter() - start) / steps


def overhead(data: str, model: str, steps: int, out: Path, repeats: int = 3) -> dict:
    ours, plain = [], []
    threads = torch.get_num_threads()
    for k in range(repeats):  # interleaved, best of n: the machine is shared and noisy
        if data == "toy2d":
            torch.set_num_threads(1)  # as train_gan does for the toy
        plain.append(plain_loop(data, model, steps, seed=k))
        torch.set_num_threads(threads)
        res = train_gan(GanConfig(data=data, model=model, loss="wgan-gp", steps=steps, every=steps, seed=k, ema=0.0),
                        out / f"overhead-{data}-{model}-{k}")
        ours.append(res["seconds"] / steps)  # the training loop (with its checkpoint and samples), not data loading
    row = {"data": data, "model": model, "loss": "wgan-gp", "steps": steps, "plain_s_per_step": min(plain),
           "kexue_s_per_step": min(ours), "ratio": min(ours) / min(plain)}
    print(f"overhead {data}/{model}: plain {row['plain_s_per_step'] * 1e3:.2f} ms/step, kexue "
          f"{row['kexue_s_per_step'] * 1e3:.2f} ms/step, ratio {row['ratio']:.3f}", flush=True)
    return row


def local_feature_net(seed: int = 0, epochs: int = 1):
    """A small Fashion-MNIST CNN trained here (when kexue.nn is not available); returns (features, accuracy)."""
    from kexue.data import load_mnist

    torch.manual_seed(seed)
    body = torch.nn.Sequential(torch.nn.Conv2d(1, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                               torch.nn.Conv2d(32, 64, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                               torch.nn.Flatten(), torch.nn.Linear(64 * 49, 128), torch.nn.ReLU())
    head = torch.nn.Linear(128, 10)
    net = torch.nn.Sequential(body, head)
    x = load_images("fashion-mnist")
    y = torch.from_numpy(np.array(load_mnist("fashion-mnist", "train")[1], dtype=np.int64))
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    g = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        perm = torch.randperm(len(x), generator=g)
        for i in range(0, len(x), 128):
            idx = perm[i:i + 128]
            loss = torch.nn.functional.cross_entropy(net(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    xt = load_images("fashion-mnist", "test")
    yt = torch.from_numpy(np.array(load_mnist("fashion-mnist", "test")[1], dtype=np.int64))
    with torch.no_grad():
        acc = float((net(xt).argmax(1) == yt).float().mean())
    return body.eval(), acc


def fid_table(configs: list[tuple[str, str]], minutes: float, out: Path) -> dict:
    from kexue.gan.fid import extract_features, feature_stats, frechet_distance

    try:
        from kexue.gan.fid import default_feature_extractor

        feat = default_feature_extractor("fashion-mnist")
        features = "kexue.nn.feature_extractor('fashion-mnist')"
        acc = None
    except Exception:  # noqa: BLE001
        start = time.perf_counter()
        feat, acc = local_feature_net()
        features = (f"benchmark-local CNN (seed 0, 1 epoch, test accuracy {acc:.4f}, "
                    f"{time.perf_counter() - start:.0f} s)")
    print(f"FID features: {features}", flush=True)
    test = load_images("fashion-mnist", "test")
    ft = feature_stats(extract_features(feat, test))
    train = load_images("fashion-mnist")
    idx = torch.randperm(len(train), generator=torch.Generator().manual_seed(0))[:10000]
    floor = frechet_distance(*feature_stats(extract_features(feat, train[idx])), *ft)
    noise = frechet_distance(*feature_stats(extract_features(feat, torch.rand(10000, 1, 28, 28))), *ft)
    print(f"floor (10k train vs 10k test) {floor:.3f}; uniform noise {noise:.1f}", flush=True)
    rows = []
    for model, loss in configs:
        # calibrate: time 20 steps, then run as many steps as fit into the budget
        calib = train_gan(GanConfig(data="fashion-mnist", model=model, loss=loss, steps=30, every=30), out / "calib")
        per_step = calib["seconds"] / 30
        steps = max(30, int(minutes * 60 / per_step / 1.15))
        start = time.perf_counter()
        row = {"model": model, "loss": loss, "steps": steps}
        try:
            res, G = train_gan(GanConfig(data="fashion-mnist", model=model, loss=loss, steps=steps,
                                         every=max(1, steps // 5)), out / f"fm-{model}-{loss}", return_generator=True)
            row["train_seconds"] = time.perf_counter() - start
            row["fid"] = frechet_distance(*feature_stats(extract_features(feat, generate(G, 10000))), *ft)
            row["ratio_to_floor"] = row["fid"] / floor
            row.update({k: res.get(k) for k in ("r_real", "r_fake")})
        except Exception as e:  # noqa: BLE001
            row.update(train_seconds=time.perf_counter() - start, fid=None, error=str(e))
        rows.append(row)
        fid_s = "diverged" if row["fid"] is None else f"{row['fid']:.2f} ({row['ratio_to_floor']:.1f}x floor)"
        print(f"FID {model:5s} {loss:8s} {steps:6d} steps {row['train_seconds']:.0f} s: {fid_s}", flush=True)
    ok = [r for r in rows if r.get("fid") is not None]
    best = min(ok, key=lambda r: r["fid"]) if ok else None
    return {"features": features, "feature_accuracy": acc, "floor": floor, "noise_fid": noise,
            "minutes_per_run": minutes, "rows": rows,
            "best": best and {"model": best["model"], "loss": best["loss"], "fid": best["fid"],
                              "within_3x_floor": best["fid"] <= 3 * floor}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="reduced runs (minutes instead of hours)")
    ap.add_argument("--toy-steps", type=int, default=3000)
    ap.add_argument("--minutes", type=float, default=None, help="training minutes per FID run (default 20, quick 2)")
    ap.add_argument("--skip", nargs="*", default=[], choices=["toy", "overhead", "fid"])
    ap.add_argument("--out", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "kexue-gan-bench")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (default 1: on a loaded 2-core machine 2 threads measured 35-90x slower)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    minutes = args.minutes if args.minutes is not None else (2.0 if args.quick else 20.0)
    res: dict = {"quick": args.quick, "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                 "machine": {"cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                             "python": platform.python_version(), "torch": torch.__version__,
                             "numpy": np.__version__, "platform": platform.platform(),
                             "load_average_at_start": os.getloadavg()},
                 "anchor": {"fashion_mnist_fid_inception_lucic2018": {"WGAN": 21.5, "WGAN-GP": 24.5, "NS-GAN": 26.5,
                                                                      "MM-GAN": 29.6, "LSGAN": 30.7},
                            "note": "Inception features: not comparable with our classifier-feature FID",
                            "issue_targets": {"toy_modes": ">= 7 of 8 within 2 minutes",
                                              "fid": "best within 3x the floor", "overhead": "< 10%"}}}
    path = ROOT / "benchmarks" / "results" / "gan.json"
    if args.skip and path.is_file():  # keep the sections measured by an earlier run
        old = json.loads(path.read_text())
        for key, section in (("toy2d", "toy"), ("overhead", "overhead"), ("fashion_mnist_fid", "fid")):
            if section in args.skip and key in old:
                res[key] = old[key]
                res.setdefault("kept_from_earlier_run", {})[key] = old.get("started")
    if "toy" not in args.skip:
        res["toy2d"] = toy_table(args.toy_steps, args.out)
        atomic_write_json(path, res)  # partial results survive a later failure
    if "overhead" not in args.skip:
        res["overhead"] = [overhead("toy2d", "mlp", 300 if args.quick else 1000, args.out),
                           overhead("fashion-mnist", "mlp", 40 if args.quick else 200, args.out)]
        atomic_write_json(path, res)
    if "fid" not in args.skip:
        configs = ([("mlp", "wgan-gp"), ("mlp", "E"), ("dcgan", "E"), ("dcgan", "F")] if args.quick else
                   [(m, loss) for m in ("mlp", "dcgan") for loss in preset_names()])
        res["fashion_mnist_fid"] = fid_table(configs, minutes, args.out)
    res["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    res["machine"]["load_average_at_end"] = os.getloadavg()
    atomic_write_json(path, res)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
