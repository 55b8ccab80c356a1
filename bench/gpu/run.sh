#!/usr/bin/env bash
# On a Linux GPU machine with the NVIDIA driver (no .NET needed): the CUDA probe, the Cuda checks (our kernels on the
# GPU against our CPU backend), our kernel timings, the same operations in PyTorch on the same GPU (if python3 has
# torch), and one table of ratios. Copy the folder bench/gpu/publish.sh makes (artifacts/gpu-bundle) to the machine:
#
#   ./run.sh                 everything; results in ./results-<date>/ (JSON, logs, table.md)
#   ./run.sh --dry-run       no GPU needed: the runner's dry run (probe, lists, PTX of every kernel, a few checks and
#                            every benchmark at a tiny shape on ILGPU's CPU accelerator), torch_ops --dry-run, and the
#                            table from the dry-run JSON
#   env: FSR_CUDA_DEVICE=cuda:N (default cuda:0), PYTHON=python3, RUNNER=path to FsrNative.GpuRunner, MIN_MS=300
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
runner="${RUNNER:-}"
for c in "$here/runner/FsrNative.GpuRunner" "$here/../../artifacts/gpu-bundle/runner/FsrNative.GpuRunner" \
         "$here/runner/bin/Release/net10.0/FsrNative.GpuRunner"; do
    [[ -z "$runner" && -x "$c" ]] && runner="$c"
done
[[ -x "$runner" ]] || { echo "GPU runner not found: publish it with bench/gpu/publish.sh (or set RUNNER)" >&2; exit 3; }
py="${PYTHON:-python3}"
out="${OUT_DIR:-$PWD/results-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$out"
echo "runner: $runner"; echo "results: $out"

if [[ "${1:-}" == "--dry-run" ]]; then
    "$runner" dry-run --json "$out/ours-dry.json" | tee "$out/dry-run.log"; rc=${PIPESTATUS[0]}
    "$py" "$here/torch_ops.py" --dry-run | tee -a "$out/dry-run.log"
    "$py" "$here/compare.py" "$out/ours-dry.json" "$out/ours-dry.json" | tee "$out/table-dry.txt"
    echo "(dry run: the table compares the smoke timings with themselves; it only shows the format)"
    exit $rc
fi

status=0
"$runner" probe | tee "$out/probe.txt"
echo "== Cuda checks =="
"$runner" checks 2>&1 | tee "$out/checks.log"; rc=${PIPESTATUS[0]}
[[ $rc -eq 2 ]] && { echo "no usable CUDA device (see above)"; exit 2; }
[[ $rc -ne 0 ]] && status=1
echo "== our kernels =="
"$runner" bench --json "$out/ours.json" --min-ms "${MIN_MS:-300}" 2>&1 | tee "$out/bench-ours.log" || status=1
echo "== PyTorch =="
if "$py" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
    dev="${FSR_CUDA_DEVICE:-cuda:0}"
    "$py" "$here/torch_ops.py" --json "$out/torch.json" --device "$dev" --min-ms "${MIN_MS:-300}" 2>&1 | tee "$out/bench-torch.log" || status=1
    echo "== ratios =="
    "$py" "$here/compare.py" "$out/ours.json" "$out/torch.json" | tee "$out/table.txt"
    "$py" "$here/compare.py" "$out/ours.json" "$out/torch.json" --markdown > "$out/table.md"
else
    echo "python3 with a CUDA-enabled torch not found: only our timings were taken" | tee "$out/table.txt"
fi
echo "results in $out (checks: $([[ $rc -eq 0 ]] && echo passed || echo FAILED))"
exit $status
