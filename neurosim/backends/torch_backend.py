"""The ``torch`` backend: the engine's step on tensors, on the CPU or a CUDA GPU.

State (``v``, ``syn``, refractory ``until``) and synapses live on the chosen
device; each step runs the batched kernels of
:mod:`neurosim.backends.torch_kernels` with batch size 1.  Spikes are kept in
a ring of ``max_delay + 1`` rows (one row per step: the simulated neurons'
spike mask and the external events' counts), as in the numba engine.

Synapses take one of two paths, chosen once from the network's density:

- ``dense``: one dense matrix per (source population, target population,
  receptor, delay slot) block holding synapses; each step multiplies the due
  spike vector through every block (``n_pre x n_post`` multiply-adds per block
  and step, spikes or not).  Chosen when the synapses fill at least
  :data:`DENSE_MIN_DENSITY` (per device: all of them on the CPU, 1 % on a GPU)
  of those blocks and the blocks fit in :data:`DENSE_MAX_BYTES`.
- ``sparse``: the network's own CSR; each step gathers the rows of the neurons
  whose spikes are due and adds their weights with ``index_add_`` (cost per
  synaptic event).  Internal spikes are delivered before external ones, each in
  neuron order, which is the numba engine's order: on the CPU every target sums
  its inputs in the same order, so float results agree bit for bit.

Python drives one step at a time but never copies device data to the host
inside the step loop: spikes, counts and traces come back once per chunk.
"""

from __future__ import annotations

import numpy as np
import torch

from neurosim.backends import register
from neurosim.backends import torch_kernels as tk
from neurosim.backends.base import HARDWARE_COUNTERS, PLASTIC_STATE, Backend, ChunkOutput
from neurosim.errors import ConfigError
from neurosim.models import implementation
from neurosim.models.stdp import torch_kernels as stdp_torch
from neurosim.network.parameters import refractory_steps
from neurosim.network.plasticity import initial_state
from neurosim.threads import torch_threads


#: Per device, the smallest fraction of the occupied (pre, post, receptor,
#: delay) blocks that must hold a synapse for the dense path.  On the CPU a
#: dense product reads every weight each step, while events cost ~10 ns each
#: and are few (rate x dt x fan-out per neuron): measured here with CUBA at
#: 1,000 neurons, the event path was 1.5-3x faster at every density from 2 %
#: to all-to-all (0.1 ms steps, 4-20 Hz), so only fully occupied blocks go
#: dense.  On a GPU the event path's variable-size steps (nonzero,
#: repeat_interleave) synchronise with the host each step, while a product
#: through a few MB of weights takes microseconds: on an H200, CUBA-4k (its
#: synapses fill 2 % of the dense blocks' entries) ran 1 s in 3.2 s dense
#: against 5.2 s on events (benchmarks/README.md); the 1 % threshold itself
#: is not measured.
DENSE_MIN_DENSITY = {"cpu": 1.0, "cuda": 0.01}
#: Largest memory the dense blocks may take (bytes).
DENSE_MAX_BYTES = 256 * 2**20
#: Bytes of the int64 index the sparse path builds per event to gather a synapse.
_GATHER_INDEX_BYTES = 8

_TORCH_DTYPES = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}


def torch_device(name: str) -> torch.device:
    """The torch device for a config's ``device`` (one clear error if CUDA is missing)."""
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device: 'cuda' requested but PyTorch {torch.__version__} sees no "
                          "CUDA GPU here; use device: cpu")
    return torch.device(name)


