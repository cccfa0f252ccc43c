"""GANs by the likelihood-ratio recipe of "Designing GANs" (kexue.fm/archives/7210), and the Fashion-MNIST toy.

* :mod:`kexue.gan.losses`: the loss factory (ω, ω⁻¹, ρ) → (φ, ψ), presets A–F, WGAN-GP, hinge;
* :mod:`kexue.gan.models`: the article's MLP WGAN toy, a DCGAN for 28x28, a 2-D toy MLP;
* :mod:`kexue.gan.toy`: the ring of 8 Gaussians and its mode metrics;
* :mod:`kexue.gan.training`: training on toy2d / MNIST / Fashion-MNIST with the shared loop;
* :mod:`kexue.gan.fid`: the Fréchet distance with any feature network.
"""
