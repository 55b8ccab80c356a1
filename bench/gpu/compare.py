#!/usr/bin/env python3
"""One table from the GPU runner's JSON (ours) and PyTorch's JSON (torch_ops.py, fsr_step_torch.py) on the same GPU.

speed = PyTorch time / our time for the same operation (1.0 = as fast as PyTorch; 0.5 = half its speed). GEMM rows
also compare our FP32 GEMM with cuBLAS's TF32 and BF16 (tensor cores) at the same shape, and the issue's goals are
listed next to each row (issue 7: FP32 GEMM ≥ 0.8× cuBLAS, tensor-core GEMM ≥ 0.6× cuBLAS at the same precision,
attention ≥ 0.5× PyTorch's fused kernel). Rows ending in _ptx are the hand-written PTX kernels (kernels-ptx/).
The FSR training step rows (fsr_step_bN: the runner's fsr-step vs fsr_step_torch.py) get their own table: time ratio
ours/torch against the goal ≤ 1.0× the PyTorch eager step, and both peak memories (ours: the device allocator's peak
bytes in use; PyTorch: torch.cuda.max_memory_allocated) — batch 8 is the paper's batch, to fit one 80 GB GPU.

  python3 compare.py OURS.json TORCH.json [OURS.json TORCH.json ...] [--markdown]
  (files are taken in pairs, ours then PyTorch's; a missing file is reported and skipped)
"""
import json, os, sys

GOALS = {"gemm_fp32": 0.8, "gemm_tf32": 0.6, "gemm_bf16": 0.6, "attention": 0.5}
GPU_BYTES = 80 * 10**9      # "the paper's batch of 8 images at 448 px trains on one 80 GB GPU"


def load(paths):
    meta, rows = {}, {}
    for p in paths:
        if not os.path.exists(p):
            print(f"(missing: {p})"); continue
        with open(p) as f:
            d = json.load(f)
        meta = meta or d
        rows.update({r["name"]: r for r in d["results"]})
    return meta, rows


def table(head, rows, md):
    if md:
        print("| " + " | ".join(head) + " |"); print("|" + "|".join("---" for _ in head) + "|")
        for r in rows: print("| " + " | ".join(str(c) for c in r) + " |")
        return
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    for r in rows: print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))


def mib(r, rss=False):
    """Peak memory in MiB; rss: the process's peak RSS instead (ours, when PyTorch's figure is an RSS: CPU runs)."""
    key = "peak_rss_bytes" if rss and r and "peak_rss_bytes" in r else "peak_mem_bytes"
    if not r or r.get(key) is None:
        return "-"
    return f"{r[key] / 2**20:.0f}" + (" (RSS)" if key == "peak_rss_bytes" or "RSS" in r.get("peak_mem_kind", "") else "")


def main(argv):
    md = "--markdown" in argv
    args = [a for a in argv if not a.startswith("--")]
    if len(args) < 2 or len(args) % 2:
        print(__doc__); return 3
    od, ours = load(args[0::2]); td, torch = load(args[1::2])
    print(f"ours: FsrNative on {od.get('device')}; PyTorch {td.get('version')} on {td.get('device')}")
    head = ["op", "shape", "ours ms", "torch ms", "speed vs torch", "vs TF32", "vs BF16", "goal"]
    rows, fsr = [], []
    for name, o in ours.items():
        # Rows of the hand-written PTX kernels ("…_ptx") compare with torch's row of the same name without the suffix:
        # gemm_tf32_* (torch.matmul with TF32 on), gemm_bf16_* (bf16 inputs), attention_fwd (SDPA).
        t = torch.get(name[:-4] if name.endswith("_ptx") else name, {})
        if name.startswith("fsr_step"):
            fsr.append((o, t)); continue
        def speed(other):
            return f"{other['ms'] / o['ms']:.2f}×" if "ms" in o and other and "ms" in other else "-"
        extra = ["-", "-"]
        if name.startswith("gemm_fp32"):
            extra = [speed(torch.get(name.replace("fp32", "tf32"))), speed(torch.get(name.replace("fp32", "bf16")))]
        goal = next((f"≥ {g}×" for k, g in GOALS.items() if name.startswith(k)), "")
        rows.append([name, o.get("shape", ""), f"{o['ms']:.3f}" if "ms" in o else "FAILED",
                     f"{t['ms']:.3f}" if "ms" in t else "-", speed(t), *extra, goal])
    if rows:
        table(head, rows, md)
    if fsr:
        print()
        frows = []
        for o, t in fsr:
            both = "ms" in o and "ms" in t
            ratio = o["ms"] / t["ms"] if both else None
            goal = "≤ 1.0× the PyTorch eager step"
            met = ("yes" if ratio <= 1.0 else "no") if both else "-"
            if o.get("shape", "").endswith("batch 8"):
                goal += "; batch 8 in 80 GB"
                fits = "ms" in o and o.get("peak_mem_bytes", GPU_BYTES) < GPU_BYTES
                met += f"; {'fits' if fits else 'does not fit'} ({mib(o)} MiB)"
            frows.append([f"fsr_step ({o.get('shape', '')})", f"{o['ms']:.1f}" if "ms" in o else "FAILED: " + o.get("error", "?"),
                          f"{t['ms']:.1f}" if "ms" in t else ("FAILED: " + t["error"] if "error" in t else "-"),
                          f"{ratio:.2f}×" if ratio else "-", goal, met, mib(o, "RSS" in t.get("peak_mem_kind", "")), mib(t)])
        table(["row", "ours ms", "torch ms", "ours / torch time", "goal", "met", "ours peak MiB", "torch peak MiB"], frows, md)
        print("(peak: ours = the device allocator's peak bytes in use, PyTorch = torch.cuda.max_memory_allocated; "
              "on the CPU both are the process's peak RSS)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
