"""numba settings made before numba is imported (neurosim/numba_settings.py)."""

import os
import subprocess
import sys

import llvmlite.binding as llvm

SHOW = "import neurosim, numba; print(numba.config.CPU_FEATURES or '')"


def features_seen(env_update: dict) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CPU_FEATURES", "NUMBA_CPU_NAME")}
    env.update(env_update)
    out = subprocess.run([sys.executable, "-c", SHOW], capture_output=True, text=True, env=env,
                         check=True)
    return out.stdout.strip()


def test_full_width_vectors_only_where_the_cpu_has_avx512():
    host = llvm.get_host_cpu_features()
    seen = features_seen({})
    if host.get("avx512f"):
        assert seen == host.flatten() + ",-prefer-256-bit"
    else:
        assert seen == ""


def test_a_users_own_cpu_setting_wins():
    assert features_seen({"NUMBA_CPU_FEATURES": "+sse2"}) == "+sse2"
    assert features_seen({"NUMBA_CPU_NAME": "generic"}) == ""
