"""The task table: every entry resolves, every built-in config validates through it, and the
config layer, ``neurosim run``/``validate``/``plot``/``energy`` and the one loader dispatch
through it (a task added to the table is run, validated, plotted and priced with no other
change)."""

from __future__ import annotations

from typing import Literal

import pytest

from neurosim.cli import main
from neurosim.config import builtin_configs, load_config, load_config_text
from neurosim.config.base import StrictModel
from neurosim.config.run import RunConfig
from neurosim.errors import ConfigError
from neurosim.io import create_result, load
from neurosim.result import Result
from neurosim.tasks import (DEFAULT_TASK, TASKS, Task, reference, resolve, task_of_config,
                            task_of_format, task_of_result)


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_entry_names_code_that_exists(name):
    task = TASKS[name]
    for cls_ref in (task.schema, task.result):
        assert reference(resolve(cls_ref)) == cls_ref  # named where the class is defined
    fields = resolve(task.schema).model_fields
    assert ("task" in fields) == (name != DEFAULT_TASK)
    for ref in (task.run, task.save, task.read, task.describe, task.energy, task.plot):
        assert ref is None or callable(resolve(ref))
    assert task_of_format(task.result_format) == (name, task)
    assert task.result_version >= 1


@pytest.mark.parametrize("config", builtin_configs())
def test_every_builtin_config_validates_through_the_table(config, capsys):
    cfg = load_config(config)
    name, task = task_of_config(cfg)
    assert name == getattr(cfg, "task", DEFAULT_TASK) and task is TASKS[name]
    assert main(["validate", config]) == 0
    assert capsys.readouterr().out.startswith(f"{config}: valid (")


def test_the_builtins_cover_every_task():
    assert {task_of_config(load_config(c))[0] for c in builtin_configs()} == set(TASKS)


def test_unknown_task_lists_the_table():
    with pytest.raises(ConfigError, match="unknown task 'sweep'.*network, lsm_classification, "
                                          "rram_lsm"):
        load_config_text("task: sweep\n", name="t")


def test_a_network_config_may_name_its_task():
    text = "duration: 10 ms\npopulations:\n  a: {size: 2, model: poisson, params: {rate: 1 Hz}}\n"
    named = load_config_text(f"task: {DEFAULT_TASK}\n{text}", name="t")
    assert isinstance(named, RunConfig) and named == load_config_text(text, name="t")


def test_results_and_configs_find_their_entry():
    assert task_of_format("neurosim-result")[0] == DEFAULT_TASK
    assert task_of_format("neurosim-sweep-result") is None
    result = Result(config_text="", seed=0, dt=1e-4, duration=0.0, populations={})
    assert task_of_result(result) == (DEFAULT_TASK, TASKS[DEFAULT_TASK])
    with pytest.raises(TypeError, match="no task's config"):
        task_of_config(object())


# -- a task added to the table needs nothing else -------------------------------------------


class EchoConfig(StrictModel):
    task: Literal["echo"]
    name: str = "echo"
    words: int = 1


class EchoResult:
    def __init__(self, config_text: str):
        self.config_text = config_text


def echo_run(cfg, *, output, threads, quiet, plot):
    path = echo_save(EchoResult(f"task: echo\nseed: 7\nwords: {cfg.words}\n"), output)
    return f"echoed {cfg.words} word(s) into {path}"


def echo_save(result, path):
    with create_result(path, "echo", result.config_text) as f:
        f.attrs["timing.wall_s"] = 0.0
    return path


def echo_read(rf):
    return EchoResult(rf.header.config)


def echo_describe(cfg):
    return f"{cfg.words} word(s)"


def echo_energy(path, profiles, *, samples):
    return [], f"no energy in {path} for {len(profiles)} profile(s), {samples} sample(s)"


def echo_plot(path, out):
    return f"no figure of {path}"


@pytest.fixture
def echo_task(monkeypatch):
    here = __name__
    monkeypatch.setitem(TASKS, "echo", Task(
        schema=f"{here}:EchoConfig", run=f"{here}:echo_run", result=f"{here}:EchoResult",
        result_format="neurosim-echo-result", result_version=1, save=f"{here}:echo_save",
        read=f"{here}:echo_read", describe=f"{here}:echo_describe",
        energy=f"{here}:echo_energy", plot=f"{here}:echo_plot"))


def test_a_new_task_runs_validates_loads_plots_and_prices(echo_task, tmp_path, capsys):
    cfg = tmp_path / "echo.yaml"
    cfg.write_text("task: echo\nwords: 3\n")
    out = tmp_path / "echo.h5"
    assert main(["validate", str(cfg)]) == 0
    assert capsys.readouterr().out == "echo: valid (3 word(s))\n"
    assert main(["run", str(cfg), "--output", str(out)]) == 0
    assert capsys.readouterr().out == f"echoed 3 word(s) into {out}\n"
    assert load(out).config_text == "task: echo\nseed: 7\nwords: 3\n"
    assert main(["plot", str(out)]) == 0
    assert capsys.readouterr().out == f"no figure of {out}\n"
    assert main(["energy", str(out), "--hardware", "loihi", "--samples", "2", "--no-plot"]) == 0
    assert capsys.readouterr().out == f"no energy in {out} for 1 profile(s), 2 sample(s)\n"
