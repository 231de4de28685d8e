"""Drive a backend over a run: inputs, chunks, recording, counters, result.

Python only acts at chunk boundaries: it generates the next chunk's external
events, applies step-current changes (a chunk never straddles one), hands the
chunk to the backend and collects what it recorded.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

import numpy as np

from neurosim import seeds
from neurosim.backends import get_backend
from neurosim.config import dump_config
from neurosim.driver.inputs import PoissonSource, SpikeGeneratorSource, StepCurrent, merge_events
from neurosim.driver.metadata import run_metadata
from neurosim.driver.recording import DiskRecordings, MemoryRecordings, TraceSpec
from neurosim.errors import ConfigError
from neurosim.io.hdf5 import result_path
from neurosim.io.spool import spool_folder
from neurosim.network.memory import chunk_steps
from neurosim.network.parameters import propagator_table
from neurosim.units import MAX_STEPS, to_steps
from neurosim.progress import SimulationProgress
from neurosim.result import Result

if TYPE_CHECKING:
    from neurosim.driver.checkpoints import RunCheckpoints



class Simulation:
    """A network compiled onto a backend, ready to run.

    Parameters
    ----------
    network:
        A built :class:`~neurosim.network.Network`.
    cfg:
        The :class:`~neurosim.config.RunConfig` it was built from (inputs,
        currents and what to record).
    backend, threads:
        Override the config's backend name and thread count.
    spool:
        With ``record.store: disk``, the folder its recordings are spooled
        to (:mod:`neurosim.io.spool`); by default the one beside the
        config's result path.

    Successive :meth:`run` calls continue the same simulation; each returns
    the result of everything simulated so far.
    """

    def __init__(self, network, cfg, backend: str | None = None, threads: int | None = None,
                 spool=None):
        self.network = network
        self.cfg = cfg
        self.threads = cfg.threads if threads is None else threads
        if self.threads < 1:
            raise ConfigError(f"threads: must be at least 1 (got {self.threads})")
        self.backend_name = backend or cfg.backend
        self.backend = self._make_backend()
        self.step = 0
        self._sim_s = 0.0
        dt = network.dt
        self.sources = []
        for index, pop in enumerate(network.populations):
            if pop.model.name == "poisson":
                self.sources.append(PoissonSource(pop.start, pop.size, pop.params["rate"], dt,
                                                  seeds.stream_int(cfg.seed, seeds.POISSON, index)))
            elif pop.model.name == "spike_generator":
                self.sources.append(SpikeGeneratorSource(
                    pop.start, pop.params["times"], pop.params.get("indices"), dt))
        index = {p.name: i for i, p in enumerate(network.populations)}
        self.currents = [StepCurrent(index[c.target], c.times, c.amplitudes, dt)
                         for c in cfg.currents.values()]
        self._tables: dict[tuple, np.ndarray] = {}
        self._setup_recording()
        self.recordings = self._make_recordings(spool)
        self.bin_steps = max(1, int(to_steps(cfg.record.rate_bin, dt)))
        self._binned = np.zeros((0, len(network.populations)), dtype=np.int64)

    # -- set-up -------------------------------------------------------------
    def _make_backend(self):
        return get_backend(self.backend_name).from_config(self.network, self.cfg, self.threads)

    def _setup_recording(self) -> None:
        net, rec = self.network, self.cfg.record
        if rec.spikes == "all":
            self.recorded = [p.name for p in net.populations]
        elif rec.spikes == "none":
            self.recorded = []
        else:
            self.recorded = list(rec.spikes)
        self.trace_specs = []
        idx, every = [], []
        for name, tr in rec.traces.items():
            pop = net.population(tr.population)
            interval = tr.interval if tr.interval is not None else net.dt
            every.append(max(1, int(to_steps(interval, net.dt))))
            # Kernel columns: v, then the state rows (names checked by the config).
            cols = [list(pop.model.state).index(var) for var in tr.variables]
            neurons = np.asarray(tr.neurons, dtype=np.int64)
            factors = np.stack([np.broadcast_to(pop.model.state_factor(pop.params, var),
                                                (pop.size,))[neurons]
                                for var in tr.variables], axis=-1)
            self.trace_specs.append(TraceSpec(name, pop.name, neurons, list(tr.variables),
                                              cols, len(idx), every[-1], factors))
            idx.extend(pop.start + neurons)
        # One sampling grid for all traces (their gcd); each keeps its own stride.
        self.trace_every = math.gcd(*every) if every else 1
        self.trace_idx = np.asarray(idx, dtype=np.int64)

    def _make_recordings(self, spool):
        grid, dt = self.trace_every, self.network.dt
        if self.cfg.record.store == "memory":
            return MemoryRecordings(self.recorded, self.trace_specs, grid, dt)
        plasticity = self.network.plasticity
        astrocytes = [] if plasticity is None else list(plasticity.astrocyte_names)
        folder = spool_folder(result_path(self.cfg)) if spool is None else spool
        return DiskRecordings(self.recorded, self.trace_specs, grid, dt, astrocytes, folder)

    def _param_table(self) -> np.ndarray:
        """The propagator table with the step currents of the current step
        (computed once per distinct set of currents)."""
        net = self.network
        extra = np.zeros(len(net.populations))
        for cur in self.currents:
            extra[cur.population] += cur.amplitude_at(self.step)
        key = tuple(extra)
        if key not in self._tables:
            self._tables[key] = propagator_table(net.populations, net.groups, net.dt, extra)
        return self._tables[key]

    def _chunk_end(self, stop: int) -> int:
        """End of the next chunk: a chunk never straddles a current change."""
        chunk = chunk_steps(self.network.n_neurons, self.trace_idx.size / self.trace_every)
        end = min(stop, self.step + chunk)
        for cur in self.currents:
            change = cur.next_change(self.step)
            if change is not None:
                end = min(end, change)
        return end

    # -- running ------------------------------------------------------------
    def run(self, duration: float | None = None, progress: bool = False) -> Result:
        """Simulate ``duration`` seconds (default: the config's) and return the result."""
        duration = self.cfg.duration if duration is None else duration
        return self._advance_to(self.step + self._steps(duration), progress)

    def finish(self, progress: bool = False, checkpoints: RunCheckpoints | None = None) -> Result:
        """Simulate up to the config's duration (after :meth:`restore`, the rest of it)
        and return the result; ``checkpoints`` writes this run's state when due."""
        stop = self._steps(self.cfg.duration)
        if checkpoints is not None:
            checkpoints.start(self.network.dt, self.step)
        return self._advance_to(stop, progress, checkpoints)

    def _steps(self, duration: float) -> int:
        steps = int(to_steps(duration, self.network.dt))
        if steps < 1:
            raise ConfigError(f"duration: {duration:g} s is shorter than one step "
                              f"(dt {self.network.dt:g} s)")
        return steps

    def _advance_to(self, stop: int, progress: bool,
                    checkpoints: RunCheckpoints | None = None) -> Result:
        if stop >= MAX_STEPS:
            raise ConfigError(f"duration: a run is limited to {MAX_STEPS:,} steps "
                              f"({MAX_STEPS * self.network.dt:,.0f} s at this dt)")
        start = self.step
        record = bool(self.recorded)
        self.recordings.open(stop)
        t0 = time.perf_counter()
        with SimulationProgress(max(stop - start, 0) * self.network.dt, enabled=progress) as bar:
            while self.step < stop:
                end = self._chunk_end(stop)
                boundary = checkpoints.next_boundary(self.step) if checkpoints else None
                if boundary is not None:  # simulated-time checkpoints fall on their step
                    end = min(end, boundary)
                n = end - self.step
                self.backend.set_population_params(self._param_table())
                ext_ptr, ext_idx = merge_events(self.sources, self.step, n)
                out = self.backend.advance(self.step, n, ext_ptr, ext_idx, record,
                                           self.trace_idx, self.trace_every)
                self._collect(self.step, out, ext_ptr, ext_idx)
                self.step = end
                if checkpoints is not None and self.step < stop:
                    self._sim_s += time.perf_counter() - t0  # up to date in the state
                    checkpoints.reached(self.step, self.state)
                    t0 = time.perf_counter()  # writing is not simulating
                bar.update((self.step - start) * self.network.dt,
                           int(self.backend.spike_counts().sum()))
        self._sim_s += time.perf_counter() - t0
        return self._result()

    def _collect(self, step0: int, out, ext_ptr, ext_idx) -> None:
        net = self.network
        n_steps = out.pop_counts.shape[0]
        counts = out.pop_counts.astype(np.int64)
        # Source populations' spikes come from the event lists, not the kernel.
        if ext_idx.size:
            steps = np.repeat(np.arange(n_steps), np.diff(ext_ptr))
            bounds = np.array([p.start for p in net.populations] + [net.n_neurons])
            pops = np.searchsorted(bounds, ext_idx, side="right") - 1
            np.add.at(counts, (steps, pops), 1)
        # Bin into rate bins by global step, so chunking does not matter.
        bins = (step0 + np.arange(n_steps)) // self.bin_steps
        need = int(bins[-1]) + 1
        if need > self._binned.shape[0]:
            grown = np.zeros((need, self._binned.shape[1]), dtype=np.int64)
            grown[: self._binned.shape[0]] = self._binned
            self._binned = grown
        for p in range(counts.shape[1]):
            self._binned[:, p] += np.bincount(bins, weights=counts[:, p],
                                              minlength=need).astype(np.int64)
        spikes = {}
        if self.recorded and out.spike_neurons.size:
            for name in self.recorded:
                pop = net.population(name)
                mask = (out.spike_neurons >= pop.start) & (out.spike_neurons < pop.stop)
                spikes[name] = (out.spike_steps[mask], out.spike_neurons[mask] - pop.start)
        astrocytes = out.astrocytes
        self.recordings.add(spikes, out.traces if self.trace_idx.size else None,
                            astrocytes if astrocytes is not None and astrocytes.size else None)

    # -- checkpoints --------------------------------------------------------
    def state(self) -> dict[str, np.ndarray]:
        """Everything needed to continue this run exactly, as named numpy arrays.

        The step reached, the backend's :meth:`~neurosim.backends.base.Backend.state`
        (``backend.<key>``), the Poisson trains' positions (``poisson.<k>.<key>``)
        and what was recorded so far (``recorded.<...>``).  A new
        :class:`Simulation` of the same config and backend continues from it
        after :meth:`restore`, with the same spikes as a run never stopped.
        """
        out = {"step": np.array(self.step), "backend": np.array(self.backend_name),
               "sim_s": np.array(self._sim_s)}
        out.update((f"backend.{k}", np.asarray(v)) for k, v in self.backend.state().items())
        for k, source in enumerate(self.sources):
            if isinstance(source, PoissonSource):
                out.update((f"poisson.{k}.{key}", v) for key, v in source.state().items())
        out.update(self.recordings.state())
        out["recorded.binned"] = self._binned.copy()
        return out

    def restore(self, state: dict[str, np.ndarray]) -> None:
        """Continue from a :meth:`state` of a simulation of the same config and backend."""
        backend = str(state.get("backend", ""))
        if backend != self.backend_name:
            raise ConfigError(f"state: taken on backend '{backend or '?'}', this simulation "
                              f"runs on '{self.backend_name}'")
        self.backend.restore({k[len("backend."):]: v for k, v in state.items()
                              if k.startswith("backend.")})
        self.step = int(state["step"])
        self._sim_s = float(state["sim_s"])
        for k, source in enumerate(self.sources):
            if isinstance(source, PoissonSource):
                source.restore({key: state[f"poisson.{k}.{key}"] for key in ("drawn", "next_time")})
        self.recordings.restore(state)
        self._binned = np.array(state["recorded.binned"])

    # -- result -------------------------------------------------------------
    def _result(self) -> Result:
        net, dt = self.network, self.network.dt
        n_steps = self.step
        spikes = self.recordings.spike_records()
        bin_s = self.bin_steps * dt
        # The last bin may be partial: divide by the time it actually spans.
        widths = np.full(self._binned.shape[0], bin_s)
        if widths.size:
            widths[-1] = (n_steps - (widths.size - 1) * self.bin_steps) * dt
        rates = {p.name: self._binned[:, i] / (p.size * widths)
                 for i, p in enumerate(net.populations)}
        traces = self.recordings.trace_records()
        spike_count = self.backend.spike_counts()
        pop_counters = {
            p.name: {
                "neurons": p.size,
                "neuron_updates": 0 if p.model.is_source else p.size * n_steps,
                "spikes": int(spike_count[p.start:p.stop].sum()),
            }
            for p in net.populations
        }
        proj_counters = {}
        for proj in net.projections:
            pre = net.population(proj.source)
            emitted = spike_count[pre.start:pre.stop]
            proj_counters[proj.name] = {
                "synapses": proj.n_synapses,
                "synaptic_events": int(np.dot(emitted, proj.outdegree.astype(np.int64))),
            }
        metadata = run_metadata(self, self._sim_s, n_steps)
        return Result(
            config_text=dump_config(self.cfg), seed=self.cfg.seed, dt=dt, duration=n_steps * dt,
            populations={p.name: {"size": p.size, "model": p.model.name} for p in net.populations},
            spikes=spikes, traces=traces, rates=rates, rate_bin=bin_s,
            counters={"populations": pop_counters, "projections": proj_counters,
                      "hardware": self.backend.hardware_counters(
                          {name: c["synaptic_events"] for name, c in proj_counters.items()})},
            metadata=metadata, **self._plastic_records(),
        )

    def _plastic_records(self) -> dict:
        """The ``weights`` and ``astrocytes`` of the result (empty without plasticity)."""
        net, plasticity = self.network, self.network.plasticity
        if plasticity is None:
            return {}
        weights = self.backend.weights()
        out = {}
        for r, name in enumerate(plasticity.projections):
            info = net.projection(name)
            mine = plasticity.rule == r
            out[name] = {
                "pre": (plasticity.pre[mine] - net.population(info.source).start).astype(np.int32),
                "post": (plasticity.post[mine] - net.population(info.target).start).astype(np.int32),
                "weight": weights[plasticity.position[mine]].astype(np.float64) / plasticity.factor[r],
            }
        return {"weights": out,
                "astrocytes": self.recordings.astrocyte_values(list(plasticity.astrocyte_names))}
