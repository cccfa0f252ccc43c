"""The LSTM text VAE (Bowman et al. 2016; the layout of He et al. 2019 and Zhu et al. 2020).

Encoder: embedding -> one-layer LSTM -> last hidden state -> a head of :mod:`kexue.vae.heads`.
Decoder: an LSTM language model conditioned on z: its initial cell state is W z (hidden
state tanh(W z)) and z is concatenated to every input embedding. Sizes are free; the CPU
default is embedding 256, hidden 256, latent 32 (:data:`PRESETS` also holds the paper's
512/1024/32 for GPUs).

>>> vocab = Vocab.build([["a", "b"], ["a", "c"]])
>>> len(vocab), vocab.encode(["a", "zzz"])
(7, [4, 3])
>>> model = TextVAE(len(vocab), emb=8, hidden=8, latent=2, head="bn", gamma=0.5)
>>> batch = make_batch([vocab.encode(s) for s in (["a", "b"], ["c"])])
>>> rec, post = model(batch)
>>> tuple(rec.shape), tuple(post.mu.shape)
((2,), (2, 2))
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InputError
from .heads import DEFAULT_VAR_FLOOR, Posterior, make_head, standard_normal_log_prob
from .metrics import active_units, iw_log_likelihood, mutual_information, perplexity

PAD, BOS, EOS, UNK = 0, 1, 2, 3
SPECIALS = ("<pad>", "<s>", "</s>", "<unk>")
PRESETS = {"cpu": {"emb": 256, "hidden": 256, "latent": 32},
           "tiny": {"emb": 64, "hidden": 64, "latent": 32},
           "paper": {"emb": 512, "hidden": 1024, "latent": 32}}


# ----------------------------------------------------------------------------- vocabulary and data
@dataclass
class Vocab:
    """Words <-> ids; ids 0-3 are <pad>, <s>, </s>, <unk> (PTB's own ``<unk>`` maps to it)."""

    words: list[str]

    def __post_init__(self) -> None:
        self.index = {w: i for i, w in enumerate(self.words)}

    @classmethod
    def build(cls, sentences: Sequence[Sequence[str]], min_count: int = 1, max_size: int | None = None) -> Vocab:
        """The vocabulary of ``sentences``: words seen at least ``min_count`` times, most frequent first.

        >>> Vocab.build([["x", "y", "x"]], min_count=2).words[4:]
        ['x']
        """
        counts = Counter(w for s in sentences for w in s if w not in SPECIALS)
        words = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
        if max_size is not None:
            words = words[:max(0, max_size - len(SPECIALS))]
        return cls(list(SPECIALS) + words)

    def __len__(self) -> int:
        return len(self.words)

    def encode(self, sentence: Sequence[str]) -> list[int]:
        """Token ids of a sentence (unknown words -> <unk>), without <s> and </s>."""
        return [self.index.get(w, UNK) for w in sentence]

    def decode(self, ids: Sequence[int]) -> list[str]:
        """Words of ``ids``, stopping at </s> and skipping <s> and <pad>."""
        out = []
        for i in ids:
            i = int(i)
            if i == EOS:
                break
            if i in (PAD, BOS):
                continue
            out.append(self.words[i] if 0 <= i < len(self.words) else "<unk>")
        return out


def read_sentences(path) -> list[list[str]]:
    """Sentences of a UTF-8 text file, one per line, split on whitespace; blank lines skipped.

    Raises :class:`InputError` for a missing, binary, non-UTF-8 or empty file.
    """
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file (give ptb, mnist, fashion-mnist or a text file, one sentence a line)")
    raw = path.read_bytes()
    if b"\x00" in raw[:65536]:
        raise InputError(f"{path} looks binary, not text: give a UTF-8 text file with one sentence a line")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{path} is not UTF-8 text ({e.reason} at byte {e.start})") from None
    sentences = [line.split() for line in text.splitlines() if line.strip()]
    if not sentences:
        raise InputError(f"{path} holds no sentences (it is empty or blank)")
    return sentences


@dataclass
class Batch:
    """Padded token ids of a batch: ``enc`` = <s> w </s> (encoder), ``inp`` = <s> w, ``tgt`` = w </s>."""

    enc: torch.Tensor
    lengths: torch.Tensor  # length of enc rows (words + 2)
    inp: torch.Tensor
    tgt: torch.Tensor

    def to(self, device) -> Batch:
        return Batch(self.enc.to(device), self.lengths, self.inp.to(device), self.tgt.to(device))

    @property
    def tokens(self) -> int:
        """Number of predicted tokens (words + one </s> per sentence)."""
        return int((self.tgt != PAD).sum())


def make_batch(seqs: Sequence[Sequence[int]]) -> Batch:
    """Pad a list of token-id sentences into a :class:`Batch`."""
    n = len(seqs)
    width = max(len(s) for s in seqs) + 2
    enc = torch.full((n, width), PAD, dtype=torch.long)
    for i, s in enumerate(seqs):
        enc[i, :len(s) + 2] = torch.tensor([BOS, *s, EOS], dtype=torch.long)
    lengths = torch.tensor([len(s) + 2 for s in seqs], dtype=torch.long)
    inp = enc[:, :-1].clone()
    inp[inp == EOS] = PAD
    return Batch(enc, lengths, inp, enc[:, 1:].clone())


def length_batches(seqs: Sequence[Sequence[int]], batch_size: int) -> list[list[int]]:
    """Indices of ``seqs`` grouped into batches of similar length (sorted, then cut)."""
    order = sorted(range(len(seqs)), key=lambda i: (len(seqs[i]), i))
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def epoch_batches(seqs: Sequence[Sequence[int]], batch_size: int, seed: int, epoch: int,
                  rank: int = 0, world: int = 1, bucket: bool = True) -> list[list[int]]:
    """The batches of one training epoch, in a seeded random order (the same on every rank, each rank
    taking its own contiguous share of them).

    ``bucket=True``: batches of similar length (little padding, fast). ``bucket=False``: batches of
    randomly drawn sentences; a BN head needs these, because batch statistics of a length bucket are
    not those of the data: BN would learn to remove length from mu in training, which its
    population statistics at evaluation do not.

    >>> b = epoch_batches([[1] * n for n in range(10)], 5, seed=0, epoch=0, bucket=False)
    >>> sorted(i for g in b for i in g) == list(range(10)), len(b)
    (True, 2)
    """
    if bucket:
        groups = length_batches(seqs, batch_size)
        order = np.random.default_rng([seed, epoch]).permutation(len(groups))
        groups = [groups[i] for i in order]
    else:
        perm = np.random.default_rng([seed, epoch]).permutation(len(seqs)).tolist()
        groups = [perm[i:i + batch_size] for i in range(0, len(perm), batch_size)]
    if world > 1:
        per_rank = len(groups) // world
        groups = groups[rank * per_rank:(rank + 1) * per_rank]
    return groups


# ----------------------------------------------------------------------------- model
class TextVAE(nn.Module):
    """LSTM encoder, a posterior head, LSTM decoder conditioned on z.

    ``forward(batch)`` returns (reconstruction NLL per sentence, posterior) with one z sample.
    """

    def __init__(self, vocab_size: int, emb: int = 256, hidden: int = 256, latent: int = 32, head: str = "bn",
                 gamma: float = 0.6, tau: float = 0.5, dropout: float = 0.3, word_dropout: float = 0.0,
                 var_floor: float = DEFAULT_VAR_FLOOR):
        super().__init__()
        self.config = dict(vocab_size=vocab_size, emb=emb, hidden=hidden, latent=latent, head=head, gamma=gamma,
                           tau=tau, var_floor=var_floor, dropout=dropout, word_dropout=word_dropout)
        self.latent = latent
        self.word_dropout = word_dropout
        self.enc_embed = nn.Embedding(vocab_size, emb, padding_idx=PAD)
        self.enc_lstm = nn.LSTM(emb, hidden, batch_first=True)
        self.head = make_head(head, hidden, latent, gamma=gamma, tau=tau, var_floor=var_floor)
        self.dec_embed = nn.Embedding(vocab_size, emb, padding_idx=PAD)
        self.dec_lstm = nn.LSTM(emb + latent, hidden, batch_first=True)
        self.z_to_c = nn.Linear(latent, hidden, bias=False)
        self.drop_in = nn.Dropout(dropout)
        self.drop_out = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, vocab_size)
        for p in self.parameters():  # the uniform init of He et al.
            if p.requires_grad and p.dim() > 1:
                nn.init.uniform_(p, -0.1, 0.1)
        nn.init.uniform_(self.enc_embed.weight, -0.1, 0.1)
        nn.init.uniform_(self.dec_embed.weight, -0.1, 0.1)

    # encoder
    def encode(self, batch: Batch) -> Posterior:
        """q(z|x) for every sentence of the batch."""
        x = self.enc_embed(batch.enc)
        packed = nn.utils.rnn.pack_padded_sequence(x, batch.lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, (h, _) = self.enc_lstm(packed)
        return self.head(h[-1])

    # decoder
    def decode_logits(self, z: torch.Tensor, inp: torch.Tensor) -> torch.Tensor:
        """Next-token logits (n, T, V) for inputs ``inp`` (n, T) given codes ``z`` (n, d)."""
        if self.training and self.word_dropout > 0:
            drop = (torch.rand(inp.shape, device=inp.device) < self.word_dropout) & (inp != PAD) & (inp != BOS)
            inp = inp.masked_fill(drop, UNK)
        e = self.drop_in(self.dec_embed(inp))
        e = torch.cat([e, z.unsqueeze(1).expand(-1, e.shape[1], -1)], dim=-1)
        c0 = self.z_to_c(z).unsqueeze(0)
        out, _ = self.dec_lstm(e, (torch.tanh(c0), c0))
        return self.out(self.drop_out(out))

    def reconstruction(self, z: torch.Tensor, batch: Batch) -> torch.Tensor:
        """-log p(x|z) per sentence, in nats (z of shape (n, d))."""
        logits = self.decode_logits(z, batch.inp)
        nll = F.cross_entropy(logits.transpose(1, 2), batch.tgt, ignore_index=PAD, reduction="none")
        return nll.sum(1)

    def forward(self, batch: Batch) -> tuple[torch.Tensor, Posterior]:
        post = self.encode(batch)
        return self.reconstruction(post.sample(), batch), post

    # importance-weighted likelihood
    @torch.no_grad()
    def iw_nll(self, batch: Batch, k: int = 500, generator: torch.Generator | None = None,
               max_elements: int = 2 ** 24) -> torch.Tensor:
        """-log p(x) per sentence estimated with ``k`` importance samples from q(z|x) (eval mode)."""
        post = self.encode(batch)
        z = post.sample(k, generator=generator)  # (n, k, d)
        log_qz = post.log_prob(z)
        log_pz = standard_normal_log_prob(z)
        n, t = batch.inp.shape
        per = max(1, min(k, max_elements // max(1, n * t * self.out.out_features)))
        log_px = []
        for s in range(0, k, per):
            zs = z[:, s:s + per]  # (n, m, d)
            m = zs.shape[1]
            rep = Batch(batch.enc, batch.lengths, batch.inp.repeat_interleave(m, 0), batch.tgt.repeat_interleave(m, 0))
            log_px.append(-self.reconstruction(zs.reshape(n * m, -1), rep).view(n, m))
        return -iw_log_likelihood(torch.cat(log_px, 1), log_pz, log_qz)

    # generation
    @torch.no_grad()
    def generate(self, z: torch.Tensor, max_len: int = 40, greedy: bool = True, temperature: float = 1.0,
                 generator: torch.Generator | None = None) -> list[list[int]]:
        """Decode sentences (token ids without <s>/</s>) from codes ``z`` (n, d), greedily or by sampling."""
        n = z.shape[0]
        c = self.z_to_c(z).unsqueeze(0)
        state = (torch.tanh(c), c)
        tok = torch.full((n, 1), BOS, dtype=torch.long, device=z.device)
        done = torch.zeros(n, dtype=torch.bool, device=z.device)
        out = []
        for _ in range(max_len):
            e = torch.cat([self.dec_embed(tok), z.unsqueeze(1)], dim=-1)
            h, state = self.dec_lstm(e, state)
            logits = self.out(h[:, -1])
            logits[:, PAD] = -math.inf
            logits[:, BOS] = -math.inf
            if greedy:
                nxt = logits.argmax(-1)
            else:
                probs = torch.softmax(logits / max(temperature, 1e-6), -1)
                nxt = torch.multinomial(probs, 1, generator=generator).squeeze(1)
            nxt = torch.where(done, torch.full_like(nxt, EOS), nxt)
            out.append(nxt)
            done |= nxt == EOS
            tok = nxt.unsqueeze(1)
            if bool(done.all()):
                break
        ids = torch.stack(out, 1).tolist()
        return [[i for i in row[:row.index(EOS)]] if EOS in row else row for row in ids]


# ----------------------------------------------------------------------------- evaluation
@torch.no_grad()
def encode_all(model: TextVAE, seqs: Sequence[Sequence[int]], batch_size: int = 128,
               device: torch.device | str = "cpu") -> Posterior:
    """Posteriors (eval mode: BN running statistics) of every sentence, in the order of ``seqs``."""
    was = model.training
    model.eval()
    mus, lvs, idx = [], [], []
    for group in length_batches(seqs, batch_size):
        post = model.encode(make_batch([seqs[i] for i in group]).to(device))
        mus.append(post.mu.cpu())
        lvs.append(post.logvar.cpu())
        idx.extend(group)
    model.train(was)
    inv = torch.empty(len(idx), dtype=torch.long)
    inv[torch.tensor(idx)] = torch.arange(len(idx))
    return Posterior(torch.cat(mus)[inv], torch.cat(lvs)[inv])


def subset_indices(n: int, limit: int | None) -> list[int]:
    """``limit`` evenly spaced indices out of ``n`` (all when ``limit`` is None, 0 or >= n)."""
    if not limit or limit >= n:
        return list(range(n))
    return sorted({int(i) for i in np.linspace(0, n - 1, limit).round()})


@torch.no_grad()
def evaluate(model: TextVAE, seqs: Sequence[Sequence[int]], *, iw_samples: int = 100, nll_sentences: int | None = 400,
             batch_size: int = 64, seed: int = 0, device: torch.device | str = "cpu",
             with_nll: bool = True) -> dict:
    """KL, MI, AU and the negative ELBO on every sentence; IW-NLL and PPL on ``nll_sentences`` of them.

    Returns a dict of floats: ``kl`` (mean nats per sentence), ``mi``, ``au``, ``rec``,
    ``elbo`` (= rec + kl, an upper bound on the NLL), ``elbo_ppl``, and with ``with_nll``:
    ``nll`` (IW estimate, nats per sentence), ``ppl``, ``nll_sentences``, ``iw_samples``.
    """
    was = model.training
    model.eval()
    post = encode_all(model, seqs, batch_size=128, device=device)
    kl = post.kl()
    au, var = active_units(post.mu)
    out = {"kl": float(kl.mean()), "mi": mutual_information(post.mu, post.logvar, seed=seed), "au": au,
           "au_var_min": float(var.min()), "sentences": len(seqs)}
    gen = torch.Generator(device="cpu").manual_seed(seed)
    rec_total, tokens = 0.0, 0
    for group in length_batches(seqs, batch_size):
        b = make_batch([seqs[i] for i in group]).to(device)
        p = model.encode(b)
        z = p.mu + (0.5 * p.logvar).exp() * torch.randn(p.mu.shape, generator=gen).to(device)
        rec_total += float(model.reconstruction(z, b).sum())
        tokens += b.tokens
    out["rec"] = rec_total / len(seqs)
    out["elbo"] = out["rec"] + out["kl"]
    out["elbo_ppl"] = perplexity(out["elbo"] * len(seqs), tokens)
    out["tokens"] = tokens
    if with_nll:
        idx = subset_indices(len(seqs), nll_sentences)
        sub = [seqs[i] for i in idx]
        nll_total, sub_tokens = 0.0, 0
        for group in length_batches(sub, 8):
            b = make_batch([sub[i] for i in group]).to(device)
            nll_total += float(model.iw_nll(b, iw_samples, generator=gen).sum())
            sub_tokens += b.tokens
        out.update(nll=nll_total / len(sub), ppl=perplexity(nll_total, sub_tokens), nll_sentences=len(sub),
                   iw_samples=iw_samples)
    model.train(was)
    return out


@torch.no_grad()
def interpolate(model: TextVAE, vocab: Vocab, a: Sequence[str], b: Sequence[str], steps: int = 5,
                max_len: int = 40) -> list[list[str]]:
    """Greedy decodings along the straight line between the posterior means of sentences ``a`` and ``b``."""
    was = model.training
    model.eval()
    dev = next(model.parameters()).device
    post = model.encode(make_batch([vocab.encode(a) or [UNK], vocab.encode(b) or [UNK]]).to(dev))
    ts = torch.linspace(0, 1, max(steps, 2), device=dev).unsqueeze(1)
    z = (1 - ts) * post.mu[0] + ts * post.mu[1]
    out = [vocab.decode(s) for s in model.generate(z, max_len=max_len)]
    model.train(was)
    return out
