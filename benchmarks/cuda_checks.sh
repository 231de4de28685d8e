#!/usr/bin/env bash
# The checks that need a CUDA GPU, in one go (they skip or fail without one):
#   1. the tests that run the torch backend and the torch liquid on CUDA;
#   2. CUBA 4k (dense, float32 / float64; forced sparse) and CUBA scaled 400k
#      on torch CUDA against numba on one core (bench_backends.py);
#   3. LSM and NALSM feature extraction, batch 512 and 2048, on torch CUDA
#      against numba on every core (bench_lsm_backends.py; needs Fashion-MNIST).
# JSON results go to OUT (default: benchmarks/results), the test log beside them.
#
#   bash benchmarks/cuda_checks.sh [OUT]        (PYTHON=... picks the interpreter)
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-benchmarks/results}
py=${PYTHON:-python3}  # the interpreter that has torch with CUDA
mkdir -p "$out"
"$py" - <<'EOF' || exit 2
import sys
import torch
if not torch.cuda.is_available():
    sys.exit(f"error: PyTorch {torch.__version__} sees no CUDA GPU here")
print("GPU:", torch.cuda.get_device_name())
EOF
cores=$("$py" -c "import os; print(os.cpu_count())")
status=0

"$py" -m pytest -rs tests/backends tests/reservoir/test_torch_liquid.py tests/test_cli.py \
    2>&1 | tee "$out/cuda_tests.log" || status=1

bench=("$py" benchmarks/bench_backends.py --device cuda)
"${bench[@]}" --out "$out/backends_cuda.json" || status=1
"${bench[@]}" --torch-path sparse --precisions float32 --repeats 2 \
    --out "$out/backends_cuda_sparse.json" || status=1
"${bench[@]}" --precisions float32 --repeats 2 --config cuba_scaled --set scale=100 \
    --out "$out/backends_cuda_400k.json" || status=1

lsm=("$py" benchmarks/bench_lsm_backends.py --device cuda --threads "$cores" --out "$out")
for config in lsm_fashion nalsm_fashion; do
    "${lsm[@]}" --configs $config --batch 512 --samples 1024 --nalsm-samples 1024 \
        --tag "_${config}_cuda" || status=1
    "${lsm[@]}" --configs $config --batch 2048 --samples 8192 --nalsm-samples 4096 \
        --no-accuracy --tag "_${config}_cuda_b2048" || status=1
done
exit $status
