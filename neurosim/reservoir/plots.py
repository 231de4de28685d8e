"""Figure of an LSM run: readout accuracy per epoch and branching factors."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from neurosim.reservoir.pipeline import LSMResult


def plot_lsm(result: LSMResult, path: str | os.PathLike) -> Path:
    """Write a two-panel PNG; returns its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_acc, ax_bf) = plt.subplots(1, 2, figsize=(10, 4))
    for split, curve in result.softmax.curves.items():
        ax_acc.plot(np.arange(1, len(curve) + 1), 100 * curve, label=split)
    ax_acc.axvline(result.softmax.best_epoch + 1, color="grey", ls=":", label="best validation")
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)",
               title=f"softmax readout: test {100 * result.softmax.test_accuracy:.2f} %")
    ax_acc.legend()
    if result.branching.size:
        ax_bf.hist(result.branching, bins=20)
    ax_bf.axvline(1.0, color="k", ls="--", label="critical (1)")
    ax_bf.set(xlabel="branching factor per test sample", ylabel="samples",
              title=f"branching factor {result.branching_text()}")
    ax_bf.legend()
    fig.suptitle(result.name)
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
