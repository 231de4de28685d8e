"""Drive a backend over a run: inputs, chunks, recording, counters, result.

Python only acts at chunk boundaries: it generates the next chunk's external
events, applies step-current changes (a chunk never straddles one), hands the
chunk to the backend and collects what it recorded.
"""

from __future__ import annotations

import math
import time

import numpy as np

from neurosim.backends import get_backend
from neurosim.engine.inputs import PoissonSource, SpikeGeneratorSource, StepCurrent, merge_events
from neurosim.errors import ConfigError
from neurosim.progress import SimulationProgress
from neurosim.result import Result, SpikeRecord, TraceRecord

#: Simulated time per chunk: long enough that the per-call overhead vanishes,
#: short enough that progress updates and external-event buffers stay small.
CHUNK_SECONDS = 0.05
_STATE_COLUMNS = {"v": 0, "I_syn_e": 1, "g_e": 1, "I_syn_i": 2, "g_i": 2}


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
    """

    def __init__(self, network, cfg, backend: str | None = None, threads: int | None = None):
        self.network = network
        self.cfg = cfg
        self.threads = threads or cfg.threads
        self.backend_name = backend or cfg.backend
        self.backend = get_backend(self.backend_name)(network, self.threads)
        self.step = 0
        dt = network.dt
        rng = np.random.default_rng(network.seeds["input"])
        self.sources = []
        for pop in network.populations:
            if pop.model.name == "poisson":
                self.sources.append(PoissonSource(pop.start, pop.size, pop.params["rate"], dt, rng))
            elif pop.model.name == "spike_generator":
                self.sources.append(SpikeGeneratorSource(
                    pop.start, pop.size, pop.params["times"], pop.params.get("indices"), dt,
                    f"populations.{pop.name}"))
        index = {p.name: i for i, p in enumerate(network.populations)}
        self.currents = [StepCurrent(index[c.target], c.times, c.amplitudes, dt)
                         for c in cfg.currents.values()]
        self._setup_recording()
        self._spikes = {name: ([], []) for name in self.recorded}
        self._traces: list[np.ndarray] = []
        self.bin_steps = max(1, int(round(cfg.record.rate_bin / dt)))
        self._rate_counts: list[np.ndarray] = []

    # -- set-up -------------------------------------------------------------
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
            every.append(max(1, int(round(interval / net.dt))))
            cols = []
            for var in tr.variables:
                if var not in pop.model.state:
                    raise ConfigError(f"record.traces.{name}.variables: '{var}' is not a state "
                                      f"variable of {pop.model.name} ({', '.join(pop.model.state)})")
                cols.append(_STATE_COLUMNS[var])
            neurons = np.asarray(tr.neurons, dtype=np.int64)
            self.trace_specs.append((name, pop, neurons, list(tr.variables), cols,
                                     len(idx), every[-1]))
            idx.extend(pop.start + neurons)
        # One sampling grid for all traces (their gcd); each keeps its own stride.
        self.trace_every = math.gcd(*every) if every else 1
        self.trace_idx = np.asarray(idx, dtype=np.int64)

    def _param_table(self) -> np.ndarray:
        net = self.network
        extra = np.zeros(len(net.populations))
        for cur in self.currents:
            extra[cur.population] += cur.amplitude_at(self.step)
        return np.array([p.model.param_row(p.params, net.dt, extra[i])
                         for i, p in enumerate(net.populations)])

    def _chunk_end(self, stop: int) -> int:
        chunk = max(1, int(round(CHUNK_SECONDS / self.network.dt)))
        end = min(stop, self.step + chunk)
        for cur in self.currents:
            later = cur.steps[cur.steps > self.step]
            if later.size:
                end = min(end, int(later[0]))
        return end

    # -- running ------------------------------------------------------------
    def run(self, duration: float | None = None, progress: bool = False) -> Result:
        """Simulate ``duration`` seconds (default: the config's) and return the result."""
        duration = self.cfg.duration if duration is None else duration
        n_total = int(round(duration / self.network.dt))
        stop = self.step + n_total
        record = bool(self.recorded)
        t0 = time.perf_counter()
        with SimulationProgress(duration, enabled=progress) as bar:
            while self.step < stop:
                end = self._chunk_end(stop)
                n = end - self.step
                self.backend.set_population_params(self._param_table())
                ext_ptr, ext_idx = merge_events(self.sources, self.step, n)
                out = self.backend.advance(self.step, n, ext_ptr, ext_idx, record,
                                           self.trace_idx, self.trace_every)
                self._collect(out, ext_ptr, ext_idx)
                self.step = end
                bar.update((self.step - (stop - n_total)) * self.network.dt,
                           int(self.backend.spike_counts().sum()))
        sim_s = time.perf_counter() - t0
        return self._result(n_total, sim_s)

    def _collect(self, out, ext_ptr, ext_idx) -> None:
        net = self.network
        counts = out.pop_counts.astype(np.int64)
        # Source populations' spikes come from the event lists, not the kernel.
        if ext_idx.size:
            steps = np.repeat(np.arange(ext_ptr.size - 1), np.diff(ext_ptr))
            bounds = np.array([p.start for p in net.populations] + [net.n_neurons])
            pops = np.searchsorted(bounds, ext_idx, side="right") - 1
            np.add.at(counts, (steps, pops), 1)
        self._rate_counts.append(counts)
        if self.recorded and out.spike_neurons.size:
            for name in self.recorded:
                pop = net.population(name)
                mask = (out.spike_neurons >= pop.start) & (out.spike_neurons < pop.stop)
                self._spikes[name][0].append(out.spike_steps[mask])
                self._spikes[name][1].append(out.spike_neurons[mask] - pop.start)
        if self.trace_idx.size:
            self._traces.append(out.traces)

    # -- result -------------------------------------------------------------
    def _result(self, n_steps: int, sim_s: float) -> Result:
        from neurosim.config import dump_config
        from neurosim.engine.metadata import run_metadata

        net, dt = self.network, self.network.dt
        spikes = {}
        for name, (steps, neurons) in self._spikes.items():
            st = np.concatenate(steps) if steps else np.empty(0, np.int64)
            nr = np.concatenate(neurons) if neurons else np.empty(0, np.int32)
            spikes[name] = SpikeRecord(times=(st + 1) * dt, indices=nr.astype(np.int32))
        counts = np.concatenate(self._rate_counts) if self._rate_counts else np.zeros((0, 0))
        n_bins = max(1, -(-counts.shape[0] // self.bin_steps))
        binned = np.zeros((n_bins, len(net.populations)))
        np.add.at(binned, np.arange(counts.shape[0]) // self.bin_steps, counts)
        bin_s = self.bin_steps * dt
        rates = {p.name: binned[:, i] / (p.size * bin_s) for i, p in enumerate(net.populations)}
        traces = self._trace_records(dt)
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
        metadata = run_metadata(self, sim_s, n_steps)
        return Result(
            config_text=dump_config(self.cfg), seed=self.cfg.seed, dt=dt, duration=n_steps * dt,
            populations={p.name: {"size": p.size, "model": p.model.name} for p in net.populations},
            spikes=spikes, traces=traces, rates=rates, rate_bin=bin_s,
            counters={"populations": pop_counters, "projections": proj_counters},
            metadata=metadata,
        )

    def _trace_records(self, dt: float) -> dict[str, TraceRecord]:
        if not self.trace_specs:
            return {}
        data = np.concatenate(self._traces).astype(np.float64)
        n = data.shape[0]
        sample_steps = (np.arange(n) + 1) * self.trace_every  # state after these steps
        records = {}
        for name, pop, neurons, variables, cols, offset, every in self.trace_specs:
            keep = np.nonzero(sample_steps % every == 0)[0]
            block = data[keep][:, offset:offset + neurons.size][:, :, cols].copy()
            for k, var in enumerate(variables):
                block[:, :, k] /= pop.model.state_factor(pop.params, var)
            records[name] = TraceRecord(population=pop.name, neurons=neurons,
                                        variables=variables, times=sample_steps[keep] * dt,
                                        data=block)
        return records
