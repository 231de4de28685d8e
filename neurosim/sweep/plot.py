"""The figure of ``neurosim sweep --plot KEY``: a summary number against the swept value.

The x axis is the first grid key (the seed when the sweep has no grid), in
grid order: numeric when every value is a number, else one tick per value.
Each combination of the other grid keys is one line: the mean over seeds,
a band from the smallest to the largest seed's value, and every seed as a
dot.  Failed runs have no value and are left out.  Drawn on matplotlib's Agg
canvas (no display needed) and written atomically.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from neurosim.errors import ConfigError, DataError
from neurosim.io.hdf5 import atomic_path
from neurosim.sweep.plan import SweepPlan
from neurosim.sweep.table import Row, number_columns


def plot_sweep(rows: list[Row], plan: SweepPlan, key: str, out: Path) -> Path:
    """Draw ``key`` of every run against the swept value; write the PNG to ``out``."""
    from matplotlib.figure import Figure

    numbers = number_columns(rows, plan)
    if key not in numbers:
        raise ConfigError(f"--plot {key}: not a summary number of this sweep (they are: "
                          f"{', '.join(numbers) or 'none, every run failed'}); the table is "
                          "written, and the same sweep with another --plot reuses every run")
    x_key, line_keys = (plan.keys[0], plan.keys[1:]) if plan.keys else ("seed", [])
    x_values = list(dict.fromkeys(row[x_key] for row in rows))
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in x_values)
    position = {v: (v if numeric else i) for i, v in enumerate(x_values)}
    lines: dict[str, dict[Any, list[float]]] = {}
    for row in rows:
        if row[key] is None:
            continue
        label = ", ".join(f"{k}={row[k]}" for k in line_keys)
        lines.setdefault(label, {}).setdefault(row[x_key], []).append(float(row[key]))
    if not lines:
        raise DataError(f"--plot {key}: no run of the sweep has a value (all failed)")

    fig = Figure(figsize=(6.4, 4.4), layout="constrained")
    ax = fig.add_subplot()
    for label, by_x in lines.items():
        xs = [x for x in x_values if x in by_x]
        at = [position[x] for x in xs]
        (line,) = ax.plot(at, [sum(by_x[x]) / len(by_x[x]) for x in xs], marker="o",
                          label=label or None)
        ax.fill_between(at, [min(by_x[x]) for x in xs], [max(by_x[x]) for x in xs],
                        color=line.get_color(), alpha=0.2, linewidth=0)
        dots = [(position[x], y) for x in xs for y in by_x[x]]
        ax.scatter(*zip(*dots, strict=True), color=line.get_color(), s=12, alpha=0.7)
    if not numeric:
        ax.set_xticks(range(len(x_values)), [str(v) for v in x_values])
    seeds = len({row["seed"] for row in rows})
    ax.set(xlabel=x_key, ylabel=key,
           title=f"{key}: mean, range and each of {seeds} seed{'s' if seeds > 1 else ''}")
    if line_keys:
        ax.legend(fontsize="small")
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png", dpi=120)  # the temporary name has no .png suffix
    return out
