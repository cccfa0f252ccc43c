"""The text VAE on real PTB sentences: data handling, likelihood bounds, generation, training, resume."""

import json

import pytest
import torch

from kexue.errors import InputError, UsageError
from kexue.train import load_checkpoint
from kexue.vae import training as T
from kexue.vae.text import (
    BOS,
    EOS,
    PAD,
    UNK,
    TextVAE,
    Vocab,
    encode_all,
    epoch_batches,
    interpolate,
    make_batch,
    read_sentences,
)

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(scope="module")
def ptb():
    from kexue.data import ptb_sentences

    return ptb_sentences("valid")[:300]


def test_vocab_round_trip_and_unk(ptb):
    v = Vocab.build(ptb)
    assert v.words[:4] == ["<pad>", "<s>", "</s>", "<unk>"]
    s = ptb[0]
    assert v.decode(v.encode(s)) == s
    assert v.encode(["<unk>", "qqqnotaword"]) == [UNK, UNK]
    assert len(set(v.words)) == len(v.words)


def test_batch_layout():
    b = make_batch([[5, 6, 7], [8]])
    assert b.enc.tolist() == [[BOS, 5, 6, 7, EOS], [BOS, 8, EOS, PAD, PAD]]
    assert b.inp.tolist() == [[BOS, 5, 6, 7], [BOS, 8, PAD, PAD]]
    assert b.tgt.tolist() == [[5, 6, 7, EOS], [8, EOS, PAD, PAD]]
    assert b.tokens == 6 and b.lengths.tolist() == [5, 3]


def test_read_sentences_rejects_bad_files(tmp_path):
    (tmp_path / "empty.txt").write_text("\n  \n")
    (tmp_path / "bin.txt").write_bytes(b"\x00\x01\x02abc")
    (tmp_path / "latin.txt").write_bytes("caf\xe9\n".encode("latin-1"))
    for name, msg in (("empty.txt", "no sentences"), ("bin.txt", "binary"), ("latin.txt", "UTF-8"),
                      ("none.txt", "no such file")):
        with pytest.raises(InputError, match=msg):
            read_sentences(tmp_path / name)


def test_iw_nll_is_tighter_than_the_elbo(ptb):
    torch.manual_seed(0)
    v = Vocab.build(ptb)
    model = TextVAE(len(v), emb=32, hidden=32, latent=8, head="plain").eval()
    for p in model.head.parameters():  # an informative, imperfect posterior
        p.data.normal_(0, 0.5)
    b = make_batch([v.encode(s) for s in ptb[:4]])
    post = model.encode(b)
    z = post.sample(100)
    rec = torch.stack([model.reconstruction(z[:, i], b) for i in range(100)], 1)
    neg_elbo = (rec.mean(1) + post.kl())
    iw = model.iw_nll(b, k=100, generator=torch.Generator().manual_seed(1))
    assert torch.all(iw <= neg_elbo + 0.05)
    n, t = b.inp.shape
    chunk = 7 * n * t * len(v)  # 7 samples at a time
    iw_chunked = model.iw_nll(b, k=100, generator=torch.Generator().manual_seed(1), max_elements=chunk)
    assert torch.allclose(iw, iw_chunked, atol=1e-3)


def test_generation_and_interpolation(ptb):
    torch.manual_seed(0)
    v = Vocab.build(ptb)
    model = TextVAE(len(v), emb=16, hidden=16, latent=4, head="bn", gamma=0.6).eval()
    z = torch.randn(3, 4)
    greedy = model.generate(z, max_len=7)
    assert greedy == model.generate(z, max_len=7)  # greedy is deterministic
    assert all(len(s) <= 7 and all(t not in (PAD, BOS, EOS) for t in s) for s in greedy)
    s1 = model.generate(z, greedy=False, max_len=7, generator=torch.Generator().manual_seed(5))
    s2 = model.generate(z, greedy=False, max_len=7, generator=torch.Generator().manual_seed(5))
    assert s1 == s2
    a, b = ptb[1], ptb[2]
    path = interpolate(model, v, a, b, steps=4, max_len=7)
    post = encode_all(model, [v.encode(a), v.encode(b)])
    assert len(path) == 4
    assert path[0] == v.decode(model.generate(post.mu[:1], max_len=7)[0])
    assert path[-1] == v.decode(model.generate(post.mu[1:], max_len=7)[0])


def _cfg(**kw):
    base = dict(data="ptb", head="bn", gamma=0.6, epochs=1, emb=48, hidden=48, max_train=320, max_eval=160,
                iw_samples=10, nll_limit=16)
    base.update(kw)
    return T.TrainConfig(**base)


def test_bn_head_keeps_the_floor_on_ptb():
    s = T.train(_cfg(), quiet=True)
    assert s["train_kl_min"] >= 0.999 * s["kl_bound"]  # every training batch (batch statistics)
    assert s["au"] == 32 and s["kl"] >= 0.9 * s["kl_bound"]  # evaluation set (population statistics)
    assert s["nll"] > 0 and s["ppl"] > 1 and s["mi"] > 0
    assert s["nll"] <= s["elbo"] + 1.0  # the IW estimate is (nearly) below the one-sample bound
    # the evaluation used BN statistics re-estimated over the whole training set, not moving averages
    model, vocab = s["_model"].eval(), Vocab(s["_vocab"])
    seqs = [vocab.encode(x) for x in T.dev_split(T.text_data(_cfg())[0], _cfg().dev)[0]]  # dev held out
    assert len(seqs) == 288 == s["train_sentences"]
    with torch.no_grad():
        pre = torch.cat([model.head.linear(model.enc_lstm(torch.nn.utils.rnn.pack_padded_sequence(
            model.enc_embed(b.enc), b.lengths, batch_first=True, enforce_sorted=False))[1][0][-1])[:, :32]
            for b in (make_batch(seqs[i:i + 64]) for i in range(0, len(seqs), 64))])
    assert torch.allclose(model.head.bn.running_mean, pre.mean(0), atol=1e-4)
    assert torch.allclose(model.head.bn.running_var, pre.var(0), rtol=1e-3)


