"""Result files of every task: :func:`save` one, :func:`load` any back.

The layout convention, the shared writer helper and the one loader are
:mod:`neurosim.io.hdf5`; each task's own layout is its writer's (a network
run's: :mod:`neurosim.io.network`).
"""

from neurosim.io.hdf5 import (check_writable, create_result, load, open_result, plot_path,
                              result_format, result_path, result_task, save)

__all__ = ["check_writable", "create_result", "load", "open_result", "plot_path",
           "result_format", "result_path", "result_task", "save"]
