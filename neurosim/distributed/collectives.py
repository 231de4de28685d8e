"""MPI's ``Allgather``, ``Allgatherv`` and ``Wtime``, callable from numba-compiled code.

A step of a rank's share of CUBA 400k takes about 175 us; calling mpi4py,
numba's dispatcher and NumPy from Python between steps cost about 100 us more
per step (measured on 2 ranks), which bounded two ranks to 1.3x one
process.  With these the whole exchange loop is compiled
(:mod:`neurosim.distributed.loop`) and a step's exchange costs what MPI
itself costs.

The functions are those of the MPI library mpi4py loaded (its symbols
resolve through mpi4py's extension module).  Compiled code receives their
addresses as plain integers and calls them through :func:`call_int` and
:func:`call_double`, so that it can be cached: ctypes function objects
would make every process's addresses part of its types.  Handles are
integers of the library's handle size (pointers in Open MPI, ``int`` in
MPICH), counts are ``int32``, buffers are addresses (``array.ctypes.data``).
"""

from __future__ import annotations

import ctypes
import functools
from typing import NamedTuple

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic


class Bindings(NamedTuple):
    """Function addresses and the handles they take, as numpy integers."""

    allgather: np.uint64
    allgatherv: np.uint64
    wtime: np.uint64
    int32: np.integer
    int64: np.integer


@functools.cache
def bindings() -> Bindings:
    from mpi4py import MPI

    lib = ctypes.CDLL(MPI.__file__)
    handle = np.int64 if MPI._sizeof(MPI.Datatype) == 8 else np.int32

    def address(name: str) -> np.uint64:
        return np.uint64(ctypes.cast(getattr(lib, name), ctypes.c_void_p).value)

    return Bindings(address("MPI_Allgather"), address("MPI_Allgatherv"), address("MPI_Wtime"),
                    handle(MPI.INT32_T.handle), handle(MPI.INT64_T.handle))


def comm_handle(comm) -> np.integer:
    """``comm``'s C handle, as :func:`bindings` passes handles."""
    from mpi4py import MPI

    return (np.int64 if MPI._sizeof(MPI.Comm) == 8 else np.int32)(comm.handle)


def _caller(result):
    """An intrinsic ``f(address, args)`` that calls the C function at ``address``
    with the values of the tuple ``args`` (their numba types give the C types)."""

    @intrinsic
    def call(typingctx, address, args):
        def codegen(context, builder, signature, llargs):
            params = [context.get_value_type(t) for t in signature.args[1]]
            function = ir.FunctionType(context.get_value_type(result), params)
            pointer = builder.inttoptr(llargs[0], function.as_pointer())
            values = [builder.extract_value(llargs[1], i) for i in range(len(params))]
            return builder.call(pointer, values)

        return result(address, args), codegen

    return call


#: ``call_int(address, (args...))``: an ``int``-returning C function (MPI's calls).
call_int = _caller(types.int32)
#: ``call_double(address, ())``: a ``double``-returning one (``MPI_Wtime``).
call_double = _caller(types.float64)
