"""Neural networks: from scratch in numpy, the essay's demos, a fast (Fashion-)MNIST CNN, FID features.

Article 08 of Scientific Spaces ("Chat: neural networks and deep learning") as code:

* :mod:`kexue.nn.scratch`: a multilayer perceptron in numpy with hand-written backpropagation;
* :mod:`kexue.nn.demos`: logic neurons, XOR, classification as fitting, features, autoencoders;
* :mod:`kexue.nn.classifier`: a small CNN that trains to > 92.5% on Fashion-MNIST in minutes on a CPU;
* :func:`feature_extractor`: that CNN's penultimate layer, for FID without downloading any weights.

Importing this package is cheap (torch is imported only when a function needs it).
"""

from __future__ import annotations

__all__ = ["feature_extractor"]


def feature_extractor(dataset: str = "fashion-mnist", device=None, **kwargs):
    """The trained (Fashion-)MNIST classifier's penultimate layer as a frozen torch module.

    Takes float tensors ``(N, 1, 28, 28)`` with values in [0, 1]; returns ``(N, 128)`` features.
    Trained from a fixed seed on first use and cached in ``kexue.data.cache_dir() / "nn"``; see
    :func:`kexue.nn.classifier.feature_extractor` for the options.

    >>> import torch
    >>> fx = feature_extractor("fashion-mnist")  # doctest: +SKIP
    >>> fx(torch.rand(4, 1, 28, 28)).shape  # doctest: +SKIP
    torch.Size([4, 128])
    """
    from .classifier import feature_extractor as _fx

    return _fx(dataset, device, **kwargs)
