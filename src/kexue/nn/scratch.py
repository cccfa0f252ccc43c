"""A multilayer perceptron in numpy with hand-written backpropagation.

Everything a learner needs to see inside a neural network, and nothing else: dense layers, the
essay's step function θ and its smooth stand-ins (sigmoid ``S(x) = 1/(1+exp(-kx))``, tanh, ReLU),
two losses (softmax cross-entropy and squared error), and two optimisers (SGD with momentum,
Adam). The gradients are written out by hand in each layer's ``backward``; the tests check
them against finite differences and against torch autograd.

>>> rng = np.random.default_rng(0)
>>> x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float); y = np.array([0, 1, 1, 0])
>>> net = MLP([2, 8, 2], hidden="tanh", seed=1)
>>> hist = fit(net, x, y, loss="ce", optimizer=Adam(0.05), epochs=300)
>>> net.predict(x).argmax(1).tolist()
[0, 1, 1, 0]
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import UsageError


# ----------------------------------------------------------------------------- layers
class Layer:
    """A layer: ``forward`` caches what ``backward`` needs; ``backward`` fills ``grads`` and
    returns the gradient with respect to the input."""

    params: list[np.ndarray]
    grads: list[np.ndarray]

    def __init__(self) -> None:
        self.params, self.grads = [], []

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class Dense(Layer):
    """``y = x W + b`` with ``W`` of shape (n_in, n_out).

    >>> d = Dense(3, 2, np.random.default_rng(0)); d.forward(np.ones((4, 3))).shape
    (4, 2)
    """

    def __init__(self, n_in: int, n_out: int, rng: np.random.Generator, gain: float = 1.0,
                 dtype: type = np.float64):
        super().__init__()
        self.W = (rng.standard_normal((n_in, n_out)) * gain / np.sqrt(n_in)).astype(dtype)
        self.b = np.zeros(n_out, dtype)
        self.params = [self.W, self.b]
        self.grads = [np.zeros_like(self.W), np.zeros_like(self.b)]

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return x @ self.W + self.b

    def backward(self, grad: np.ndarray) -> np.ndarray:
        self.grads[0][...] = self.x.T @ grad      # dL/dW = x^T dL/dy
        self.grads[1][...] = grad.sum(0)          # dL/db = sum over the batch
        return grad @ self.W.T                    # dL/dx = dL/dy W^T


class Step(Layer):
    """The essay's step function θ(x) = 1 for x ≥ 0, −1 for x < 0 (McCulloch–Pitts neurons).

    Its derivative is 0 wherever it exists, so ``backward`` returns zeros: gradient descent
    cannot train it, which is why it is replaced by a sigmoid.

    >>> Step().forward(np.array([-0.5, 0.0, 2.0])).tolist()
    [-1.0, 1.0, 1.0]
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.where(x >= 0, 1.0, -1.0).astype(x.dtype)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return np.zeros_like(grad)


class Sigmoid(Layer):
    """``S(x) = 1 / (1 + exp(-k x))``: the step function smoothed; larger ``k`` is more step-like.

    >>> float(Sigmoid().forward(np.array([0.0]))[0])
    0.5
    """

    def __init__(self, k: float = 1.0):
        super().__init__()
        self.k = k

    def forward(self, x: np.ndarray) -> np.ndarray:
        z = self.k * x
        e = np.exp(-np.abs(z))                     # stable for large |z|
        self.y = np.where(z >= 0, 1 / (1 + e), e / (1 + e))
        return self.y

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad * self.k * self.y * (1 - self.y)


class Tanh(Layer):
    """``tanh(x)``, the smooth version of the ±1 step; ``tanh'(x) = 1 − tanh(x)²``."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.y = np.tanh(x)
        return self.y

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad * (1 - self.y ** 2)


class ReLU(Layer):
    """``max(x, 0)``."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.mask = x > 0
        return x * self.mask

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad * self.mask


