"""Turn a validated :class:`RunConfig` into a :class:`Network` of flat arrays.

Layout (all global, populations laid end to end in config order):

- synapses as CSR grouped by ``(source, delay slot)``: ``indptr`` has
  ``n_neurons * n_slots + 1`` entries, where slot ``k`` holds the synapses of
  delay ``dmin + k`` steps; ``targets`` (int32) are flat indices
  ``receptor * n_neurons + post`` into the synaptic state; ``weights`` are in the engine's internal unit
  (volts for current-based targets, siemens for conductance-based ones).
  Nothing per synapse is stored beyond target and weight: 8 bytes per
  synapse in float32.
- neuron state: ``v`` (N), the state rows ``syn`` (R, N): the excitatory and
  inhibitory receptors' synaptic state first, then what else the network's
  models keep per neuron (``alif``'s adaptation, ``lif_discrete``'s
  refractory count), and ``refractory`` (N, int32): the steps each neuron is
  still held at reset (0: none);
- neuron parameters: constants per population or draws per neuron, in
  parameter groups (:mod:`neurosim.network.parameters`).

Construction runs each projection's rule twice (count, then fill; a third,
cheaper pass first finds the delay range when delays are random) so no
temporary copy of the synapses is ever held.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from neurosim import seeds
from neurosim.errors import ConfigError
from neurosim.models import RECEPTORS, NeuronModel, get_model
from neurosim.network import connectivity as conn
from neurosim.network.grid import grid_positions
from neurosim.network.memory import check_fits, trace_bytes
from neurosim.network.parameters import ParameterGroups, draw_parameters, parameter_groups
from neurosim.network.partition import Partition
from neurosim.network.plasticity import Plasticity, build_plasticity
from neurosim.network.random import CONSTANT, LOGNORMAL, NORMAL, RANDOM_SIGN, UNIFORM
from neurosim.units import to_steps

#: The coordinates of neurons not on a grid (rules other than ``distance``).
_NOWHERE = np.zeros((0, 3))

_DIST_CODES = {"constant": CONSTANT, "uniform": UNIFORM, "normal": NORMAL, "lognormal": LOGNORMAL,
               "random_sign": RANDOM_SIGN}


@dataclass
class PopulationSlice:
    """One population's place in the global arrays.

    ``params`` holds SI floats, or an array of one value per neuron for a
    parameter drawn per neuron.
    """

    name: str
    model: NeuronModel
    start: int
    size: int
    params: dict

    @property
    def stop(self) -> int:
        return self.start + self.size


@dataclass
class ProjectionInfo:
    """What the counters need to know about one projection."""

    name: str
    source: str
    target: str
    receptor: int
    n_synapses: int
    #: synapses per source neuron (for synaptic-event counters)
    outdegree: np.ndarray
    #: engine units per unit of the config's weight (the target model's conversion)
    weight_factor: float = 1.0


@dataclass
class Network:
    """A built network: connectivity, initial state and model tables."""

    dt: float
    dtype: np.dtype
    populations: list[PopulationSlice]
    projections: list[ProjectionInfo]
    indptr: np.ndarray
    targets: np.ndarray
    weights: np.ndarray
    dmin: int
    n_slots: int
    v: np.ndarray
    syn: np.ndarray
    refractory: np.ndarray
    groups: ParameterGroups
    build_seconds: float = 0.0
    #: The plastic synapses and their rules, if any projection is plastic.
    plasticity: Plasticity | None = None
    #: In a distributed run, the neurons this process holds (:mod:`~neurosim.network.partition`):
    #: ``v``, ``syn`` and ``refractory`` are theirs, and ``targets`` index them
    #: (``receptor * n_local + local``); populations, rows and spikes stay global.
    partition: Partition | None = None

    @property
    def n_neurons(self) -> int:
        return self.v.size if self.partition is None else self.partition.n_total

    @property
    def n_local(self) -> int:
        """Neurons whose state this process holds (all of them outside a distributed run)."""
        return self.v.size

    @property
    def n_synapses(self) -> int:
        return int(self.targets.size)

    @property
    def max_delay(self) -> int:
        return self.dmin + self.n_slots - 1

    def population(self, name: str) -> PopulationSlice:
        for pop in self.populations:
            if pop.name == name:
                return pop
        raise ConfigError(f"unknown population '{name}'")

    def synapses(self, projection: str | None = None) -> dict[str, np.ndarray]:
        """All synapses (or one projection's) as arrays, for inspection.

        Returns ``pre``/``post`` (indices local to their populations),
        ``receptor`` (0 exc, 1 inh), ``weight`` (engine units) and ``delay``
        (steps).  A projection is selected by its source, target and receptor,
        so two projections sharing all three are returned together.
        """
        rows = np.repeat(np.arange(self.indptr.size - 1), np.diff(self.indptr))
        pre, slot = np.divmod(rows, self.n_slots)
        receptor, post = np.divmod(self.targets.astype(np.int64), self.n_local)
        if self.partition is not None:
            post = self.partition.to_global(post)
        out = {"pre": pre, "post": post, "receptor": receptor, "weight": self.weights,
               "delay": slot + self.dmin}
        if projection is None:
            return out
        keep = self.synapse_positions(projection, out)
        info = self.projection(projection)
        out = {k: v[keep] for k, v in out.items()}
        out["pre"] = out["pre"] - self.population(info.source).start
        out["post"] = out["post"] - self.population(info.target).start
        return out

    def projection(self, name: str) -> ProjectionInfo:
        info = next((p for p in self.projections if p.name == name), None)
        if info is None:
            raise ConfigError(f"unknown projection '{name}'")
        return info

    def synapse_positions(self, projection: str, synapses: dict | None = None) -> np.ndarray:
        """Where a projection's synapses lie in ``targets``/``weights`` (by its
        source, target and receptor; ``synapses`` is :meth:`synapses` if at hand)."""
        info = self.projection(projection)
        syn = self.synapses() if synapses is None else synapses
        src, tgt = self.population(info.source), self.population(info.target)
        pre, post = syn["pre"], syn["post"]
        return np.flatnonzero((pre >= src.start) & (pre < src.stop) & (post >= tgt.start)
                              & (post < tgt.stop) & (syn["receptor"] == info.receptor))

    def nbytes(self) -> int:
        """Bytes held by the connectivity and state arrays."""
        arrays = (self.indptr, self.targets, self.weights, self.v, self.syn, self.refractory)
        return int(sum(a.nbytes for a in arrays))


def dist_tuple(value, scale: float = 1.0) -> tuple[float, ...]:
    """``(code, a, b, lo, hi)`` of a config value, its numbers times ``scale``.

    The lognormal ``sigma`` (``b``) is dimensionless and left alone.
    """
    lo, hi = value.clip_bounds()
    code = _DIST_CODES[value.dist]
    a, b = value.dist_args()
    b_scale = 1.0 if code == LOGNORMAL else scale
    bounds = sorted((lo * scale, hi * scale))
    return (float(code), a * scale, b * b_scale, bounds[0], bounds[1])


def _expected_synapses(rule: str, connect, n_pre: int, n_post: int) -> float:
    if rule == "all_to_all":
        return n_pre * n_post
    if rule == "one_to_one":
        return min(n_pre, n_post)
    if rule == "fixed_probability":
        return connect.p * n_pre * n_post
    if rule == "fixed_indegree":
        return connect.k * n_post
    if rule == "fixed_outdegree":
        return connect.k * n_pre
    if rule == "distance":  # an upper bound: C for every pair
        return connect.C * n_pre * n_post
    return len(connect.pre)


@dataclass(frozen=True)
class NetworkFootprint:
    """The memory a network config will take, estimated from the config alone."""

    name: str
    neurons: int
    #: Expected synapses (an upper bound for rule ``distance``: ``C`` for every pair).
    synapses: float
    #: Peak bytes of building the network, without its traces.
    network: int
    #: Peak bytes of its state traces (:func:`~neurosim.network.memory.trace_bytes`).
    traces: int

    @property
    def total(self) -> int:
        return self.network + self.traces

    def describe(self) -> str:
        return f"network '{self.name}' ({self.neurons} neurons, ~{self.synapses:.3g} synapses)"

    def check(self, limit: int | None = None) -> None:
        """One :class:`~neurosim.errors.ResourceError` if it does not fit in memory."""
        if self.traces > self.network:
            check_fits(self.total, f"{self.describe()} with its traces "
                       f"({self.traces / 2**30:.3g} GiB of them)", limit,
                       remedy="trace fewer neurons, at a longer interval or for less time, "
                       "or keep the recordings on disk (record.store: disk)")
        check_fits(self.total, self.describe(), limit)


def network_footprint(cfg, dtype: np.dtype) -> NetworkFootprint:
    """Estimate what building and running ``cfg`` needs, drawing nothing.

    Final arrays plus the scratch that construction needs at its peak; the
    delay-dependent part (synapse rows, spike ring) is checked once the
    delays are drawn.
    """
    sizes = {name: cfg.population_size(name) for name in cfg.populations}
    neurons = sum(sizes.values())
    synapses = sum(_expected_synapses(p.connect.rule, p.connect, sizes[p.source], sizes[p.target])
                   for p in cfg.projections.values())
    rows = max([len(RECEPTORS)] + [get_model(p.model).state_rows
                                   for p in cfg.populations.values()])
    itemsize = dtype.itemsize
    placed = sum(sizes[name] for grid in cfg.grids.values() for name in grid.populations)
    # Grid points: coordinates, their shuffled copy and each population's (3 float64 each).
    network = (int(synapses * 1.05 * (4 + itemsize)) + neurons * ((1 + rows) * itemsize + 4 + 64)
               + placed * 3 * 3 * 8)
    return NetworkFootprint(cfg.name, neurons, synapses, network,
                            trace_bytes(cfg, 1 + rows, itemsize, neurons))


def build_network(cfg, dtype: np.dtype | None = None, memory_limit: int | None = None,
                  ranks: tuple[int, int] | None = None) -> Network:
    """Build the network a config describes (deterministic for its seed).

    ``ranks`` ``(rank, ranks)``: build one process's share of a distributed
    run (:class:`Network.partition`), the synapses onto its neurons only.
    """
    t0 = time.perf_counter()
    dtype = np.dtype(dtype or cfg.precision)
    dt = cfg.dt
    footprint = network_footprint(cfg, dtype)
    if 2 * footprint.neurons >= 2**31:
        raise ConfigError(f"{footprint.neurons:,} neurons: at most {2**30 - 1:,} are supported "
                          "(synapse targets are 32-bit)")
    footprint.check(memory_limit)
    pops: list[PopulationSlice] = []
    start = 0
    for index, (name, spec) in enumerate(cfg.populations.items()):
        size = cfg.population_size(name)
        model = get_model(spec.model)
        params = draw_parameters(name, model, spec.params, size,
                                 seeds.stream(cfg.seed, seeds.NEURON_PARAMETERS, index))
        pops.append(PopulationSlice(name, model, start, size, params))
        start += size
    n_neurons = start
    partition = None if ranks is None else Partition(ranks[0], ranks[1], n_neurons)
    rank, n_ranks = (0, 1) if partition is None else ranks
    by_name = {p.name: p for p in pops}
    for pop in pops:
        times = pop.params.get("times", []) if pop.model.name == "spike_generator" else []
        if len(times) and to_steps(np.min(times), dt) < 1:
            raise ConfigError(f"populations.{pop.name}.params.times: spike times must be at "
                              f"least dt ({dt:g} s): a spike is stamped at the end of its step")

    positions = grid_positions(cfg)
    plans = []
    for k, (name, proj) in enumerate(cfg.projections.items()):
        plans.append(_plan_projection(name, proj, by_name, n_neurons, dt,
                                      seeds.stream(cfg.seed, seeds.CONNECTIVITY, k), positions))

    dmin, dmax = _delay_range(plans)
    n_slots = dmax - dmin + 1
    n_rows = n_neurons * n_slots
    # indptr and cursors (8 B each per row) and the engine's spike history
    # ring (4 B per neuron per step of the longest delay).
    check_fits(footprint.total + 16 * n_rows + 4 * n_neurons * (dmax + 1),
               f"network '{cfg.name}' with delays up to {dmax} steps", memory_limit)

    # Filling in (receptor, target population) order keeps rows sorted by target.
    order = sorted(range(len(plans)), key=lambda i: (plans[i]["receptor"], plans[i]["post0"]))
    cursor = np.zeros(n_rows, dtype=np.int64)
    empty_targets = np.empty(0, dtype=np.int32)
    empty_weights = np.empty(0, dtype=dtype)
    outdegrees = {}
    for i in order:
        outdegrees[i] = np.zeros(plans[i]["pre"].size, dtype=np.int64)
        _run_pass(plans[i], conn.COUNT, dmin, n_slots, cursor, empty_targets, empty_weights,
                  outdegree=outdegrees[i], rank=rank, n_ranks=n_ranks)

    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(cursor, out=indptr[1:])
    n_syn = int(indptr[-1])
    targets = np.empty(n_syn, dtype=np.int32)
    weights = np.empty(n_syn, dtype=dtype)
    cursor[:] = indptr[:-1]
    for i in order:
        _run_pass(plans[i], conn.FILL, dmin, n_slots, cursor, targets, weights, rank=rank,
                  n_ranks=n_ranks)
    del cursor
    conn.sort_unsorted_rows(indptr, targets, weights)

    projections = [
        ProjectionInfo(p["name"], p["pre"].name, p["post"].name, p["receptor"],
                       int(outdegrees[i].sum(dtype=np.int64)), outdegrees[i], p["factor"])
        for i, p in enumerate(plans)
    ]
    rows = max([len(RECEPTORS)] + [p.model.state_rows for p in pops])
    v, syn, refractory = _initial_state(cfg, pops, n_neurons, rows, dtype,
                                        seeds.stream(cfg.seed, seeds.INITIAL_STATE))
    if partition is not None:  # drawn for all, kept for its own: the same draws as one process
        own = partition.owned()
        v, syn, refractory = v[own], syn[:, own], refractory[own]
    net = Network(dt=dt, dtype=dtype, populations=pops, projections=projections, indptr=indptr,
                  targets=targets, weights=weights, dmin=dmin, n_slots=n_slots, v=v, syn=syn,
                  refractory=refractory, groups=parameter_groups(pops), partition=partition)
    net.plasticity = build_plasticity(net, cfg)
    net.build_seconds = time.perf_counter() - t0
    return net


def _plan_projection(name, proj, by_name, n_total, dt, seed_seq, positions) -> dict:
    """Everything the compiled passes need for one projection.

    The config has already checked references, partner counts and indices
    against the scaled sizes (``RunConfig``'s run-level checks).
    """
    pre = by_name[proj.source]
    post = by_name[proj.target]
    path = f"projections.{name}"
    rule = proj.connect.rule
    connect = proj.connect
    same = pre.name == post.name
    if rule == "arrays":
        pre_idx = np.asarray(connect.pre, dtype=np.int64)
        post_idx = np.asarray(connect.post, dtype=np.int64)
    else:
        pre_idx = post_idx = np.empty(0, dtype=np.int64)

    try:
        factor = np.unique(post.model.weight_factor(post.params, proj.weight.dim))
    except ConfigError as err:
        raise ConfigError(f"{path}.weight: {err}") from None
    if factor.size > 1:
        raise ConfigError(f"{path}.weight: a weight in {proj.weight.dim} onto population "
                          f"'{post.name}' converts with its per-neuron parameters; give it in "
                          f"{' or '.join(d for d in post.model.weight_dims if d != proj.weight.dim)} "
                          "or make those parameters constants")
    factor = float(factor[0])
    wdist = dist_tuple(proj.weight, factor)
    if proj.delay is None or proj.delay.is_constant:
        delay = dt if proj.delay is None else proj.delay.constant
        steps = float(max(1, int(to_steps(delay, dt))))
        ddist = (float(CONSTANT), steps, steps, -np.inf, np.inf)
    else:
        ddist = dist_tuple(proj.delay, 1.0 / dt)
    arr_w = np.empty(0, dtype=np.float64)
    arr_d = np.empty(0, dtype=np.float64)
    if rule == "arrays" and connect.weight is not None:
        arr_w = np.asarray(connect.weight_values(), dtype=np.float64) * factor
    if rule == "arrays" and connect.delay is not None:
        arr_d = np.maximum(1, to_steps(connect.delay_values(), dt)).astype(np.float64)
    receptor = 0 if proj.receptor == "exc" else 1
    return {
        "name": name, "pre": pre, "post": post, "receptor": receptor, "n_total": n_total,
        "factor": factor, "lam": float(getattr(connect, "lam", 1.0)),
        "pre_xyz": positions.get(pre.name, _NOWHERE) if rule == "distance" else _NOWHERE,
        "post_xyz": positions.get(post.name, _NOWHERE) if rule == "distance" else _NOWHERE,
        "post0": post.start, "rule": conn.RULE_CODES[rule],
        "p": float(getattr(connect, "p", getattr(connect, "C", 0.0))), "k": int(getattr(connect, "k", 0)),
        "same": same, "autapses": bool(connect.autapses), "multapses": bool(connect.multapses),
        "arr_pre": pre_idx, "arr_post": post_idx, "arr_w": arr_w, "arr_d": arr_d,
        "seed": int(seed_seq.generate_state(1, dtype=np.uint64)[0]),
        "wdist": wdist, "ddist": ddist,
    }


def _run_pass(plan, mode, dmin, n_slots, cursor, targets, weights, delay_range=None,
              outdegree=None, rank=0, n_ranks=1):
    if delay_range is None:
        delay_range = np.zeros(2, dtype=np.int64)
    if outdegree is None:
        outdegree = np.zeros(0, dtype=np.int64)
    conn.enumerate_synapses(
        mode, plan["rule"], plan["pre"].size, plan["post"].size, plan["p"], plan["k"],
        plan["same"], plan["autapses"], plan["multapses"], plan["arr_pre"], plan["arr_post"],
        plan["arr_w"], plan["arr_d"], np.uint64(plan["seed"]), plan["wdist"], plan["ddist"],
        dmin, n_slots, plan["pre"].start, plan["post"].start, plan["receptor"], plan["n_total"],
        cursor, outdegree, delay_range, targets, weights, plan["lam"], plan["pre_xyz"],
        plan["post_xyz"], rank, n_ranks)


def _delay_range(plans) -> tuple[int, int]:
    """Smallest and largest delay in steps over all synapses (at least 1)."""
    lo, hi = np.iinfo(np.int64).max, 1
    for plan in plans:
        d = plan["ddist"]
        if d[0] == CONSTANT and not plan["arr_d"].size:
            lo, hi = min(lo, int(d[1])), max(hi, int(d[1]))
            continue
        rng = np.array([np.iinfo(np.int64).max, 0], dtype=np.int64)
        _run_pass(plan, conn.RANGE, 1, 1, np.zeros(1, dtype=np.int64),
                  np.empty(0, dtype=np.int32), np.empty(0), rng)
        lo, hi = min(lo, int(rng[0])), max(hi, int(rng[1]))
    if lo > hi:
        lo = hi = 1
    return lo, hi


def _initial_state(cfg, pops, n_neurons, rows, dtype, init_seq):
    v = np.zeros(n_neurons, dtype=dtype)
    syn = np.zeros((rows, n_neurons), dtype=dtype)
    refractory = np.zeros(n_neurons, dtype=np.int32)
    rng = np.random.default_rng(init_seq)
    for pop in pops:
        if pop.model.is_source:
            continue
        spec = cfg.populations[pop.name]
        v[pop.start:pop.stop] = pop.model.resting_potential(pop.params)
        for var, value in spec.initial.items():
            draw = np.asarray(value.sample(rng, pop.size), dtype=np.float64)
            draw = draw * pop.model.state_factor(pop.params, var)
            row = list(pop.model.state).index(var)  # v, then the state rows
            if row == 0:
                v[pop.start:pop.stop] = draw
            else:
                syn[row - 1, pop.start:pop.stop] = draw
    return v, syn, refractory
