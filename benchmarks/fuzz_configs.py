"""Fuzzed configs of every task through ``neurosim run``: each case must run or stop cleanly.

Hypothesis generates the cases: a built-in config made tiny (a few samples
of a generated data set, milliseconds of simulation), then mutated at
random keys (deleted, replaced by values of another type, NaN, inf, huge or
negative numbers, unit typos, deep junk, unknown keys), or its YAML text
mutated (tags, anchor bombs, bytes that are not UTF-8, truncation).  A case
passes when the run

- exits 0 with a result file that reads back and holds no NaN or inf, or
- exits 2 with its first stderr line ``error: ...``, leaving no file behind,

and fails as a traceback (an exception out of the command), a hang (no end
within ``--timeout``), a partial file, a NaN result or another exit status.
Cases run in a worker process (restarted after a hang) with the memory the
guard may count on capped by ``NEUROSIM_MEMORY_LIMIT``:

    python benchmarks/fuzz_configs.py --cases 10000 [--seed 0] [--out benchmarks/results/fuzz.json]
    python benchmarks/fuzz_configs.py --cases 10000 --first 3500 --out ...  # the rest of that run

``--first N`` continues a stopped run: the same seeded sequence of
``--cases`` cases is generated, and cases ``0..N-1`` are drawn but not run
(Hypothesis's generation depends on ``max_examples``, so ``--cases`` stays
the length of the whole sequence, not the number of cases left).

tests/config/test_fuzz.py runs a fixed subset of the same cases.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import math
import multiprocessing
import os
import resource
import sys
import tempfile
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "data"))
from test_fashion_mnist import write_dataset  # noqa: E402

#: Overrides that make each kind of built-in config a run of a second or less.
TINY = {
    "network": ["duration=20 ms"],
    "lsm_classification": ["data.train=8", "data.validation=4", "data.test=4",
                           "protocol.init_samples=4", "readout.epochs=1", "branching.samples=2"],
    "rram_lsm": ["data.train=8", "data.validation=4", "data.test=4", "readout.epochs=1"],
    "train": ["data.train=8", "data.validation=4", "data.test=4", "epochs=1", "batch_size=4",
              "compile=false"],
    "convert": ["data.train=8", "data.test=4", "ann.epochs=1", "ann.batch_size=4",
                "conversion.calibration=4", "conversion.steps=[4]"],
}
#: Memory the guard may count on in a case (the rest of the machine stays usable).
MEMORY_LIMIT = "2GiB"
OUTCOMES = ("ran", "clean_error", "traceback", "hang", "partial_file", "nan_result", "other_exit")


def tiny_bases(data: Path) -> dict[str, dict]:
    """Every built-in config of a task in :data:`TINY`, resolved and made tiny, as plain YAML data.

    A task without a tiny form is left out (``deploy`` reads a trained result
    file that no tiny override provides); leaving it out also keeps the
    sequence of cases of a seed what it was before that task existed.
    """
    from neurosim.config import builtin_configs, dump_config, load_config
    from neurosim.tasks import task_of_config

    bases = {}
    for name in builtin_configs():
        task, _ = task_of_config(load_config(name))
        if task not in TINY:
            continue
        extra = ["scale=0.1"] if name == "cuba_scaled" else []
        if task != "network":
            extra.append(f"data.path={data}")
        cfg = load_config(name, overrides=TINY[task] + extra)
        bases[name] = yaml.safe_load(dump_config(cfg))
    return bases


# -- the cases ----------------------------------------------------------------

def _paths(node, path=()):
    """Every key path of a YAML tree (mappings and lists)."""
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, path + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, path + (i,))


_numbers = st.one_of(
    st.sampled_from([0, -1, 1, 2**31, 2**63, 2**64, 10**400, 1e300, -1e300, 1e-300,
                     math.nan, math.inf, -math.inf, 0.5, -0.0]),
    st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True))
_texts = st.one_of(
    st.sampled_from(["", "10 mss", "5 ms ms", "-5 ms", "1e300 s", "1e-300 s", "nan s", "inf mV",
                     "1 kV", "3 furlongs", "0 s", "..", "../../x", "a/b", "\x00", "all", "none",
                     "lif_exp", "distance", "10 Hz", "1e40 Hz", "100 GOhm", "-1 pF"]),
    st.text(max_size=12))
_junk = st.recursive(st.one_of(st.none(), st.booleans(), _numbers, _texts),
                     lambda inner: st.one_of(st.lists(inner, max_size=4),
                                             st.dictionaries(_texts, inner, max_size=4)),
                     max_leaves=12)


def _deep(depth: int):
    node = "x"
    for _ in range(depth):
        node = {"k": [node]}
    return node


@st.composite
def tree_mutation(draw, tree: dict) -> dict:
    """One change at a random key path of ``tree`` (a deep copy)."""
    tree = copy.deepcopy(tree)
    path = draw(st.sampled_from(list(_paths(tree))[1:]))
    parent = tree
    for part in path[:-1]:
        parent = parent[part]
    key = path[-1]
    kind = draw(st.sampled_from(["delete", "junk", "number", "text", "deep", "unknown", "huge"]))
    if kind == "delete":
        del parent[key]
    elif kind == "unknown" and isinstance(parent[key], dict):
        parent[key][draw(_texts) or "extra"] = draw(_junk)
    elif kind == "deep":
        parent[key] = _deep(draw(st.sampled_from([10, 40])))  # deeper: text mutation "nest"
    elif kind == "huge":
        parent[key] = draw(st.sampled_from([10**9, 10**12, [0] * 100_000, "x" * 1_000_000]))
    else:
        parent[key] = draw({"junk": _junk, "number": _numbers, "text": _texts,
                            "unknown": _junk}[kind])
    return tree


def dump(tree) -> bytes:
    """YAML bytes of a config tree, its key order kept (layers run in order)."""
    return yaml.safe_dump(tree, allow_unicode=True, sort_keys=False, width=1 << 30).encode()


@st.composite
def text_mutation(draw, tree: dict) -> bytes:
    """The YAML text of ``tree`` damaged as a file can be."""
    text = dump(tree)
    kind = draw(st.sampled_from(["truncate", "bytes", "tag", "bomb", "nest", "tab", "duplicate"]))
    if kind == "truncate":
        return text[:draw(st.integers(0, len(text)))]
    if kind == "bytes":
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(st.binary(min_size=1, max_size=8)) + text[at:]
    if kind == "tag":
        tag = draw(st.sampled_from(["!!python/object/apply:os.system ['true']", "!!binary AAAA",
                                    "!!set {a, b}", "!custom x", "!!timestamp 2001-12-14",
                                    "!!float nan", "!!int 0x7fffffffffffffffffff"]))
        first = text.split(b"\n", 1)[0].split(b":", 1)[0]
        return text + b"\n" + first + b": " + tag.encode() + b"\n"
    if kind == "bomb":
        levels = draw(st.integers(3, 12))
        lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
        lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, "
                  f"*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, levels)]
        return text + ("\n".join(lines) + "\n").encode()
    if kind == "nest":  # deeper than any parser's recursion
        depth = draw(st.sampled_from([1000, 100_000]))
        return text + b"deep: " + b"[" * depth + b"]" * depth + b"\n"
    if kind == "tab":
        return text.replace(b"  ", b"\t", 1)
    return text + text.split(b"\n", 1)[0] + b"\n"  # a top-level key given twice


def cases(bases: dict[str, dict]):
    """The strategy of ``(base name, YAML bytes)`` cases."""
    names = sorted(bases)

    @st.composite
    def case(draw):
        name = draw(st.sampled_from(names))
        tree = bases[name]
        for _ in range(draw(st.integers(1, 3))):
            tree = draw(tree_mutation(tree))
        if draw(st.integers(0, 4)) == 0:
            return name, draw(text_mutation(tree))
        return name, dump(tree)

    return case()


# -- running one -----------------------------------------------------------------

@dataclass
class Outcome:
    kind: str
    detail: str = ""
    seconds: float = 0.0


def _non_finite(path: Path) -> str | None:
    """The first dataset or attribute of a result file that holds NaN or inf."""
    import h5py
    import numpy as np

    found = []

    def visit(name, obj):
        values = [(f"{name}@{k}", v) for k, v in obj.attrs.items()]
        if isinstance(obj, h5py.Dataset) and obj.dtype.kind in "fc":
            values.append((name, obj[()]))
        for where, value in values:
            arr = np.asarray(value)
            if arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
                found.append(where)

    with h5py.File(path, "r") as f:
        visit("/", f)
        f.visititems(visit)
    return found[0] if found else None


def run_case(text: bytes, folder: Path) -> Outcome:
    """``neurosim run`` of one case in this process, judged."""
    from neurosim.cli import main
    from neurosim.io import load

    config = folder / "case.yaml"
    config.write_bytes(text)
    out_dir = folder / "out"
    out = out_dir / "result.h5"
    err = io.StringIO()
    t0 = time.perf_counter()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(["run", str(config), "--output", str(out), "--quiet", "--no-plot"])
    except BaseException as exc:  # noqa: BLE001  (what is judged: anything escaping the command)
        return Outcome("traceback", "".join(traceback.format_exception(exc))[-2000:],
                       time.perf_counter() - t0)
    seconds = time.perf_counter() - t0
    left = sorted(p.name for p in out_dir.iterdir()) if out_dir.exists() else []
    message = err.getvalue()
    if code == 2:
        if not message.startswith("error: "):
            return Outcome("other_exit", f"exit 2 without an error line: {message[:500]}", seconds)
        if left:
            return Outcome("partial_file", f"{left} after {message.splitlines()[0]}", seconds)
        return Outcome("clean_error", message.splitlines()[0][:300], seconds)
    if code != 0:
        return Outcome("other_exit", f"exit {code}: {message[:500]}", seconds)
    if left not in (["result.h5"], ["result.ckpt", "result.h5"]):  # training keeps its last epoch
        return Outcome("partial_file", f"a run that succeeded left {left}", seconds)
    try:
        load(out)
    except Exception as exc:  # noqa: BLE001
        return Outcome("partial_file", f"the result does not read back: {exc!r}"[:500], seconds)
    bad = _non_finite(out)
    if bad:
        return Outcome("nan_result", f"non-finite values in {bad}", seconds)
    return Outcome("ran", "", seconds)


#: Address space a worker may map: a case the guard misses fails as a MemoryError
#: traceback instead of taking the machine's memory.
ADDRESS_SPACE = 10 * 2**30


def _serve(conn, limit: str, data: str) -> None:
    os.environ["NEUROSIM_MEMORY_LIMIT"] = limit
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    # A case that deletes its data section reads the small set, not the real
    # one: a full Fashion-MNIST run is long, not hung.
    import neurosim.data.fashion_mnist

    neurosim.data.fashion_mnist.DEFAULT_DIR = Path(data)
    while True:
        try:
            text = conn.recv()
        except EOFError:
            return
        with tempfile.TemporaryDirectory() as folder:
            outcome = run_case(text, Path(folder))
        conn.send((outcome.kind, outcome.detail, outcome.seconds))


@dataclass
class CaseRunner:
    """A worker process running cases one at a time; killed and restarted after a hang."""

    #: Folder of the small data set that cases without a data path read.
    data: str
    timeout: float = 120.0
    limit: str = MEMORY_LIMIT
    _proc: multiprocessing.Process | None = field(default=None, init=False)
    _conn: object = field(default=None, init=False)

    def _start(self) -> None:
        ctx = multiprocessing.get_context("spawn")  # no numba or torch threads forked
        self._conn, child = ctx.Pipe()
        # Not a daemon: a case may start processes of its own (the RRAM LSM does).
        self._proc = ctx.Process(target=_serve, args=(child, self.limit, self.data))
        self._proc.start()
        child.close()

    def run(self, text: bytes) -> Outcome:
        if self._proc is None or not self._proc.is_alive():
            self._start()
        self._conn.send(text)
        if self._conn.poll(self.timeout):
            try:
                return Outcome(*self._conn.recv())
            except EOFError:
                detail = f"the worker died (exit {self._proc.exitcode})"
                self.close()
                return Outcome("traceback", detail)
        self.close()
        return Outcome("hang", f"no end within {self.timeout:g} s")

    def close(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.join()
            self._conn.close()
            self._proc = None


def fuzz(n_cases: int, seed: int, runner: CaseRunner, bases: dict[str, dict],
         on_case=None, first: int = 0) -> Counter:
    """Run generated cases ``first..n_cases-1``; ``on_case(name, text, outcome)`` sees each.

    Cases before ``first`` are generated (the sequence is the one of
    ``n_cases`` cases whatever ``first`` is) but not run.
    """
    counts = Counter()
    index = [0]

    @hypothesis_seed(seed)  # the same cases again for the same seed
    @settings(max_examples=n_cases, database=None, deadline=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.generate])
    @given(cases(bases))
    def one(case):
        name, text = case
        index[0] += 1
        if index[0] <= first:
            return
        outcome = runner.run(text)
        counts[outcome.kind] += 1
        if on_case is not None:
            on_case(name, text, outcome)

    one()
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--first", type=int, default=0,
                    help="first case to run: cases 0..FIRST-1 of the --cases sequence are "
                         "generated, not run (to continue a stopped run)")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds before a case is a hang")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "fuzz.json"))
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from _results import write_result

    failures, per_base = [], Counter()
    t0 = time.perf_counter()

    def report(counts: Counter) -> dict:
        """The counts so far, written to --out (so a run stopped early still reports)."""
        row = {"command": " ".join(["python benchmarks/fuzz_configs.py"] + sys.argv[1:]),
               "first": args.first, "cases": sum(counts.values()), **{k: counts.get(k, 0) for k in OUTCOMES},
               "seconds": time.perf_counter() - t0, "per_base": dict(per_base),
               "failures": failures[:200]}
        write_result(row, args.out)
        return row

    with tempfile.TemporaryDirectory() as data:
        write_dataset(Path(data), n_train=60, n_test=10)
        bases = tiny_bases(Path(data))
        runner = CaseRunner(data=data, timeout=args.timeout)

        seen = Counter()

        def record(name, text, outcome):
            per_base[name] += 1
            seen[outcome.kind] += 1
            if sum(seen.values()) % 250 == 0:
                row = report(seen)
                print(json.dumps({k: row[k] for k in ("cases", "seconds", *OUTCOMES)}), flush=True)
            if outcome.kind not in ("ran", "clean_error"):
                failure = {"base": name, "kind": outcome.kind, "detail": outcome.detail,
                           "yaml": text.decode(errors="replace")}  # whole: to rerun it
                failures.append(failure)
                # One JSON line each as it happens (the summary comes at the end).
                print(json.dumps(failure), flush=True)

        try:
            counts = fuzz(args.cases, args.seed, runner, bases, record, first=args.first)
        except KeyboardInterrupt:  # stopped (Ctrl-C, kill -INT): the counts so far
            counts = seen
            failures.append({"kind": "stopped", "detail": "interrupted after "
                             f"{sum(seen.values())} cases run"})
        finally:
            runner.close()
    row = report(counts)
    print(json.dumps({k: v for k, v in row.items() if k not in ("failures", "per_base")}))


if __name__ == "__main__":
    main()
