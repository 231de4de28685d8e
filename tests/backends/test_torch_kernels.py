"""Batched torch kernels, each against its difference equation written out element by element."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
tk = pytest.importorskip("neurosim.backends.torch_kernels")

B, N = 3, 7
RNG = np.random.default_rng(7)


def t64(x):
    return torch.tensor(np.asarray(x), dtype=torch.float64)


def test_deliver_dense_adds_each_spiking_row():
    n_pre, n_post = 5, 4
    counts = np.array([[1, 0, 1, 0, 0], [0, 2, 0, 0, 1], [0, 0, 0, 0, 0]], dtype=float)
    syn = RNG.normal(size=(B, n_post))
    for w in (RNG.normal(size=(n_pre, n_post)), RNG.normal(size=(B, n_pre, n_post))):
        per_sample = np.broadcast_to(w, (B, n_pre, n_post))
        expected = syn.copy()
        for b in range(B):
            for j in range(n_pre):
                expected[b] += counts[b, j] * per_sample[b, j]
        ts = t64(syn)
        tk.deliver_dense(ts, t64(counts), t64(w))
        np.testing.assert_allclose(ts.numpy(), expected, rtol=1e-14)


def test_deliver_events_walks_rows_of_spikes_in_order():
    # 4 presynaptic neurons, 2 delay slots; row i*2+k holds neuron i's slot-k synapses.
    n_pre, n_slots, m = 4, 2, 6
    row_targets = [list(RNG.integers(0, m, RNG.integers(0, 4))) for _ in range(n_pre * n_slots)]
    row_weights = [list(RNG.normal(size=len(r))) for r in row_targets]
    indptr = np.concatenate([[0], np.cumsum([len(r) for r in row_targets])])
    targets = np.array(sum(row_targets, []), dtype=np.int32)
    weights = np.array(sum(row_weights, []))
    # Two groups of spikes per sample: the first through slot 1, the second through slot 0.
    counts = RNG.integers(0, 3, (B, 2, n_pre))
    slots = [1, 0]
    syn = RNG.normal(size=(B, m))
    expected = syn.copy()
    n_events = 0
    for b in range(B):
        for g, slot in enumerate(slots):
            for i in range(n_pre):
                for _ in range(counts[b, g, i]):
                    r = i * n_slots + slot
                    for t, w in zip(row_targets[r], row_weights[r]):
                        expected[b, t] += w
                        n_events += 1
    ts = t64(syn)
    events = tk.deliver_events(ts, torch.tensor(counts), torch.tensor(indptr),
                               torch.tensor(targets), t64(weights), n_slots, torch.tensor(slots))
    assert int(events) == n_events > 0
    np.testing.assert_array_equal(ts.numpy(), expected)  # same order: same bits
    # (B, n_pre) spike masks: one group through slot 0.
    ts = t64(syn)
    mask = counts[:, 0] > 0
    tk.deliver_events(ts, torch.tensor(mask), torch.tensor(indptr), torch.tensor(targets),
                      t64(weights), n_slots)
    expected = syn.copy()
    for b, i in zip(*np.nonzero(mask)):
        for t, w in zip(row_targets[i * n_slots], row_weights[i * n_slots]):
            expected[b, t] += w
    np.testing.assert_array_equal(ts.numpy(), expected)


def test_trace_follows_its_difference_equation():
    spikes = RNG.random((B, 40)) < 0.2
    x = torch.zeros(B, dtype=torch.float64)
    ref = np.zeros(B)
    for t in range(40):
        tk.trace_step(x, torch.tensor(spikes[:, t]))
        ref = 0.905 * (ref + 0.1 * spikes[:, t])
        np.testing.assert_allclose(x.numpy(), ref, rtol=1e-15)


def test_stdp_step_signs_depression_bounds_and_mask():
    n_pre, n_post = 4, 3
    a_plus, a_astro = 0.15, np.array([0.1, 0.3, 0.2])  # one astrocyte per sample
    sign = np.array([1.0, 1.0, -1.0, 1.0])  # neuron 2 is inhibitory
    w_min, w_max = np.array([0, -3, -3, 0.0]), np.array([3, 3, 0, 0.05])
    mask = RNG.random((n_pre, n_post)) < 0.8
    w = RNG.uniform(0, 0.1, (B, n_pre, n_post)) * mask
    w[:, 2] *= -1
    x_pre, x_post = RNG.uniform(0, 0.3, (B, n_pre)), RNG.uniform(0, 0.3, (B, n_post))
    s_pre, s_post = RNG.random((B, n_pre)) < 0.5, RNG.random((B, n_post)) < 0.5
    expected = w.copy()
    for b in range(B):
        for i in range(n_pre):
            for j in range(n_post):
                if not mask[i, j]:
                    continue
                dw = a_plus * x_pre[b, i] * s_post[b, j] - a_astro[b] * x_post[b, j] * s_pre[b, i]
                expected[b, i, j] = min(max(w[b, i, j] + sign[i] * dw, w_min[i]), w_max[i])
    tw = t64(w)
    tk.stdp_step(tw, t64(x_pre), t64(x_post), torch.tensor(s_pre), torch.tensor(s_post),
                 a_plus, t64(a_astro), t64(sign), t64(w_min), t64(w_max), t64(mask))
    np.testing.assert_allclose(tw.numpy(), expected, rtol=1e-14, atol=1e-17)
    # One shared weight matrix (B = 1) takes the same update as sample 0.
    shared = t64(w[0])
    tk.stdp_step(shared, t64(x_pre[:1]), t64(x_post[:1]), torch.tensor(s_pre[:1]),
                 torch.tensor(s_post[:1]), a_plus, a_astro[0], t64(sign), t64(w_min),
                 t64(w_max), t64(mask))
    np.testing.assert_allclose(shared.numpy(), expected[0], rtol=1e-14, atol=1e-17)


def test_astrocyte_follows_its_difference_equation():
    w_astro, bias, tau = 0.015, 0.15, 100.0
    liquid = RNG.random((80, B, 50)) < 0.1
    inputs = RNG.random((80, B, 30)) < 0.2
    a = torch.full((B,), 0.15, dtype=torch.float64)
    ref = np.full(B, 0.15)
    for t in range(80):
        a = tk.astrocyte_step(a, torch.tensor(liquid[t]), torch.tensor(inputs[t]), w_astro,
                              bias, tau)
        ref = ref + (w_astro * (liquid[t].sum(1) - inputs[t].sum(1)) + bias - ref) / tau
        np.testing.assert_allclose(a.numpy(), ref, rtol=1e-14)


def sequential_stdp(w, spikes, x, pre, post, exc, lo, hi, a_plus, a_minus):
    """The liquid kernel's rule written out: spiking neurons in index order, as post then pre."""
    w = list(w)
    for j in np.nonzero(spikes)[0]:
        for s in range(len(w)):
            if post[s] == j:
                lr = a_plus if exc[pre[s]] else -a_minus
                w[s] = min(max(w[s] + lr * x[pre[s]], lo[pre[s]]), hi[pre[s]])
        for s in range(len(w)):
            if pre[s] == j:
                lr = -a_minus if exc[j] else a_plus
                w[s] = min(max(w[s] + lr * x[post[s]], lo[j]), hi[j])
    return np.array(w)


