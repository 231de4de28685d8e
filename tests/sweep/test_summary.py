"""The summary numbers of a result file of any task: its groups' numeric attributes by
path, its timings; flags and text are not numbers."""

from __future__ import annotations

from neurosim.io import create_result, open_result
from neurosim.io.hdf5 import write_section
from neurosim.sweep.summary import summary_numbers


def test_numbers_of_an_lsm_file_are_its_groups_attributes_by_path(tmp_path):
    path = tmp_path / "lsm.h5"
    with create_result(path, "lsm_classification", "seed: 2\n") as f:
        write_section(f, "timing", {"total_s": 1.5})
        accuracy = f.create_group("accuracy")
        accuracy.attrs.update({"softmax_test": 0.8, "softmax_best_epoch": 3, "note": "text",
                               "converged": True})
        accuracy.create_group("per_source/crossbar").attrs["ridge_test"] = 0.7
    with open_result(path) as rf:
        assert summary_numbers(rf) == {"accuracy.softmax_test": 0.8,
                                       "accuracy.softmax_best_epoch": 3,
                                       "accuracy.per_source.crossbar.ridge_test": 0.7,
                                       "timing.total_s": 1.5}
