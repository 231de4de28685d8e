"""The liquid's per-sample phase on torch tensors, B samples advanced at once.

:class:`TorchLiquidSimulator` is a :class:`~neurosim.reservoir.simulate.LiquidSimulator`
whose :meth:`~TorchLiquidSimulator.run` (every train/validation/test sample
from the current weights) runs on torch, CPU or CUDA; the serial
initialisation stays on the numba kernels.  Each step is the one of
:func:`neurosim.reservoir.kernels.simulate_sample`, in the same order:

1. the input draws of step ``t-1`` (:func:`~neurosim.backends.torch_kernels.counter_uniform`,
   the very counter-based draws of :func:`neurosim.data.encoders.bernoulli_step`,
   so both backends see the same input spikes), then the ``lif_discrete``
   model's torch step (:func:`neurosim.models.lif_discrete.torch_kernels.step`);
2. :func:`~neurosim.backends.torch_kernels.deliver_events` with a per-spike
   scale ``1 - exp(-Delta_j / tau_u)`` (the event-driven synaptic current);
3. plastic rules: :func:`~neurosim.backends.torch_kernels.stdp_events`,
   :func:`~neurosim.backends.torch_kernels.trace_step`,
   :func:`~neurosim.backends.torch_kernels.astrocyte_step`, then the per-step
   decays of ``a_plus``, ``A``, ``w_astro`` and ``b``.

Fixed weights are shared by the batch; plastic rules give every sample its
own copy of the weights.  In float64 the spikes equal the numba kernel's run
in float64 bit for bit on the CPU (same operations in the same order); in
float32 the numba kernels round the liquid's update after float64 arithmetic
while torch rounds every operation, so rare threshold crossings differ.
"""

from __future__ import annotations

import numpy as np
import torch

from neurosim.backends import torch_kernels as tk
from neurosim.backends.torch_backend import torch_device
from neurosim.models.lif_discrete import torch_kernels as lif_discrete
from neurosim.reservoir.kernels import ASTRO_STDP, FIXED, STDP
from neurosim.reservoir.simulate import RULES, LiquidSimulator, sample_keys
from neurosim.threads import torch_threads


