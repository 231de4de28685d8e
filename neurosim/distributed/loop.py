"""The compiled step loop of one rank: steps, spike exchange, steps, ...

One call runs a chunk of steps as ``interval``-step pieces: the engine's
step loop (:func:`neurosim.engine.kernels.step_loops`) on this rank's
neurons, this rank's spikes as global ids (:func:`~neurosim.engine.exchange.own_spikes`),
``Allgather`` of the per-step counts and ``Allgatherv`` of the ids
(:mod:`neurosim.distributed.collectives`), then every rank's spikes back into
the global rows (:func:`~neurosim.engine.exchange.join_spikes`).  Nothing
returns to Python inside a chunk, unless the spike recording might overflow.

The collectives come in as an argument (``mpi``: the tuple of
:func:`~neurosim.distributed.collectives.bindings`), addresses as integers,
so that numba caches the loop (it takes 18 s to compile).
"""

from __future__ import annotations

import functools
import types

import numpy as np
from numba import njit

from neurosim.distributed.collectives import call_double, call_int
from neurosim.engine import kernels
from neurosim.engine.exchange import join_spikes, own_spikes


@functools.cache
def exchange_loop(models: int, parallel: bool):
    """The loop of one rank for the models in the bit mask ``models``;
    ``parallel``: the step loop splits the rank's neurons over threads.

    :func:`_run` with this variant's step loop among its globals, under a name
    of its own: numba keys a cached closure by the pickles of its cells, and a
    dispatcher's pickle differs from process to process (its uuid), so a
    closure over the step loop would be compiled, and cached anew, every run.
    """
    run_serial, run_parallel = kernels.step_loops(models, False)
    name = f"_run_{models}_{'parallel' if parallel else 'serial'}"
    step_loop = run_parallel if parallel else run_serial
    variant = types.FunctionType(_run.__code__, {**_run.__globals__, "step_loop": step_loop},
                                 name)
    variant.__qualname__ = name
    return njit(cache=True)(variant)


def _run(mpi, step0, n_steps, interval, comm, rank, ranks, v, syn, groups, indptr, targets,
         weights, dmin, n_slots, hist, hist_len, ext_ptr, ext_idx, spike_count, global_count,
         pop_counts, events, rec_on, rec_step, rec_idx, rec_n, trace_idx, trace_every, traces,
         trace_n, rules, a_minus, trace_pre, trace_post, astrocyte, astrocytes, plastic_args,
         plastic, parts, stats):
    """Advance ``n_steps`` (fewer, returned, when recording might overflow).

    ``spike_count`` counts this rank's neurons, ``global_count`` all; ``parts``
    is ``(part_bounds, cuts)`` for the parallel step loop, else empty; ``stats``
    accumulates seconds in the collectives, exchanges and bytes received.
    Compiled per variant by :func:`exchange_loop`, which gives it ``step_loop``.
    """
    allgather, allgatherv, wtime, int32, int64 = mpi
    n_global = hist.shape[1]
    no_ext = np.zeros(interval + 1, dtype=np.int64)
    no_idx = np.empty(0, dtype=ext_idx.dtype)
    counts = np.zeros(interval, dtype=np.int64)
    sent = np.empty(interval * v.size, dtype=np.int32)
    gathered = np.empty(ranks * interval, dtype=np.int64)
    sizes = np.empty(ranks, dtype=np.int32)
    starts = np.empty(ranks, dtype=np.int32)
    spikes = np.empty(interval * n_global, dtype=np.int32)
    done = 0
    while done < n_steps:
        steps = min(interval, n_steps - done)
        lo, hi = ext_ptr[done], ext_ptr[done + steps]
        if rec_on and rec_n[0] + steps * n_global + hi - lo > rec_step.size:
            return done
        state = (rules, a_minus, trace_pre, trace_post, astrocyte, astrocytes[done:])
        step_loop(step0 + done, steps, v, syn, groups, indptr, targets, weights, dmin,
                  n_slots, hist, hist_len, no_ext, no_idx, spike_count, pop_counts[done:],
                  events, False, rec_step, rec_idx, rec_n, trace_idx, trace_every, traces,
                  trace_n, state, plastic_args, *parts)
        n = own_spikes(step0 + done, steps, hist, hist_len, rank, ranks, counts, sent)
        t0 = call_double(wtime, ())
        call_int(allgather, (counts.ctypes.data, np.int32(steps), int64, gathered.ctypes.data,
                             np.int32(steps), int64, comm))
        per_step = gathered[: ranks * steps].reshape(ranks, steps)
        total = 0
        for r in range(ranks):
            starts[r] = total
            sizes[r] = per_step[r].sum()
            total += sizes[r]
        call_int(allgatherv, (sent.ctypes.data, np.int32(n), int32, spikes.ctypes.data,
                              sizes.ctypes.data, starts.ctypes.data, int32, comm))
        stats[0] += call_double(wtime, ()) - t0
        stats[1] += 1
        stats[2] += 4 * total + 8 * ranks * steps
        join_spikes(step0 + done, steps, per_step, spikes[:total],
                    ext_ptr[done:done + steps + 1] - lo, ext_idx[lo:hi], hist, hist_len,
                    global_count, rec_on, rec_step, rec_idx, rec_n, plastic, weights, state,
                    plastic_args)
        done += steps
    return done