@register("torch")
class TorchBackend(Backend):
    """The engine's step on tensors (CPU or CUDA), dense or event-driven synapses."""

    devices = ("cpu", "cuda")
    plastic = True

    @classmethod
    def check_device(cls, device: str) -> None:
        super().check_device(device)
        torch_device(device)  # CUDA asked for but absent: one clear error

    def __init__(self, network, threads: int = 1, device: str = "cpu") -> None:
        super().__init__(network, threads, device)
        net = network
        n = net.n_neurons
        dev = torch_device(device)
        self.dtype = _TORCH_DTYPES[np.dtype(net.dtype)]
        self.v = torch.as_tensor(net.v, device=dev).clone().reshape(1, n)
        self.syn = torch.as_tensor(net.syn, device=dev).clone().reshape(1, -1, n)
        self.until = torch.as_tensor(net.refractory, device=dev).clone().reshape(1, n)
        self._next_step = 0  # the step the next advance starts with
        self.n_hist = net.max_delay + 1
        # Spike ring: per step, the simulated neurons' spikes and the external
        # events' counts.  Rows of steps not yet run are zero, so every step
        # can read all its delay slots' rows (early ones deliver nothing).
        self.ring = torch.zeros((self.n_hist, 2, n), dtype=self.dtype, device=dev)
        # Ring rows due in a step (by step % n_hist), one per delay slot.
        slots = np.arange(net.n_slots)
        due = (np.arange(self.n_hist)[:, None] - net.dmin - slots[None, :]) % self.n_hist
        self.due_rows = torch.as_tensor(due, device=dev)
        # Delay slot of each (slot, internal/external) group of due spikes.
        self.group_slots = torch.as_tensor(np.repeat(slots, 2), device=dev)
        self.has_sources = any(p.model.is_source for p in net.populations)
        self.pop_bounds = np.array([p.start for p in net.populations] + [n], dtype=np.int64)
        # Each run of one model's neurons: its kernel (one clear error for a
        # model without torch kernels) and its state views, made once (views
        # cost per step too).
        self.runs = [(implementation(model.name, "torch", self.name), model, a, b,
                      (self.v[:, a:b], tuple(self.syn[:, r, a:b] for r in range(model.state_rows)),
                       self.until[:, a:b]))
                     for model, a, b in _model_runs(net.populations)]
        self._group_of = net.groups.of_neurons()
        resume = refractory_steps(net.populations, net.groups, net.dt)[self._group_of] + 1
        self.resume = torch.as_tensor(resume.astype(np.int32), device=dev)
        self._par: list[tuple] = []
        self._spike_count = np.zeros(n, dtype=np.int64)
        # Events delivered: counted on the device by the dense path, on the
        # host by the sparse one (its sizes are known there).
        self._dense_events = torch.zeros((), dtype=torch.int64, device=dev)
        self._sparse_events = 0
        rows = np.diff(net.indptr).reshape(n, net.n_slots)
        self.row_len = torch.as_tensor(np.ascontiguousarray(rows.T), device=dev)
        # Plastic weights change per synapse: they stay a synapse list (sparse path).
        layout = (None if net.plasticity is not None
                  else _dense_layout(net, DENSE_MIN_DENSITY[dev.type]))
        self.path = "sparse" if layout is None else "dense"
        #: Deliveries done per path, so tests can see which one actually ran.
        self.path_calls = {"dense": 0, "sparse": 0}
        self.blocks = []
        if layout is not None:
            syn, self.blocks = layout
            for block in self.blocks:
                block["w"] = torch.as_tensor(_block_matrix(syn, block), dtype=self.dtype,
                                             device=dev)
        else:
            self.indptr = torch.as_tensor(net.indptr, device=dev)
            self.targets = torch.as_tensor(net.targets, device=dev)
            self.synapse_weights = torch.as_tensor(net.weights, device=dev)
        self._setup_plasticity(dev)

    def _setup_plasticity(self, dev) -> None:
        """The rules' arrays as tensors; the weights become the backend's own copy."""
        net = self.network
        self._plastic = {k: torch.as_tensor(v, device=dev).clone()
                         for k, v in initial_state(net.plasticity, net.n_neurons, net.dtype).items()}
        self._plastic_fixed = {}
        if net.plasticity is None:
            return
        self.synapse_weights = self.synapse_weights.clone()
        names = ("position", "pre", "post", "rule", "factor", "astrocytes", "astrocyte_sign",
                 "modulator", "population_of")
        self._plastic_fixed = {k: torch.as_tensor(getattr(net.plasticity, k), device=dev)
                               for k in names}
        for k in ("pre", "post"):
            self._plastic_fixed[k] = self._plastic_fixed[k].long()

    # -- parameters ---------------------------------------------------------
    def set_population_params(self, table: np.ndarray) -> None:
        self._par = []
        for _, model, a, b, _ in self.runs:
            # One contiguous row per parameter: a strided column of the
            # (neurons, parameters) table made every elementwise step 2-3x slower.
            cols = torch.as_tensor(table[self._group_of[a:b]].T.copy(), dtype=self.dtype,
                                   device=self.v.device)
            self._par.append(tuple(cols[:len(model.propagators)]) + (self.resume[a:b],))

    # -- running ------------------------------------------------------------
    def advance(self, step0, n_steps, ext_ptr, ext_idx, record_spikes, trace_idx, trace_every):
        # Subnormal synaptic values flush to zero, as in the numba engine
        # (see neurosim.engine.fpu); torch's default (off) is restored after.
        flush = self.v.device.type == "cpu" and torch.set_flush_denormal(True)
        try:
            with torch_threads(self.threads):
                fired, traces, astrocytes = self._steps(step0, n_steps, ext_ptr, ext_idx,
                                                        trace_idx, trace_every)
        finally:
            if flush:
                torch.set_flush_denormal(False)
        self._next_step = step0 + n_steps
        out = self._chunk_output(step0, fired, ext_ptr, ext_idx, record_spikes, traces)
        out.astrocytes = astrocytes
        return out

    @torch.inference_mode()
    def _steps(self, step0, n_steps, ext_ptr, ext_idx, trace_idx, trace_every):
        """The step loop; returns the chunk's spike masks and trace samples (on the host)."""
        dev = self.v.device
        spikes = torch.zeros((n_steps, self.network.n_neurons), dtype=torch.bool, device=dev)
        ext = torch.as_tensor(ext_idx, dtype=torch.long, device=dev)
        ones = torch.ones(ext.numel(), dtype=self.dtype, device=dev)
        trace_t = torch.as_tensor(trace_idx, dtype=torch.long, device=dev)
        samples = []
        plastic = self.network.plasticity is not None
        astrocytes = torch.zeros((n_steps, self._plastic["astrocyte"].numel()),
                                 dtype=torch.float64, device=dev)
        for m in range(n_steps):
            step = step0 + m
            row = step % self.n_hist
            self._integrate(step, spikes[m])
            self.ring[row, 0].copy_(spikes[m])
            if self.has_sources:
                a, b = int(ext_ptr[m]), int(ext_ptr[m + 1])
                self.ring[row, 1].zero_().index_add_(0, ext[a:b], ones[a:b])
            self._deliver(step)
            if plastic:
                counts = self.ring[row, 0] + self.ring[row, 1] if self.has_sources else self.ring[row, 0]
                astrocytes[m] = stdp_torch.plasticity_step(counts, self.synapse_weights, self._plastic,
                                                           self._plastic_fixed)
            if trace_t.numel() and (step + 1) % trace_every == 0:
                samples.append(torch.cat([self.v[:, trace_t], self.syn[0][:, trace_t]]).T)
        traces = (torch.stack(samples).cpu().numpy() if samples
                  else np.zeros((0, trace_idx.size, 1 + self.syn.shape[1]),
                                dtype=self.network.dtype))
        return spikes.cpu().numpy(), traces, astrocytes.cpu().numpy()

    def _integrate(self, step: int, spiked_row) -> None:
        """Advance every simulated neuron one step; write their spikes into ``spiked_row``.

        The models' pure steps give new tensors; they are copied into the
        state's views (the state stays one tensor for delivery and traces).
        """
        for (kernels, _, a, b, (v, rows, until)), par in zip(self.runs, self._par):
            spikes, v_new, rows_new, until_new = kernels.step(v, rows, until, step, par)
            v.copy_(v_new)
            for row, new in zip(rows, rows_new):
                row.copy_(new)
            until.copy_(until_new)
            spiked_row[a:b] = spikes[0]

    def _deliver(self, step: int) -> None:
        """Deliver every spike due in ``step``: ring rows of all delay slots at once."""
        net = self.network
        if net.n_slots == 1:  # a view of the one due row, no gather
            row = (step - net.dmin) % self.n_hist
            due = self.ring[row:row + 1]
        else:
            due = self.ring[self.due_rows[step % self.n_hist]]  # (slot, internal/external, N)
        if self.path == "dense":
            due = due.sum(1)
            for block in self.blocks:
                tk.deliver_dense(self.syn[:, block["receptor"], block["post"]],
                                 due[block["slot"], None, block["pre"]], block["w"])
                block["calls"] += 1
            self._dense_events += (due.long() * self.row_len).sum()
        else:
            # Per slot: simulated neurons' spikes, then external events, each
            # in neuron order: the numba engine's order.
            # Without sources every count is 0 or 1: a mask spares the repeats.
            groups = (due.reshape(1, -1, net.n_neurons) if self.has_sources
                      else due[None, :, 0] != 0)
            slots = self.group_slots if self.has_sources else self.group_slots[::2]
            if net.n_slots == 1:
                slots = None  # every group uses slot 0
            self._sparse_events += tk.deliver_events(self.syn.view(1, -1), groups,
                                                     self.indptr, self.targets, self.synapse_weights,
                                                     net.n_slots, slots)
        self.path_calls[self.path] += 1

    def _chunk_output(self, step0, fired, ext_ptr, ext_idx, record_spikes, traces):
        """Counts and (optionally) the spike list of a chunk, in the numba engine's order."""
        n_steps, n = fired.shape
        ext_steps = np.repeat(np.arange(n_steps), np.diff(ext_ptr))
        self._spike_count += fired.sum(0)
        self._spike_count += np.bincount(ext_idx, minlength=n)[:n]
        pop_counts = np.stack([fired[:, a:b].sum(1) for a, b in
                               zip(self.pop_bounds[:-1], self.pop_bounds[1:])], 1)
        steps = neurons = np.empty(0, np.int64)
        if record_spikes:
            own_steps, own_neurons = np.nonzero(fired)
            steps = np.concatenate([own_steps, ext_steps])
            neurons = np.concatenate([own_neurons, ext_idx])
            # Within a step: the simulated neurons' spikes, then external events.
            order = np.argsort(steps, kind="stable")
            steps, neurons = steps[order], neurons[order]
        return ChunkOutput(spike_steps=steps.astype(np.int64) + step0,
                           spike_neurons=neurons.astype(np.int32),
                           pop_counts=pop_counts.astype(np.int32), traces=traces)

    # -- results ------------------------------------------------------------
    def spike_counts(self) -> np.ndarray:
        return self._spike_count

    def delivered_events(self) -> int:
        return int(self._dense_events) + self._sparse_events

    def state(self) -> dict[str, np.ndarray]:
        syn = self.syn[0].cpu().numpy()
        refractory = (self.until[0] - self._next_step).clamp(min=0).cpu().numpy().astype(np.int64)
        for pop in self.network.populations:
            counted = pop.model.held_steps(syn[:, pop.start:pop.stop])
            if counted is not None:
                refractory[pop.start:pop.stop] = counted
        state = {"v": self.v[0].cpu().numpy(), "syn": syn, "refractory": refractory,
                 "next_step": np.array(self._next_step),
                 "ring": self.ring.cpu().numpy(), "spike_count": self._spike_count.copy(),
                 "events": np.array([int(self._dense_events), self._sparse_events])}
        if self.network.plasticity is not None:
            state["weights"] = self.weights()
            state.update((k, self._plastic[k].cpu().numpy()) for k in PLASTIC_STATE)
        return state

    def restore(self, state: dict[str, np.ndarray]) -> None:
        self._check_state(state)
        dev = self.v.device

        def put(target, value):
            target.copy_(torch.as_tensor(np.asarray(value), device=dev).reshape(target.shape))

        self._next_step = int(state["next_step"])
        put(self.v, state["v"])
        put(self.syn, state["syn"])
        # Refractory ends are absolute steps here.
        put(self.until, (np.asarray(state["refractory"]) + self._next_step).astype(np.int32))
        put(self.ring, state["ring"])
        self._spike_count[:] = state["spike_count"]
        self._dense_events.fill_(int(state["events"][0]))
        self._sparse_events = int(state["events"][1])
        if self.network.plasticity is not None:
            put(self.synapse_weights, state["weights"])
            for key in PLASTIC_STATE:
                put(self._plastic[key], state[key])

    def weights(self) -> np.ndarray:
        if self.network.plasticity is None:
            return self.network.weights
        return self.synapse_weights.cpu().numpy()

    def hardware_counters(self, synaptic_events: dict[str, int]) -> dict[str, dict[str, int]]:
        """Work of the path that ran.

        Sparse: one accumulation per synaptic event, reading its target, its
        weight and the int64 gather index built for it.  Dense: every block's
        full ``n_pre x n_post`` product each step it was applied, counted as
        ``multiply_accumulates``, reading the whole block; a projection gets
        its (source, target, receptor) blocks' work (shared by synapse count
        if several projections share them).
        """
        net = self.network
        if self.path == "sparse":
            per_event = net.targets.itemsize + net.weights.itemsize + _GATHER_INDEX_BYTES
            work = {name: (events, events * per_event) for name, events in synaptic_events.items()}
            kind = "digital_accumulations"
        else:
            itemsize = np.dtype(net.dtype).itemsize
            macs: dict[tuple, int] = {}
            for block in self.blocks:
                done = block["calls"] * block["n_pre"] * block["n_post"]
                macs[block["key"]] = macs.get(block["key"], 0) + done
            work = {}
            for proj in net.projections:
                key = (proj.source, proj.target, proj.receptor)
                sharing = [p.n_synapses for p in net.projections
                           if (p.source, p.target, p.receptor) == key]
                share = proj.n_synapses / max(sum(sharing), 1)
                done = int(round(macs.get(key, 0) * share))
                work[proj.name] = (done, done * itemsize)
            kind = "multiply_accumulates"
        counters = {}
        for name in synaptic_events:
            row = dict.fromkeys(HARDWARE_COUNTERS, 0)
            row[kind], row["bytes_moved"] = work.get(name, (0, 0))
            counters[name] = row
        return counters