def test_epoch_batches_cover_every_sentence_once():
    seqs = [[5] * (i % 17 + 1) for i in range(203)]
    for bucket in (True, False):
        one = epoch_batches(seqs, 32, seed=3, epoch=1, bucket=bucket)
        assert sorted(i for g in one for i in g) == list(range(203))
        assert one != epoch_batches(seqs, 32, seed=3, epoch=2, bucket=bucket)  # reshuffled every epoch
        shares = [epoch_batches(seqs, 32, seed=3, epoch=1, rank=r, world=2, bucket=bucket) for r in (0, 1)]
        assert len(shares[0]) == len(shares[1]) == len(one) // 2
        assert not {i for g in shares[0] for i in g} & {i for g in shares[1] for i in g}
    spread = [max(len(seqs[i]) for i in g) - min(len(seqs[i]) for i in g)
              for g in epoch_batches(seqs, 32, seed=3, epoch=1, bucket=False)]
    assert max(spread) > 8  # random batches mix lengths (length buckets would not)


def test_resume_is_exact_and_config_is_checked(tmp_path):
    cfg = _cfg(head="bn-scaler", max_train=96, max_eval=32)
    straight = T.train(cfg.__class__(**{**cfg.__dict__, "epochs": 2}), tmp_path / "a", quiet=True, final_eval=False)
    T.train(cfg, tmp_path / "b", quiet=True, final_eval=False)
    resumed = T.train(cfg.__class__(**{**cfg.__dict__, "epochs": 2}), tmp_path / "b", resume=True, quiet=True,
                      final_eval=False)
    sa = load_checkpoint(tmp_path / "a" / "last.pt")["state"]["model"]
    sb = load_checkpoint(tmp_path / "b" / "last.pt")["state"]["model"]
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert [h["loss"] for h in straight["history"]] == [h["loss"] for h in resumed["history"]]
    assert json.loads((tmp_path / "b" / "summary.json").read_text())["epochs"] == 2
    with pytest.raises(UsageError, match="different run"):
        T.train(cfg.__class__(**{**cfg.__dict__, "head": "plain", "epochs": 3}), tmp_path / "b", resume=True,
                quiet=True)


def test_nan_loss_stops_and_keeps_the_last_checkpoint(tmp_path, monkeypatch):
    cfg = _cfg(max_train=64, max_eval=16)
    T.train(cfg, tmp_path, quiet=True, final_eval=False)
    before = (tmp_path / "last.pt").read_bytes()
    monkeypatch.setattr(T, "kl_term", lambda *a, **k: torch.tensor(float("nan")))
    with pytest.raises(T.TrainingDiverged, match=r"checkpoint \(epoch 1\) is kept"):
        T.train(cfg.__class__(**{**cfg.__dict__, "epochs": 2}), tmp_path, resume=True, quiet=True)
    assert (tmp_path / "last.pt").read_bytes() == before


def test_dev_selection_restores_the_best_epoch_and_decays_the_rate():
    from kexue.vae.text import evaluate

    cfg = _cfg(head="bn", epochs=3, max_train=200, dev=0.2, select="dev", lr_decay=0.5, lr=3.0)
    s = T.train(cfg, quiet=True)
    hist = s["history"]
    devs = [h["dev_elbo"] for h in hist]
    assert s["selected_epoch"] == 1 + devs.index(min(devs))
    assert s["train_sentences"] == 160 and "40 training sentences held out" in s["split"]
    lr = 3.0
    for i, h in enumerate(hist):  # halved after every epoch that did not beat the best dev score so far
        if i and devs[i] >= min(devs[:i]):
            lr *= 0.5
        assert h["lr"] == pytest.approx(lr)
    train_s, _, _ = T.text_data(cfg)
    vocab = Vocab(s["_vocab"])
    dev_ids = [vocab.encode(x) for x in T.dev_split(train_s, 0.2)[1]]
    again = evaluate(s["_model"], dev_ids, seed=cfg.seed, with_nll=False)
    assert again["elbo"] == pytest.approx(min(devs), rel=1e-6)  # the returned model is the selected epoch's
    with pytest.raises(UsageError, match="--select"):
        T.train(_cfg(select="best"), quiet=True)


def test_bn_statistics_from_the_dev_sentences():
    cfg = _cfg(max_train=200, dev=0.2, bn_stats="dev")
    s = T.train(cfg, quiet=True, final_eval=False)
    model, vocab = s["_model"].eval(), Vocab(s["_vocab"])
    dev_ids = [vocab.encode(x) for x in T.dev_split(T.text_data(cfg)[0], 0.2)[1]]
    with torch.no_grad():
        b = make_batch(dev_ids)
        h = model.enc_lstm(torch.nn.utils.rnn.pack_padded_sequence(model.enc_embed(b.enc), b.lengths,
                                                                   batch_first=True, enforce_sorted=False))[1][0][-1]
        pre = model.head.linear(h)[:, :32]
    assert torch.allclose(model.head.bn.running_mean, pre.mean(0), atol=1e-4)
    assert torch.allclose(model.head.bn.running_var, pre.var(0), rtol=1e-3)
    with pytest.raises(UsageError, match="--bn-stats"):
        T.train(_cfg(bn_stats="test"), quiet=True)
