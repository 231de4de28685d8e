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
            counter (monitor_rss_bytes, reported on its own).
            peak_rss_build_bytes is the peak during building alone and
            peak_rss_total_bytes everything, monitor included.
Spikes are counted by a counter neuron (see below; --count recorder uses a
spike_recorder instead, which needs ~32 KB per neuron in NEST 3.10; both
give the same count).
"""
from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as C  # noqa: E402


def main(argv=None) -> int:
    args = C.parse_args("NEST", ("default",), argv, extra=lambda ap: ap.add_argument(
        "--count", choices=("counter", "recorder"), default="counter",
        help="count spikes with a counter neuron (default) or a spike_recorder"))
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

        before_mon = C.rss_bytes()
        if args.count == "recorder":
            mon = nest.Create("spike_recorder")
            nest.Connect(pop, mon)
        else:
            # A counter neuron: a non-leaky (tau_m 1e15 ms), never-firing
            # iaf_psc_delta that every neuron hits with a 1 mV jump, so its
            # V_m is the spike count. It costs one ordinary connection per
            # neuron, where a spike_recorder costs ~32 KB per neuron in NEST
            # 3.10 (a per-neuron connector block for device targets): 13 GB
            # at N = 400k.
            mon = nest.Create("iaf_psc_delta", params={
                "E_L": 0.0, "V_m": 0.0, "V_reset": 0.0, "V_th": 1e12,
                "tau_m": 1e15, "C_m": 1.0, "I_e": 0.0})
            nest.Connect(pop, mon, "all_to_all",
                         {"synapse_model": "static_synapse", "weight": 1.0,
                          "delay": C.DT * 1e3})
        monitor_bytes = C.rss_bytes() - before_mon
        t0 = time.perf_counter()
        nest.Simulate(args.duration * 1e3)
        sim_s = time.perf_counter() - t0
        peak_total = C.peak_rss_bytes() - base
        # The network's own peak: during building, or during the simulation
        # (NEST's prepare allocates buffers) less what the monitor holds.
        peak_net = max(peak_build, peak_total - monitor_bytes)
        if args.count == "recorder":
            spikes = int(mon.n_events)
        else:
            # Spikes of the last step are still in flight (delay 1 step):
            # one more, untimed step delivers them; the count then covers
            # exactly the spikes stamped in (0, duration], as the recorder.
            nest.Simulate(C.DT * 1e3)
            spikes = int(round(mon.V_m))
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
            "monitor_rss_bytes": monitor_bytes, "count_with": args.count,
            "peak_rss_total_bytes": peak_total,
            "threads_used": args.threads, "numpy": np.__version__})
    return 0


if __name__ == "__main__":
    sys.exit(main())
