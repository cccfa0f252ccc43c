"""VAEs whose batch-normalised heads keep the KL from vanishing (Su Jianlin, "VAE + BN", kexue.fm/archives/7381).

A text VAE with an autoregressive LSTM decoder tends to ignore its latent code: the KL term
goes to zero and the encoder says nothing ("KL vanishing", posterior collapse). Putting batch
normalisation with a fixed scale on the encoder's mean bounds the expected KL from below:

    E[KL] >= (d/2) (beta^2 + gamma^2)

* :mod:`kexue.vae.heads`: ``GaussianHead`` (plain), ``BNHead(gamma)`` (Zhu et al., ACL 2020: BN
  on mu, gamma fixed, beta learnt) and ``BNScalerHead(tau)`` (the blog's refinement: BN on mu and
  sigma, gamma_mu^2 + gamma_sigma^2 = 1), plus the KL and its bound;
* :mod:`kexue.vae.objectives`: KL weights and penalties (ELBO, annealing, free bits, cyclic);
* :mod:`kexue.vae.text`: the LSTM text VAE, vocabulary, batching, generation, interpolation;
* :mod:`kexue.vae.image`: an MLP VAE for MNIST / Fashion-MNIST;
* :mod:`kexue.vae.metrics`: importance-sampled NLL, KL, mutual information, active units, PPL;
* :mod:`kexue.vae.training`: the runs behind ``kexue vae train`` (shared :class:`kexue.train.Trainer`).

>>> from kexue.vae.heads import kl_bound
>>> kl_bound(32, gamma=0.6)   # nats, for BN on mu with beta = 0
5.76
"""