def _model_runs(populations) -> list[tuple]:
    """``(model, start, stop)`` of each run of adjacent simulated populations of one model."""
    runs: list[list] = []
    for pop in populations:
        if pop.model.is_source:
            continue
        if runs and runs[-1][0] is pop.model and runs[-1][2] == pop.start:
            runs[-1][2] = pop.stop
        else:
            runs.append([pop.model, pop.start, pop.stop])
    return [tuple(r) for r in runs]


def _dense_layout(net, min_density: float):
    """The synapses and their dense blocks, if they fill them densely enough and fit; else None.

    A cheap bound from the projections first (one delay slot per pathway:
    the fewest blocks possible), so large sparse networks never enumerate
    their synapses here.
    """
    itemsize = np.dtype(net.dtype).itemsize
    sizes = {p.name: p.size for p in net.populations}
    pathways = {(p.source, p.target, p.receptor) for p in net.projections if p.n_synapses}
    fewest = sum(sizes[src] * sizes[tgt] for src, tgt, _ in pathways)
    if not fewest or net.n_synapses < min_density * fewest or fewest * itemsize > DENSE_MAX_BYTES:
        return None
    syn, blocks = _dense_blocks(net)
    entries = sum(b["n_pre"] * b["n_post"] for b in blocks)
    if net.n_synapses < min_density * entries or entries * itemsize > DENSE_MAX_BYTES:
        return None
    return syn, blocks


