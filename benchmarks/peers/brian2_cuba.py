#!/usr/bin/env python3
"""Scaled CUBA in Brian2; prints one JSON line with timings and memory.

Run with the Brian2 venv's python (see benchmarks/setup_peers.sh):

    /opt/neurosim-peers/brian2/bin/python benchmarks/peers/brian2_cuba.py \
        --n 4000 --threads 1 --seed 1 --duration 1.0 --mode runtime

Modes
-----
runtime         Brian2's runtime device with Cython code generation. Always
                single-threaded (--threads is recorded, threads_used is 1).
                sim_s: wall time of `net.run(duration)`, after a `net.run(0 s)`
                that compiles (or loads from the Cython cache) the code objects
                and prepares the spike queues (reported as prepare_s).
                build_s: wall time to draw the connectivity with numpy and create
                the NeuronGroup, Synapses (connect with explicit i/j arrays) and
                SpikeMonitor. A 100-neuron warm-up network with the same code
                runs first, so Cython compilation/loading is not counted.
                Memory: peak RSS of this process after building and running,
                minus RSS before building (VmHWM reset just before).
cpp_standalone  Brian2's C++ standalone device; OpenMP with --threads > 1,
                no OpenMP at all with --threads 1 (Brian2's fastest 1-thread
                setup). The project is written to a cache directory per
                (n, threads, indegree) so that repeats recompile only what
                changed. Reported separately:
                  codegen_s  Python side: recording the run and generating
                             the C++ project,
                  compile_s  `make` (g++),
                  sim_s      the simulation loop only, as timed by the binary
                             itself (Network::_last_run_time, written to
                             results/last_run_info.txt; CPU clock without
                             OpenMP, omp_get_wtime with OpenMP),
                  build_s    numpy connectivity draw + Python object creation,
                             plus the binary's wall time outside the loop
                             (loading arrays, creating the synapses,
                             initialising, writing results): everything that
                             is neither compilation nor simulation.
                Memory: peak RSS of the `main` binary (whole process, so it
                also counts the neuron state and a few MB of process base).

Differences from NEST worth knowing: Brian2 synapses here have no delay (the
effect of a spike reaches ge/gi in the same step); NEST needs >= 1 step
(0.1 ms). Spikes are only counted (SpikeMonitor with record=False).
"""
from __future__ import annotations

import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as C  # noqa: E402


def build_network(b2, n: int, indegree: int, seed: int):
    """Create the CUBA network; return (objects list, spike monitor, n_synapses)."""
    import numpy as np

    ms, mV, volt = b2.ms, b2.mV, b2.volt
    rng = np.random.default_rng(seed)
    b2.seed(seed)
    n_exc, _, _, _ = C.split_counts(n, indegree)

    eqs = """
    dv/dt  = (ge + gi - (v - El)) / taum : volt (unless refractory)
    dge/dt = -ge / taue : volt
    dgi/dt = -gi / taui : volt
    """
    ns = dict(taum=C.TAUM * 1000 * ms, taue=C.TAUE * 1000 * ms,
              taui=C.TAUI * 1000 * ms, El=C.EL * 1000 * mV,
              Vt=C.VT * 1000 * mV, Vr=C.VR * 1000 * mV,
              we=C.WE * 1000 * mV, wi=C.WI * 1000 * mV)
    P = b2.NeuronGroup(n, eqs, threshold="v > Vt", reset="v = Vr",
                       refractory=C.T_REF * 1000 * ms, method="exact",
                       namespace=ns, name="cuba")
    P.v = rng.uniform(C.VR, C.VT, n) * volt
    P.ge = 0 * mV
    P.gi = 0 * mV

    pre_e, post_e, pre_i, post_i = C.fixed_indegree_arrays(n, indegree, rng)
    Pe, Pi = P[:n_exc], P[n_exc:]
    Ce = b2.Synapses(Pe, P, on_pre="ge += we", namespace=ns, name="exc")
    Ce.connect(i=pre_e, j=post_e)          # indices relative to Pe (starts at 0)
    Ci = b2.Synapses(Pi, P, on_pre="gi += wi", namespace=ns, name="inh")
    Ci.connect(i=pre_i - n_exc, j=post_i)  # relative to Pi
    n_syn = int(pre_e.size + pre_i.size)
    del pre_e, post_e, pre_i, post_i
    mon = b2.SpikeMonitor(P, record=False, name="spikes")
    return [P, Ce, Ci, mon], mon, n_syn


