"""The stacked softmax readout against one torch.optim.Adam model per rate; selection; threads."""

from __future__ import annotations

import numpy as np
import pytest

from neurosim.errors import ConfigError
from neurosim.reservoir import readout
from neurosim.reservoir.readout import (DEFAULT_THREADS, ReadoutResult, best_on_validation,
                                        fit_softmax_stack, results_at_best_validation,
                                        softmax_per_rate, train_softmax)
from neurosim.threads import available_cores, torch_threads

torch = pytest.importorskip("torch")

RATES = [0.05, 0.01, 0.002]
# 300 training samples in minibatches of 32: the last one holds 12.
SETTINGS = {"epochs": 5, "batch_size": 32, "seed": 7, "n_classes": 4}
# Weights (up to ~2 in size) after 5 epochs differ by at most ~2.4e-7, float32 rounding
# of differently ordered sums (the bias folded into the product, the gradient written
# out); 1e-5 leaves room for another BLAS.
WEIGHT_ATOL = 1e-5


@pytest.fixture(scope="module")
def splits():
    rng = np.random.default_rng(3)
    centres = rng.random((4, 20))

    def split(n):
        labels = rng.integers(0, 4, n)
        return readout.l1_features(rng.poisson(3 * centres[labels])), labels

    return split(300), split(100), split(100)


def adam_alone(splits, rate, *, epochs, batch_size, seed, n_classes):
    """One rate trained as the readout was before its rates were stacked: an
    nn.Linear layer from zero, torch.optim.Adam, CrossEntropyLoss, autograd."""
    gen = torch.Generator().manual_seed(seed)
    scale = float(splits[0][0].max())
    xs = [torch.from_numpy(x / scale) for x, _ in splits]
    ys = [torch.from_numpy(y.astype(np.int64)) for _, y in splits]
    layer = torch.nn.Linear(xs[0].shape[1], n_classes)
    torch.nn.init.zeros_(layer.weight)
    torch.nn.init.zeros_(layer.bias)
    opt = torch.optim.Adam(layer.parameters(), lr=rate)
    loss = torch.nn.CrossEntropyLoss()
    correct = np.zeros((epochs, 3), np.int64)
    for epoch in range(epochs):
        order = torch.randperm(len(xs[0]), generator=gen)
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            opt.zero_grad()
            loss(layer(xs[0][batch]), ys[0][batch]).backward()
            opt.step()
        with torch.no_grad():
            for k, (x, y) in enumerate(zip(xs, ys)):
                correct[epoch, k] = int((layer(x).argmax(1) == y).sum())
    return layer, correct


def test_each_stacked_rate_follows_its_own_adam_trajectory(splits):
    weights, correct = fit_softmax_stack(*splits, learning_rates=RATES, **SETTINGS)
    assert weights.shape == (21, len(RATES), 4) and correct.shape == (5, 3, len(RATES))
    for r, rate in enumerate(RATES):
        layer, alone = adam_alone(splits, rate, **SETTINGS)
        np.testing.assert_allclose(weights[:-1, r].numpy(), layer.weight.detach().numpy().T,
                                   rtol=0, atol=WEIGHT_ATOL)
        np.testing.assert_allclose(weights[-1, r].numpy(), layer.bias.detach().numpy(),
                                   rtol=0, atol=WEIGHT_ATOL)
        np.testing.assert_array_equal(correct[:, :, r], alone)
    assert len({tuple(correct[:, 1, r]) for r in range(len(RATES))}) > 1  # rates differ


def test_each_rate_is_reported_at_its_first_best_validation_epoch(splits):
    runs = softmax_per_rate(*splits, learning_rates=RATES, **SETTINGS)
    assert [run.hyper for run in runs] == RATES
    sizes = np.array([len(y) for _, y in splits], np.float64)
    for run, rate in zip(runs, RATES):
        _, alone = adam_alone(splits, rate, **SETTINGS)
        accuracy = alone / sizes
        e = int(np.flatnonzero(alone[:, 1] == alone[:, 1].max())[0])
        assert run.best_epoch == e
        assert (run.train_accuracy, run.validation_accuracy, run.test_accuracy) == tuple(
            accuracy[e])
        for k, key in enumerate(("train", "validation", "test")):
            np.testing.assert_array_equal(run.curves[key], accuracy[:, k])
    # One rate on its own is the same readout as that rate in the stack.
    single = train_softmax(*splits, learning_rate=RATES[1], **SETTINGS)
    assert single.best_epoch == runs[1].best_epoch
    for key in single.curves:
        np.testing.assert_array_equal(single.curves[key], runs[1].curves[key])


def test_selection_takes_the_first_of_equal_epochs_and_rates():
    # correct[epoch, split, rate]; splits of 20 train, 5 validation, 4 test samples.
    correct = np.zeros((4, 3, 3), np.int64)
    correct[:, 1, 0] = [2, 4, 4, 3]  # best epoch 1, not 2
    correct[:, 1, 1] = [4, 4, 1, 0]  # best epoch 0
    correct[:, 1, 2] = [0, 1, 2, 3]  # best epoch 3, but lower than the others
    correct[:, 0] = np.arange(12).reshape(4, 3)
    correct[:, 2] = [[1, 2, 3], [3, 0, 1], [2, 2, 2], [3, 1, 4]]
    runs = results_at_best_validation(correct, [20, 5, 4], [0.1, 0.01, 0.001])
    assert [run.best_epoch for run in runs] == [1, 0, 3]
    assert [run.validation_accuracy for run in runs] == [0.8, 0.8, 0.6]
    assert [run.train_accuracy for run in runs] == [0.15, 0.05, 0.55]
    assert [run.test_accuracy for run in runs] == [0.75, 0.5, 1.0]
    assert [run.hyper for run in runs] == [0.1, 0.01, 0.001]
    np.testing.assert_array_equal(runs[2].curves["validation"], [0, 0.2, 0.4, 0.6])
    assert best_on_validation(runs) is runs[0]  # the first of two equal rates
    assert best_on_validation(runs[1:]) is runs[1]
    other = ReadoutResult(0.0, 0.9, 0.0, 0, {}, 1.0)
    assert best_on_validation(runs + [other]) is other


def test_readout_runs_on_its_thread_count_and_restores_torch_s(splits, monkeypatch):
    seen = []
    fit = readout.fit_softmax_stack

    def recording(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return fit(*args, **kwargs)

    monkeypatch.setattr(readout, "fit_softmax_stack", recording)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(3)
        softmax_per_rate(*splits, learning_rates=RATES, **{**SETTINGS, "epochs": 1})
        assert torch.get_num_threads() == 3
        train_softmax(*splits, learning_rate=0.01, threads=2, **{**SETTINGS, "epochs": 1})
        assert torch.get_num_threads() == 3
        assert seen == [DEFAULT_THREADS, min(2, available_cores())]
        with pytest.raises(RuntimeError, match="inside"):
            with torch_threads(1):
                assert torch.get_num_threads() == 1
                raise RuntimeError("inside")
        assert torch.get_num_threads() == 3
        with pytest.raises(ConfigError, match="threads"):
            with torch_threads(0):
                pass
        assert torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(before)


def test_ridge_without_penalty_and_fewer_samples_than_features_takes_the_least_norm_fit():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 5, size=(8, 50)).astype(np.float32)  # 51 unknowns, 8 equations
    y = np.arange(8) % 2
    run = readout.train_ridge((x, y), (x, y), (x, y), alphas=[0.0], n_classes=2)
    assert run.hyper == 0.0 and run.train_accuracy == 1.0  # interpolates its training set
