"""Sweeps on a 2-process LocalCluster (started once for the module): the table, a
failing run, reuse on a second sweep, a worker killed mid-sweep, the command line."""

from __future__ import annotations

import csv
import fcntl
import os
import signal
import threading
import time
from contextlib import nullcontext

import h5py
import pytest

pytest.importorskip("distributed")
pq = pytest.importorskip("pyarrow.parquet")

from neurosim.cli import main  # noqa: E402
from neurosim.errors import ConfigError, OutputError  # noqa: E402
from neurosim.sweep.execute import dask_client, execute  # noqa: E402
from neurosim.sweep.plan import make_plan, parse_grid_option  # noqa: E402
from neurosim.sweep.table import table_rows, write_table  # noqa: E402

CONFIG = """\
name: tiny
seed: 4
duration: 50 ms
populations:
  n: {size: 20, model: lif_exp, params: {tau_m: 20 ms}}
  src: {size: 10, model: poisson, params: {rate: 100 Hz}}
projections:
  p: {source: src, target: n, receptor: exc, connect: {rule: fixed_probability, p: 0.5},
      weight: 400 pA}
"""
#: Passes validation; the run refuses it (more neurons than 32-bit synapse targets address).
TOO_MANY = 2_000_000_000
SIZE = "populations.n.size"
#: Runs of ~0.3 s, so that a worker can be killed while it holds one.
SLOW = ["duration=3 s", "populations.n.size=3000", "populations.src.size=200",
        "record.spikes=[src]"]


@pytest.fixture(scope="module")
def client():
    with dask_client(None, workers=2) as c:
        yield c


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(CONFIG)
    return path


def sweep(client, config, folder, grid, seeds=None, overrides=()):
    plan = make_plan(str(config), list(overrides), grid, seeds, folder)
    outcomes = execute(plan, lambda: nullcontext(client), progress=False)
    return plan, table_rows(plan, outcomes)


def test_a_failing_run_is_a_row_with_its_error_and_the_others_complete(client, config,
                                                                       tmp_path):
    plan, rows = sweep(client, config, tmp_path / "sw", {SIZE: [20, TOO_MANY]}, seeds=2)
    csv_path, parquet_path = write_table(rows, plan.folder)

    assert [(r["run"], r[SIZE], r["seed"], r["status"]) for r in rows] == [
        (0, 20, 4, "done"), (1, 20, 5, "done"), (2, TOO_MANY, 4, "failed"),
        (3, TOO_MANY, 5, "failed")]
    for row in rows[2:]:
        assert "32-bit" in row["error"] and row["rate.n"] is None
        assert not os.path.exists(row["result"])
    for row in rows[:2]:
        assert row["error"] == ""
        with h5py.File(row["result"], "r") as f:  # the numbers are the file's
            assert f.attrs["seed"] == row["seed"]
            spikes = int(f["counters/populations/n"].attrs["spikes"])
        assert row["counters.populations.n.spikes"] == spikes > 0
        assert row["rate.n"] == pytest.approx(spikes / 20 / 0.05)
    assert rows[0]["rate.n"] != rows[1]["rate.n"]  # two seeds, two networks

    assert pq.read_table(parquet_path).to_pylist() == rows
    with open(csv_path, newline="") as fh:
        text_rows = list(csv.DictReader(fh))
    assert [row["status"] for row in text_rows] == [row["status"] for row in rows]
    assert float(text_rows[0]["rate.n"]) == rows[0]["rate.n"]
    assert text_rows[2]["rate.n"] == ""


def test_a_second_sweep_reuses_completed_runs_and_repeats_failed_and_damaged_ones(
        client, config, tmp_path):
    grid = {SIZE: [20, 30, TOO_MANY]}
    plan, first = sweep(client, config, tmp_path / "sw", grid)
    assert [r["status"] for r in first] == ["done", "done", "failed"]
    kept, damaged = plan.runs[0].path, plan.runs[1].path
    stamp = kept.stat().st_mtime_ns
    damaged.write_bytes(damaged.read_bytes()[:100])  # a truncated file does not count

    _, second = sweep(client, config, tmp_path / "sw", grid)
    assert [r["status"] for r in second] == ["reused", "done", "failed"]
    assert kept.stat().st_mtime_ns == stamp
    number_keys = [k for k in first[0] if k.startswith(("rate.", "counters."))]
    assert [{k: r[k] for k in number_keys} for r in second[:2]] == \
           [{k: r[k] for k in number_keys} for r in first[:2]]

    # Other settings are other runs, even in the same folder.
    _, third = sweep(client, config, tmp_path / "sw", {SIZE: [20]}, overrides=["seed=9"])
    assert [r["status"] for r in third] == ["done"]


