#!/usr/bin/env python3
"""Times in PyTorch, on the same GPU, the operations FsrNative's GPU runner times (bench/gpu/runner, same names and
shapes): GEMM (FP32 with TF32 off = cuBLAS SGEMM; plus TF32 and BF16 rows), attention forward and forward+backward
(torch scaled_dot_product_attention, fused kernels), conv2d (cuDNN, TF32 off), layer_norm and softmax forward and
forward+backward. Each time is the median of 5 repetitions of the time per call, a repetition being at least
min_ms/5 of back-to-back calls between two torch.cuda.synchronize() (as the runner does). Writes JSON for compare.py.

  python3 torch_ops.py --json torch.json [--filter S] [--min-ms 300]
  python3 torch_ops.py --dry-run          list the operations without importing torch
"""
import argparse, json, sys, time

B, N, C, H, DH = 8, 785, 768, 12, 64     # the `voc` preset: ViT-B/16 at 448 px, batch 8


def ops():
    """(name, shape text, flops, bytes, dtype tag, setup) — setup(torch, dev) returns the step."""
    def gemm(name, m, n, k, dtype="fp32"):
        def setup(torch, dev):
            dt = {"fp32": torch.float32, "tf32": torch.float32, "bf16": torch.bfloat16}[dtype]
            a = torch.randn(m, k, device=dev, dtype=dt); b = torch.randn(k, n, device=dev, dtype=dt)
            return lambda: torch.matmul(a, b)
        return (name, f"{m}x{k} @ {k}x{n}", 2.0 * m * n * k, 0, dtype, setup)

    def attn(bwd):
        def setup(torch, dev):
            F = torch.nn.functional
            q, k, v = (torch.randn(B, H, N, DH, device=dev, requires_grad=bwd) for _ in range(3))
            if not bwd:
                return lambda: F.scaled_dot_product_attention(q, k, v)
            g = torch.randn(B, H, N, DH, device=dev)
            def step():
                F.scaled_dot_product_attention(q, k, v).backward(g)
                q.grad = k.grad = v.grad = None
            return step
        return setup

    def conv(kind):
        def setup(torch, dev):
            F = torch.nn.functional
            if kind == "patch":
                x = torch.randn(B, 3, 448, 448, device=dev); w = torch.randn(C, 3, 16, 16, device=dev) * 0.05
                bias = torch.randn(C, device=dev)
                return lambda: F.conv2d(x, w, bias, stride=16)
            x = torch.randn(B, 256, 56, 56, device=dev); w = torch.randn(256, 256, 3, 3, device=dev) * 0.05
            return lambda: F.conv2d(x, w, None, padding=1)
        return setup

    def layer_norm(bwd):
        def setup(torch, dev):
            F = torch.nn.functional
            x = torch.randn(B, N, C, device=dev, requires_grad=bwd)
            w = torch.randn(C, device=dev, requires_grad=bwd); b = torch.randn(C, device=dev, requires_grad=bwd)
            if not bwd:
                return lambda: F.layer_norm(x, [C], w, b)
            g = torch.randn(B, N, C, device=dev)
            def step():
                F.layer_norm(x, [C], w, b).backward(g)
                x.grad = w.grad = b.grad = None
            return step
        return setup

    def softmax(bwd):
        def setup(torch, dev):
            x = torch.randn(B, H, N, N, device=dev, requires_grad=bwd)
            if not bwd:
                return lambda: x.softmax(-1)
            g = torch.randn(B, H, N, N, device=dev)
            def step():
                x.softmax(-1).backward(g)
                x.grad = None
            return step
        return setup

    att = 4.0 * B * H * N * N * DH
    return [
        gemm("gemm_fp32_4096", 4096, 4096, 4096),
        gemm("gemm_fp32_vit_qkv", B * N, 3 * C, C),
        gemm("gemm_fp32_vit_mlp1", B * N, 4 * C, C),
        gemm("gemm_fp32_vit_mlp2", B * N, C, 4 * C),
        gemm("gemm_tf32_4096", 4096, 4096, 4096, "tf32"),
        gemm("gemm_bf16_4096", 4096, 4096, 4096, "bf16"),
        gemm("gemm_tf32_vit_qkv", B * N, 3 * C, C, "tf32"),
        gemm("gemm_bf16_vit_qkv", B * N, 3 * C, C, "bf16"),
        ("attention_fwd", f"{B}x{H}x{N}x{DH}", att, 0, "fp32", attn(False)),
        ("attention_fwd_bwd", f"{B}x{H}x{N}x{DH}", att * 3.5, 0, "fp32", attn(True)),
        ("conv2d_patch_embed", f"{B}x3x448x448 k16 s16 ->768", 2.0 * B * (N - 1) * C * 3 * 256, 0, "fp32", conv("patch")),
        ("conv2d_3x3_256", f"{B}x256x56x56 k3 p1 ->256", 2.0 * B * 56 * 56 * 256 * 256 * 9, 0, "fp32", conv("3x3")),
        ("layer_norm_fwd", f"{B}x{N}x{C}", 0, 2.0 * 4 * B * N * C, "fp32", layer_norm(False)),
        ("layer_norm_fwd_bwd", f"{B}x{N}x{C}", 0, 5.0 * 4 * B * N * C, "fp32", layer_norm(True)),
        ("softmax_fwd", f"{B}x{H}x{N}x{N}", 0, 2.0 * 4 * B * H * N * N, "fp32", softmax(False)),
        ("softmax_fwd_bwd", f"{B}x{H}x{N}x{N}", 0, 5.0 * 4 * B * H * N * N, "fp32", softmax(True)),
    ]


