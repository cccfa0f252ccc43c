"""Benchmark of the gan topic: every loss on the 2-D toy, the training-loop overhead, a Fashion-MNIST FID table.

    python benchmarks/gan.py                              # everything: about 1.5 hours on 2 cores
    python benchmarks/gan.py --quick                      # a reduced version (a few minutes)
    python benchmarks/gan.py --skip toy overhead --minutes 3 --rows dcgan:E mlp:wgan-gp --long none
    python benchmarks/gan.py --skip toy overhead --rows --long dcgan:E --long-minutes 20   # only a long run

Writes benchmarks/results/gan.json. Targets (issue 7): every preset covers >= 7 of the 8 modes of the
ring within 2 minutes; Fashion-MNIST: the best configuration within 3x the real-data floor, each run
<= 20 minutes; the shared training loop's step time within 10% of a plain PyTorch loop.

The FID table trains each (model, loss) for the same training-time budget (--minutes, default 3), scores
10k samples of its weight-averaged generator against the 10k test images after about every --eval-every
seconds of training (the FID curve), then trains the best configuration once more for --long-minutes
(default 20). Each finished run is appended to benchmarks/results/gan-fid-runs.jsonl and reused by a
later call (--fresh: not), so a killed benchmark loses one run at most.

FID features: ``kexue.nn.feature_extractor`` (the issue's choice); only when kexue.nn is not installed
a small CNN classifier trained here (seed 0, one epoch), with a NOTE in the output and the JSON.
FIDs are only comparable with the same features, never with the Inception FIDs of papers
(anchor: Lucic et al. 2018, Fashion-MNIST best FIDs 21.5-30.7 with Inception features).
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
    import shutil

    rows = []
    for name in [*preset_names(), "F-mid"]:  # F-mid: the blog's literal LSGAN generator loss, for comparison
        start = time.perf_counter()
        shutil.rmtree(out / f"toy-{name}", ignore_errors=True)  # metrics.jsonl is appended to
        try:
            res = train_gan(GanConfig(data="toy2d", loss=name, steps=steps, every=500, seed=0), out / f"toy-{name}")
            hist = [json.loads(s) for s in (out / f"toy-{name}" / "metrics.jsonl").read_text().splitlines()]
            row = {"loss": name, "modes_covered": res["modes_covered"], "high_quality": res["high_quality"],
                   "modes_covered_per_500_steps": [h["modes_covered"] for h in hist],
                   "train_seconds_to_7_modes": next((float(t) for t, h in zip(
                       np.cumsum([h["seconds"] for h in hist]), hist, strict=True) if h["modes_covered"] >= 7), None),
                   "r_real": res.get("r_real"), "r_fake": res.get("r_fake"), "diverged": False}
        except Exception as e:  # noqa: BLE001 - a diverging loss is a result, not a crash
            row = {"loss": name, "modes_covered": 0, "high_quality": 0.0, "diverged": True, "error": str(e)}
        row["seconds"] = time.perf_counter() - start
        row["target_met"] = row["modes_covered"] >= 7 and row["seconds"] <= 120  # the whole run, with evaluations
        row["in_preset_names"] = name in preset_names()
        rows.append(row)
        t7 = row.get("train_seconds_to_7_modes")
        print(f"toy2d {name:8s} modes {row['modes_covered']}/8  high-quality {row['high_quality']:.3f}  "
              f"{row['seconds']:.0f} s" + (f" (7 modes after {t7:.0f} s of training)" if t7 else ""), flush=True)
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
    """A small Fashion-MNIST CNN trained here, only when kexue.nn is not installed; returns (features, accuracy)."""
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


def fid_features() -> tuple[torch.nn.Module, str, float | None]:
    """The nn topic's classifier features (the issue's choice), or, only if kexue.nn is missing, a local CNN."""
    from kexue.gan.fid import FeatureExtractorMissing, default_feature_extractor

    try:
        feat = default_feature_extractor("fashion-mnist")
        acc = None
        try:
            from kexue.nn.classifier import feature_cache_path
            from kexue.train import load_checkpoint

            acc = load_checkpoint(feature_cache_path("fashion-mnist")).get("test_accuracy")
        except Exception:  # noqa: BLE001 - the accuracy is a detail of the report
            pass
        return feat, "kexue.nn.feature_extractor('fashion-mnist') (128-d penultimate layer)", acc
    except FeatureExtractorMissing as e:
        print(f"NOTE: {e}\nNOTE: falling back to a benchmark-local CNN; these FIDs are NOT the issue's", flush=True)
        start = time.perf_counter()
        feat, acc = local_feature_net()
        return feat, (f"FALLBACK benchmark-local CNN (kexue.nn missing; seed 0, 1 epoch, test accuracy {acc:.4f}, "
                      f"{time.perf_counter() - start:.0f} s)"), acc


def parse_rows(rows: list[str]) -> list[tuple[str, str]]:
    """``["all"]`` or ``MODEL:LOSS`` items (MODEL mlp|dcgan, or ``*`` for both) -> [(model, loss)]."""
    if not rows or rows == ["all"]:
        return [(m, loss) for loss in preset_names() for m in ("mlp", "dcgan")]
    out = []
    for item in rows:
        model, _, loss = item.partition(":")
        for m in (("mlp", "dcgan") if model in ("*", "") else (model,)):
            if m not in ("mlp", "dcgan") or not loss:
                raise SystemExit(f"bad row {item!r}: use MODEL:LOSS with MODEL mlp, dcgan or *")
            out.append((m, loss))
    return out


def fid_run(model: str, loss: str, minutes: float, feat, ref_stats, out: Path, *, eval_every_s: float,
            overrides: dict | None = None, n_fid: int = 10000, seed: int = 0) -> dict:
    """Train (model, loss) on Fashion-MNIST for ``minutes`` of training time, FID (10k fakes vs the 10k test
    images) after every ~``eval_every_s`` seconds of training; return the row (with its FID curve)."""
    import shutil

    from kexue.gan.fid import extract_features, feature_stats, frechet_distance

    overrides = dict(overrides or {})
    run_dir = out / f"fm-{model}-{loss}-{minutes:g}min"
    shutil.rmtree(run_dir, ignore_errors=True)
    base = dict(data="fashion-mnist", model=model, loss=loss, seed=seed, **overrides)
    # seconds per step, to size the chunks: 12 steps, then about 5 s of steps (the first steps are slow)
    calib = train_gan(GanConfig(**{**base, "steps": 12, "every": 12}))
    n = max(12, int(5.0 / (calib["train_seconds"] / 12)))
    per_step = train_gan(GanConfig(**{**base, "steps": n, "every": n}))["train_seconds"] / n
    budget = minutes * 60
    n_evals = max(1, round(budget / eval_every_s))
    every = max(10, int(budget / n_evals / per_step))
    curve = []

    def evaluate(G, step_no):
        f = frechet_distance(*feature_stats(extract_features(feat, generate(G, n_fid, seed=seed))), *ref_stats)
        curve.append({"step": step_no, "fid": f})
        return {"fid": f}

    row = {"model": model, "loss": loss, "minutes_budget": minutes, "overrides": overrides}
    start = time.perf_counter()
    try:
        res = train_gan(GanConfig(**{**base, "steps": 10**8, "every": every,
                                     "max_seconds": budget - 0.5 * budget / n_evals}), run_dir, evaluate=evaluate)
        hist = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
        t = np.cumsum([h["seconds"] for h in hist])
        for c, h, tt in zip(curve, hist, t, strict=True):
            c.update(train_seconds=float(tt), r_real=h.get("r_real"), r_fake=h.get("r_fake"))
        row.update(steps=res["steps"], train_seconds=res["train_seconds"], fid=curve[-1]["fid"],
                   best_fid_on_curve=min(c["fid"] for c in curve), r_real=res.get("r_real"),
                   r_fake=res.get("r_fake"), config={k: res["config"][k] for k in
                                                     ("batch", "n_critic", "lr_d", "lr_g", "beta1", "beta2", "gp",
                                                      "ema", "every")},
                   samples=res.get("samples"), curve=curve)
    except Exception as e:  # noqa: BLE001 - a diverging loss is a result, not a crash
        row.update(fid=None, error=str(e), curve=curve, best_fid_on_curve=min((c["fid"] for c in curve), default=None))
    row["wall_seconds"] = time.perf_counter() - start
    return row


def fid_table(configs: list[tuple[str, str]], minutes: float, out: Path, *, log: Path, eval_every_s: float,
              long_run: str | None, long_minutes: float, fresh: bool = False) -> dict:
    """The Fashion-MNIST table: each configuration for ``minutes``, then one long run. Every finished run is
    appended to ``log`` (JSON lines) at once, and runs already there (same configuration and budget) are
    reused, so a killed benchmark loses at most the run in progress."""
    from kexue.gan.fid import extract_features, feature_stats, frechet_distance

    feat, features, acc = fid_features()
    print(f"FID features: {features}" + (f", classifier test accuracy {acc:.4f}" if acc else ""), flush=True)
    test = load_images("fashion-mnist", "test")
    ref = feature_stats(extract_features(feat, test))
    train = load_images("fashion-mnist")
    floors = []
    for s in range(3):  # the floor and its spread over three draws of 10k training images
        idx = torch.randperm(len(train), generator=torch.Generator().manual_seed(s))[:10000]
        floors.append(frechet_distance(*feature_stats(extract_features(feat, train[idx])), *ref))
    floor = floors[0]
    noise = frechet_distance(*feature_stats(extract_features(feat, torch.rand(10000, 1, 28, 28))), *ref)
    print(f"floor (10k train vs 10k test) {floor:.4f} (draws {', '.join(f'{f:.4f}' for f in floors)}); "
          f"uniform noise {noise:.1f}", flush=True)
    done = {}
    if log.is_file() and not fresh:
        for line in log.read_text().splitlines():
            r = json.loads(line)
            if r.get("features") == features:
                done[(r["model"], r["loss"], r["minutes_budget"])] = r

    def run(model, loss, mins):
        key = (model, loss, mins)
        if key in done:
            r = done[key]
            print(f"FID {model:5s} {loss:8s} reused from {log.name} ({r.get('finished')})", flush=True)
        else:
            r = fid_run(model, loss, mins, feat, ref, out, eval_every_s=eval_every_s)
            r.update(features=features, floor=floor, finished=time.strftime("%Y-%m-%d %H:%M:%S"),
                     load_average=os.getloadavg())
            log.parent.mkdir(parents=True, exist_ok=True)
            with open(log, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(r) + "\n")
            done[key] = r
        r["ratio_to_floor"] = r["fid"] / floor if r.get("fid") is not None else None
        # runs end after the first evaluation chunk past the budget: for an equal-time comparison, the FID at the
        # last evaluation within the budget (+5%)
        within = [c for c in r.get("curve", []) if c.get("train_seconds", 0) <= 1.05 * mins * 60]
        r["fid_within_budget"] = within[-1]["fid"] if within else None
        r["seconds_at_fid_within_budget"] = within[-1]["train_seconds"] if within else None
        fid_s = "diverged: " + r.get("error", "")[:80] if r.get("fid") is None else \
            f"FID {r['fid']:8.3f} = {r['ratio_to_floor']:7.1f}x floor"
        rr = (f"r̂ real {r['r_real']:.3g} fake {r['r_fake']:.3g}" if r.get("r_real") is not None else "r̂ -")
        print(f"FID {model:5s} {loss:8s} {r.get('steps', 0):6d} steps {r.get('train_seconds', 0):5.0f} s  {fid_s}  "
              f"{rr}", flush=True)
        return r

    rows = [run(m, loss, minutes) for m, loss in configs]
    ok = [r for r in rows if r.get("fid") is not None]
    best = min(ok, key=lambda r: r["fid"]) if ok else None
    long = None
    if long_run != "none" and (long_run or best):
        m, loss = long_run.split(":") if long_run else (best["model"], best["loss"])
        long = run(m, loss, long_minutes)
    if long and len(long.get("curve", [])) >= 4:  # how far off is 3x the floor? (indicative: FID curves flatten)
        c = long["curve"][len(long["curve"]) // 2:]
        b, a = np.polyfit(np.log([x["train_seconds"] for x in c]), np.log([x["fid"] for x in c]), 1)
        long["power_law_fit_second_half"] = {"exponent": float(b), "fid_at_1_s": float(np.exp(a))}
        long["extrapolated_hours_to_3x_floor"] = (float(np.exp((np.log(3 * floor) - a) / b) / 3600)
                                                  if b < 0 else None)
        print(f"long run: FID ~ t^{b:.2f} over its second half; 3x the floor would take about "
              f"{long['extrapolated_hours_to_3x_floor'] or float('inf'):.3g} hours at that rate", flush=True)
    cands = ok + ([long] if long and long.get("fid") is not None else [])
    overall = min(cands, key=lambda r: r["fid"]) if cands else None
    return {"features": features, "feature_accuracy": acc, "floor": floor, "floor_draws": floors,
            "noise_fid": noise, "minutes_per_run": minutes, "eval_every_s": eval_every_s, "rows": rows,
            "long_run": long,
            "best": overall and {"model": overall["model"], "loss": overall["loss"],
                                 "minutes": overall["minutes_budget"], "fid": overall["fid"],
                                 "ratio_to_floor": overall["fid"] / floor,
                                 "within_3x_floor": overall["fid"] <= 3 * floor}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="reduced: toy 3000 steps, short overhead runs, FID rows mlp:wgan-gp dcgan:E for 1 minute, "
                         "no long run")
    ap.add_argument("--toy-steps", type=int, default=3000)
    ap.add_argument("--minutes", type=float, default=None, help="training minutes per FID table run (default 3)")
    ap.add_argument("--rows", nargs="*", default=None,
                    help="FID table rows as MODEL:LOSS (MODEL mlp | dcgan | *), default all 16: "
                         "mlp and dcgan x A B C D E F wgan-gp hinge")
    ap.add_argument("--long", default=None,
                    help="MODEL:LOSS of the long run after the table (default: the table's best; 'none' skips it)")
    ap.add_argument("--long-minutes", type=float, default=20.0, help="training minutes of the long run")
    ap.add_argument("--eval-every", type=float, default=45.0, help="seconds of training between FID evaluations")
    ap.add_argument("--runs-log", type=Path, default=ROOT / "benchmarks" / "results" / "gan-fid-runs.jsonl",
                    help="finished FID runs are appended here; runs already there are reused (see --fresh)")
    ap.add_argument("--fresh", action="store_true", help="ignore the runs already in --runs-log")
    ap.add_argument("--skip", nargs="*", default=[], choices=["toy", "overhead", "fid"])
    ap.add_argument("--figure", action="store_true",
                    help="only redraw docs/gan/gan.png from the results JSON and the long run's checkpoint in --out")
    ap.add_argument("--out", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "kexue-gan-bench")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (default 1: on a loaded 2-core machine 2 threads measured 35-90x slower)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    minutes = args.minutes if args.minutes is not None else (1.0 if args.quick else 3.0)
    if args.figure:
        res = json.loads((ROOT / "benchmarks" / "results" / "gan.json").read_text())
        print(f"wrote {draw_figure(res, args.out, ROOT / 'docs' / 'gan' / 'gan.png')}")
        return
    res: dict = {"quick": args.quick, "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                 "machine": {"cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                             "python": platform.python_version(), "torch": torch.__version__,
                             "numpy": np.__version__, "platform": platform.platform(),
                             "load_average_at_start": os.getloadavg()},
                 "anchor": {"fashion_mnist_fid_inception_lucic2018": {"WGAN": 21.5, "WGAN-GP": 24.5, "NS-GAN": 26.5,
                                                                      "MM-GAN": 29.6, "LSGAN": 30.7},
                            "note": "Inception features: not comparable with our classifier-feature FID",
                            "issue_targets": {"toy_modes": ">= 7 of 8 within 2 minutes",
                                              "fid": "best within 3x the floor, each run <= 20 minutes",
                                              "overhead": "< 10%"}}}
    path = ROOT / "benchmarks" / "results" / "gan.json"
    if args.skip and path.is_file():  # keep the sections measured by an earlier run
        old = json.loads(path.read_text())
        for key, section in (("toy2d", "toy"), ("overhead", "overhead"), ("fashion_mnist_fid", "fid")):
            if section in args.skip and key in old:
                res[key] = old[key]
                res.setdefault("kept_from_earlier_run", {})[key] = old.get("kept_from_earlier_run", {}).get(
                    key, old.get("started"))
    if "toy" not in args.skip:
        res["toy2d"] = toy_table(args.toy_steps, args.out)
        atomic_write_json(path, res)  # partial results survive a later failure
    if "overhead" not in args.skip:
        res["overhead"] = [overhead("toy2d", "mlp", 300 if args.quick else 1000, args.out),
                           overhead("fashion-mnist", "mlp", 40 if args.quick else 200, args.out)]
        atomic_write_json(path, res)
    if "fid" not in args.skip:
        rows = args.rows if args.rows is not None else (["mlp:wgan-gp", "dcgan:E"] if args.quick else ["all"])
        long = args.long if args.long is not None else ("none" if args.quick else None)
        res["fashion_mnist_fid"] = fid_table(parse_rows(rows), minutes, args.out, log=args.runs_log,
                                             eval_every_s=args.eval_every, long_run=long,
                                             long_minutes=args.long_minutes, fresh=args.fresh)
        print_fid_table(res["fashion_mnist_fid"])
    res["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    res["machine"]["load_average_at_end"] = os.getloadavg()
    atomic_write_json(path, res)
    print(f"wrote {path}")


def draw_figure(res: dict, out: Path, path: Path) -> Path:
    """The README picture: d(r) of rows A, C, F; the toy ring under F and F-mid (trained here, ~30 s);
    samples of the long run's generator; FID against training time of the DCGAN rows and the long run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from kexue.gan.losses import preset
    from kexue.gan.training import load_generator

    fig, ax = plt.subplots(1, 5, figsize=(16, 3.3), dpi=80)
    rr = np.linspace(0.05, 4, 200)
    for name, label in (("A", "A: 2·JS - log 2"), ("C", "C: Hellinger² - 1"), ("F", "F (LSGAN): (r-1)²/(r+1)")):
        d = preset(name).d_np(rr)
        ax[0].plot(rr, d - preset(name).d_np(1.0), label=label)
    ax[0].axvline(1, color="gray", lw=0.8, ls="--")
    ax[0].set(ylim=(-0.05, 1.2), xlabel="r = q/p", title="d(r) from (ω, ρ): convex, min at r = 1")
    ax[0].legend(fontsize=7)
    from kexue.gan.toy import mode_metrics, ring_centers

    for k, name in ((1, "F"), (2, "F-mid")):
        _, G = train_gan(GanConfig(data="toy2d", loss=name, steps=3000, every=3000, seed=0), return_generator=True)
        x = generate(G, 2500, seed=12345).numpy()
        m = mode_metrics(x)
        ax[k].scatter(x[:, 0], x[:, 1], s=2, alpha=0.4)
        c = ring_centers()
        ax[k].scatter(c[:, 0], c[:, 1], s=30, marker="x", color="tab:red")
        beta = "(t+1)²: fakes → real label" if name == "F" else "t²: fakes → midpoint (blog)"
        ax[k].set(xlim=(-3, 3), ylim=(-3, 3), aspect="equal", title=f"LSGAN β = {beta}: {m['modes_covered']}/8 modes")
        ax[k].title.set_fontsize(8)
    t = res.get("fashion_mnist_fid", {})
    long = t.get("long_run")
    if long:
        run_dir = out / f"fm-{long['model']}-{long['loss']}-{long['minutes_budget']:g}min"
        G, _ = load_generator(run_dir / "last.pt")
        x = generate(G, 36, seed=0)[:, 0].numpy()
        grid = np.ones((6 * 30 - 2, 6 * 30 - 2))
        for i in range(36):
            r, c = divmod(i, 6)
            grid[r * 30:r * 30 + 28, c * 30:c * 30 + 28] = x[i]
        ax[3].imshow(grid, cmap="gray_r", vmin=0, vmax=1)
        ax[3].set_axis_off()
        ax[3].set_title(f"{long['model']} / {long['loss']}, {long['train_seconds'] / 60:.0f} min CPU: "
                        f"FID {long['fid']:.2f}", fontsize=8)
    for r in [*t.get("rows", []), *([long] if long else [])]:
        if r.get("curve") and r["model"] == "dcgan":
            xs = [c["train_seconds"] / 60 for c in r["curve"]]
            is_long = r is long
            ax[4].plot(xs, [c["fid"] for c in r["curve"]], "-o" if is_long else "-", ms=3, lw=1.5 if is_long else 0.8,
                       label=f"{r['loss']}" + (" (long)" if is_long else ""))
    if t:
        ax[4].axhline(t["floor"], color="k", ls="--", lw=0.8, label="floor (train vs test)")
        ax[4].axhline(3 * t["floor"], color="gray", ls=":", lw=0.8, label="3x floor (target)")
        ax[4].set(yscale="log", xlabel="training minutes (2 loaded CPU cores)", title="FID (nn features), DCGAN")
        ax[4].legend(fontsize=6, ncol=2)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    plt.close(fig)
    return path