def _dense_blocks(net) -> tuple[dict, list[dict]]:
    """The network's synapses, and its (source, target, receptor, slot) blocks holding any."""
    syn = net.synapses()
    stops = [p.stop for p in net.populations]
    keys = np.stack([np.searchsorted(stops, syn["pre"], side="right"),
                     np.searchsorted(stops, syn["post"], side="right"),
                     syn["receptor"], syn["delay"] - net.dmin], 1)
    blocks = []
    for key in np.unique(keys, axis=0):
        src, tgt, receptor, k = (int(x) for x in key)
        pre, post = net.populations[src], net.populations[tgt]
        blocks.append({"key": (pre.name, post.name, receptor), "slot": k, "receptor": receptor,
                       "pre": slice(pre.start, pre.stop), "post": slice(post.start, post.stop),
                       "n_pre": pre.size, "n_post": post.size, "calls": 0,
                       "members": np.nonzero(np.all(keys == key, axis=1))[0]})
    return syn, blocks


def _block_matrix(syn, block) -> np.ndarray:
    """A block's dense weights; multapses add up in their entry (summed in float64)."""
    members = block.pop("members")
    matrix = np.zeros((block["n_pre"], block["n_post"]))
    np.add.at(matrix, (syn["pre"][members] - block["pre"].start,
                       syn["post"][members] - block["post"].start), syn["weight"][members])
    return matrix