def time_step(torch, step, min_ms):
    step(); torch.cuda.synchronize()                     # warm-up: kernel selection, allocator
    t0 = time.perf_counter(); n = 0
    while True:
        step(); n += 1; torch.cuda.synchronize()
        if (time.perf_counter() - t0) * 1e3 >= min_ms / 5 or n >= 1000:
            break
    reps = []
    for _ in range(5):
        torch.cuda.synchronize(); t = time.perf_counter()
        for _ in range(n):
            step()
        torch.cuda.synchronize()
        reps.append((time.perf_counter() - t) * 1e3 / n)
    return sorted(reps)[2]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json"); ap.add_argument("--filter"); ap.add_argument("--min-ms", type=float, default=300)
    ap.add_argument("--device", default="cuda:0"); ap.add_argument("--dry-run", action="store_true")
    a = ap.parse_args()
    todo = [o for o in ops() if not a.filter or a.filter.lower() in o[0].lower()]
    if a.dry_run:
        print(f"{len(todo)} PyTorch operations (dry run, torch not imported):")
        for name, shape, *_ in todo:
            print(f"  {name:<28} {shape}")
        return 0
    import torch
    if not torch.cuda.is_available():
        print("torch: no CUDA device available", file=sys.stderr)
        return 2
    dev = torch.device(a.device)
    torch.manual_seed(0)
    results = []
    name_dev = torch.cuda.get_device_name(dev)
    print(f"PyTorch {torch.__version__} (CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}) on {name_dev}")
    print(f"{'op':<28} {'shape':<34} {'ms':>10} {'GFLOP/s':>9} {'GB/s':>8}")
    for name, shape, flops, nbytes, dtype, setup in todo:
        tf32 = dtype == "tf32"
        torch.backends.cuda.matmul.allow_tf32 = tf32       # FP32 rows: true FP32 (SGEMM), as our kernels
        torch.backends.cudnn.allow_tf32 = tf32
        try:
            with torch.no_grad() if not name.endswith("_bwd") else torch.enable_grad():
                ms = time_step(torch, setup(torch, dev), a.min_ms)
            gf = flops / (ms * 1e6) if flops else None
            gb = nbytes / (ms * 1e6) if nbytes else None
            print(f"{name:<28} {shape:<34} {ms:>10.3f} {gf and f'{gf:.0f}' or '-':>9} {gb and f'{gb:.0f}' or '-':>8}")
            results.append(dict(name=name, shape=shape, ms=ms, flops=flops, bytes=nbytes, dtype=dtype))
        except Exception as e:  # noqa: BLE001 — one failing op must not hide the others
            print(f"{name:<28} {shape:<34} FAILED: {e}")
            results.append(dict(name=name, shape=shape, error=str(e)))
        torch.cuda.empty_cache()
    if a.json:
        with open(a.json, "w") as f:
            json.dump(dict(engine="pytorch", version=torch.__version__, device=name_dev, results=results), f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
