#!/usr/bin/env python3
"""One table from the GPU runner's JSON (ours) and torch_ops.py's JSON (PyTorch on the same GPU).

speed = PyTorch time / our time for the same operation (1.0 = as fast as PyTorch; 0.5 = half its speed). GEMM rows
also compare our FP32 GEMM with cuBLAS's TF32 and BF16 (tensor cores) at the same shape, and the issue's goals are
listed next to each row (issue 7: FP32 GEMM ≥ 0.8× cuBLAS, tensor-core GEMM ≥ 0.6× cuBLAS at the same precision,
attention ≥ 0.5× PyTorch's fused kernel). Rows ending in _ptx are the hand-written PTX kernels (kernels-ptx/).

  python3 compare.py ours.json torch.json [--markdown]
"""
import json, sys

GOALS = {"gemm_fp32": 0.8, "gemm_tf32": 0.6, "gemm_bf16": 0.6, "attention": 0.5}


def load(path):
    with open(path) as f:
        d = json.load(f)
    return d, {r["name"]: r for r in d["results"]}


def main(argv):
    md = "--markdown" in argv
    args = [a for a in argv if not a.startswith("--")]
    if len(args) != 2:
        print(__doc__); return 3
    od, ours = load(args[0]); td, torch = load(args[1])
    print(f"ours: FsrNative on {od.get('device')}; PyTorch {td.get('version')} on {td.get('device')}")
    head = ["op", "shape", "ours ms", "torch ms", "speed vs torch", "vs TF32", "vs BF16", "goal"]
    rows = []
    for name, o in ours.items():
        # Rows of the hand-written PTX kernels ("…_ptx") compare with torch's row of the same name without the suffix:
        # gemm_tf32_* (torch.matmul with TF32 on), gemm_bf16_* (bf16 inputs), attention_fwd (SDPA).
        t = torch.get(name[:-4] if name.endswith("_ptx") else name, {})
        def speed(other):
            return f"{other['ms'] / o['ms']:.2f}×" if "ms" in o and other and "ms" in other else "-"
        extra = ["-", "-"]
        if name.startswith("gemm_fp32"):
            extra = [speed(torch.get(name.replace("fp32", "tf32"))), speed(torch.get(name.replace("fp32", "bf16")))]
        goal = next((f"≥ {g}×" for k, g in GOALS.items() if name.startswith(k)), "")
        rows.append([name, o.get("shape", ""), f"{o['ms']:.3f}" if "ms" in o else "FAILED",
                     f"{t['ms']:.3f}" if "ms" in t else "-", speed(t), *extra, goal])
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    if md:
        print("| " + " | ".join(head) + " |"); print("|" + "|".join("---" for _ in head) + "|")
        for r in rows: print("| " + " | ".join(r) + " |")
    else:
        print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
        for r in rows: print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
