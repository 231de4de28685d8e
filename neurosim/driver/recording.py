"""What a simulation records, chunk by chunk: spikes, traces, astrocytes.

:class:`MemoryRecordings` keeps each chunk's arrays in lists and joins them
at the end; :class:`DiskRecordings` (``record.store: disk``) appends them to
a :class:`~neurosim.io.spool.RecordingSpool` as the result will hold them,
so that the run holds one chunk at a time.  Both give the same result, bit
for bit, and both checkpoint: the first its arrays, the second the spool's
lengths.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass

import numpy as np

from neurosim.errors import ResourceError
from neurosim.io.spool import RecordingSpool, Stream
from neurosim.result import SpikeRecord, TraceRecord


def spike_times(steps: np.ndarray, dt: float) -> np.ndarray:
    """Times (s) of spikes emitted in ``steps``: stamped at the end of their step."""
    return (np.asarray(steps, dtype=np.int64) + 1) * dt


@dataclass(frozen=True)
class TraceSpec:
    """One recorded trace: which kernel samples it takes, and how to scale them to SI."""

    name: str
    population: str
    neurons: np.ndarray
    variables: list[str]
    #: Kernel state columns of ``variables`` (v first, then the state rows).
    columns: list[int]
    #: First of its neurons among all traced neurons (the kernel's sample columns).
    offset: int
    #: Its sampling interval in steps (a multiple of the shared grid's).
    every: int
    #: ``(len(neurons), len(variables))``: engine units per SI unit of each value.
    factors: np.ndarray

    def rows(self, raw: np.ndarray, first_sample: int, grid: int, dt: float):
        """Sample times (s) and ``[time, neuron, variable]`` values (SI) of this trace
        among kernel samples ``raw``, the first being sample ``first_sample`` of the run
        (taken every ``grid`` steps)."""
        sample_steps = (first_sample + np.arange(raw.shape[0]) + 1) * grid  # state after these
        keep = np.nonzero(sample_steps % self.every == 0)[0]
        mine = np.arange(self.offset, self.offset + self.neurons.size)
        values = raw[np.ix_(keep, mine, self.columns)].astype(np.float64)  # one copy, then SI
        values /= self.factors
        return sample_steps[keep] * dt, values


class MemoryRecordings:
    """Chunks kept in memory (``record.store: memory``)."""

    def __init__(self, spiking: list[str], traces: list[TraceSpec], grid: int, dt: float):
        self.traces, self.grid, self.dt = traces, grid, dt
        self._spikes = {name: ([], []) for name in spiking}
        self._samples: list[np.ndarray] = []
        self._astrocytes: list[np.ndarray] = []

    def open(self, stop: int) -> None:
        """Nothing to open: the lists are there."""

    def add(self, spikes: dict, samples: np.ndarray | None, astrocytes: np.ndarray | None):
        for name, (steps, neurons) in spikes.items():
            self._spikes[name][0].append(steps)
            self._spikes[name][1].append(neurons)
        if samples is not None:
            self._samples.append(samples)
        if astrocytes is not None:
            self._astrocytes.append(astrocytes)

    def state(self) -> dict[str, np.ndarray]:
        # Joined into one block each, and kept joined: a run that checkpoints
        # often does not join the same chunks again and again.
        out = {}
        for name, (steps, neurons) in self._spikes.items():
            joined = (np.concatenate(steps or [np.empty(0, np.int64)]),
                      np.concatenate(neurons or [np.empty(0, np.int32)]))
            self._spikes[name] = ([joined[0]], [joined[1]])
            out[f"recorded.spikes.{name}.steps"], out[f"recorded.spikes.{name}.neurons"] = joined
        if self._samples:
            self._samples = [np.concatenate(self._samples)]
            out["recorded.traces"] = self._samples[0]
        if self._astrocytes:
            self._astrocytes = [np.concatenate(self._astrocytes)]
            out["recorded.astrocytes"] = self._astrocytes[0]
        return out

    def restore(self, state: dict[str, np.ndarray]) -> None:
        self._spikes = {name: ([state[f"recorded.spikes.{name}.steps"]],
                               [state[f"recorded.spikes.{name}.neurons"]])
                        for name in self._spikes}
        self._samples = [state["recorded.traces"]] if "recorded.traces" in state else []
        self._astrocytes = ([state["recorded.astrocytes"]] if "recorded.astrocytes" in state
                            else [])

    def spike_records(self) -> dict[str, SpikeRecord]:
        out = {}
        for name, (steps, neurons) in self._spikes.items():
            st = np.concatenate(steps) if steps else np.empty(0, np.int64)
            nr = np.concatenate(neurons) if neurons else np.empty(0, np.int32)
            out[name] = SpikeRecord(times=spike_times(st, self.dt), indices=nr.astype(np.int32))
        return out

    def trace_records(self) -> dict[str, TraceRecord]:
        if not self.traces:
            return {}
        raw = np.concatenate(self._samples)
        return {spec.name: TraceRecord(spec.population, spec.neurons, spec.variables,
                                       *spec.rows(raw, 0, self.grid, self.dt))
                for spec in self.traces}

    def astrocyte_values(self, names: list[str]) -> dict[str, np.ndarray]:
        values = (np.concatenate(self._astrocytes) if self._astrocytes
                  else np.zeros((0, len(names))))
        return {name: values[:, a].copy() for a, name in enumerate(names)}


class DiskRecordings:
    """Chunks appended to a :class:`RecordingSpool` (``record.store: disk``).

    Streams: ``spikes.<population>.times`` / ``.indices``, ``traces.<name>.times``
    / ``.data`` and ``astrocytes.<name>``, each as its result dataset.
    """

    def __init__(self, spiking: list[str], traces: list[TraceSpec], grid: int, dt: float,
                 astrocytes: list[str], folder):
        self.traces, self.grid, self.dt = traces, grid, dt
        self.spiking, self.astrocytes = spiking, astrocytes
        streams = {}
        for name in spiking:
            streams[f"spikes.{name}.times"] = Stream(np.dtype(np.float64))
            streams[f"spikes.{name}.indices"] = Stream(np.dtype(np.int32))
        for spec in traces:
            streams[f"traces.{spec.name}.times"] = Stream(np.dtype(np.float64))
            streams[f"traces.{spec.name}.data"] = Stream(
                np.dtype(np.float64), (spec.neurons.size, len(spec.variables)))
        for name in astrocytes:
            streams[f"astrocytes.{name}"] = Stream(np.dtype(np.float64))
        self.spool = RecordingSpool(folder, streams)
        self._samples_taken = 0
        self._opened = False

    def open(self, stop: int) -> None:
        """Start an empty spool, unless :meth:`restore` resumed one, and check that the
        disk holds the traces up to step ``stop`` twice (spool and result file).

        Raises
        ------
        ResourceError
            If it does not (spikes, of unknown number, are not counted).
        """
        samples = stop // self.grid - self._samples_taken
        need = 2 * sum((samples * self.grid // spec.every + 1)
                       * (8 + 8 * spec.neurons.size * len(spec.variables))
                       for spec in self.traces)
        where = self.spool.folder
        while not where.exists() and where != where.parent:  # its folder may be made later
            where = where.parent
        free = shutil.disk_usage(where).free
        if need > free:
            raise ResourceError(
                f"record.store: disk: the traces need an estimated {need / 2**30:.2f} GiB on "
                f"disk (spooled, then in the result) but only {free / 2**30:.2f} GiB is free "
                f"in {where}; trace fewer neurons, at a longer interval or for less time")
        if not self._opened:
            self.spool.start()
            self._opened = True

    def add(self, spikes: dict, samples: np.ndarray | None, astrocytes: np.ndarray | None):
        spool = self.spool
        for name, (steps, neurons) in spikes.items():
            spool.append(f"spikes.{name}.times", spike_times(steps, self.dt))
            spool.append(f"spikes.{name}.indices", neurons)
        if samples is not None:
            for spec in self.traces:
                times, data = spec.rows(samples, self._samples_taken, self.grid, self.dt)
                spool.append(f"traces.{spec.name}.times", times)
                spool.append(f"traces.{spec.name}.data", data)
            self._samples_taken += samples.shape[0]
        if astrocytes is not None:
            for a, name in enumerate(self.astrocytes):
                spool.append(f"astrocytes.{name}", astrocytes[:, a])

    def state(self) -> dict[str, np.ndarray]:
        # The spool's files up to here are durable; the checkpoint keeps their lengths.
        out = {f"recorded.spool.{key}": np.array(rows) for key, rows in self.spool.sync().items()}
        out["recorded.trace_samples"] = np.array(self._samples_taken)
        return out

    def restore(self, state: dict[str, np.ndarray]) -> None:
        prefix = "recorded.spool."
        self.spool.resume({key[len(prefix):]: int(v) for key, v in state.items()
                           if key.startswith(prefix)})
        self._samples_taken = int(state["recorded.trace_samples"])
        self._opened = True

    def spike_records(self) -> dict[str, SpikeRecord]:
        return {name: SpikeRecord(times=self.spool.array(f"spikes.{name}.times"),
                                  indices=self.spool.array(f"spikes.{name}.indices"))
                for name in self.spiking}

    def trace_records(self) -> dict[str, TraceRecord]:
        return {spec.name: TraceRecord(spec.population, spec.neurons, spec.variables,
                                       self.spool.array(f"traces.{spec.name}.times"),
                                       self.spool.array(f"traces.{spec.name}.data"))
                for spec in self.traces}

    def astrocyte_values(self, names: list[str]) -> dict[str, np.ndarray]:
        return {name: self.spool.array(f"astrocytes.{name}") for name in names}
