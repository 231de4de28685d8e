"""Where results go (issue 17): nothing overwritten unasked, nothing but regular
files replaced, every path checked before the run, nothing half-written left."""

from __future__ import annotations

import os
import stat
import textwrap
from pathlib import Path

import pytest

from neurosim.cli import _parser, main
from neurosim.errors import OutputError
from neurosim.io import check_writable, load
from neurosim.io.hdf5 import atomic_path

NET = """
name: tiny
seed: 1
duration: 5 ms
populations:
  n: {size: 4, model: lif_exp}
  src: {size: 2, model: poisson, params: {rate: 100 Hz}}
projections:
  p: {source: src, target: n, receptor: exc, connect: {rule: all_to_all}, weight: 50 pA}
"""


@pytest.fixture
def net(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(textwrap.dedent(NET))
    return path


@pytest.fixture
def no_run(monkeypatch):
    """Make any simulation fail loudly: the checks under test come before it."""
    import neurosim.network_task

    def refuse(*args, **kwargs):
        raise AssertionError("the run started")

    monkeypatch.setattr(neurosim.network_task, "run_task", refuse)


def _error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err, err
    return err


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob(".*.tmp-*")]


# -- existing results --------------------------------------------------------------


def test_an_existing_result_is_kept_unless_forced(net, tmp_path, capsys):
    out = tmp_path / "r.h5"
    assert main(["run", str(net), "-q", "--no-plot", "-o", str(out)]) == 0
    first = out.read_bytes()
    assert main(["run", str(net), "-q", "--no-plot", "-o", str(out), "--set", "seed=2"]) == 2
    err = _error(capsys)
    assert "already exists" in err and "--force" in err
    assert out.read_bytes() == first
    assert main(["run", str(net), "-q", "--no-plot", "-o", str(out), "--set", "seed=2",
                 "--force"]) == 0
    assert load(out).seed == 2 and not _leftovers(tmp_path)


def test_the_default_result_path_is_not_overwritten_either(net, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(net), "-q", "--no-plot"]) == 0
    assert (tmp_path / "results" / "tiny.h5").is_file()
    assert main(["run", str(net), "-q", "--no-plot"]) == 2
    assert "results/tiny.h5 already exists" in _error(capsys)


def test_an_existing_plot_counts_as_an_existing_output(net, tmp_path, capsys, no_run):
    (tmp_path / "r.png").write_bytes(b"a plot from before")
    assert main(["run", str(net), "-q", "-o", str(tmp_path / "r.h5")]) == 2
    assert "r.png already exists" in _error(capsys)
    assert (tmp_path / "r.png").read_bytes() == b"a plot from before"


def test_force_keeps_the_mode_of_the_file_it_replaces(net, tmp_path):
    out = tmp_path / "r.h5"
    assert main(["run", str(net), "-q", "--no-plot", "-o", str(out)]) == 0
    out.chmod(0o640)
    assert main(["run", str(net), "-q", "--no-plot", "-o", str(out), "--force"]) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o640


def test_force_is_documented_in_the_help():
    run = _parser()._subparsers._group_actions[0].choices["run"]
    assert "overwrite an existing result" in run.format_help()


# -- the plot beside the result ---------------------------------------------------


@pytest.mark.parametrize("name", ["res.png", "res.PNG", "deep/res.png"])
def test_a_result_named_like_its_plot_is_refused_before_the_run(net, tmp_path, capsys, no_run,
                                                                  name):
    # --output res.png was overwritten by the plot of the run.
    for extra in ([], ["--no-plot"]):
        assert main(["run", str(net), "-q", "-o", str(tmp_path / name), *extra]) == 2
        assert ".png" in _error(capsys)
    assert list(tmp_path.iterdir()) == [net]


def test_the_plot_path_is_checked_before_the_run(net, tmp_path, capsys, no_run):
    (tmp_path / "r.png").mkdir()
    assert main(["run", str(net), "-q", "-o", str(tmp_path / "r.h5")]) == 2
    assert "r.png: it is a folder" in _error(capsys)
    assert not (tmp_path / "r.h5").exists()


def test_no_plot_skips_the_plot_path(net, tmp_path):
    (tmp_path / "r.png").mkdir()  # never written without a plot
    assert main(["run", str(net), "-q", "--no-plot", "-o", str(tmp_path / "r.h5")]) == 0


@pytest.mark.parametrize("command", [["plot", "{out}", "-o", "{out}"],
                                     ["energy", "{out}", "--hardware", "loihi", "--plot", "{out}"]])
