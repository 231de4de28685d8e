"""What a simulation returns: spikes, traces, rates, counters and metadata.

A :class:`Result` is plain data (numpy arrays, dicts of numbers and strings)
so that :mod:`neurosim.io` can write it to HDF5 and read it back unchanged.
Times are in seconds; neuron indices are local to their population.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Work a backend counts per projection, in terms of how it did it (the
#: ``hardware`` section of :attr:`Result.counters`); :mod:`neurosim.energy`
#: documents which hardware profile prices which:
#: ``crossbar_reads``: tile read operations; ``activated_rows``: rows driven
#: over all reads; ``adc_conversions``/``dac_conversions``: converter
#: operations; ``digital_accumulations``: additions into a neuron's synaptic
#: input (on a crossbar: of the digitised column outputs); ``bytes_moved``:
#: bytes of synapse data read from memory; ``multiply_accumulates``: dense
#: multiply-adds (a dense matrix product applied whether or not inputs spiked).
HARDWARE_COUNTERS = ("crossbar_reads", "activated_rows", "adc_conversions", "dac_conversions",
                     "digital_accumulations", "bytes_moved", "multiply_accumulates")

#: The keys of :attr:`Result.metadata` that are seconds of a phase of the run
#: (result files keep them as the ``timing.`` section, the rest as ``meta.``).
TIMING_KEYS = ("build_s", "sim_s", "wall_s")


@dataclass
class SpikeRecord:
    """Spikes of one population: ``times[k]`` (s) and ``indices[k]`` (local)."""

    times: np.ndarray
    indices: np.ndarray

    @property
    def count(self) -> int:
        return int(self.times.size)


@dataclass
class TraceRecord:
    """Sampled state of chosen neurons of one population.

    ``data[t, n, k]`` is variable ``variables[k]`` of neuron ``neurons[n]`` at
    ``times[t]``, in SI units (V, A or S).
    """

    population: str
    neurons: np.ndarray
    variables: list[str]
    times: np.ndarray
    data: np.ndarray


@dataclass
class Result:
    """Everything one run produced.

    Attributes
    ----------
    config_text:
        The fully resolved YAML configuration (overrides applied).
    seed, dt, duration:
        The run's seed, time step (s) and simulated time (s).
    populations:
        ``name -> {"size": int, "model": str}`` in network order.
    spikes:
        ``name -> SpikeRecord`` for every recorded population.
    traces:
        ``name -> TraceRecord`` (the key is the trace's name in the config).
    rates:
        ``name -> array`` of population rates (Hz) per bin of ``rate_bin`` s,
        for every population (recorded or not).
    counters:
        ``{"populations": {name: {...}}, "projections": {name: {...}},
        "hardware": {projection: {...}}}``; population counters:
        ``neuron_updates``, ``spikes``; projection counters: ``synapses``,
        ``synaptic_events``; hardware counters: the backend's work per
        projection (see :data:`HARDWARE_COUNTERS`).
    metadata:
        Backend, precision, threads, versions, machine and timing
        (:data:`TIMING_KEYS`: ``build_s``, ``sim_s``, ``wall_s``) as flat
        str/number values.
    energy:
        ``profile -> {key: number or str}``: hardware energy estimates
        (:meth:`neurosim.energy.EnergyReport.to_dict`), if any were made.
    weights:
        ``projection -> {"pre", "post", "weight"}`` for every plastic
        projection: its synapses (local indices) and their weights at the
        end, in the config's weight unit (SI).
    astrocytes:
        ``name -> array``: each astrocyte's ``A`` after every step.
    """

    config_text: str
    seed: int
    dt: float
    duration: float
    populations: dict[str, dict]
    spikes: dict[str, SpikeRecord] = field(default_factory=dict)
    traces: dict[str, TraceRecord] = field(default_factory=dict)
    rates: dict[str, np.ndarray] = field(default_factory=dict)
    rate_bin: float = 1e-3
    counters: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    metadata: dict[str, object] = field(default_factory=dict)
    energy: dict[str, dict[str, object]] = field(default_factory=dict)
    weights: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    astrocytes: dict[str, np.ndarray] = field(default_factory=dict)

    def mean_rate(self, population: str) -> float:
        """Mean firing rate (Hz) of one population over the whole run."""
        size = self.populations[population]["size"]
        spikes = self.counters["populations"][population]["spikes"]
        return spikes / (size * self.duration)
