"""PNG figures of a :class:`~neurosim.result.Result`: spike raster, rates, traces.

Figures are built as :class:`matplotlib.figure.Figure` objects rendered by
the Agg canvas, so no pyplot state or GUI backend is touched, and written
atomically like result files. Times are shown in ms; trace values in SI
units with engineering prefixes (mV, pA, nS).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import EngFormatter

from neurosim.errors import DataError
from neurosim.io.hdf5 import atomic_path
from neurosim.result import Result

# Width of the boxcar that smooths population rates: wide enough to hide
# single-bin Poisson noise, narrow against the ~10 ms membrane time scale.
_RATE_SMOOTHING_S = 5e-3
_DPI = 120
# Trace variables are named after the quantity they hold (v, I_syn, g_e);
# the first letter picks the SI unit shown on the axis.
_UNIT_BY_INITIAL = {"v": "V", "i": "A", "g": "S"}
_MAX_LEGEND_ENTRIES = 10


def plot_result(result: Result, path: str | os.PathLike, max_neurons: int = 1000,
                title: str = "spikes") -> Path:
    """Write a spike raster (top) and smoothed population rates (bottom) as PNG.

    Parameters
    ----------
    result:
        The run to show.
    path:
        Destination PNG; parent folders are created.
    max_neurons:
        At most this many neurons (the lowest indices) of each population are
        drawn in the raster, so large networks stay readable and fast to draw.
    title:
        The raster's title.

    Returns
    -------
    Path
        ``path`` as a :class:`~pathlib.Path`.

    Raises
    ------
    OutputError
        If the file cannot be written at ``path``.
    """
    fig = Figure(figsize=(10, 7), layout="constrained")
    raster, rates = fig.subplots(
        2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    colours = _colours(result)
    _draw_raster(raster, result, colours, max_neurons)
    raster.set_title(title)
    _draw_rates(rates, result, colours)
    rates.set_xlim(0.0, result.duration * 1e3)
    rates.set_xlabel("time (ms)")
    return _write_png(fig, path)


def plot_traces(result: Result, path: str | os.PathLike) -> Path:
    """Write recorded state traces as PNG, one panel per variable.

    Parameters
    ----------
    result:
        The run to show; it must contain traces.
    path:
        Destination PNG; parent folders are created.

    Returns
    -------
    Path
        ``path`` as a :class:`~pathlib.Path`.

    Raises
    ------
    DataError
        If ``result`` has no traces.
    OutputError
        If the file cannot be written at ``path``.
    """
    if not result.traces:
        raise DataError("the result has no traces to plot")
    variables = list(dict.fromkeys(v for t in result.traces.values() for v in t.variables))
    fig = Figure(figsize=(10, 2.5 * len(variables) + 1), layout="constrained")
    axes = fig.subplots(len(variables), 1, sharex=True, squeeze=False)[:, 0]
    for ax, variable in zip(axes, variables):
        lines = 0
        for name, trace in result.traces.items():
            if variable not in trace.variables:
                continue
            k = trace.variables.index(variable)
            for n, neuron in enumerate(trace.neurons):
                ax.plot(trace.times * 1e3, trace.data[:, n, k], lw=0.8,
                        label=f"{name} #{int(neuron)}")
                lines += 1
        unit = _UNIT_BY_INITIAL.get(variable[:1].lower(), "")
        ax.yaxis.set_major_formatter(EngFormatter(unit=unit))
        ax.set_ylabel(variable)
        if 0 < lines <= _MAX_LEGEND_ENTRIES:
            ax.legend(loc="upper right", fontsize="small")
    axes[-1].set_xlim(0.0, result.duration * 1e3)
    axes[-1].set_xlabel("time (ms)")
    return _write_png(fig, path)


def _colours(result: Result) -> dict[str, str]:
    # One colour per population in network order, shared by raster and rates.
    names = list(dict.fromkeys([*result.populations, *result.spikes, *result.rates]))
    return {name: f"C{i % 10}" for i, name in enumerate(names)}


def _draw_raster(ax, result: Result, colours: dict[str, str], max_neurons: int) -> None:
    offset = 0
    ticks, labels = [], []
    for name, record in result.spikes.items():
        size = int(result.populations[name]["size"])
        shown = min(size, max_neurons)
        keep = record.indices < shown
        # One plot call per population: Agg stamps one cached marker path,
        # which stays fast for millions of spikes (scatter would not).
        ax.plot(record.times[keep] * 1e3, record.indices[keep] + offset,
                linestyle="none", marker="|", markersize=2, color=colours[name])
        ticks.append(offset + shown / 2)
        labels.append(name if shown == size else f"{name}\n({shown} of {size})")
        offset += shown
        ax.axhline(offset - 0.5, color="0.8", lw=0.5)
    ax.set_yticks(ticks, labels)
    ax.set_ylim(-0.5, max(offset, 1) - 0.5)
    ax.set_ylabel("neuron")


def _draw_rates(ax, result: Result, colours: dict[str, str]) -> None:
    window = max(1, round(_RATE_SMOOTHING_S / result.rate_bin))
    box = np.ones(window)
    drawn = False
    for name, rate in result.rates.items():
        rate = np.asarray(rate, dtype=np.float64)
        if rate.size == 0:
            continue
        # Dividing by the smoothed ones keeps the edges unbiased (no zero padding).
        smooth = np.convolve(rate, box, mode="same") / np.convolve(
            np.ones_like(rate), box, mode="same")
        t_ms = (np.arange(rate.size) + 0.5) * result.rate_bin * 1e3
        ax.plot(t_ms, smooth, lw=1, color=colours[name], label=name)
        drawn = True
    ax.set_ylabel("rate (Hz)")
    if drawn:
        ax.legend(loc="upper right", fontsize="small")


def _write_png(fig: Figure, path: str | os.PathLike) -> Path:
    final = Path(path)
    with atomic_path(final) as tmp:
        # The temporary name has no .png suffix, so the format is explicit.
        # zlib level 1 instead of Pillow's 6: the encode was about a fifth of
        # drawing a CUBA-4k figure; 30-50 ms less for a ~35 % larger file.
        fig.savefig(tmp, format="png", dpi=_DPI, pil_kwargs={"compress_level": 1})
    return final
