"""The task table: every entry resolves, and the config layer and the CLI dispatch through it."""

from __future__ import annotations

import pytest

from neurosim.config import load_config_text
from neurosim.errors import ConfigError
from neurosim.tasks import TASKS, resolve, task_of_format


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_entry_names_code_that_exists(name):
    task = TASKS[name]
    assert resolve(task.schema).model_fields["task"]
    assert callable(resolve(task.run))
    assert task.energy is None or callable(resolve(task.energy))
    assert task_of_format(task.result_format) == (name, task)


def test_unknown_task_lists_the_table():
    with pytest.raises(ConfigError, match="unknown task 'sweep'.*lsm_classification, rram_lsm"):
        load_config_text("task: sweep\n", name="t")


def test_network_results_belong_to_no_task():
    assert task_of_format("neurosim-result") is None