def test_a_derived_file_is_never_written_over_its_source(net, tmp_path, capsys, command):
    out = tmp_path / "r.h5"
    assert main(["run", str(net), "-q", "--no-plot", "-o", str(out)]) == 0
    before = out.read_bytes()
    assert main([part.format(out=out) for part in command]) == 2
    assert "is the file being read" in _error(capsys)
    assert out.read_bytes() == before


# -- what may sit at the output path ------------------------------------------------


def _symlink(path: Path) -> Path:
    target = path.with_name("target.h5")
    target.write_bytes(b"someone else's file")
    path.symlink_to(target)
    return target


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _device(path: Path) -> None:
    try:
        os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 3))  # a /dev/null of our own
    except PermissionError:
        pytest.skip("creating a device node needs CAP_MKNOD")


@pytest.mark.parametrize("make, what", [(_symlink, "a symbolic link"), (_fifo, "a FIFO"),
                                        (_device, "a device"), (Path.mkdir, "a folder")])
@pytest.mark.parametrize("force", [[], ["--force"]])
def test_only_a_regular_file_is_ever_replaced(net, tmp_path, capsys, no_run, make, what, force):
    out = tmp_path / "r.h5"
    made = make(out)
    assert main(["run", str(net), "-q", "--no-plot", "-o", str(out), *force]) == 2
    assert what in _error(capsys)
    mode = out.lstat().st_mode
    assert not stat.S_ISREG(mode)  # still what it was
    if isinstance(made, Path):
        assert made.read_bytes() == b"someone else's file"


def test_a_broken_symlink_is_refused_too(tmp_path):
    (tmp_path / "r.h5").symlink_to(tmp_path / "nowhere.h5")
    with pytest.raises(OutputError, match="symbolic link"):
        check_writable(tmp_path / "r.h5")


# -- the temporary file ----------------------------------------------------------


def test_a_failed_write_leaves_no_temporary_file(tmp_path):
    final = tmp_path / "r.h5"
    with pytest.raises(RuntimeError), atomic_path(final) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("disk full")
    assert list(tmp_path.iterdir()) == []


def test_the_temporary_file_is_new_never_a_planted_link(tmp_path):
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    final = tmp_path / "r.h5"
    (tmp_path / f".r.h5.tmp-{os.getpid()}").symlink_to(victim)
    with atomic_path(final) as tmp:
        tmp.write_bytes(b"result")
    assert final.read_bytes() == b"result" and victim.read_bytes() == b"precious"
    assert not _leftovers(tmp_path)


def test_a_name_cannot_move_the_result_out_of_its_folder(net, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ["../escaped", "/tmp/escaped", ".."]:
        assert main(["run", str(net), "-q", "--no-plot", "--set", f"name={name}"]) == 2
        assert "name: " in capsys.readouterr().err
    assert not (tmp_path.parent / "escaped.h5").exists() and not Path("/tmp/escaped.h5").exists()


# -- numbers that overflowed ---------------------------------------------------------


def test_a_run_that_overflowed_is_not_saved(tmp_path, capsys):
    # Each weight is within float32, two arriving at once in the synaptic current are not.
    cfg = tmp_path / "over.yaml"
    cfg.write_text(textwrap.dedent("""
        duration: 5 ms
        populations:
          g: {size: 2, model: spike_generator, params: {times: [1 ms, 1 ms], indices: [0, 1]}}
          n: {size: 1, model: lif_exp}
        projections:
          p: {source: g, target: n, receptor: exc, connect: {rule: all_to_all}, weight: 3e38 V}
        record:
          traces: {t: {population: n, neurons: [0], variables: [v, I_syn_e]}}
        """))
    assert main(["run", str(cfg), "-q", "--no-plot", "-o", str(tmp_path / "r.h5")]) == 2
    err = _error(capsys)
    assert "overflowed" in err and "trace 't'" in err and "from t = " in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["over.yaml"]


@pytest.mark.parametrize("part", ["trace", "weights", "rates", "astrocytes"])
@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_save_refuses_non_finite_numbers(tmp_path, part, bad):
    import numpy as np
    from test_hdf5 import make_result

    from neurosim.errors import NumericalError
    from neurosim.io import save

    result = make_result()
    if part == "trace":
        result.traces["exc_state"].data[3, 1, 0] = bad
    elif part == "weights":
        result.weights = {"ee": {"pre": np.array([0]), "post": np.array([1]),
                                 "weight": np.array([bad])}}
    elif part == "rates":
        result.rates["inh"][5] = bad
    else:
        result.astrocytes = {"a": np.array([0.1, bad])}
    with pytest.raises(NumericalError, match="overflowed"):
        save(result, tmp_path / "r.h5")
    assert list(tmp_path.iterdir()) == []
