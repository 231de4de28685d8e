#!/usr/bin/env python3
"""Scaled CUBA in NEST; prints one JSON line with timings and memory.

Run with the NEST venv's python (see benchmarks/setup_peers.sh):

    /opt/neurosim-peers/nest/bin/python benchmarks/peers/nest_cuba.py \
        --n 4000 --threads 1 --seed 1 --duration 1.0

Mapping of the model (see _common.py) onto NEST:
  iaf_psc_exp, C_m 250 pF, tau_m 20 ms, E_L -49 mV, V_th -50 mV,
  V_reset -60 mV, t_ref 5 ms, tau_syn_ex 5 ms, tau_syn_in 10 ms, I_e 0.
  A jump of w mV in ge/gi is a current jump of w * C_m / tau_m = 12.5 w pA
  (we = 20.25 pA, wi = -112.5 pA). NEST integrates this model exactly too.
  Connections: `fixed_indegree` from the excitatory and from the inhibitory
  population (multapses allowed, autapses not), static_synapse with delay
  0.1 ms = one step, NEST's minimum (Brian2 runs here have no delay).
  v0 is drawn with numpy from --seed (the same values as the Brian2 runner);
  the connectivity uses NEST's own generator seeded with --seed, so it is a
  different random draw of the same ensemble.

Measured:
  build_s   wall time of creating the neurons and the two Connect calls.
  sim_s     wall time of nest.Simulate(duration) (its first call also does
            NEST's prepare step, e.g. sorting connections; as a user sees it).
  peak_rss_bytes   what the network costs: peak RSS of the process during
            building and simulating, minus the RSS before building (VmHWM
            reset first), minus the RSS added by connecting the spike
            recorder (recorder_rss_bytes, reported on its own: ~30 KB per
            recorded neuron in NEST 3.10, far more than the synapses).
            peak_rss_build_bytes is the peak during building alone and
            peak_rss_total_bytes everything, recorder included.
Spikes are counted with one spike_recorder (record_to memory) on all neurons.
"""
from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as C  # noqa: E402


def main(argv=None) -> int:
    args = C.parse_args("NEST", ("default",), argv)
    restore = C.quiet_stdout()
    try:
        import numpy as np
        import nest

        if hasattr(nest, "VerbosityLevel"):       # NEST >= 3.9
            nest.verbosity = nest.VerbosityLevel.ERROR
        else:
            nest.set_verbosity("M_ERROR")
        nest.ResetKernel()
        nest.SetKernelStatus({"resolution": C.DT * 1e3,
                              "local_num_threads": args.threads,
                              "rng_seed": args.seed,
                              "print_time": False})
        rng = np.random.default_rng(args.seed)
        n_exc, n_inh, k_exc, k_inh = C.split_counts(args.n, args.indegree)
        scale = C.C_M / C.TAUM * 1e12            # pA per volt of jump
        we, wi = C.WE * scale, C.WI * scale      # 20.25 pA, -112.5 pA
        params = {"C_m": C.C_M * 1e12, "tau_m": C.TAUM * 1e3,
                  "E_L": C.EL * 1e3, "V_th": C.VT * 1e3, "V_reset": C.VR * 1e3,
                  "t_ref": C.T_REF * 1e3, "tau_syn_ex": C.TAUE * 1e3,
                  "tau_syn_in": C.TAUI * 1e3, "I_e": 0.0}

        base = C.rss_bytes()
        C.reset_peak_rss()
        t0 = time.perf_counter()
        pop = nest.Create("iaf_psc_exp", args.n, params=params)
        pop.V_m = rng.uniform(C.VR * 1e3, C.VT * 1e3, args.n)
        conn = {"rule": "fixed_indegree", "allow_autapses": False,
                "allow_multapses": True}
        nest.Connect(pop[:n_exc], pop, dict(conn, indegree=k_exc),
                     {"synapse_model": "static_synapse", "weight": we,
                      "delay": C.DT * 1e3})
        nest.Connect(pop[n_exc:], pop, dict(conn, indegree=k_inh),
                     {"synapse_model": "static_synapse", "weight": wi,
                      "delay": C.DT * 1e3})
        build_s = time.perf_counter() - t0
        peak_build = C.peak_rss_bytes() - base
        retained_build = C.rss_bytes() - base
        n_syn = int(nest.GetKernelStatus("num_connections"))

        before_rec = C.rss_bytes()
        rec = nest.Create("spike_recorder")
        nest.Connect(pop, rec)
        recorder_bytes = C.rss_bytes() - before_rec
        t0 = time.perf_counter()
        nest.Simulate(args.duration * 1e3)
        sim_s = time.perf_counter() - t0
        peak_total = C.peak_rss_bytes() - base
        # The network's own peak: during building, or during the simulation
        # (NEST's prepare allocates buffers) less what the recorder holds.
        peak_net = max(peak_build, peak_total - recorder_bytes)
        spikes = int(rec.n_events)
        version = nest.__version__
    finally:
        restore()

    C.emit({"tool": "nest", "version": version, "mode": "default",
            "n": args.n, "threads": args.threads, "seed": args.seed,
            "duration": args.duration, "indegree": args.indegree,
            "build_s": build_s, "sim_s": sim_s,
            "rate_hz": spikes / (args.n * args.duration), "spikes": spikes,
            "n_synapses": n_syn,
            "events": spikes * args.indegree,
            "peak_rss_bytes": peak_net,
            "peak_rss_build_bytes": peak_build,
            "retained_rss_build_bytes": retained_build,
            "recorder_rss_bytes": recorder_bytes,
            "peak_rss_total_bytes": peak_total,
            "threads_used": args.threads, "numpy": np.__version__})
    return 0


if __name__ == "__main__":
    sys.exit(main())
