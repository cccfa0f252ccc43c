"""The essay's claims: logic neurons, XOR needs two layers, fitting, features, autoencoders."""

import numpy as np
import pytest

from kexue.nn import demos


def test_logic_gates_and_xor_with_step_neurons():
    r = demos.logic()
    assert all(g["correct"] for g in r["gates"].values())
    assert r["linearly_separable"] == {"AND": True, "OR": True, "XOR": False, "NAND": True}
    errs = [s["max_error"] for s in r["smooth"]]
    assert errs == sorted(errs, reverse=True) and errs[-1] < 1e-12 and errs[0] > 0.1


def test_xor_one_layer_fails_two_layers_learn():
    r = demos.xor(seeds=5, epochs=1500)
    assert r["one_layer"]["best_accuracy"] <= 0.75 and r["one_layer"]["solved"] == 0
    assert r["two_layer"]["solved"] >= 4


def test_fit_accuracy_grows_with_hidden_layer():
    r = demos.fit((0, 4, 16), n=300, epochs=1000)
    acc = [x["train_accuracy"] for x in r["results"]]
    assert acc[0] < 0.92 and acc[-1] >= 0.99 and acc[0] < acc[1] <= acc[2] + 1e-9


def test_features_hand_made_and_learned():
    r = demos.features(epochs=2000)
    assert r["linear_on_x"]["r2"] < 0.6
    assert r["hand_feature_x2"]["r2"] > 1 - 1e-12
    assert np.allclose(r["hand_feature_x2"]["coefficients"], [0, 1, 1], atol=1e-10)
    assert r["learned"]["r2"] > 0.999
    assert r["dense_weights_for_megapixel"] == 10 ** 12


def test_downsample_preserves_mean():
    rng = np.random.default_rng(0)
    x = rng.random((3, 20, 20))
    d = demos.downsample(x, 10)  # exact 2x2 blocks
    assert np.allclose(d, x.reshape(3, 10, 2, 10, 2).mean(axis=(2, 4)))


def test_autoencoder_on_real_images(tmp_path):
    pytest.importorskip("kexue.data").require("fashion-mnist")
    r = demos.autoencoder(bottlenecks=(3, 30), n_train=3000, n_test=500, epochs=15, return_models=True)
    small, big = r["results"]
    assert big["test_mse"] < small["test_mse"] < r["pixel_variance"]
    # PCA is the best linear code; a one-hidden-layer AE cannot beat it by much, and must not be far worse
    assert small["test_mse"] < 1.5 * small["pca_mse"]
    assert big["probe_accuracy"] > small["probe_accuracy"] and big["probe_accuracy"] > 0.7
    png = demos.plot_autoencoder(r, tmp_path / "ae.png")
    assert png.stat().st_size > 1000
