#!/usr/bin/env bash
# Exercises the CUDA error paths on a machine without a GPU, against a fake libcuda.so.1 (fake_cuda.c): only the
# versioned name exists (ILGPU asks for libcuda.so, FsrNative's fallback loads libcuda.so.1), then
#   1. a CUDA 10.2 driver (too old for ILGPU's PTX for sm_80)      → "the NVIDIA driver is too old ... CUDA 11.0 or newer"
#   2. a CUDA 13.0 driver                                         → ILGPU picks PTX ISA 8.8, .target sm_80; the context
#                                                                    creation fails, naming CUDA_ERROR_UNKNOWN
#   3. FSR_CUDA_DEVICE=cuda:3 with one device                       → "index out of range"
# Usage: bench/gpu/fake-libcuda/check.sh [RUNNER]   (RUNNER: the GpuRunner executable; default: the Release build)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
runner="${1:-}"
for c in "$here/../runner/FsrNative.GpuRunner" "$here/../runner/bin/Release/net10.0/FsrNative.GpuRunner"; do [[ -z "$runner" && -x "$c" ]] && runner="$c"; done
lib="$(mktemp -d)"
trap 'rm -rf "$lib"' EXIT
gcc -shared -fPIC -O1 -o "$lib/libcuda.so.1" "$here/fake_cuda.c"
fail=0
expect() { # name, expected text, command...
    local name="$1" want="$2"; shift 2
    local out; out="$("$@" 2>&1 || true)"
    if grep -qF -- "$want" <<<"$out"; then echo "ok    $name"; else echo "FAIL  $name: expected '$want' in:"; echo "$out" | sed 's/^/      /'; fail=1; fi
    [[ -n "${VERBOSE:-}" ]] && echo "$out" | sed 's/^/      /' || true
}
export LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
expect "libcuda.so.1 found"          "driver library libcuda.so.1"                     env FAKE_CUDA_VERSION=13000 "$runner" probe
expect "old driver: too old"         "the NVIDIA driver is too old: it supports CUDA 10.2, and ILGPU 1.5.3 needs a driver for CUDA 11.0 or newer" \
                                                                                        env FAKE_CUDA_VERSION=10020 "$runner" checks
expect "CUDA 12.4: PTX ISA 8.4"      "PTX ISA 8.4 (.target sm_80)"                      env FAKE_CUDA_VERSION=12040 "$runner" probe
expect "CUDA 13.0: PTX ISA 8.8"      "PTX ISA 8.8 (.target sm_80)"                      env FAKE_CUDA_VERSION=13000 "$runner" probe
expect "sm_75 GPU: .target sm_75"    ".target sm_75"                                   env FAKE_CUDA_VERSION=13000 FAKE_CUDA_CC=75 "$runner" probe
expect "context failure named"       "CUDA_ERROR_UNKNOWN"                              env FAKE_CUDA_VERSION=13000 "$runner" checks
expect "index out of range"          "cuda:3: CUDA device index out of range: the driver reports 1 device(s)" \
                                                                                        env FAKE_CUDA_VERSION=13000 FSR_CUDA_DEVICE=cuda:3 "$runner" checks
exit $fail
