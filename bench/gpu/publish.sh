#!/usr/bin/env bash
# Publishes, self-contained for linux-x64 (no .NET on the target), the `fsr` executable and the GPU runner, and puts
# the runner with run.sh, torch_ops.py, fsr_step_torch.py and compare.py into one folder to copy to a GPU machine:
#   artifacts/fsr/          fsr (BCL trimmed, TrimMode=partial: see src/Fsr's csproj; Skia natives for reports)
#   artifacts/gpu-bundle/   runner/ (trimmed BCL, see its csproj) + the scripts; run ./run.sh there
# The runner is trimmed (its csproj: TrimMode=partial, warnings suppressed there); EnableTrimAnalyzer=false because the
# global PublishTrimmed would otherwise run the trim analyzer on src/Fsr (reflection-based JSON for config and metrics,
# code paths the runner never calls) and fail the build on its warnings.
# Prints the folder sizes. Not committed (artifacts/ is git-ignored). --runner-only: the bundle only.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
art="$root/artifacts"
rm -rf "$art/gpu-bundle"
common=(-c Release -r linux-x64 --self-contained -p:InvariantGlobalization=true -p:DebugType=none -p:GenerateDocumentationFile=false)
dotnet publish "$root/bench/gpu/runner/FsrNative.GpuRunner.csproj" "${common[@]}" -p:PublishTrimmed=true -p:EnableTrimAnalyzer=false -o "$art/gpu-bundle/runner"
if [[ "${1:-}" != "--runner-only" ]]; then
    rm -rf "$art/fsr"
    dotnet publish "$root/src/Fsr/FsrNative.Fsr.csproj" "${common[@]}" -p:PublishTrimmed=true -o "$art/fsr"
fi
cp "$root/bench/gpu/run.sh" "$root/bench/gpu/torch_ops.py" "$root/bench/gpu/fsr_step_torch.py" "$root/bench/gpu/compare.py" "$art/gpu-bundle/"
cp -r "$root/bench/gpu/fake-libcuda" "$art/gpu-bundle/"
for d in "$art/gpu-bundle" "$art/fsr"; do
    if [[ -d "$d" ]]; then printf '%-24s %6.1f MiB (%s files)\n' "${d#$root/}" "$(du -sb "$d" | awk '{print $1/1048576}')" "$(find "$d" -type f | wc -l)"; fi
done