class TorchLiquidSimulator(LiquidSimulator):
    """A liquid whose independent samples run batched on torch (see module doc).

    Parameters
    ----------
    liquid, dynamics, seed, threads:
        As :class:`LiquidSimulator` (``threads``: torch intra-op threads in
        :meth:`run`).
    device:
        ``"cpu"`` or ``"cuda"``.
    batch:
        Samples advanced together (the tensors' leading dimension).
    dtype:
        ``torch.float32`` (default) or ``torch.float64``.
    synapses:
        ``"events"``: each spike walks its CSR row (cost per synaptic event;
        in float64 the numba kernel's spikes bit for bit); ``"dense"``: fixed
        weights as one dense matrix, each step one product of the scaled spike
        vectors through it (cost ``B x n_total x n_liquid`` per step, summed in
        a different order); ``"auto"``: dense for fixed weights, events for
        plastic rules (each sample's weight copy stays CSR).
    """

    def __init__(self, liquid, dynamics, seed: int, threads: int = 1, device: str = "cpu",
                 batch: int = 64, dtype: torch.dtype = torch.float32,
                 synapses: str = "auto") -> None:
        super().__init__(liquid, dynamics, seed, threads)
        if synapses not in ("auto", "events", "dense"):
            raise ValueError(f"synapses must be auto, events or dense, got {synapses!r}")
        if synapses == "dense" and dynamics.rule != "none":
            raise ValueError("dense synapses need fixed weights (rule none)")
        self.device = torch_device(device)
        self.batch = int(batch)
        self.dtype = dtype
        self.dense = synapses == "dense" or (synapses == "auto" and dynamics.rule == "none")
        dev = self.device

        def tensor(a, dt=None):
            return torch.as_tensor(np.asarray(a), device=dev, dtype=dt)

        lq = liquid
        self._pre_ptr = tensor(lq.pre_ptr, torch.int64)
        self._post = tensor(lq.post, torch.int64)
        self._in_ptr = tensor(lq.in_ptr, torch.int64)
        self._in_syn = tensor(lq.in_syn, torch.int64)
        self._in_pre = tensor(lq.in_pre, torch.int64)
        self._exc_like_t = tensor(self._exc_like, torch.bool)
        self._w_lo = tensor(lq.w_lo)
        self._w_hi = tensor(lq.w_hi)

    def run(self, probs: np.ndarray, ids: np.ndarray, steps: int,
            record: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None, dict]:
        """As :meth:`LiquidSimulator.run`, ``batch`` samples at a time on ``device``."""
        n = len(probs)
        record = np.zeros(n, bool) if record is None else np.asarray(record, bool)
        keys = sample_keys(self.seed, ids).view(np.int64)
        counts = np.zeros((n, self.liquid.n_liquid), np.int32)
        rasters = []
        per_neuron = np.zeros((n, self.liquid.n_total), np.int32)
        with torch_threads(self.threads), torch.inference_mode():
            for start in range(0, n, self.batch):
                part = slice(start, start + self.batch)
                counts[part], r, per_neuron[part] = self._run_batch(
                    probs[part], keys[part], int(steps), record[part])
                if r is not None:
                    rasters.append(r)
        return (counts, (np.concatenate(rasters) if rasters else None),
                self.tally_counts(per_neuron))

    def _run_batch(self, probs, keys, steps, record):
        dev, dtype = self.device, self.dtype
        lq, dyn = self.liquid, self.dynamics
        n_liq, n_total = lq.n_liquid, lq.n_total
        b = len(probs)
        liquid_par, input_par, (t_ref, i_in, tr_decay, tr_inc, t_last0) = dyn.neuron_args()
        syn_decay = float(liquid_par[2])
        # lif_discrete's (beta, gain, alpha, bias, threshold, subtract) per neuron, then resume
        rows = np.concatenate([np.repeat(liquid_par[None], n_liq, 0),
                               np.repeat(input_par[None].astype(np.float64), n_total - n_liq, 0)])
        par = (*torch.as_tensor(rows.T, dtype=dtype, device=dev),
               torch.tensor(float(t_ref) + 1, dtype=dtype, device=dev))
        mode = RULES[dyn.rule]
        _, a_plus, w_astro, bias, tau_astro, a0 = dyn.plastic_tuple()
        lr_decay = float(dyn.lr_decay)

        prob = torch.as_tensor(np.asarray(probs, np.float32), device=dev).to(torch.float64)
        key = torch.as_tensor(keys, device=dev).reshape(b, 1)
        inputs = torch.arange(n_total - n_liq, device=dev)
        # Share of a decayed current a spike restores, by steps since the last
        # spike; the same float64 power as the numba kernel.
        release = torch.tensor([1.0 - syn_decay ** d for d in range(steps + int(t_last0) + 1)],
                               dtype=torch.float64, device=dev)
        w = torch.as_tensor(self.weights, device=dev).to(dtype)
        if self.dense:
            w_dense = torch.zeros((n_total, n_liq), dtype=dtype, device=dev)
            w_dense[torch.as_tensor(lq.pre(), device=dev).long(), self._post] = w
        elif mode != FIXED:  # a copy per sample, and stdp_events' scratch column
            w = torch.cat((w, w.new_zeros(1))).expand(b, -1).contiguous()
        v = torch.zeros((b, n_total), dtype=dtype, device=dev)
        state = tuple(torch.zeros((b, n_total), dtype=dtype, device=dev) for _ in range(3))
        no_spikes = torch.zeros((b, n_total), dtype=torch.bool, device=dev)
        last = torch.full((b, n_total), -int(t_last0), dtype=torch.int64, device=dev)
        trace = torch.zeros((b, n_total), dtype=dtype, device=dev)
        counts = torch.zeros((b, n_total), dtype=torch.int32, device=dev)
        a_minus = torch.full((b,), a0 if mode == ASTRO_STDP else a_plus, dtype=torch.float64,
                             device=dev)
        rec = torch.as_tensor(np.nonzero(record)[0], device=dev)
        raster = torch.zeros((len(rec), steps, n_liq), dtype=torch.uint8, device=dev)
        for t in range(steps):
            spikes = no_spikes
            if t > 0:
                drawn = tk.counter_uniform(key, (t - 1) * len(inputs) + inputs) < prob
                state[0][:, n_liq:].add_(drawn.to(dtype), alpha=i_in)
                spikes, v, state, _ = lif_discrete.step(v, state, None, t, par)
            liquid_spikes = spikes[:, :n_liq]
            counts += spikes
            if len(rec):
                raster[:, t] = liquid_spikes[rec]
            if self.dense:
                tk.deliver_dense(state[0][:, :n_liq], (spikes * release[t - last]).to(dtype),
                                 w_dense)
            else:
                tk.deliver_events(state[0], spikes, self._pre_ptr, self._post, w,
                                  scale=release[t - last])
            last.masked_fill_(spikes, t)
            if mode == FIXED:
                continue
            tk.stdp_events(w, spikes, trace, self._pre_ptr, self._post, self._in_ptr,
                           self._in_syn, self._in_pre, self._exc_like_t, self._w_lo, self._w_hi,
                           a_plus, a_minus, n_liq)
            tk.trace_step(trace, spikes, tr_decay, tr_inc)
            if mode == ASTRO_STDP:
                a_minus = tk.astrocyte_step(a_minus, liquid_spikes, spikes[:, n_liq:],
                                            w_astro, bias, tau_astro) * lr_decay
                w_astro *= lr_decay
                bias *= lr_decay
            a_plus *= lr_decay
            if mode == STDP:
                a_minus.fill_(a_plus)
        counts = counts.cpu().numpy()
        return counts[:, :n_liq], raster.cpu().numpy() if len(rec) else None, counts