def test_stdp_events_orders_the_two_updates_of_a_synapse_like_the_liquid_kernel():
    # Neurons 0 (exc) and 1 (inh) are postsynaptic, 2 is an input; synapses
    # 0->1, 1->0, 2->0, 2->1 in CSR order.  Weights sit near their bounds so
    # the clip between the two updates of a synapse matters.
    pre, post = np.array([0, 1, 2, 2]), np.array([1, 0, 0, 1])
    exc = np.array([True, False, True])
    lo, hi = np.array([0.0, -3.0, -3.0]), np.array([3.0, 0.0, 3.0])
    pre_ptr = torch.tensor([0, 1, 2, 4])
    in_syn = torch.tensor([1, 2, 0, 3])  # into 0: synapses 1, 2; into 1: 0, 3
    in_ptr = torch.tensor([0, 2, 4])
    w0 = np.array([[2.9, -0.05, 2.95, -2.9], [0.1, -2.95, -0.1, 2.9]])
    spikes = np.array([[True, True, True], [True, False, True]])
    x = np.array([[0.5, 0.4, 0.3], [0.2, 0.6, 0.7]])
    a_plus, a_minus = 0.3, np.array([0.6, 0.9])
    w = torch.tensor(np.concatenate([w0, np.zeros((2, 1))], axis=1))
    tk.stdp_events(w, torch.tensor(spikes), t64(x), pre_ptr, torch.tensor(post), in_ptr,
                   in_syn, torch.tensor(pre)[in_syn], torch.tensor(exc), t64(lo), t64(hi),
                   a_plus, t64(a_minus), 2)
    for b in range(2):
        expected = sequential_stdp(w0[b], spikes[b], x[b], pre, post, exc, lo, hi, a_plus,
                                   a_minus[b])
        np.testing.assert_array_equal(w[b, :4].numpy(), expected)
    # Synapse 0->1 in sample 0: depression (neuron 0 first) then potentiation
    # gives 2.66 + 0.15; the reverse order would clip 3.05 to 3, then 2.76.
    assert sequential_stdp(w0[0], spikes[0], x[0], pre, post, exc, lo, hi, a_plus,
                           a_minus[0])[0] != min(max(2.9 + 0.3 * 0.5, 0), 3) - 0.6 * 0.4
