"""Stacked bars of the energy breakdown, one bar per hardware profile."""

from __future__ import annotations

import math
import os
from pathlib import Path

from matplotlib import colormaps
from matplotlib.figure import Figure

from neurosim.energy.counters import CATEGORIES
from neurosim.energy.report import EnergyReport
from neurosim.io.hdf5 import atomic_path


def plot_comparison(reports: list[EnergyReport], path: str | os.PathLike,
                    title: str = "Energy per sample by hardware profile") -> Path:
    """Write a PNG: per profile, energy per sample stacked by category (log scale).

    Profiles differ by orders of magnitude, so the axis is logarithmic and
    each segment keeps its linear share of its bar's height in log space
    (the bottom of each bar is the smallest nonzero part of all bars).
    """
    fig = Figure(figsize=(3.5 + 1.1 * len(reports), 4.5), layout="constrained")
    ax = fig.subplots()
    totals = [r.energy_per_sample for r in reports]
    floor = min((v / r.samples for r in reports for v in r.breakdown.values() if v),
                default=1e-15) / 10
    colors = colormaps["tab10"].colors
    for k, category in enumerate(CATEGORIES):
        bottoms, heights = [], []
        for r, total in zip(reports, totals):
            # Split the bar's log height among categories in proportion to energy.
            below = sum(r.breakdown[c] for c in CATEGORIES[:k]) / r.samples
            part = r.breakdown[category] / r.samples
            lo, hi = _log_span(floor, total, below, part)
            bottoms.append(lo)
            heights.append(hi - lo)
        if any(heights):
            ax.bar([r.profile for r in reports], heights, bottom=bottoms, label=category,
                   color=colors[k % len(colors)])
    ax.set_yscale("log")
    ax.set_ylabel("energy per sample (J)")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.tick_params(axis="x", rotation=30)
    final = Path(path)
    with atomic_path(final) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    return final


def _log_span(floor: float, total: float, below: float, part: float) -> tuple[float, float]:
    """Where a segment of ``part`` above ``below`` sits on a log bar from ``floor`` to ``total``."""
    if total <= 0:
        return floor, floor
    span = math.log(total / floor)
    start = floor * math.exp(span * below / total)
    stop = floor * math.exp(span * (below + part) / total)
    return start, stop
