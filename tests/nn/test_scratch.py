"""The numpy MLP: hand-written gradients against finite differences and torch autograd; training works."""

import numpy as np
import pytest
import torch

from kexue.errors import UsageError
from kexue.nn.scratch import (
    MLP,
    SGD,
    Adam,
    Sigmoid,
    fit,
    gradient_check,
    loss_and_grads,
    numerical_gradient,
    softmax_cross_entropy,
    squared_error,
)


@pytest.mark.parametrize("hidden", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("loss", ["ce", "mse"])
def test_backprop_matches_finite_differences(hidden, loss):
    r = gradient_check((5, 7, 6, 4), hidden=hidden, loss=loss, seed=3)
    assert r["max_relative_error"] < 1e-6


def test_sigmoid_steepness_gradient():
    s = Sigmoid(k=3.0)
    x = np.linspace(-2, 2, 9)
    s.forward(x)
    analytic = s.backward(np.ones_like(x))
    num = np.array([(1 / (1 + np.exp(-3 * (v + 1e-6))) - 1 / (1 + np.exp(-3 * (v - 1e-6)))) / 2e-6 for v in x])
    assert np.allclose(analytic, num, rtol=1e-6)
    assert np.all(np.isfinite(Sigmoid(1).forward(np.array([-1000.0, 1000.0]))))  # no overflow


def _torch_twin(net: MLP, act):
    layers = []
    for d in net.dense:
        lin = torch.nn.Linear(*d.W.shape).double()
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(d.W.T))
            lin.bias.copy_(torch.from_numpy(d.b))
        layers += [lin, act()]
    return torch.nn.Sequential(*layers[:-1])  # identity output


@pytest.mark.parametrize("hidden,act", [("tanh", torch.nn.Tanh), ("relu", torch.nn.ReLU),
                                        ("sigmoid", torch.nn.Sigmoid)])
def test_backprop_matches_torch_autograd(hidden, act):
    rng = np.random.default_rng(0)
    net = MLP([6, 8, 8, 5], hidden=hidden, seed=1)
    x = rng.standard_normal((10, 6))
    y = rng.integers(0, 5, 10)
    ours = loss_and_grads(net, x, y, "ce")
    twin = _torch_twin(net, act)
    loss = torch.nn.functional.cross_entropy(twin(torch.from_numpy(x)), torch.from_numpy(y))
    loss.backward()
    assert abs(ours - loss.item()) < 1e-12
    lin = [m for m in twin if isinstance(m, torch.nn.Linear)]
    for d, m in zip(net.dense, lin, strict=True):
        assert np.allclose(d.grads[0], m.weight.grad.numpy().T, atol=1e-12)
        assert np.allclose(d.grads[1], m.bias.grad.numpy(), atol=1e-12)
    # squared error too
    t = rng.standard_normal((10, 5))
    ours = loss_and_grads(net, x, t, "mse")
    twin.zero_grad()
    out = twin(torch.from_numpy(x))
    loss = 0.5 * ((out - torch.from_numpy(t)) ** 2).sum() / 10
    loss.backward()
    assert abs(ours - loss.item()) < 1e-12
    assert np.allclose(net.dense[0].grads[0], lin[0].weight.grad.numpy().T, atol=1e-12)


def test_input_gradient_matches_finite_differences():
    net = MLP([3, 4, 2], hidden="tanh", seed=0)
    x = np.random.default_rng(2).standard_normal((2, 3))
    y = np.array([1, 0])
    value, g = softmax_cross_entropy(net.forward(x), y)
    gx = net.backward(g)
    num = numerical_gradient(lambda: softmax_cross_entropy(net.forward(x), y)[0], x)
    assert np.allclose(gx, num, atol=1e-8)


def test_losses_known_values():
    loss, g = softmax_cross_entropy(np.log(np.array([[0.2, 0.3, 0.5]])), np.array([2]))
    assert np.isclose(loss, -np.log(0.5)) and np.allclose(g, [[0.2, 0.3, -0.5]])
    loss, g = squared_error(np.array([[1.0], [3.0]]), np.array([[0.0], [0.0]]))
    assert loss == 2.5 and np.allclose(g, [[0.5], [1.5]])


def test_sgd_momentum_solves_least_squares():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 3))
    w_true = np.array([[1.5], [-2.0], [0.5]])
    y = x @ w_true + 0.7
    net = MLP([3, 1], seed=0)
    fit(net, x, y, optimizer=SGD(0.1, momentum=0.9), epochs=300)
    assert np.allclose(net.dense[0].W, w_true, atol=1e-6) and np.isclose(net.dense[0].b[0], 0.7, atol=1e-6)


def test_adam_minibatch_learns_a_nonlinear_function():
    rng = np.random.default_rng(1)
    x = rng.uniform(-3, 3, (512, 1))
    y = np.sin(x)
    net = MLP([1, 32, 1], hidden="tanh", seed=0)
    hist = fit(net, x, y, optimizer=Adam(0.01), epochs=150, batch_size=64)
    assert hist[-1] < 1e-3 < hist[0]


def test_bad_arguments_are_user_errors():
    with pytest.raises(UsageError):
        MLP([3], seed=0)
    with pytest.raises(UsageError):
        MLP([2, 2], hidden="swish")
    with pytest.raises(UsageError):
        loss_and_grads(MLP([2, 2]), np.zeros((1, 2)), np.zeros(1, int), "hinge")
    with pytest.raises(UsageError):
        gradient_check(hidden="step")
    with pytest.raises(UsageError, match="NaN"):
        fit(MLP([1, 1]), np.array([[1e200]]), np.array([[0.0]]), optimizer=SGD(1.0), epochs=3)
