"""Readouts of liquid-state features: a softmax layer and ridge regression.

Features are the liquid spike counts of a sample divided by their sum (L1),
then, as in the reference, by the largest training feature so the inputs of
the layer span [0, 1]. The softmax layer is trained by minibatch Adam on
cross-entropy; the reported test accuracy is the one at the epoch of best
validation accuracy (and, given several learning rates, the rate is chosen
the same way). Ridge regression fits one-hot targets in closed form,
with its penalty chosen on the validation set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def l1_features(counts: np.ndarray) -> np.ndarray:
    """Spike counts ``(n, neurons)`` divided by each row's sum (silent rows stay 0)."""
    counts = np.asarray(counts, dtype=np.float64)
    sums = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, sums, out=np.zeros_like(counts), where=sums > 0).astype(np.float32)


@dataclass(frozen=True)
class ReadoutResult:
    """Accuracies of one readout; ``curves`` holds per-epoch accuracies (softmax)."""

    test_accuracy: float
    validation_accuracy: float
    train_accuracy: float
    best_epoch: int
    curves: dict[str, np.ndarray]
    hyper: float  # the chosen ridge penalty, or the learning rate


def train_softmax(train: tuple[np.ndarray, np.ndarray], val: tuple[np.ndarray, np.ndarray],
                  test: tuple[np.ndarray, np.ndarray], *, epochs: int, batch_size: int,
                  learning_rate: float, seed: int, n_classes: int = 10) -> ReadoutResult:
    """Linear softmax layer on L1 features; test accuracy at the best validation epoch."""
    import torch

    gen = torch.Generator().manual_seed(int(seed))
    scale = float(train[0].max()) or 1.0
    xs = [torch.from_numpy(np.ascontiguousarray(x / scale, dtype=np.float32))
          for x in (train[0], val[0], test[0])]
    ys = [torch.from_numpy(np.asarray(y, dtype=np.int64)) for y in (train[1], val[1], test[1])]
    layer = torch.nn.Linear(xs[0].shape[1], n_classes)
    torch.nn.init.zeros_(layer.weight)
    torch.nn.init.zeros_(layer.bias)
    opt = torch.optim.Adam(layer.parameters(), lr=learning_rate)
    loss_fn = torch.nn.CrossEntropyLoss()
    curves = {k: np.zeros(epochs) for k in ("train", "validation", "test")}
    best_val, best_epoch = -1.0, 0
    n = len(xs[0])
    for epoch in range(epochs):
        order = torch.randperm(n, generator=gen)
        for start in range(0, n, batch_size):
            batch = order[start : start + batch_size]
            opt.zero_grad()
            loss_fn(layer(xs[0][batch]), ys[0][batch]).backward()
            opt.step()
        with torch.no_grad():
            for key, x, y in zip(curves, xs, ys):
                curves[key][epoch] = (layer(x).argmax(1) == y).double().mean().item()
        if curves["validation"][epoch] > best_val:
            best_val, best_epoch = curves["validation"][epoch], epoch
    e = best_epoch
    return ReadoutResult(float(curves["test"][e]), float(curves["validation"][e]),
                         float(curves["train"][e]), e, curves, float(learning_rate))


def softmax_per_rate(train: tuple[np.ndarray, np.ndarray], val: tuple[np.ndarray, np.ndarray],
                     test: tuple[np.ndarray, np.ndarray], *, learning_rates: list[float],
                     epochs: int, batch_size: int, seed: int) -> list[ReadoutResult]:
    """:func:`train_softmax` once per learning rate, all with the same seed."""
    return [train_softmax(train, val, test, epochs=epochs, batch_size=batch_size,
                          learning_rate=rate, seed=seed) for rate in learning_rates]


def best_on_validation(runs: list[ReadoutResult]) -> ReadoutResult:
    """The run with the best validation accuracy (the first on ties)."""
    return max(runs, key=lambda run: run.validation_accuracy)


def train_ridge(train: tuple[np.ndarray, np.ndarray], val: tuple[np.ndarray, np.ndarray],
                test: tuple[np.ndarray, np.ndarray], *, alphas: list[float],
                n_classes: int = 10) -> ReadoutResult:
    """Ridge regression to one-hot targets (with bias); penalty chosen on validation."""
    scale = float(train[0].max()) or 1.0

    def design(x):
        x = np.asarray(x, np.float64) / scale
        return np.hstack([x, np.ones((len(x), 1))])

    a, v, t = design(train[0]), design(val[0]), design(test[0])
    targets = np.eye(n_classes)[np.asarray(train[1], int)]
    gram, rhs = a.T @ a, a.T @ targets
    eye = np.eye(gram.shape[0])
    eye[-1, -1] = 0.0  # the bias is not penalised
    best = None
    for alpha in alphas:
        coef = np.linalg.solve(gram + alpha * len(a) * eye, rhs)
        acc = [float(np.mean((x @ coef).argmax(1) == np.asarray(y)))
               for x, y in ((a, train[1]), (v, val[1]), (t, test[1]))]
        if best is None or acc[1] > best[1][1]:
            best = (alpha, acc)
    alpha, (acc_train, acc_val, acc_test) = best
    return ReadoutResult(acc_test, acc_val, acc_train, 0, {}, float(alpha))