def test_a_worker_killed_during_the_sweep_has_its_task_run_elsewhere(client, config, tmp_path):
    pids = client.run(os.getpid)
    result = {}
    thread = threading.Thread(target=lambda: result.update(rows=sweep(
        client, config, tmp_path / "sw", {SIZE: [3000, 3001, 3002, 3003]}, overrides=SLOW)[1]))
    thread.start()
    deadline = time.monotonic() + 60
    victim = None
    while victim is None and time.monotonic() < deadline:
        victim = next(((worker, keys) for worker, keys in client.processing().items()
                       if keys and worker in pids), None)
        time.sleep(0.005)
    assert victim is not None, "no worker took a task"
    worker, keys = victim
    os.kill(pids[worker], signal.SIGKILL)
    thread.join(120)

    rows = result["rows"]
    assert [r["status"] for r in rows] == ["done"] * 4
    assert not list((tmp_path / "sw" / "runs").glob(".*.tmp-*"))

    def processings(dask_scheduler, keys):
        return {key: [t[3] for t in dask_scheduler.story(key)
                      if t[0] == key and t[2] == "processing"] for key in keys}

    story = client.run_on_scheduler(processings, keys=list(keys))
    # Each task the dead worker held was handed to a worker again.
    assert all(len(entries) >= 2 for entries in story.values()), story


def test_the_command_line_reads_a_sweep_file_writes_table_and_plot_and_reports_failures(
        config, tmp_path, capsys):
    sweep_file = tmp_path / "sweep.yaml"
    sweep_file.write_text(f"sweep:\n  config: {config.name}\n  set: ['duration=20 ms']\n"
                          f"  grid:\n    {SIZE}: [20, {TOO_MANY}]\n  seeds: [1, 2]\n")
    folder = tmp_path / "out"
    code = main(["sweep", str(sweep_file), "--grid", "projections.p.weight=300 pA,400 pA",
                 "--workers", "1", "--output", str(folder), "--plot", "rate.n"])
    out = capsys.readouterr().out
    assert code == 1
    assert "8 runs: 4 succeeded (0 reused from an earlier sweep), 4 failed" in out
    assert (folder / "rate.n.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = pq.read_table(folder / "sweep.parquet").to_pylist()
    assert [(r[SIZE], r["projections.p.weight"], r["seed"]) for r in rows[:4]] == [
        (20, "300 pA", 1), (20, "300 pA", 2), (20, "400 pA", 1), (20, "400 pA", 2)]
    assert all(r["timing.sim_s"] > 0 for r in rows[:4])

    # The same sweep again: nothing runs (no cluster starts), the table is the same.
    assert main(["sweep", str(sweep_file), "--grid", "projections.p.weight=300 pA,400 pA",
                 "--output", str(folder), "-q"]) == 1
    again = pq.read_table(folder / "sweep.parquet").to_pylist()
    assert [r["status"] for r in again[:4]] == ["reused"] * 4
    assert [r["rate.n"] for r in again] == [r["rate.n"] for r in rows]


@pytest.mark.parametrize(("args", "message"), [
    (["--grid", "populations.n.sise=1,2"], "sise"),
    (["--grid", "populations.n.size"], "malformed --grid"),
    (["--grid", "populations.n.size=10,10"], "are the same run"),
    (["--grid", "seed=1,2", "--seeds", "2"], "seed is both in the grid"),
    (["--seeds", "2", "--plot", "../x"], "--plot '../x'"),
    ([], "a sweep needs a grid"),
])
def test_bad_sweeps_stop_with_one_error_before_anything_is_written(config, tmp_path, capsys,
                                                                   args, message):
    code = main(["sweep", str(config), "--output", str(tmp_path / "out"), *args])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and message in err
    assert not (tmp_path / "out").exists()


def test_a_sweep_file_with_an_unknown_key_names_it(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("sweep:\n  config: cuba\n  grids: {seed: [1]}\n")
    with pytest.raises(ConfigError, match="grids"):
        make_plan(str(bad), [], {}, None, tmp_path / "out")


def test_grid_values_read_as_yaml_and_go_through_the_override_machinery(config, tmp_path):
    key, values = parse_grid_option("populations.n.params.tau_m=10 ms,0.02 s")
    assert (key, values) == ("populations.n.params.tau_m", ["10 ms", "0.02 s"])
    plan = make_plan(str(config), [], {key: values}, 3, tmp_path / "out")
    assert [(r.params[key], r.seed) for r in plan.runs] == [
        ("10 ms", 4), ("10 ms", 5), ("10 ms", 6), ("0.02 s", 4), ("0.02 s", 5), ("0.02 s", 6)]
    assert "tau_m: 0.01 s" in plan.runs[0].config_text
    assert len({r.path for r in plan.runs}) == 6


def test_a_folder_another_sweep_is_writing_is_refused(client, config, tmp_path):
    plan = make_plan(str(config), [], {SIZE: [20]}, None, tmp_path / "sw")
    plan.folder.mkdir()
    with open(plan.folder / ".sweep.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(OutputError, match="sweep folder .* is being written by another run"):
            execute(plan, lambda: nullcontext(client), progress=False)
    assert not plan.runs[0].path.exists()
