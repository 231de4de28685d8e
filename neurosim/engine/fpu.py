"""Flush-to-zero for the kernels: subnormal floats at hardware speed.

Synaptic variables of a silent neuron decay geometrically through the
subnormal range (below ~1e-38 in float32), where x86 CPUs take ~100x longer
per operation; a quiet network would crawl.  The kernels therefore set the
MXCSR's flush-to-zero and denormals-are-zero bits while they run, and restore
the caller's value before returning.  Values that small are far below
anything physical, so no result changes measurably; every thread sets the
same mode, so results stay identical for any thread count.

On other architectures these are no-ops (their FPUs typically handle
subnormals without such a penalty).
"""

import platform

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

#: MXCSR bits: flush-to-zero (15) and denormals-are-zero (6).
FTZ_DAZ = 0x8040
_X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686")


def _mxcsr_call(builder, name, slot):
    fnty = ir.FunctionType(ir.VoidType(), [ir.PointerType(ir.IntType(8))])
    fn = cgutils.get_or_insert_function(builder.module, fnty, name)
    builder.call(fn, [builder.bitcast(slot, ir.PointerType(ir.IntType(8)))])


@intrinsic
def get_fp_mode(typingctx):
    """The floating-point control word (MXCSR on x86, 0 elsewhere)."""

    def codegen(context, builder, sig, args):
        if not _X86:
            return ir.Constant(ir.IntType(32), 0)
        slot = cgutils.alloca_once(builder, ir.IntType(32))
        _mxcsr_call(builder, "llvm.x86.sse.stmxcsr", slot)
        return builder.load(slot)

    return types.uint32(), codegen


@intrinsic
def set_fp_mode(typingctx, mode):
    """Load ``mode`` into the floating-point control word (x86 only)."""

    def codegen(context, builder, sig, args):
        if _X86:
            slot = cgutils.alloca_once(builder, ir.IntType(32))
            builder.store(args[0], slot)
            _mxcsr_call(builder, "llvm.x86.sse.ldmxcsr", slot)
        return context.get_dummy_value()

    return types.void(types.uint32), codegen
