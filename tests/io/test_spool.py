"""The recording spool: append-only raw files, read back as maps, cut back on resume."""

from __future__ import annotations

import numpy as np
import pytest

from neurosim.errors import DataError, OutputError
from neurosim.io.spool import RecordingSpool, Stream, release, spool_folder

STREAMS = {"times": Stream(np.dtype(np.float64)), "data": Stream(np.dtype(np.float32), (2, 3))}


def test_the_folder_is_hidden_beside_the_result(tmp_path):
    assert spool_folder(tmp_path / "out" / "run.h5") == tmp_path / "out" / ".run.h5.spool"


def test_appended_rows_read_back_as_read_only_maps(tmp_path):
    spool = RecordingSpool(tmp_path / "s", STREAMS)
    spool.start()
    assert spool.array("times").shape == (0,) and spool.array("data").shape == (0, 2, 3)
    spool.append("times", [0.1, 0.2])
    spool.append("data", np.arange(12).reshape(2, 2, 3))
    spool.append("times", np.array([0.3]))
    times = spool.array("times")
    assert isinstance(times, np.memmap) and not times.flags.writeable
    np.testing.assert_array_equal(times, [0.1, 0.2, 0.3])
    data = spool.array("data")
    assert data.dtype == np.float32
    np.testing.assert_array_equal(data, np.arange(12).reshape(2, 2, 3))
    release(times[1:])  # dropped from memory, still readable
    np.testing.assert_array_equal(times, [0.1, 0.2, 0.3])
    spool.close()


def test_a_row_of_the_wrong_shape_is_refused(tmp_path):
    spool = RecordingSpool(tmp_path / "s", STREAMS)
    spool.start()
    with pytest.raises(ValueError, match="rows of shape"):
        spool.append("data", np.zeros((1, 3, 2)))


def test_resume_cuts_what_was_written_after_the_checkpoint(tmp_path):
    spool = RecordingSpool(tmp_path / "s", STREAMS)
    spool.start()
    spool.append("times", [1.0, 2.0])
    rows = spool.sync()
    spool.append("times", [3.0, 4.0])  # after the checkpoint: a killed run's
    spool.close()
    with open(tmp_path / "s" / "0.bin", "ab") as torn:
        torn.write(b"\x01\x02\x03")  # half a row
    again = RecordingSpool(tmp_path / "s", STREAMS)
    again.resume(rows)
    again.append("times", [5.0])
    np.testing.assert_array_equal(again.array("times"), [1.0, 2.0, 5.0])
    again.close()


def test_start_removes_an_earlier_runs_files(tmp_path):
    spool = RecordingSpool(tmp_path / "s", STREAMS)
    spool.start()
    spool.append("times", [1.0])
    spool.close()
    (tmp_path / "s" / "stray").write_text("x")
    fresh = RecordingSpool(tmp_path / "s", STREAMS)
    fresh.start()
    assert fresh.array("times").size == 0
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == ["0.bin", "1.bin"]


@pytest.mark.parametrize("damage", ["missing", "short"])
def test_resuming_a_spool_that_lost_rows_is_one_error(tmp_path, damage):
    spool = RecordingSpool(tmp_path / "s", STREAMS)
    spool.start()
    spool.append("times", [1.0, 2.0])
    rows = spool.sync()
    spool.close()
    if damage == "missing":
        (tmp_path / "s" / "0.bin").unlink()
    else:
        with open(tmp_path / "s" / "0.bin", "r+b") as f:
            f.truncate(8)
    with pytest.raises(DataError, match="cannot resume the recordings"):
        RecordingSpool(tmp_path / "s", STREAMS).resume(rows)


def test_a_folder_that_cannot_be_made_is_one_output_error(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="cannot spool recordings"):
        RecordingSpool(tmp_path / "file" / "s", STREAMS).start()


def test_a_full_disk_is_one_output_error(tmp_path):
    spool = RecordingSpool(tmp_path / "s", STREAMS)
    spool.start()
    spool._handles["times"].close()
    spool._handles["times"] = open("/dev/full", "wb", buffering=0)  # writes fail: ENOSPC
    with pytest.raises(OutputError, match="No space left on device"):
        spool.append("times", [1.0])