class Identity(Layer):
    """``y = x`` (the output of a regression network)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad


ACTIVATIONS: dict[str, Callable[[], Layer]] = {"step": Step, "sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU,
                                               "identity": Identity}


def activation(name: str, k: float = 1.0) -> Layer:
    """An activation layer by name: ``step``, ``sigmoid`` (with steepness ``k``), ``tanh``, ``relu``, ``identity``."""
    if name not in ACTIVATIONS:
        raise UsageError(f"unknown activation {name!r}; choose from {', '.join(ACTIVATIONS)}")
    return Sigmoid(k) if name == "sigmoid" else ACTIVATIONS[name]()


# ----------------------------------------------------------------------------- network
class MLP:
    """A stack of dense layers with an activation after each (``hidden``) and after the last (``output``).

    ``sizes = [n_in, h1, ..., n_out]``. Weights are drawn from ``seed`` (scaled by 1/sqrt(fan-in),
    times sqrt(2) for ReLU), biases start at zero.

    >>> net = MLP([2, 3, 1], hidden="relu", seed=0)
    >>> net.predict(np.zeros((5, 2))).shape, net.n_params
    ((5, 1), 13)
    """

    def __init__(self, sizes: list[int], hidden: str = "tanh", output: str = "identity", seed: int = 0,
                 k: float = 1.0, dtype: type = np.float64):
        if len(sizes) < 2 or any(int(s) < 1 for s in sizes):
            raise UsageError(f"layer sizes must be at least two positive numbers, got {sizes}")
        for name in (hidden, output):
            activation(name)  # unknown names are a UsageError even when the layer is not used
        rng = np.random.default_rng(seed)
        self.sizes = [int(s) for s in sizes]
        self.layers: list[Layer] = []
        for i, (a, b) in enumerate(zip(self.sizes[:-1], self.sizes[1:], strict=True)):
            last = i == len(self.sizes) - 2
            act = output if last else hidden
            self.layers.append(Dense(a, b, rng, gain=np.sqrt(2.0) if act == "relu" else 1.0, dtype=dtype))
            self.layers.append(activation(act, k))

    @property
    def dense(self) -> list[Dense]:
        """The dense layers, input to output."""
        return [layer for layer in self.layers if isinstance(layer, Dense)]

    @property
    def params(self) -> list[np.ndarray]:
        return [p for layer in self.layers for p in layer.params]

    @property
    def grads(self) -> list[np.ndarray]:
        return [g for layer in self.layers for g in layer.grads]

    @property
    def n_params(self) -> int:
        return sum(p.size for p in self.params)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """The output for a batch ``x`` of shape (n, n_in), caching what ``backward`` needs."""
        for layer in self.layers:
            x = layer.forward(x)
        return x

    predict = forward

    def backward(self, grad: np.ndarray) -> np.ndarray:
        """Backpropagate dL/d(output) through the network; fills ``grads``; returns dL/d(input)."""
        for layer in reversed(self.layers):
            grad = layer.backward(grad)
        return grad

    def hidden(self, x: np.ndarray, layer: int = 0) -> np.ndarray:
        """The activations after hidden layer ``layer`` (0 = the first) - the learned features."""
        for lay in self.layers[:2 * (layer + 1)]:
            x = lay.forward(x)
        return x


# ----------------------------------------------------------------------------- losses
def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax, computed stably.

    >>> softmax(np.array([[0.0, 0.0]])).tolist()
    [[0.5, 0.5]]
    """
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of softmax(logits) against integer ``labels``, and its gradient in the logits.

    The gradient is the famous ``(softmax(z) - onehot(y)) / n``.

    >>> loss, g = softmax_cross_entropy(np.zeros((1, 4)), np.array([2]))
    >>> round(loss, 6) == round(float(np.log(4)), 6), g.round(2).tolist()
    (True, [[0.25, 0.25, -0.75, 0.25]])
    """
    n = logits.shape[0]
    z = logits - logits.max(1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(1, keepdims=True))
    labels = np.asarray(labels, dtype=int)
    loss = -float(logp[np.arange(n), labels].mean())
    grad = np.exp(logp)
    grad[np.arange(n), labels] -= 1
    return loss, grad / n


def squared_error(pred: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """Half the mean (over samples) of the summed squared error, and its gradient ``(pred - target) / n``.

    >>> squared_error(np.array([[1.0, 2.0]]), np.array([[0.0, 0.0]]))[0]
    2.5
    """
    target = np.asarray(target, dtype=pred.dtype).reshape(pred.shape)
    d = pred - target
    n = pred.shape[0]
    return 0.5 * float((d ** 2).sum()) / n, d / n


LOSSES = {"ce": softmax_cross_entropy, "mse": squared_error}


# ----------------------------------------------------------------------------- optimisers
class SGD:
    """Stochastic gradient descent with (heavy-ball) momentum: ``v = μ v - lr g;  p += v``."""

    def __init__(self, lr: float = 0.1, momentum: float = 0.0):
        if lr <= 0 or not 0 <= momentum < 1:
            raise UsageError(f"SGD needs lr > 0 and 0 <= momentum < 1, got lr={lr}, momentum={momentum}")
        self.lr, self.momentum = lr, momentum
        self.v: list[np.ndarray] | None = None

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """Update ``params`` in place from ``grads``."""
        if self.v is None:
            self.v = [np.zeros_like(p) for p in params]
        for p, g, v in zip(params, grads, self.v, strict=True):
            v *= self.momentum
            v -= self.lr * g
            p += v


class Adam:
    """Adam (Kingma & Ba 2015): moving averages of the gradient and its square, bias-corrected."""

    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        if lr <= 0:
            raise UsageError(f"Adam needs lr > 0, got {lr}")
        self.lr, self.b1, self.b2, self.eps = lr, beta1, beta2, eps
        self.t = 0
        self.m: list[np.ndarray] | None = None
        self.s: list[np.ndarray] | None = None

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """Update ``params`` in place from ``grads``."""
        if self.m is None:
            self.m = [np.zeros_like(p) for p in params]
            self.s = [np.zeros_like(p) for p in params]
        self.t += 1
        c1, c2 = 1 - self.b1 ** self.t, 1 - self.b2 ** self.t
        for p, g, m, s in zip(params, grads, self.m, self.s, strict=True):
            m *= self.b1
            m += (1 - self.b1) * g
            s *= self.b2
            s += (1 - self.b2) * g * g
            p -= self.lr * (m / c1) / (np.sqrt(s / c2) + self.eps)


# ----------------------------------------------------------------------------- training
def loss_and_grads(net: MLP, x: np.ndarray, y: np.ndarray, loss: str = "mse") -> float:
    """One forward and backward pass: returns the loss and leaves the gradients in ``net.grads``."""
    if loss not in LOSSES:
        raise UsageError(f"unknown loss {loss!r}; choose from {', '.join(LOSSES)}")
    value, g = LOSSES[loss](net.forward(x), y)
    net.backward(g)
    return value


def fit(net: MLP, x: np.ndarray, y: np.ndarray, loss: str = "mse", optimizer: SGD | Adam | None = None,
        epochs: int = 100, batch_size: int | None = None, seed: int = 0) -> list[float]:
    """Train ``net`` on (x, y); return the loss of each epoch (mean over its batches).

    ``batch_size=None`` is full-batch gradient descent; otherwise the data are shuffled each
    epoch with ``seed``.

    >>> net = MLP([1, 1], seed=0); x = np.linspace(-1, 1, 20)[:, None]
    >>> hist = fit(net, x, 3 * x + 1, optimizer=SGD(0.5), epochs=200)
    >>> round(float(net.dense[0].W[0, 0]), 3), round(float(net.dense[0].b[0]), 3)
    (3.0, 1.0)
    """
    opt = optimizer or Adam(1e-2)
    rng = np.random.default_rng(seed)
    n = len(x)
    bs = n if batch_size is None else int(batch_size)
    history = []
    for _ in range(int(epochs)):
        order = rng.permutation(n) if bs < n else np.arange(n)
        total = 0.0
        count = 0
        for i in range(0, n, bs):
            idx = order[i:i + bs]
            value = loss_and_grads(net, x[idx], y[idx], loss)
            if not np.isfinite(value):
                raise UsageError("the loss became NaN or infinite: lower the learning rate")
            opt.step(net.params, net.grads)
            total += value * len(idx)
            count += len(idx)
        history.append(total / count)
    return history


def numerical_gradient(f: Callable[[], float], param: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central finite differences of the scalar ``f()`` in every entry of ``param`` (changed in place, restored).

    >>> w = np.array([1.0, 2.0])
    >>> numerical_gradient(lambda: float((w ** 2).sum()), w).round(6).tolist()
    [2.0, 4.0]
    """
    grad = np.zeros_like(param)
    flat, gflat = param.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        up = f()
        flat[i] = old - eps
        down = f()
        flat[i] = old
        gflat[i] = (up - down) / (2 * eps)
    return grad


