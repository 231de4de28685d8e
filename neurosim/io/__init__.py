"""Result files: :func:`save` a :class:`~neurosim.result.Result` to HDF5, :func:`load` it back."""

from neurosim.io.hdf5 import check_writable, load, result_format, save

__all__ = ["check_writable", "load", "result_format", "save"]
