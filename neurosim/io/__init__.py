"""Result files: :func:`save` a :class:`~neurosim.result.Result` to HDF5, :func:`load` it back."""

from neurosim.io.hdf5 import check_writable, load, save

__all__ = ["check_writable", "load", "save"]
