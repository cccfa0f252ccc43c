"""The networks: the article's MLP toy (critic 784-128-32-1, generator 10-32-128-784), a DCGAN for
28x28 images, and a small MLP pair for the 2-D toy.

Every generator has ``z_dim`` and ``noise(n, device)`` (its own noise law); every critic maps a
batch to a raw score of shape ``(N,)`` (the loss maps it into Ω).

>>> import torch
>>> g, d = build_models("fashion-mnist", "mlp")
>>> x = g(g.noise(4, "cpu")); tuple(x.shape), tuple(d(x).shape)
((4, 1, 28, 28), (4,))
"""

from __future__ import annotations

import torch
from torch import nn

from ..errors import UsageError


class MLPGenerator(nn.Module):
    """Su's toy generator: z ~ U(-1, 1)^10 → 32 → 128 → 784 (ReLU, sigmoid output), U(±0.05) init."""

    def __init__(self, z_dim: int = 10, hidden=(32, 128), out_shape=(1, 28, 28)):
        super().__init__()
        self.z_dim, self.out_shape = z_dim, tuple(out_shape)
        dims = [z_dim, *hidden]
        layers: list[nn.Module] = []
        for a, b in zip(dims[:-1], dims[1:], strict=True):
            layers += [nn.Linear(a, b), nn.ReLU()]
        layers += [nn.Linear(dims[-1], int(torch.tensor(out_shape).prod())), nn.Sigmoid()]
        self.net = nn.Sequential(*layers)
        _uniform_init(self, 0.05)

    def noise(self, n: int, device) -> torch.Tensor:
        return torch.rand(n, self.z_dim, device=device) * 2 - 1

    def forward(self, z):
        return self.net(z).view(-1, *self.out_shape)


class MLPCritic(nn.Module):
    """Su's toy critic: 784 → 128 → 32 → 1 (ReLU, linear output), U(±0.05) init."""

    def __init__(self, in_dim: int = 784, hidden=(128, 32)):
        super().__init__()
        dims = [in_dim, *hidden]
        layers: list[nn.Module] = []
        for a, b in zip(dims[:-1], dims[1:], strict=True):
            layers += [nn.Linear(a, b), nn.ReLU()]
        layers.append(nn.Linear(dims[-1], 1))
        self.net = nn.Sequential(*layers)
        _uniform_init(self, 0.05)

    def forward(self, x):
        return self.net(x.flatten(1)).squeeze(1)


class ToyGenerator(nn.Module):
    """2-D toy generator: z ~ N(0, I)^16 → 128 → 128 → 2 (ReLU)."""

    def __init__(self, z_dim: int = 16, hidden: int = 128):
        super().__init__()
        self.z_dim = z_dim
        self.net = nn.Sequential(nn.Linear(z_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, 2))

    def noise(self, n: int, device) -> torch.Tensor:
        return torch.randn(n, self.z_dim, device=device)

    def forward(self, z):
        return self.net(z)


class ToyCritic(nn.Module):
    """2-D toy critic: 2 → 128 → 128 → 1 (LeakyReLU 0.2)."""

    def __init__(self, hidden: int = 128):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden),
                                 nn.LeakyReLU(0.2), nn.Linear(hidden, 1))

    def forward(self, x):
        return self.net(x).squeeze(1)


class DCGenerator(nn.Module):
    """DCGAN generator for 28x28: z ~ N(0, I)^64 → 7x7x128 → 14x14x64 → 28x28x1 (BN, ReLU, sigmoid)."""

    def __init__(self, z_dim: int = 64, ch: int = 64):
        super().__init__()
        self.z_dim = z_dim
        self.fc = nn.Sequential(nn.Linear(z_dim, 2 * ch * 7 * 7), nn.BatchNorm1d(2 * ch * 7 * 7), nn.ReLU())
        self.up = nn.Sequential(nn.ConvTranspose2d(2 * ch, ch, 4, 2, 1), nn.BatchNorm2d(ch), nn.ReLU(),
                                nn.ConvTranspose2d(ch, 1, 4, 2, 1), nn.Sigmoid())
        self.ch = ch

    def noise(self, n: int, device) -> torch.Tensor:
        return torch.randn(n, self.z_dim, device=device)

    def forward(self, z):
        return self.up(self.fc(z).view(-1, 2 * self.ch, 7, 7))


class DCCritic(nn.Module):
    """DCGAN critic for 28x28: conv 64 (stride 2) → conv 128 (stride 2) → linear (LeakyReLU 0.2, no BN,
    so that gradient penalties stay per-sample)."""

    def __init__(self, ch: int = 64):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(1, ch, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(ch, 2 * ch, 4, 2, 1),
                                 nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(2 * ch * 7 * 7, 1))

    def forward(self, x):
        return self.net(x).squeeze(1)


def _uniform_init(module: nn.Module, a: float) -> None:
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.uniform_(m.weight, -a, a)
            nn.init.zeros_(m.bias)


def build_models(data: str, model: str, width: int | None = None) -> tuple[nn.Module, nn.Module]:
    """(generator, critic) for ``data`` in toy2d | mnist | fashion-mnist and ``model`` in mlp | dcgan.

    ``width``: the DCGAN's base channel count (default 32; 64 is the classic size, about 3x slower
    per step on a CPU and, measured, worse at an equal CPU time budget). Ignored by the fixed MLPs.

    >>> g, d = build_models("toy2d", "mlp"); g.z_dim
    16
    """
    if data == "toy2d":
        if model != "mlp":
            raise UsageError(f"--model {model} is for images; the 2-D toy uses --model mlp")
        return ToyGenerator(), ToyCritic()
    if data not in ("mnist", "fashion-mnist"):
        raise UsageError(f"unknown data {data!r}; use toy2d, mnist or fashion-mnist")
    if model == "mlp":
        return MLPGenerator(), MLPCritic()
    if model == "dcgan":
        ch = 32 if width is None else int(width)
        if ch < 1:
            raise UsageError(f"width must be at least 1, got {width}")
        return DCGenerator(ch=ch), DCCritic(ch=ch)
    raise UsageError(f"unknown model {model!r}; use mlp or dcgan")