def run_runtime(b2, args) -> dict:
    import gc

    b2.prefs.codegen.target = "cython"
    # Warm-up: a tiny network with the same code (same names) compiles or
    # loads the Cython extension modules, so that neither their compilation
    # nor the memory they occupy is counted against the measured network.
    objs, _, _ = build_network(b2, 100, args.indegree, args.seed)
    b2.Network(*objs).run(0 * b2.second)
    del objs
    gc.collect()

    base = C.rss_bytes()
    C.reset_peak_rss()
    t0 = time.perf_counter()
    objs, mon, n_syn = build_network(b2, args.n, args.indegree, args.seed)
    net = b2.Network(*objs)
    build_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    net.run(0 * b2.second)                 # create code objects, prepare queues
    prepare_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    net.run(args.duration * b2.second)
    sim_s = time.perf_counter() - t0

    return dict(build_s=build_s, prepare_s=prepare_s, sim_s=sim_s,
                spikes=int(mon.num_spikes), n_synapses=n_syn, threads_used=1,
                peak_rss_bytes=C.peak_rss_bytes() - base,
                retained_rss_bytes=C.rss_bytes() - base)


def run_standalone(b2, args) -> dict:
    from brian2.devices.device import device

    cache = os.environ.get("NEUROSIM_BENCH_CACHE",
                           os.path.join(tempfile.gettempdir(), "neurosim-bench"))
    project = os.path.join(
        cache, f"brian2_cuba_n{args.n}_t{args.threads}_k{args.indegree}")
    os.makedirs(project, exist_ok=True)
    rss_file = os.path.join(project, "main_peak_rss.txt")

    b2.set_device("cpp_standalone", directory=project, build_on_run=False)
    b2.prefs.devices.cpp_standalone.openmp_threads = (
        args.threads if args.threads > 1 else 0)
    # Run the binary under a tiny Python wrapper that records its peak RSS:
    # a fresh process whose only child is `main`, so RUSAGE_CHILDREN is main's.
    wrapper = ("import resource, subprocess, sys\n"
               "rc = subprocess.call(sys.argv[2:])\n"
               "kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
               "open(sys.argv[1], 'w').write(str(kb * 1024))\n"
               "sys.exit(rc)\n")
    b2.prefs.devices.cpp_standalone.run_cmd_unix = [
        sys.executable, "-c", wrapper, rss_file, "./main"]

    t0 = time.perf_counter()
    objs, mon, n_syn = build_network(b2, args.n, args.indegree, args.seed)
    net = b2.Network(*objs)
    py_build_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    net.run(args.duration * b2.second)     # records the run, generates code
    device.build(directory=project, compile=True, run=False, with_output=False)
    build_wall = time.perf_counter() - t0
    compile_s = device.timers["compile"]["make"] + (device.timers["compile"]["clean"] or 0.0)
    codegen_s = build_wall - compile_s

    device.run(directory=project, with_output=False)
    binary_s = device.timers["run_binary"]
    sim_s = float(device._last_run_time)
    with open(rss_file) as fh:
        peak = int(fh.read())

    return dict(build_s=py_build_s + max(0.0, binary_s - sim_s), sim_s=sim_s,
                compile_s=compile_s, codegen_s=codegen_s, binary_wall_s=binary_s,
                spikes=int(mon.num_spikes), n_synapses=n_syn,
                threads_used=args.threads, peak_rss_bytes=peak)


def main(argv=None) -> int:
    args = C.parse_args("Brian2", ("runtime", "cpp_standalone"), argv)
    restore = C.quiet_stdout()
    try:
        import brian2 as b2
        import numpy as np
        b2.BrianLogger.log_level_warn()
        if args.mode == "runtime":
            res = run_runtime(b2, args)
        else:
            res = run_standalone(b2, args)
    finally:
        restore()

    spikes = res.pop("spikes")
    out = {"tool": "brian2", "version": b2.__version__, "mode": args.mode,
           "n": args.n, "threads": args.threads, "seed": args.seed,
           "duration": args.duration, "indegree": args.indegree,
           "build_s": res.pop("build_s"), "sim_s": res.pop("sim_s"),
           "rate_hz": spikes / (args.n * args.duration), "spikes": spikes,
           "n_synapses": res.pop("n_synapses"),
           "events": spikes * args.indegree,
           "peak_rss_bytes": res.pop("peak_rss_bytes"),
           "numpy": np.__version__}
    out.update(res)
    C.emit(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
