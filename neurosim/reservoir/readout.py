"""Readouts of liquid-state features: a softmax layer and ridge regression.

Features are the liquid spike counts of a sample divided by their sum (L1),
then, as in the reference, by the largest training feature so the inputs of
the layer span [0, 1]. The softmax layer is trained by minibatch Adam on
cross-entropy; the reported test accuracy is the one at the epoch of best
validation accuracy (and, given several learning rates, the rate is chosen
the same way). Ridge regression fits one-hot targets in closed form,
with its penalty chosen on the validation set.

All learning rates are trained together, as one stacked model: the weights
of rate ``r`` are ``W[:, r, :]`` of a ``(features + 1, rates, classes)``
tensor (the last feature row is the bias, fed by a column of ones), so one
matrix product serves every rate at each minibatch, and one Adam update
(Kingma & Ba 2015) runs over the whole stack with the rate's step size
broadcast along axis 1. Adam's moments are per element and every rate sees
the same minibatches (one seeded permutation per epoch), so each rate's
trajectory is the one it would have alone, up to float rounding. The
cross-entropy gradient is written out, ``(softmax(z) - onehot(y)) / batch``,
rather than taken by autograd: the layer is linear, and the autograd graph
and the optimiser's per-parameter bookkeeping cost more than the products.

The products are small (a minibatch of a few hundred samples against
rates x classes outputs), so extra intra-op threads gain little on idle
cores, and beside another busy process every product waits at OpenMP's
barrier for whichever of its threads was descheduled. The readout therefore
runs on an explicit thread count (``threads``, one unless the caller asks for
more) and restores torch's setting afterwards.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from neurosim.threads import torch_threads
from neurosim.network.memory import check_fits


def check_history_fits(epochs: int, n_rates: int, limit: int | None = None) -> None:
    """Refuse, before any work, a softmax fit whose per-epoch accuracies
    (:func:`fit_softmax_stack`'s counts and the curves made of them: 16 B per
    epoch, split and rate) cannot fit in memory."""
    check_fits(16 * 3 * epochs * n_rates, f"the softmax readout's accuracies after each of "
               f"its {epochs:,} epochs ({n_rates} learning rate(s))", limit,
               remedy="train the readout for fewer epochs")


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


Split = tuple[np.ndarray, np.ndarray]
"""Features ``(n, features)`` and integer labels ``(n,)`` of one data split."""

#: Adam's moment decay rates and denominator guard: the defaults of
#: ``torch.optim.Adam``, which trained this readout before its rates were stacked.
ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
#: Intra-op threads of the readout when the caller names none (module docstring).
DEFAULT_THREADS = 1
#: Keys of :attr:`ReadoutResult.curves`, in the order of the splits counted.
CURVE_KEYS = ("train", "validation", "test")


class StackedAdam:
    """Adam over one ``(rows, rates, columns)`` tensor, slice ``[:, r, :]`` stepping
    with ``learning_rates[r]``.

    With gradient ``g`` at step ``t`` (from 1), per element::

        m <- b1 m + (1 - b1) g          v <- b2 v + (1 - b2) g^2
        p <- p - lr_r / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)

    the bias corrections written as ``torch.optim.Adam`` applies them, so a
    slice follows the trajectory that optimiser gives it alone.
    """

    def __init__(self, params, learning_rates: Sequence[float]):
        import torch

        self.params = params
        self.learning_rates = np.asarray(learning_rates, np.float64)
        self.m = torch.zeros_like(params)
        self.v = torch.zeros_like(params)
        self.t = 0
        self._ratio = torch.empty_like(params)
        self._step = np.empty((1, len(self.learning_rates), 1), np.float32)
        self._step_tensor = torch.from_numpy(self._step)  # shares the array's memory

    def step(self, grad) -> None:
        """One update of :attr:`params` in place from its gradient ``grad``."""
        import torch

        b1, b2 = ADAM_BETAS
        self.t += 1
        self.m.lerp_(grad, 1 - b1)
        self.v.mul_(b2).addcmul_(grad, grad, value=1 - b2)
        torch.sqrt(self.v, out=self._ratio)
        self._ratio.div_(math.sqrt(1 - b2 ** self.t)).add_(ADAM_EPS)
        torch.div(self.m, self._ratio, out=self._ratio)
        # The step sizes in float64, rounded once, as a scalar learning rate would be.
        self._step.flat = -self.learning_rates / (1 - b1 ** self.t)
        self.params.addcmul_(self._ratio, self._step_tensor)


def _design(x: np.ndarray, scale: float):
    """``x / scale`` as float32 with a column of ones appended (the bias input)."""
    import torch

    x = np.asarray(x)
    out = np.empty((len(x), x.shape[1] + 1), np.float32)
    # Divided in x's own precision (a Python float does not promote float32), then stored.
    np.divide(x, scale, out=out[:, :-1], casting="unsafe")
    out[:, -1] = 1.0
    return torch.from_numpy(out)


def fit_softmax_stack(train: Split, val: Split, test: Split, *,
                      learning_rates: Sequence[float], epochs: int, batch_size: int,
                      seed: int, n_classes: int = 10):
    """Train one softmax layer per learning rate, stacked (module docstring).

    Every epoch draws one permutation of the training samples from a
    generator seeded with ``seed``; all rates step through the same minibatches.

    Returns
    -------
    weights : torch.Tensor
        ``(features + 1, rates, n_classes)`` float32; row ``features`` holds the
        biases. Logits of rate ``r``: ``x / scale @ weights[:-1, r] + weights[-1, r]``,
        ``scale`` the largest training feature.
    correct : numpy.ndarray
        ``(epochs, 3, rates)`` int64: samples of the train, validation and test
        splits classified right after each epoch.
    """
    import torch

    gen = torch.Generator().manual_seed(int(seed))
    scale = float(np.max(train[0])) or 1.0
    xs = [_design(x, scale) for x, _ in (train, val, test)]
    ys = [torch.from_numpy(np.asarray(y, dtype=np.int64)) for _, y in (train, val, test)]
    x, n_rates = xs[0], len(learning_rates)
    n, rows = x.shape
    weights = torch.zeros(rows, n_rates, n_classes)
    flat = weights.view(rows, n_rates * n_classes)  # one product serves every rate
    grad = torch.empty_like(weights)
    adam = StackedAdam(weights, learning_rates)
    targets = torch.nn.functional.one_hot(ys[0], n_classes).to(weights.dtype).unsqueeze(1)
    correct = np.zeros((epochs, len(xs), n_rates), np.int64)
    for epoch in range(epochs):
        order = torch.randperm(n, generator=gen)
        for start in range(0, n, batch_size):
            batch = order[start : start + batch_size]
            xb = x.index_select(0, batch)
            # d(mean cross-entropy)/d(logits) = (softmax(logits) - onehot) / batch
            delta = torch.softmax(torch.mm(xb, flat).view(-1, n_rates, n_classes), dim=2)
            delta.sub_(targets.index_select(0, batch)).div_(len(batch))
            torch.mm(xb.T, delta.view(len(batch), -1), out=grad.view(rows, -1))
            adam.step(grad)
        for k, (xe, ye) in enumerate(zip(xs, ys)):
            predicted = torch.mm(xe, flat).view(-1, n_rates, n_classes).argmax(2)
            correct[epoch, k] = (predicted == ye[:, None]).sum(0).numpy()
    return weights, correct


def results_at_best_validation(correct: np.ndarray, sizes: Sequence[int],
                               learning_rates: Sequence[float]) -> list[ReadoutResult]:
    """Each rate's accuracies at its first epoch of best validation accuracy.

    ``correct`` is :func:`fit_softmax_stack`'s ``(epochs, 3, rates)`` count of
    right answers on the train, validation and test splits, of ``sizes`` samples.
    """
    accuracy = correct / np.asarray(sizes, np.float64)[None, :, None]
    runs = []
    for r, rate in enumerate(learning_rates):
        e = int(np.argmax(correct[:, 1, r]))  # argmax: the first epoch of the maximum
        curves = {key: accuracy[:, k, r].copy() for k, key in enumerate(CURVE_KEYS)}
        runs.append(ReadoutResult(float(accuracy[e, 2, r]), float(accuracy[e, 1, r]),
                                  float(accuracy[e, 0, r]), e, curves, float(rate)))
    return runs


def softmax_per_rate(train: Split, val: Split, test: Split, *, learning_rates: list[float],
                     epochs: int, batch_size: int, seed: int, n_classes: int = 10,
                     threads: int | None = None) -> list[ReadoutResult]:
    """One softmax layer per learning rate, all trained together with the same seed
    (:func:`fit_softmax_stack`); one :class:`ReadoutResult` per rate, in order.

    ``threads`` torch intra-op threads run it (default :data:`DEFAULT_THREADS`);
    more pay only on cores nothing else is using (module docstring).
    """
    rates = [float(rate) for rate in learning_rates]
    with torch_threads(DEFAULT_THREADS if threads is None else threads):
        _, correct = fit_softmax_stack(train, val, test, learning_rates=rates, epochs=epochs,
                                       batch_size=batch_size, seed=seed, n_classes=n_classes)
    return results_at_best_validation(correct, [len(y) for _, y in (train, val, test)], rates)


def train_softmax(train: Split, val: Split, test: Split, *, epochs: int, batch_size: int,
                  learning_rate: float, seed: int, n_classes: int = 10,
                  threads: int | None = None) -> ReadoutResult:
    """Linear softmax layer on L1 features; test accuracy at the best validation epoch
    (:func:`softmax_per_rate` with one rate)."""
    return softmax_per_rate(train, val, test, learning_rates=[learning_rate], epochs=epochs,
                            batch_size=batch_size, seed=seed, n_classes=n_classes,
                            threads=threads)[0]


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
        try:
            coef = np.linalg.solve(gram + alpha * len(a) * eye, rhs)
        except np.linalg.LinAlgError:  # alpha 0 and fewer samples than features:
            coef = np.linalg.lstsq(gram, rhs, rcond=None)[0]  # the least-norm solution
        acc = [float(np.mean((x @ coef).argmax(1) == np.asarray(y)))
               for x, y in ((a, train[1]), (v, val[1]), (t, test[1]))]
        if best is None or acc[1] > best[1][1]:
            best = (alpha, acc)
    alpha, (acc_train, acc_val, acc_test) = best
    return ReadoutResult(acc_test, acc_val, acc_train, 0, {}, float(alpha))
