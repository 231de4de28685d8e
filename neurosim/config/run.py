"""Run sections of a config: inputs, recording, output, and the run itself.

:class:`RunConfig` is a complete simulation run.  Validation happens in two
passes, both reported with the full key path:

1. each section checks its own fields (types, units, ranges, unknown keys);
2. :class:`RunConfig` checks what needs the whole file: references between
   sections, scaled population sizes, ``dt`` against time constants, and the
   sign and dimension of weights for their target model.

Errors are raised as pydantic ``ValidationError`` whose entries carry the key
path; :mod:`neurosim.config.loader` turns them into one ``ConfigError``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal, Union

import numpy as np
from pydantic import Field, NonNegativeInt, field_validator, model_validator

from neurosim.config.base import (
    INT_LIMIT,
    Current,
    Loc,
    NonNegativeTime,
    PathText,
    PositiveTime,
    SafeName,
    Seed,
    StrictModel,
    _fail,
    name_problem,
    problems_error,
    q,
    range_problems,
)
from neurosim.config.crossbar import CrossbarConfig
from neurosim.config.network import (
    Arrays,
    FixedIndegree,
    FixedOutdegree,
    Grid,
    OneToOne,
    Population,
    Projection,
)
from neurosim.config.values import Constant, QuantityList, Value
from neurosim.models import get_model
from neurosim.models.astrocyte import Astrocyte
from neurosim.units import (MAX_REFRACTORY_STEPS, MAX_STEPS, describe_dim, pretty_quantity,
                            steps_problem)


# ---------------------------------------------------------------------------
# Inputs, recording, output
# ---------------------------------------------------------------------------


class CurrentSource(StrictModel):
    """A step current into every neuron of a population.

    The current is 0 before ``times[0]`` and ``amplitudes[k]`` from
    ``times[k]`` until the next time.
    """

    target: str
    """Neuron population receiving the current."""
    times: list[NonNegativeTime] = Field(min_length=1)
    """Times of the steps, strictly increasing."""
    amplitudes: list[Current] = Field(min_length=1)
    """Current from each time on."""

    @model_validator(mode="after")
    def _steps(self) -> CurrentSource:
        problems: list[tuple[Loc, str]] = []
        if len(self.amplitudes) != len(self.times):
            problems.append((
                ("amplitudes",),
                f"has {len(self.amplitudes)} entries but times has {len(self.times)}",
            ))
        for k in range(1, len(self.times)):
            if self.times[k] <= self.times[k - 1]:
                problems.append((("times", k), "times must be strictly increasing"))
        if problems:
            raise problems_error(problems)
        return self


class Trace(StrictModel):
    """State variables of chosen neurons, sampled at a fixed interval."""

    population: str
    """Population of the neurons."""
    neurons: list[NonNegativeInt] = Field(min_length=1)
    """Indices within the (scaled) population."""
    variables: list[str] = Field(default_factory=lambda: ["v"], min_length=1)
    """State variables to sample."""
    interval: Union[PositiveTime, None] = None
    """Sampling interval, a multiple of dt; ``None`` means every step."""


class Record(StrictModel):
    """What to record during the run."""

    spikes: Union[Literal["all", "none"], list[str]] = "all"
    """``all``, ``none`` or a list of population names."""
    rate_bin: PositiveTime = q("1 ms")
    """Bin width of population rate histograms."""
    traces: dict[str, Trace] = {}
    """Named state recordings."""
    store: Literal["memory", "disk"] = "memory"
    """Where spikes and traces accumulate during the run: ``memory``, or
    ``disk``: each chunk's are appended to files beside the result and
    copied into it at the end, so that a long run's recordings need disk
    space, not RAM (:mod:`neurosim.io.spool`)."""

    @field_validator("spikes", mode="before")
    @classmethod
    def _spike_selection(cls, raw: Any) -> Any:
        # Checked by hand so that a bad value gives one message instead of
        # one per member of the union.
        if raw in ("all", "none"):
            return raw
        if isinstance(raw, list) and all(isinstance(name, str) for name in raw):
            return raw
        raise _fail(f"expected 'all', 'none' or a list of population names, got {raw!r}")


class Output(StrictModel):
    """Where results go."""

    dir: PathText = "results"
    """Directory for the result file, summary and plots."""
    plots: bool = True
    """Whether to draw plots after the run."""


class Energy(StrictModel):
    """Hardware energy estimate printed after the run and stored in the result."""

    hardware: list[str] = Field(min_length=1)
    """Hardware profile names (files in ``hardware/``, e.g. ``loihi``) or ``all``;
    resolved by :mod:`neurosim.energy` before the run starts."""


class Distributed(StrictModel):
    """One network over the ranks of an MPI job (``mpirun -n R neurosim run ...``)."""

    exchange_every: Union[PositiveTime, None] = None
    """Time between spike exchanges, at most the minimum delay (the default;
    plastic networks exchange every step)."""


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------


class RunConfig(StrictModel):
    """A complete simulation run: network, inputs, recording and output."""

    name: SafeName = "run"
    """Run name (the file stem when loaded from a file); the result is ``<output.dir>/<name>.h5``."""
    description: str = ""
    """Free text."""
    seed: Seed = 0
    """Root seed of every random draw."""
    duration: PositiveTime
    """Simulated time."""
    dt: PositiveTime = q("0.1 ms")
    """Time step."""
    backend: str = "cpu"
    """Backend name, resolved by the backend registry."""
    device: Literal["cpu", "cuda"] = "cpu"
    """Where the backend runs: ``cuda`` needs a backend that supports it (``torch``) and a GPU."""
    precision: Literal["float32", "float64"] = "float32"
    """Floating-point type of state and weights."""
    threads: int = Field(default=1, ge=1)
    """CPU threads."""
    scale: float = Field(default=1.0, gt=0)
    """Multiplies every population size (rounded, at least 1); see :attr:`sizes`."""
    populations: dict[str, Population] = Field(min_length=1)
    """Populations by name, in file order."""
    projections: dict[str, Projection] = {}
    """Projections by name."""
    currents: dict[str, CurrentSource] = {}
    """Step current sources by name."""
    record: Record = Record()
    """What to record."""
    output: Output = Output()
    """Where results go."""
    energy: Union[Energy, None] = None
    """Optional hardware energy report (see :class:`Energy`)."""
    crossbar: Union[CrossbarConfig, None] = None
    """Device settings of the ``crossbar`` backend (its defaults when absent)."""
    grids: dict[str, Grid] = {}
    """3-D grids that place populations in space (for ``connect: {rule: distance}``)."""
    astrocytes: dict[str, Astrocyte] = {}
    distributed: Union[Distributed, None] = None
    """Run split over MPI ranks (also ``neurosim run --distributed``)."""
    """Astrocytes that set the depression of plastic projections (:mod:`neurosim.models.astrocyte`)."""

    @property
    def sizes(self) -> dict[str, int]:
        """Size of each population after ``scale``: ``round(size * scale)``, at least 1."""
        # floor(x + 0.5) rounds halves up; Python's round() would round 2.5 to 2.
        # Capped, so that a huge scale gives a size to refuse, not an overflow.
        return {
            name: max(1, math.floor(min(pop.size * self.scale, 2.0**62) + 0.5))
            for name, pop in self.populations.items()
        }

    def population_size(self, name: str) -> int:
        """Size of population ``name`` after ``scale`` (see :attr:`sizes`)."""
        return self.sizes[name]

    @property
    def spike_populations(self) -> list[str]:
        """Names of the populations whose spikes are recorded."""
        if self.record.spikes == "all":
            return list(self.populations)
        if self.record.spikes == "none":
            return []
        return list(self.record.spikes)

    @model_validator(mode="after")
    def _check_run(self) -> RunConfig:
        problems = _RunChecks(self).run()
        if problems:
            raise problems_error(problems)
        return self


def _ends(value: Value | QuantityList | float) -> list[float]:
    """The lowest and highest number a value can take; for an unbounded
    distribution its own numbers (mean and std ...) stand for the scale of its draws."""
    if isinstance(value, float):
        return [value, value]
    lo, hi = value.bounds
    if isinstance(value, Value) and not math.isfinite(lo):
        lo = -max(abs(x) for x in value.dist_args())
    if isinstance(value, Value) and not math.isfinite(hi):
        hi = max(abs(x) for x in value.dist_args())
    return [lo, hi]


class _RunChecks:
    """Checks that need the whole run; collects ``(key path, reason)`` pairs."""

    def __init__(self, cfg: RunConfig) -> None:
        self.cfg = cfg
        self.dt = cfg.dt
        self.sizes = cfg.sizes
        self.found: list[tuple[Loc, str]] = []
        self._groups: dict[str, dict[str, np.ndarray]] = {}
        self.hint = "; or set precision: float64" if cfg.precision == "float32" else ""

    def add(self, loc: Loc, reason: str) -> None:
        self.found.append((loc, reason))

    def run(self) -> list[tuple[Loc, str]]:
        """Run every check; return the problems found."""
        cfg = self.cfg
        self._names()
        self.found += range_problems(cfg, cfg.precision, self.hint)
        total = sum(self.sizes.values())
        if total >= INT_LIMIT:
            scaled = f" after scale {cfg.scale:g}" if cfg.scale != 1 else ""
            self.add(("populations",), f"{total:.3g} neurons{scaled}: neuron indices are int32, "
                                       f"at most {INT_LIMIT - 1:,} neurons")
        if self.found:  # the checks below count steps and sizes with these numbers
            return self.found
        if cfg.duration < self.dt:
            self.add(("duration",), f"{self._t(cfg.duration)} is shorter than dt {self._t(self.dt)}")
        self._steps(("duration",), cfg.duration)
        for name, pop in cfg.populations.items():
            self._population(name, pop)
        for name, proj in cfg.projections.items():
            self._projection(("projections", name), proj)
        for name, source in cfg.currents.items():
            self._neuron_reference(("currents", name, "target"), source.target, "receive a current")
            self._steps(("currents", name, "times", len(source.times) - 1), source.times[-1])
        self._record()
        self._plasticity()
        self._grids()
        if cfg.crossbar is not None and cfg.backend != "crossbar":
            self.add(("crossbar",), f"only the crossbar backend reads this section "
                                    f"(backend is {cfg.backend!r})")
        return self.found

    def _names(self) -> None:
        """Names that become file names or HDF5 groups of the result (see ``name_problem``)."""
        cfg = self.cfg
        sections = {("populations",): cfg.populations, ("projections",): cfg.projections,
                    ("currents",): cfg.currents, ("grids",): cfg.grids,
                    ("astrocytes",): cfg.astrocytes, ("record", "traces"): cfg.record.traces}
        for loc, named in sections.items():
            for name in named:
                problem = name_problem(name)
                if problem:
                    self.add(loc + (name,), f"not usable as a name: {problem}")

    def _steps(self, loc: Loc, t: float, limit: int = MAX_STEPS) -> bool:
        """Report a time that cannot be counted in steps of dt; True if it can."""
        problem = steps_problem(t, self.dt, limit)
        if problem:
            self.add(loc, problem)
        return problem is None

    def grid_of(self) -> dict[str, str]:
        """The grid each placed population lies on."""
        return {pop: name for name, grid in self.cfg.grids.items() for pop in grid.populations}

    def _grids(self) -> None:
        cfg = self.cfg
        seen: dict[str, str] = {}
        for name, grid in cfg.grids.items():
            loc = ("grids", name)
            known = [p for k, p in enumerate(grid.populations)
                     if self._population_reference(loc + ("populations", k), p)]
            for k, pop in enumerate(grid.populations):
                if pop in seen:
                    self.add(loc + ("populations", k), f"population {pop!r} is already on grid "
                                                       f"{seen[pop]!r}")
                seen.setdefault(pop, name)
            points = math.prod(grid.shape)  # Python ints: np.prod would wrap around
            total = sum(self.sizes[p] for p in known)
            if len(known) == len(grid.populations) and total != points:
                scaled = f" after scale {cfg.scale:g}" if cfg.scale != 1 else ""
                self.add(loc + ("shape",), f"{'x'.join(map(str, grid.shape))} = {points} points, "
                                           f"but the populations hold {total} neurons{scaled}")
        placed = self.grid_of()
        for name, proj in cfg.projections.items():
            if proj.connect.rule != "distance":
                continue
            grids = {placed.get(proj.source), placed.get(proj.target)}
            if None in grids or len(grids) > 1:
                self.add(("projections", name, "connect"),
                         "rule 'distance' needs source and target on one grid (grids: section); "
                         f"{proj.source!r} is on {placed.get(proj.source) or 'none'}, "
                         f"{proj.target!r} on {placed.get(proj.target) or 'none'}")

    def _plasticity(self) -> None:
        cfg = self.cfg
        pathways: dict[tuple, list[str]] = {}
        for name, proj in cfg.projections.items():
            pathways.setdefault((proj.source, proj.target, proj.receptor), []).append(name)
        for name, proj in cfg.projections.items():
            others = [o for o in pathways[(proj.source, proj.target, proj.receptor)] if o != name]
            if proj.plasticity is not None and others:
                # The engine tells a projection's synapses apart by this triple.
                self.add(("projections", name, "plasticity"),
                         f"projection(s) {', '.join(others)} share its source, target and "
                         "receptor; merge them into one plastic projection")
        modulated: dict[str, str] = {}
        for name, astro in cfg.astrocytes.items():
            loc = ("astrocytes", name)
            for key in ("excite", "inhibit"):
                for k, pop in enumerate(getattr(astro, key)):
                    self._population_reference(loc + (key, k), pop)
            for k, proj in enumerate(astro.modulates):
                where = loc + ("modulates", k)
                if proj not in cfg.projections:
                    self.add(where, f"unknown projection {proj!r} "
                                    f"(projections: {', '.join(cfg.projections) or 'none'})")
                elif cfg.projections[proj].plasticity is None:
                    self.add(where, f"projection {proj!r} has no plasticity to modulate")
                elif cfg.projections[proj].weight.dim != astro.dim:
                    self.add(where, f"projection {proj!r} has {describe_dim(cfg.projections[proj].weight.dim)} "
                                    f"weights but w, b and initial are {describe_dim(astro.dim)}")
                elif proj in modulated:
                    self.add(where, f"projection {proj!r} is already modulated by astrocyte "
                                    f"{modulated[proj]!r}")
                else:
                    modulated[proj] = name

    # -- helpers --------------------------------------------------------

    @staticmethod
    def _t(seconds: float) -> str:
        return pretty_quantity(seconds, "s")

    def _size_text(self, name: str) -> str:
        n = self.sizes[name]
        scaled = f" after scale {self.cfg.scale:g}" if self.cfg.scale != 1 else ""
        return f"population '{name}' ({n} neuron{'' if n == 1 else 's'}{scaled})"

    def _population_reference(self, loc: Loc, name: str) -> bool:
        if name in self.cfg.populations:
            return True
        known = ", ".join(self.cfg.populations)
        self.add(loc, f"unknown population {name!r} (populations: {known})")
        return False

    def _neuron_reference(self, loc: Loc, name: str, what: str) -> bool:
        if not self._population_reference(loc, name):
            return False
        model = self.cfg.populations[name].model
        if get_model(model).is_source:
            self.add(loc, f"population {name!r} is a {model} generator and cannot {what}")
            return False
        return True

    def _indices(self, loc: Loc, indices: Sequence[int], name: str) -> None:
        """Report the first index outside the (scaled) population, if any."""
        n = self.sizes[name]
        bad = np.flatnonzero(np.asarray(indices, dtype=np.int64) >= n)
        if bad.size:
            more = f" (and {bad.size - 1} more)" if bad.size > 1 else ""
            self.add(loc + (int(bad[0]),),
                     f"index {indices[bad[0]]} is outside {self._size_text(name)}{more}")

    # -- sections -------------------------------------------------------

    def _population(self, name: str, pop: Population) -> None:
        loc: Loc = ("populations", name, "params")
        if pop.model == "spike_generator":
            self._indices(loc + ("indices",), pop.params["indices"], name)
            times = pop.params["times"]
            if times:
                last = int(np.argmax(times))
                self._steps(loc + ("times", last), times[last])
        if pop.model == "poisson":
            # Each train may spike many times per step; the driver lists every spike.
            spikes = self.sizes[name] * _ends(pop.params["rate"])[1] * self.cfg.duration
            if spikes >= INT_LIMIT:
                self.add(loc + ("rate",), f"{self._size_text(name)} would send {spikes:.3g} "
                                          f"spikes in {self._t(self.cfg.duration)}; at most "
                                          f"{INT_LIMIT - 1:,}")
        t_ref = pop.params.get("t_ref")  # counted in steps (NeuronModel.refractory_steps)
        if t_ref is not None:
            self._steps(loc + ("t_ref",), _ends(t_ref)[1], MAX_REFRACTORY_STEPS)
        model = get_model(pop.model)
        for tau in model.time_constants:
            value = pop.params[tau]
            shortest = value.bounds[0] if isinstance(value, Value) else value
            if shortest < self.dt:
                self.add(loc + (tau,),
                         f"{self._t(shortest)} is shorter than dt {self._t(self.dt)}")
        if not model.is_source:
            self._propagators(loc, name, model)

    def _extremes(self, name: str) -> dict[str, np.ndarray]:
        """A population's parameters as two groups: every one at its lowest, then its highest."""
        if name not in self._groups:
            self._groups[name] = {
                key: np.array(_ends(value) if isinstance(value, (Value, float)) else [value] * 2)
                for key, value in self.cfg.populations[name].params.items()}
        return self._groups[name]

    def _out_of_range(self, values: np.ndarray) -> np.ndarray:
        """Which values the run's precision cannot hold (non-finite ones included)."""
        limit = float(np.finfo(self.cfg.precision).max)
        with np.errstate(invalid="ignore"):
            return ~(np.abs(values) <= limit)

    def _propagators(self, loc: Loc, name: str, model) -> None:
        """The per-step numbers the kernels read must be finite in the run's precision.

        Each parameter may be in range and their combination not (``tau_m /
        C_m`` times ``I_e``); the table is tried at the parameters' extremes
        and at the extremes of the step currents into the population.
        """
        p = self._extremes(name)
        amplitudes = [a for c in self.cfg.currents.values() if c.target == name for a in c.amplitudes]
        extra = np.array([0.0, *amplitudes])
        groups = {key: np.repeat(values, extra.size) for key, values in p.items()}
        try:
            with np.errstate(all="ignore"):
                table = model.discretise(groups, self.dt, np.tile(extra, 2))
        except (OverflowError, ZeroDivisionError) as err:
            self.add(loc, f"the parameters of population {name!r} overflow its update "
                          f"at dt {self._t(self.dt)} ({err})")
            return
        bad = np.flatnonzero(self._out_of_range(table).any(axis=0))
        if bad.size:
            columns = ", ".join(model.propagators[k] for k in bad)
            self.add(loc, f"the parameters of population {name!r} give its update numbers "
                          f"({columns}) beyond the {self.cfg.precision} range at dt "
                          f"{self._t(self.dt)}; check their magnitudes{self.hint}")
            return
        # A number that becomes 0 in the kernels can be a divisor there (lif_cond_exp's
        # total conductance, once g_leak = C_m / tau_m is gone); their fast maths
        # flushes subnormal numbers to 0 as well.
        tiny = float(np.finfo(self.cfg.precision).tiny)
        flushed = (table != 0) & (np.abs(table) < tiny)
        bad = np.flatnonzero(flushed.any(axis=0))
        if bad.size:
            columns = ", ".join(model.propagators[k] for k in bad)
            self.add(loc, f"the parameters of population {name!r} give update numbers "
                          f"({columns}) too small for {self.cfg.precision}: they would be 0 "
                          f"at dt {self._t(self.dt)}; check their magnitudes{self.hint}")

    def _projection(self, base: Loc, proj: Projection) -> None:
        known_source = self._population_reference(base + ("source",), proj.source)
        if not self._neuron_reference(base + ("target",), proj.target, "receive synapses"):
            return
        for loc, weight in proj.quantities("weight"):
            self._weight(base + loc, proj, weight)
        for loc, delay in proj.quantities("delay"):
            shortest = delay.bounds[0]
            if shortest < self.dt * (1 - 1e-9):
                fix = "" if isinstance(delay, (Constant, QuantityList)) else (
                    f" (clip the distribution, e.g. clip: [{self._t(self.dt)}, null])")
                self.add(base + loc, f"delays must be at least dt {self._t(self.dt)} (one step), "
                                     f"got {self._t(shortest)}{fix}")
            self._steps(base + loc, _ends(delay)[1])
        if known_source:
            self._connect(base + ("connect",), proj)

    def _weight(self, loc: Loc, proj: Projection, weight: Value | QuantityList) -> None:
        """Dimension and sign of a weight for its target model.

        The sign rule: every value a weight can take must have the sign the
        target needs. For a distribution that means its range after clip, so
        an unclipped normal (unbounded) is rejected; clip it on the wrong
        side (``clip: [0 nS, null]``) to make it acceptable.
        """
        target = proj.target
        model = self.cfg.populations[target].model
        allowed = get_model(model).weight_dims
        if weight.dim not in allowed:
            expected = " or ".join(describe_dim(d) for d in allowed)
            self.add(loc, f"a weight onto {model} population {target!r} must be {expected}, "
                          f"got {describe_dim(weight.dim)}")
            return
        factor = get_model(model).weight_factor(self._extremes(target), weight.dim)
        ends = np.multiply.outer(_ends(weight), np.atleast_1d(factor))
        if self._out_of_range(ends).any():
            self.add(loc, f"weights up to {pretty_quantity(max(np.abs(_ends(weight))), weight.dim)} "
                          f"onto population {target!r} are beyond the {self.cfg.precision} "
                          f"range in the kernels' units{self.hint}")
            return
        nonnegative, why = get_model(model).weight_sign(proj.receptor)
        if nonnegative is None:
            return
        lo, hi = weight.bounds
        if (lo >= 0) if nonnegative else (hi <= 0):
            return
        wrong = lo if nonnegative else hi
        shown = f"{wrong:+g}" if math.isinf(wrong) else pretty_quantity(wrong, weight.dim)
        if isinstance(weight, Constant):
            self.add(loc, f"{why}, got {shown}")
        elif isinstance(weight, QuantityList):
            self.add(loc, f"{why}, got an entry of {shown}")
        else:
            side, fix = (("down to", f"[0 {weight.dim}, null]") if nonnegative
                         else ("up to", f"[null, 0 {weight.dim}]"))
            self.add(loc, f"{why}, but this {weight.dist} distribution can give values "
                          f"{side} {shown} (clip it, e.g. clip: {fix})")

    def _connect(self, loc: Loc, proj: Projection) -> None:
        rule = proj.connect
        src, tgt = proj.source, proj.target
        if isinstance(rule, OneToOne) and self.sizes[src] != self.sizes[tgt]:
            self.add(loc + ("rule",), f"one_to_one needs equal sizes: {self._size_text(src)} "
                                      f"vs {self._size_text(tgt)}")
        elif isinstance(rule, (FixedIndegree, FixedOutdegree)):
            # Partners of a target are the sources (in-degree) and vice versa.
            partner = src if isinstance(rule, FixedIndegree) else tgt
            available = self.sizes[partner] - (0 if rule.autapses or src != tgt else 1)
            if rule.k > available and (not rule.multapses or available == 0):
                why = "without multapses" if available else "(no partner neuron at all)"
                self.add(loc + ("k",), f"k = {rule.k} exceeds the {available} possible partners in "
                                       f"{self._size_text(partner)} {why}")
        elif isinstance(rule, Arrays):
            self._indices(loc + ("pre",), rule.pre, src)
            self._indices(loc + ("post",), rule.post, tgt)

    def _record(self) -> None:
        record = self.cfg.record
        self._multiple(("record", "rate_bin"), record.rate_bin)
        if isinstance(record.spikes, list):
            for i, name in enumerate(record.spikes):
                self._population_reference(("record", "spikes", i), name)
        for name, trace in record.traces.items():
            base: Loc = ("record", "traces", name)
            if not self._population_reference(base + ("population",), trace.population):
                continue
            self._indices(base + ("neurons",), trace.neurons, trace.population)
            model = self.cfg.populations[trace.population].model
            states = get_model(model).state
            for i, var in enumerate(trace.variables):
                if var not in states:
                    known = ", ".join(states) or "none: generators have no state"
                    self.add(base + ("variables", i), f"{var!r} is not a state variable of "
                                                      f"model {model} (state variables: {known})")
            if trace.interval is not None:
                self._multiple(base + ("interval",), trace.interval)

    def _multiple(self, loc: Loc, t: float) -> None:
        """A time the driver counts in whole steps: a multiple of dt that fits."""
        if not self._steps(loc, t):
            return
        ratio = t / self.dt
        steps = round(ratio)
        if steps < 1 or abs(ratio - steps) > 1e-9 * ratio:
            self.add(loc, f"{self._t(t)} is not a multiple of dt {self._t(self.dt)}")

