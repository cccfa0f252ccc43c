"""The essay's claims as small experiments, each returning plain values (and an optional figure).

* :func:`logic`: McCulloch–Pitts neurons with the step θ compute AND, OR, NOT; XOR needs two
  layers (a linear program proves that no single neuron computes it); the sigmoid/tanh with a
  growing steepness ``k`` approaches the step network.
* :func:`xor`: a one-layer network trained by gradient descent fails on XOR (at most 3 of 4),
  a two-layer one learns it.
* :func:`fit`: classification as fitting: decision boundaries of a 2-D data set for growing
  hidden layers.
* :func:`features`: ``y = x² + x`` is hopeless for least squares on ``x`` alone, exact with the
  hand-made feature ``x²``, and close with features a hidden layer learns by itself.
* :func:`autoencoder`: 100-b-100 autoencoders on real images (10×10 downsampled (Fashion-)MNIST):
  reconstruction error against bottleneck size, PCA as the linear optimum, and a linear probe on
  the codes ("abstraction is losing information, but not the information that matters").

>>> r = logic()
>>> all(g["correct"] for g in r["gates"].values()), r["linearly_separable"]["XOR"]
(True, False)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import UsageError
from .scratch import MLP, Adam, Step
from .scratch import fit as fit_net

DEMOS = ("logic", "xor", "fit", "features", "autoencoder")
PM = np.array([[-1, -1], [-1, 1], [1, -1], [1, 1]], float)   # the four inputs, True = 1, False = -1


# ----------------------------------------------------------------------------- logic
def _neuron(x: np.ndarray, w, b: float) -> np.ndarray:
    return Step().forward(np.asarray(x, float) @ np.atleast_1d(np.asarray(w, float)) + b)


def separable(targets: np.ndarray, x: np.ndarray = PM) -> bool:
    """Whether one threshold neuron can output ``targets`` (±1) on inputs ``x``: an LP feasibility test.

    Looks for (w, b) with ``t_i (w·x_i + b) >= 1`` for all i (scipy's HiGHS).

    >>> separable(np.array([-1, -1, -1, 1])), separable(np.array([-1, 1, 1, -1]))
    (True, False)
    """
    from scipy.optimize import linprog

    t = np.asarray(targets, float)
    a = -t[:, None] * np.hstack([x, np.ones((len(x), 1))])
    res = linprog(np.zeros(x.shape[1] + 1), A_ub=a, b_ub=-np.ones(len(x)), bounds=[(None, None)] * (x.shape[1] + 1),
                  method="highs")
    return res.status == 0


def _table(x: np.ndarray, y: np.ndarray) -> list[list[int]]:
    return np.column_stack([x, y]).astype(int).tolist()


def logic(ks: tuple[float, ...] = (1, 2, 5, 10, 50)) -> dict:
    """Threshold neurons (θ(x) = ±1) computing AND, OR, NOT and, with two layers, XOR; the weights.

    Also: which gates one neuron can compute (LP test), and how far the same XOR network with θ
    replaced by ``tanh(k x)`` is from the step network for growing ``k``.

    >>> logic()["gates"]["XOR"]["truth_table"]
    [[-1, -1, -1], [-1, 1, 1], [1, -1, 1], [1, 1, -1]]
    """
    x = PM
    truth = {"AND": np.array([-1, -1, -1, 1]), "OR": np.array([-1, 1, 1, 1]), "XOR": np.array([-1, 1, 1, -1]),
             "NAND": np.array([1, 1, 1, -1])}
    gates = {
        "AND": {"weights": [1, 1], "bias": -1},
        "OR": {"weights": [1, 1], "bias": 1},
        "NAND": {"weights": [-1, -1], "bias": 1},
    }
    out = {}
    for name, g in gates.items():
        y = _neuron(x, g["weights"], g["bias"])
        out[name] = g | {"layers": 1, "truth_table": _table(x, y),
                         "correct": bool(np.array_equal(y, truth[name]))}
    xn = np.array([[-1.0], [1.0]])
    not_y = _neuron(xn, [-1], 0)
    out["NOT"] = {"weights": [-1], "bias": 0, "layers": 1,
                  "truth_table": _table(xn, not_y),
                  "correct": bool(np.array_equal(not_y, -xn[:, 0]))}
    # XOR = AND(OR(x), NAND(x)): two layers
    w1, b1 = np.array([[1, -1], [1, -1]], float), np.array([1, 1], float)
    w2, b2 = np.array([1, 1], float), -1.0
    h = Step().forward(x @ w1 + b1)
    y = Step().forward(h @ w2 + b2)
    out["XOR"] = {"layers": 2, "hidden_weights": w1.T.tolist(), "hidden_bias": b1.tolist(),
                  "output_weights": w2.tolist(), "output_bias": b2,
                  "hidden_units": ["OR", "NAND"], "truth_table": _table(x, y),
                  "correct": bool(np.array_equal(y, truth["XOR"]))}
    smooth = []
    for k in ks:
        hs = np.tanh(k * (x @ w1 + b1))
        ys = np.tanh(k * (hs @ w2 + b2))
        smooth.append({"k": float(k), "max_error": float(np.abs(ys - truth["XOR"]).max())})
    return {"gates": out, "linearly_separable": {n: separable(t) for n, t in truth.items()}, "smooth": smooth}


# ----------------------------------------------------------------------------- xor
XOR01 = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float)
XOR_Y = np.array([0, 1, 1, 0], float)


def xor(seeds: int = 10, hidden: int = 4, epochs: int = 2000, seed: int = 0) -> dict:
    """Train on XOR by gradient descent: a one-layer network (logistic unit) and a two-layer one.

    Each is trained from ``seeds`` random starts (squared error, sigmoid output, Adam). One
    layer can never get more than 3 of the 4 points right; two layers get all 4 from almost
    every start.

    >>> r = xor(seeds=3, epochs=1500)
    >>> r["one_layer"]["best_accuracy"] <= 0.75, r["two_layer"]["best_accuracy"]
    (True, 1.0)
    """
    res = {}
    for name, sizes in (("one_layer", [2, 1]), ("two_layer", [2, hidden, 1])):
        accs, losses = [], []
        for s in range(seeds):
            net = MLP(sizes, hidden="tanh", output="sigmoid", seed=seed * 1000 + s)
            hist = fit_net(net, XOR01, XOR_Y[:, None], loss="mse", optimizer=Adam(0.05), epochs=epochs)
            pred = (net.predict(XOR01)[:, 0] > 0.5).astype(float)
            accs.append(float((pred == XOR_Y).mean()))
            losses.append(hist[-1])
        res[name] = {"sizes": sizes, "accuracies": accs, "best_accuracy": max(accs), "final_losses": losses,
                     "solved": int(sum(a == 1.0 for a in accs)), "runs": seeds}
    return res


def _grid(lo: float, hi: float, n: int = 200) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    g = np.linspace(lo, hi, n)
    xx, yy = np.meshgrid(g, g)
    return xx, yy, np.column_stack([xx.ravel(), yy.ravel()])


def plot_xor(path: str | Path, seed: int = 0, hidden: int = 4, epochs: int = 2000) -> Path:
    """Decision regions of a one-layer and a two-layer network trained on XOR (PNG)."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.8))
    xx, yy, pts = _grid(-0.5, 1.5)
    for ax, sizes, title in ((axes[0], [2, 1], "one layer: fails"), (axes[1], [2, hidden, 1], "two layers: learns")):
        net = MLP(sizes, hidden="tanh", output="sigmoid", seed=seed * 1000)
        fit_net(net, XOR01, XOR_Y[:, None], loss="mse", optimizer=Adam(0.05), epochs=epochs)
        z = net.predict(pts)[:, 0].reshape(xx.shape)
        ax.contourf(xx, yy, z, levels=[0, 0.5, 1], colors=["#c6dbef", "#fdd0a2"])
        ax.contour(xx, yy, z, levels=[0.5], colors="k", linewidths=1)
        ax.scatter(XOR01[:, 0], XOR01[:, 1], c=["#08519c" if t == 0 else "#d94801" for t in XOR_Y], s=120,
                   edgecolors="k", zorder=3)
        acc = float(((net.predict(XOR01)[:, 0] > 0.5) == XOR_Y).mean())
        ax.set_title(f"{title} (accuracy {acc:.0%})")
        ax.set_aspect("equal")
    fig.suptitle("XOR: one layer draws one line, two layers draw two")
    return _save(fig, path)


# ----------------------------------------------------------------------------- fit
def moons(n: int = 400, noise: float = 0.15, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half-circles in 2-D (labels 0/1), with Gaussian noise.

    >>> x, y = moons(10); x.shape, sorted(set(y.tolist()))
    ((10, 2), [0, 1])
    """
    rng = np.random.default_rng(seed)
    n1 = n // 2
    t = rng.uniform(0, np.pi, n)
    x = np.where(np.arange(n)[:, None] < n1, np.column_stack([np.cos(t), np.sin(t)]),
                 np.column_stack([1 - np.cos(t), 0.5 - np.sin(t)]))
    x = x + noise * rng.standard_normal(x.shape)
    y = (np.arange(n) >= n1).astype(int)
    perm = rng.permutation(n)
    return x[perm], y[perm]


def fit(hidden_sizes: tuple[int, ...] = (0, 2, 4, 8, 32), n: int = 400, epochs: int = 1500, seed: int = 0) -> dict:
    """Classification as fitting: a tanh network with 0 (logistic regression), 2, 4, ... hidden units
    fitted to two moons; training and test accuracy grow with the hidden layer.

    >>> r = fit((0, 16), n=200, epochs=800)
    >>> r["results"][0]["test_accuracy"] < r["results"][1]["test_accuracy"]
    True
    """
    x, y = moons(n, seed=seed)
    xt, yt = moons(2000, seed=seed + 1)
    mu, sd = x.mean(0), x.std(0)
    out = []
    for h in hidden_sizes:
        sizes = [2, 2] if h == 0 else [2, int(h), 2]
        net = MLP(sizes, hidden="tanh", seed=seed)
        hist = fit_net(net, (x - mu) / sd, y, loss="ce", optimizer=Adam(0.03), epochs=epochs)
        acc = float((net.predict((x - mu) / sd).argmax(1) == y).mean())
        tacc = float((net.predict((xt - mu) / sd).argmax(1) == yt).mean())
        out.append({"hidden": int(h), "params": net.n_params, "train_accuracy": acc, "test_accuracy": tacc,
                    "final_loss": hist[-1]})
    return {"n": n, "results": out}


def plot_fit(path: str | Path, hidden_sizes: tuple[int, ...] = (0, 2, 4, 8, 32), n: int = 400,
             epochs: int = 1500, seed: int = 0) -> Path:
    """Decision boundaries on two moons for growing hidden layers (PNG)."""
    plt = _pyplot()
    x, y = moons(n, seed=seed)
    mu, sd = x.mean(0), x.std(0)
    fig, axes = plt.subplots(1, len(hidden_sizes), figsize=(3.2 * len(hidden_sizes), 3.4))
    axes = np.atleast_1d(axes)
    xx, yy, pts = _grid(-1.6, 2.6, 160)
    for ax, h in zip(axes, hidden_sizes, strict=True):
        net = MLP([2, 2] if h == 0 else [2, int(h), 2], hidden="tanh", seed=seed)
        fit_net(net, (x - mu) / sd, y, loss="ce", optimizer=Adam(0.03), epochs=epochs)
        p = net.predict((pts - mu) / sd)
        z = (p[:, 1] - p[:, 0]).reshape(xx.shape)
        ax.contourf(xx, yy, z, levels=[-1e9, 0, 1e9], colors=["#c6dbef", "#fdd0a2"])
        ax.scatter(x[:, 0], x[:, 1], c=np.where(y == 0, "#08519c", "#d94801"), s=6)
        acc = float((net.predict((x - mu) / sd).argmax(1) == y).mean())
        ax.set_title(f"{'no hidden layer' if h == 0 else f'{h} hidden units'}\ntrain accuracy {acc:.1%}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("Classification is fitting: a bigger hidden layer fits a more complex boundary")
    return _save(fig, path)


# ----------------------------------------------------------------------------- features
def _r2(pred: np.ndarray, y: np.ndarray) -> float:
    return float(1 - ((pred - y) ** 2).sum() / ((y - y.mean()) ** 2).sum())


def features(n: int = 50, hidden: int = 8, epochs: int = 3000, seed: int = 0) -> dict:
    """Fitting ``y = x² + x`` on [-2, 2]: least squares on (1, x), on (1, x, x²), and a network's own features.

    Also the essay's arithmetic: a dense layer from a 1000×1000 image to as many units has
    10¹² weights (why features, not raw pixels).

    >>> r = features(epochs=1500)
    >>> r["linear_on_x"]["r2"] < 0.5, r["hand_feature_x2"]["r2"] > 1 - 1e-12, r["learned"]["r2"] > 0.99
    (True, True, True)
    """
    x = np.linspace(-2, 2, n)
    y = x ** 2 + x
    a1 = np.column_stack([np.ones(n), x])
    a2 = np.column_stack([np.ones(n), x, x ** 2])
    c1 = np.linalg.lstsq(a1, y, rcond=None)[0]
    c2 = np.linalg.lstsq(a2, y, rcond=None)[0]
    net = MLP([1, hidden, 1], hidden="tanh", seed=seed)
    hist = fit_net(net, x[:, None] / 2, y[:, None], loss="mse", optimizer=Adam(0.02), epochs=epochs)
    pred = net.predict(x[:, None] / 2)[:, 0]
    # the hidden layer's outputs are learned features: a linear fit on them is as good as the network
    h = net.hidden(x[:, None] / 2)
    ah = np.column_stack([np.ones(n), h])
    ch = np.linalg.lstsq(ah, y, rcond=None)[0]
    return {"n": n,
            "linear_on_x": {"coefficients": c1.tolist(), "r2": _r2(a1 @ c1, y)},
            "hand_feature_x2": {"coefficients": c2.tolist(), "r2": _r2(a2 @ c2, y)},
            "learned": {"hidden": hidden, "r2": _r2(pred, y), "final_loss": hist[-1],
                        "linear_on_learned_features_r2": _r2(ah @ ch, y)},
            "dense_weights_for_megapixel": 10 ** 6 * 10 ** 6}


def plot_features(path: str | Path, n: int = 50, hidden: int = 8, epochs: int = 3000, seed: int = 0) -> Path:
    """The three fits of ``y = x² + x`` and the learned hidden features (PNG)."""
    plt = _pyplot()
    x = np.linspace(-2, 2, n)
    y = x ** 2 + x
    r = features(n, hidden, epochs, seed)
    net = MLP([1, hidden, 1], hidden="tanh", seed=seed)
    fit_net(net, x[:, None] / 2, y[:, None], loss="mse", optimizer=Adam(0.02), epochs=epochs)
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.6))
    a.plot(x, y, "k.", label="data  y = x² + x")
    c1, c2 = r["linear_on_x"]["coefficients"], r["hand_feature_x2"]["coefficients"]
    a.plot(x, c1[0] + c1[1] * x, label=f"linear in x (R² = {r['linear_on_x']['r2']:.3f})")
    a.plot(x, c2[0] + c2[1] * x + c2[2] * x ** 2, "--", label="linear in (x, x²) (R² = 1)")
    a.plot(x, net.predict(x[:, None] / 2)[:, 0], ":", lw=2, label=f"network (R² = {r['learned']['r2']:.4f})")
    a.legend(fontsize=8)
    a.set_title("the right features make the problem linear")
    b.plot(x, net.hidden(x[:, None] / 2))
    b.set_title(f"the {hidden} features the hidden layer learned")
    return _save(fig, path)


# ----------------------------------------------------------------------------- autoencoder
def downsample(images: np.ndarray, size: int = 10) -> np.ndarray:
    """Area-average (N, H, W) images to (N, size, size) (overlapping bins when H is not a multiple).

    >>> downsample(np.ones((2, 28, 28)), 10).shape
    (2, 10, 10)
    """
    n, h, w = images.shape
    rows = [(int(np.floor(i * h / size)), int(np.ceil((i + 1) * h / size))) for i in range(size)]
    cols = [(int(np.floor(j * w / size)), int(np.ceil((j + 1) * w / size))) for j in range(size)]
    out = np.empty((n, size, size), np.float64)
    for i, (r0, r1) in enumerate(rows):
        for j, (c0, c1) in enumerate(cols):
            out[:, i, j] = images[:, r0:r1, c0:c1].mean(axis=(1, 2))
    return out


def _probe(codes: np.ndarray, y: np.ndarray, codes_t: np.ndarray, yt: np.ndarray, seed: int) -> float:
    """Test accuracy of softmax regression trained on ``codes`` (a linear probe)."""
    mu, sd = codes.mean(0), codes.std(0) + 1e-8
    net = MLP([codes.shape[1], 10], seed=seed)
    fit_net(net, (codes - mu) / sd, y, loss="ce", optimizer=Adam(0.01), epochs=30, batch_size=256, seed=seed)
    return float((net.predict((codes_t - mu) / sd).argmax(1) == yt).mean())


def autoencoder(dataset: str = "fashion-mnist", bottlenecks: tuple[int, ...] = (2, 5, 10, 25, 50),
                n_train: int = 10000, n_test: int = 2000, epochs: int = 20, seed: int = 0,
                return_models: bool = False) -> dict:
    """100-b-100 autoencoders (tanh hidden, sigmoid output, squared error, Adam) on 10×10 downsampled images.

    For each bottleneck ``b``: the test reconstruction error (mean squared error per pixel), the
    error of PCA with ``b`` components (the best any linear code can do), and the accuracy of a
    linear probe on the codes against the probe on all 100 pixels. The essay's 100-50-100 net is
    ``b = 50``.

    >>> r = autoencoder(bottlenecks=(5, 50), n_train=2000, n_test=500, epochs=5)  # doctest: +SKIP
    >>> r["results"][0]["test_mse"] > r["results"][1]["test_mse"]  # doctest: +SKIP
    True
    """
    from .. import data as kdata

    if dataset not in ("fashion-mnist", "mnist"):
        raise UsageError(f"the autoencoder demo uses fashion-mnist or mnist, not {dataset!r}")
    xtr, ytr = kdata.load_mnist(dataset, "train")
    xte, yte = kdata.load_mnist(dataset, "test")
    rng = np.random.default_rng(seed)
    i_tr = rng.permutation(len(xtr))[:n_train]
    x = downsample(xtr[i_tr] / 255.0).reshape(-1, 100)
    y = ytr[i_tr].astype(int)
    xt = downsample(xte[:n_test] / 255.0).reshape(-1, 100)
    yt = yte[:n_test].astype(int)
    mean = x.mean(0)
    _, _, vt = np.linalg.svd(x - mean, full_matrices=False)
    results, models = [], {}
    for b in bottlenecks:
        if not 1 <= b <= 100:
            raise UsageError(f"bottleneck sizes must be in 1..100, got {b}")
        net = MLP([100, int(b), 100], hidden="tanh", output="sigmoid", seed=seed)
        hist = fit_net(net, x, x, loss="mse", optimizer=Adam(1e-2), epochs=epochs, batch_size=64, seed=seed)
        rec = net.predict(xt)
        mse = float(((rec - xt) ** 2).mean())
        p = vt[:b]
        pca_rec = (xt - mean) @ p.T @ p + mean
        codes, codes_t = net.hidden(x), net.hidden(xt)
        results.append({"bottleneck": int(b), "test_mse": mse, "pca_mse": float(((pca_rec - xt) ** 2).mean()),
                        "probe_accuracy": _probe(codes, y, codes_t, yt, seed), "final_train_loss": hist[-1]})
        models[int(b)] = net
    out = {"dataset": dataset, "input": "10x10 downsampled images (100 pixels)", "n_train": n_train,
           "n_test": n_test, "pixel_variance": float(xt.var()),
           "probe_accuracy_raw_pixels": _probe(x, y, xt, yt, seed), "results": results}
    if return_models:
        out["_models"] = models
        out["_test_images"] = xt
    return out


def plot_autoencoder(result: dict, path: str | Path) -> Path:
    """Reconstruction error and probe accuracy against bottleneck size, and a few reconstructions (PNG).

    ``result`` comes from :func:`autoencoder` with ``return_models=True``.
    """
    plt = _pyplot()
    rows = result["results"]
    b = [r["bottleneck"] for r in rows]
    fig = plt.figure(figsize=(10, 4))
    ax = fig.add_subplot(1, 3, 1)
    ax.plot(b, [r["test_mse"] for r in rows], "o-", label="autoencoder")
    ax.plot(b, [r["pca_mse"] for r in rows], "s--", label="PCA (best linear)")
    ax.set_xscale("log")
    ax.set_xticks(b, [str(v) for v in b])
    ax.minorticks_off()
    ax.set_xlabel("bottleneck size")
    ax.set_ylabel("test MSE per pixel")
    ax.legend(fontsize=8)
    ax.set_title("less room, more loss")
    ax2 = fig.add_subplot(1, 3, 2)
    ax2.plot(b, [r["probe_accuracy"] for r in rows], "o-", label="linear probe on the code")
    ax2.axhline(result["probe_accuracy_raw_pixels"], color="gray", ls=":", label="probe on all 100 pixels")
    ax2.set_xscale("log")
    ax2.set_xticks(b, [str(v) for v in b])
    ax2.minorticks_off()
    ax2.set_xlabel("bottleneck size")
    ax2.set_ylabel("probe test accuracy")
    ax2.legend(fontsize=8)
    ax2.set_title("what is kept is what matters")
    models, xt = result.get("_models"), result.get("_test_images")
    if models:
        show = [min(models), max(models)]
        k = 6
        grid = np.ones((3 * 11, k * 11))
        for i in range(k):
            grid[0:10, i * 11:i * 11 + 10] = xt[i].reshape(10, 10)
            for r, bb in enumerate(show, start=1):
                grid[r * 11:r * 11 + 10, i * 11:i * 11 + 10] = models[bb].predict(xt[i:i + 1]).reshape(10, 10)
        ax3 = fig.add_subplot(1, 3, 3)
        ax3.imshow(grid, cmap="gray_r", vmin=0, vmax=1)
        ax3.set_yticks([5, 16, 27], ["input", f"b={show[0]}", f"b={show[1]}"])
        ax3.set_xticks([])
        ax3.set_title("reconstructions")
    fig.suptitle(f"100-b-100 autoencoders on {result['dataset']} (10×10)")
    return _save(fig, path)


# ----------------------------------------------------------------------------- helpers
def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str | Path) -> Path:
    from ..utils import atomic_path

    plt = _pyplot()
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=80, format="png")
    plt.close(fig)
    return Path(path)


def plot_logic(result: dict, path: str | Path) -> Path:
    """The XOR network built from threshold neurons, and the smooth network's error against ``k`` (PNG)."""
    plt = _pyplot()
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.6))
    xx, yy, pts = _grid(-1.5, 1.5, 200)
    w1, b1 = np.array([[1, -1], [1, -1]], float), np.array([1, 1], float)
    h = Step().forward(pts @ w1 + b1)
    z = Step().forward(h @ np.array([1.0, 1.0]) - 1).reshape(xx.shape)
    a.contourf(xx, yy, z, levels=[-2, 0, 2], colors=["#c6dbef", "#fdd0a2"])
    a.scatter(PM[:, 0], PM[:, 1], c=["#08519c", "#d94801", "#d94801", "#08519c"], s=120, edgecolors="k")
    a.set_title("XOR = AND(OR, NAND) with step neurons")
    a.set_aspect("equal")
    ks = [s["k"] for s in result["smooth"]]
    b.loglog(ks, [max(s["max_error"], 1e-16) for s in result["smooth"]], "o-")
    b.set_xlabel("steepness k of tanh(kx)")
    b.set_ylabel("max error against the step network")
    b.set_title("the smooth neuron approaches the step")
    return _save(fig, path)