def gradient_check(sizes: tuple[int, ...] = (4, 5, 3), hidden: str = "tanh", loss: str = "ce", seed: int = 0,
                   n: int = 6) -> dict:
    """Backprop gradients of a random MLP against central finite differences (float64).

    Returns the sizes and the largest relative error ``|num - g| / (|num| + |g|)`` (Euclidean norms,
    per weight matrix and bias vector) over the layers.

    >>> gradient_check()["max_relative_error"] < 1e-6
    True
    """
    if hidden == "step":
        raise UsageError("the step function has no useful gradient (zero almost everywhere): use sigmoid, tanh, relu")
    rng = np.random.default_rng(seed + 1)
    net = MLP(list(sizes), hidden=hidden, seed=seed)
    x = rng.standard_normal((n, sizes[0]))
    y = rng.integers(0, sizes[-1], n) if loss == "ce" else rng.standard_normal((n, sizes[-1]))
    loss_and_grads(net, x, y, loss)
    worst = 0.0
    for p, g in zip(net.params, [g.copy() for g in net.grads], strict=True):
        num = numerical_gradient(lambda: LOSSES[loss](net.forward(x), y)[0], p)
        rel = np.linalg.norm(num - g) / max(1e-12, np.linalg.norm(num) + np.linalg.norm(g))
        worst = max(worst, float(rel))
    return {"sizes": list(sizes), "hidden": hidden, "loss": loss, "max_relative_error": worst}