def print_fid_table(t: dict) -> None:
    print(f"\nFashion-MNIST FID ({t['features']}); floor {t['floor']:.4f}, 3x floor {3 * t['floor']:.4f}")
    print(f"{'model':6s} {'loss':8s} {'min':>4s} {'steps':>6s} {'train s':>7s} {'FID':>8s} {'x floor':>8s} "
          f"{'r̂ real':>8s} {'r̂ fake':>8s} {'FID<=budget (at s)':>19s}")
    for r in t["rows"] + ([t["long_run"]] if t.get("long_run") else []):
        fid_s = f"{r['fid']:8.3f} {r['fid'] / t['floor']:8.1f}" if r.get("fid") is not None else f"{'failed':>17s}"
        rr = (f"{r['r_real']:8.3g} {r['r_fake']:8.3g}" if r.get("r_real") is not None else f"{'-':>8s} {'-':>8s}")
        fb = (f"{r['fid_within_budget']:10.3f} ({r['seconds_at_fid_within_budget']:4.0f})"
              if r.get("fid_within_budget") is not None else f"{'-':>17s}")
        print(f"{r['model']:6s} {r['loss']:8s} {r['minutes_budget']:4g} {r.get('steps', 0):6d} "
              f"{r.get('train_seconds', 0):7.0f} {fid_s} {rr} {fb}")
    b = t.get("best")
    if b:
        print(f"best: {b['model']}/{b['loss']} ({b['minutes']:g} min) FID {b['fid']:.3f} = "
              f"{b['ratio_to_floor']:.1f}x floor; within 3x: {b['within_3x_floor']}")


if __name__ == "__main__":
    main()
