"""The summary numbers of a result file: one row of a sweep's table.

The same for every task: the numeric attributes of every group of the file,
named by the group's path and the attribute (``accuracy.softmax_test`` of an
LSM run, ``counters.populations.exc.spikes`` of a network run,
``energy.loihi.energy_per_sample_j`` where a run was priced), and the
timings (``timing.<key>``, the file's ``timing`` section).  A network run
adds the mean rate of each population (``rate.<name>``, Hz), what its
figures show and what a sweep is most often about.
"""

from __future__ import annotations

import h5py

from neurosim.io.hdf5 import ResultFile, scalar_attrs
from neurosim.tasks import DEFAULT_TASK

Numbers = dict[str, int | float]


def _numbers_of(attrs: dict[str, object], prefix: str) -> Numbers:
    # bool is an int to Python, but a flag, not a number to plot.
    return {f"{prefix}{key}": value for key, value in attrs.items()
            if isinstance(value, int | float) and not isinstance(value, bool)}


def _mean_rates(rf: ResultFile) -> Numbers:
    f = rf.file
    duration = float(f.attrs["duration"])
    return {f"rate.{name}": int(f["counters/populations"][name].attrs["spikes"])
            / int(group.attrs["size"]) / duration for name, group in f["populations"].items()}


def summary_numbers(rf: ResultFile) -> Numbers:
    """The numbers of an open result file of any task (:func:`neurosim.io.open_result`)."""
    numbers = _mean_rates(rf) if rf.header.task == DEFAULT_TASK else {}

    def visit(name: str, obj: h5py.HLObject) -> None:
        if isinstance(obj, h5py.Group):
            numbers.update(_numbers_of(scalar_attrs(obj), f"{name.replace('/', '.')}."))

    rf.file.visititems(visit)
    numbers.update(_numbers_of(rf.section("timing"), "timing."))
    return numbers
