#!/usr/bin/env bash
# On a Linux GPU machine with the NVIDIA driver (no .NET needed): the CUDA probe, the Cuda checks (our kernels on the
# GPU against our CPU backend), our kernel timings, the same operations in PyTorch on the same GPU (if python3 has
# torch), and one table of ratios. Copy the folder bench/gpu/publish.sh makes (artifacts/gpu-bundle) to the machine:
#
#   ./run.sh                 everything; results in ./results-<date>/ (JSON, logs, table.md)
#   ./run.sh --dry-run       no GPU needed: the runner's dry run (probe, lists, PTX of every kernel, a few checks and
#                            every benchmark at a tiny shape on ILGPU's CPU accelerator), torch_ops --dry-run, and the
#                            table from the dry-run JSON
#   ./run.sh --cpu-smoke     no GPU needed: one FSR training step, ours (runner fsr-step) and PyTorch's
#                            (fsr_step_torch.py), at a tiny shape on the CPU, and their row of the table (format and
#                            plumbing only: CPU numbers at a tiny shape say nothing about GPU performance)
#   The FSR step rows (fsr_step, voc shape: ViT-B/16, 448 px) run at each batch of FSR_BATCHES (default "1 8": 8 is the
#   paper's batch, to show whether it fits one 80 GB GPU), FSR_WARMUP (2) untimed + FSR_STEPS (5) timed iterations.
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
    for b in ${FSR_BATCHES:-1 8}; do "$py" "$here/fsr_step_torch.py" --dry-run --batch "$b" | tee -a "$out/dry-run.log"; done
    "$py" "$here/compare.py" "$out/ours-dry.json" "$out/ours-dry.json" "$out/ours-fsr-step-dry.json" "$out/ours-fsr-step-dry.json" | tee "$out/table-dry.txt"
    echo "(dry run: the table compares the smoke timings with themselves; it only shows the format)"
    exit $rc
fi

if [[ "${1:-}" == "--cpu-smoke" ]]; then
    tiny=(--size 64 --dim 48 --depth 4 --heads 4 --batch 2 --warmup 1 --steps 2)
    "$runner" fsr-step --device cpu "${tiny[@]}" --json "$out/ours-fsr-smoke.json" 2>&1 | tee "$out/fsr-smoke.log"; rc=${PIPESTATUS[0]}
    if "$py" -c "import torch" 2>/dev/null; then
        "$py" "$here/fsr_step_torch.py" --device cpu "${tiny[@]}" --json "$out/torch-fsr-smoke.json" 2>&1 | tee -a "$out/fsr-smoke.log"
        [[ ${PIPESTATUS[0]} -ne 0 ]] && rc=1
    else
        echo "python3 with torch not found: only our step ran" | tee -a "$out/fsr-smoke.log"
    fi
    "$py" "$here/compare.py" "$out/ours-fsr-smoke.json" "$out/torch-fsr-smoke.json" | tee "$out/table-smoke.txt"
    echo "(CPU smoke at a tiny shape: checks that both steps run and the row is made; not a performance figure)"
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
echo "== our FSR training step (voc shape) =="
pairs=()
for b in ${FSR_BATCHES:-1 8}; do
    "$runner" fsr-step --batch "$b" --warmup "${FSR_WARMUP:-2}" --steps "${FSR_STEPS:-5}" --json "$out/ours-fsr-b$b.json" 2>&1 \
        | tee -a "$out/fsr-ours.log" || status=1
    pairs+=("$out/ours-fsr-b$b.json" "$out/torch-fsr-b$b.json")
done
echo "== PyTorch =="
if "$py" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
    dev="${FSR_CUDA_DEVICE:-cuda:0}"
    "$py" "$here/torch_ops.py" --json "$out/torch.json" --device "$dev" --min-ms "${MIN_MS:-300}" 2>&1 | tee "$out/bench-torch.log" || status=1
    for b in ${FSR_BATCHES:-1 8}; do   # one process per batch: max_memory_allocated of that step alone
        "$py" "$here/fsr_step_torch.py" --device "$dev" --batch "$b" --warmup "${FSR_WARMUP:-2}" --steps "${FSR_STEPS:-5}" \
            --json "$out/torch-fsr-b$b.json" 2>&1 | tee -a "$out/fsr-torch.log" || status=1
    done
    echo "== ratios =="
    "$py" "$here/compare.py" "$out/ours.json" "$out/torch.json" "${pairs[@]}" | tee "$out/table.txt"
    "$py" "$here/compare.py" "$out/ours.json" "$out/torch.json" "${pairs[@]}" --markdown > "$out/table.md"
else
    echo "python3 with a CUDA-enabled torch not found: only our timings were taken" | tee "$out/table.txt"
fi
echo "results in $out (checks: $([[ $rc -eq 0 ]] && echo passed || echo FAILED))"
exit $status
