using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Cuda;

/// <summary>
/// The hand-written PTX kernels on a CUDA device, forced with <see cref="GpuKernelMode.Ptx"/> (the default <c>auto</c>
/// does not use them until an architecture is validated): the TF32 and BF16 GEMMs on odd, unit, batched and broadcast
/// shapes in every transposition against a double-precision GEMM of the inputs rounded as the kernel rounds them; TF32
/// off by default (the fp32 path stays exact); the attention forward against the CPU backend (output, and the gradients
/// of the ILGPU backward that reads the PTX forward's log-sum-exp); uncovered attention cases fall back. Each check also
/// asserts the PTX kernel actually launched (<see cref="GpuKernels.Launches"/>). Shared by <see cref="PtxCudaTests"/> and
/// the GPU runner (bench/gpu).
/// </summary>
public static class PtxCudaChecks
{
    public static IReadOnlyList<(string Name, Action<Device> Body)> All { get; } =
    [
        ("ptx/gemm-tf32", d => Gemm(d, bf16: false)),
        ("ptx/gemm-bf16", d => Gemm(d, bf16: true)),
        ("ptx/gemm-tf32-off-by-default", Tf32OffByDefault),
        ("ptx/attention-forward", d => Attention(d, covered: true)),
        ("ptx/attention-uncovered-falls-back", d => Attention(d, covered: false)),
    ];

    public static void Run(string name, Device device) => All.Single(c => c.Name == name).Body(device);

    static readonly (int M, int N, int K, bool TA, bool TB, int[] Batch, bool Broadcast)[] GemmShapes =
    [
        (1, 1, 1, false, false, [], false),
        (70, 65, 37, false, false, [], false),
        (70, 65, 37, false, true, [], false),
        (70, 65, 37, true, false, [], false),
        (70, 65, 37, true, true, [], false),
        (197, 768, 768, false, true, [], false),
        (128, 130, 64, false, false, [3], false),
        (33, 17, 100, false, true, [2, 3], true),
        (5, 300, 1, true, false, [4], false),
    ];

    static void Gemm(Device device, bool bf16)
    {
        using var mode = GpuKernels.Use(GpuKernelMode.Ptx, allowTf32: true);
        Func<float, float> round = bf16 ? PtxInterpreter.RoundBf16 : PtxInterpreter.RoundTf32;
        var rng = new Random(bf16 ? 2 : 1);
        foreach (var (m, n, k, ta, tb, batch, broadcast) in GemmShapes)
        {
            using var scope = torch.NewDisposeScope();
            int nb = batch.Aggregate(1, (x, y) => x * y);
            var ha = Rand(rng, nb * m * k); var hb = Rand(rng, (broadcast ? 1 : nb) * k * n);
            // Logical op(A) (…, M, K) and op(B) (…, K, N), stored transposed when asked (then viewed back).
            int[] Sh(int r, int c, bool t, bool bc) => [.. (bc ? [] : batch), t ? c : r, t ? r : c];
            var a = torch.tensor(ha, Sh(m, k, ta, false), device); if (ta) a = a.transpose(-1, -2);
            var b = torch.tensor(hb, Sh(k, n, tb, broadcast), device); if (tb) b = b.transpose(-1, -2);
            long before = bf16 ? GpuKernels.Launches.GemmBf16 : GpuKernels.Launches.GemmTf32;
            Tensor c;
            if (!bf16) c = a.matmul(b);
            else
            {
                if (batch.Length > 0 && broadcast) continue;   // the direct entry takes the engine's MatmulArgs; keep it simple
                c = torch.zeros([.. batch, m, n], device: device);
                int lda = ta ? m : k, ldb = tb ? k : n;
                int[] sa = batch.Length == 0 ? [] : [m * k], sbs = batch.Length == 0 ? [] : [k * n];
                Assert.True(PtxGemm.TryBf16(new MatmulArgs(a, b, c, batch, sa, sbs, m, n, k, ta, lda, tb, ldb)), "PtxGemm.TryBf16 declined");
            }
            long after = bf16 ? GpuKernels.Launches.GemmBf16 : GpuKernels.Launches.GemmTf32;
            Assert.True(after > before, $"the PTX GEMM did not launch for {m}×{n}×{k}");
            var got = c.ToArray();
            for (int z = 0; z < nb; z++)
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n; j++)
                    {
                        double s = 0, mag = 0;
                        for (int p = 0; p < k; p++)
                        {
                            // ha is stored as (…, rows, cols) of the stored layout.
                            double x = round(ha[z * m * k + (ta ? p * m + i : i * k + p)]);
                            double y = round(hb[(broadcast ? 0 : z) * k * n + (tb ? j * k + p : p * n + j)]);
                            s += x * y; mag += Math.Abs(x * y);
                        }
                        double tol = 2e-5 * mag + 1e-6;
                        float v = got[(z * m + i) * n + j];
                        if (Math.Abs(v - s) > tol)
                            throw new Xunit.Sdk.XunitException($"{(bf16 ? "bf16" : "tf32")} GEMM {m}×{n}×{k} tA={ta} tB={tb} batch [{string.Join(",", batch)}]: C[{z},{i},{j}] = {v}, expected {s} ± {tol}");
                    }
        }
    }

    static void Tf32OffByDefault(Device device)
    {
        using var mode = GpuKernels.Use(GpuKernelMode.Ptx, allowTf32: false);
        using var scope = torch.NewDisposeScope();
        var rng = new Random(3);
        var ha = Rand(rng, 70 * 37); var hb = Rand(rng, 37 * 65);
        long before = GpuKernels.Launches.GemmTf32;
        var got = torch.tensor(ha, [70, 37], device).matmul(torch.tensor(hb, [37, 65], device)).ToArray();
        Assert.Equal(before, GpuKernels.Launches.GemmTf32);
        var cpu = torch.tensor(ha, [70, 37]).matmul(torch.tensor(hb, [37, 65])).ToArray();
        for (int i = 0; i < got.Length; i++) Assert.True(Math.Abs(got[i] - cpu[i]) <= 1e-5f * (1 + Math.Abs(cpu[i])), $"fp32 matmul [{i}]: {got[i]} vs {cpu[i]}");
    }

    static void Attention(Device device, bool covered)
    {
        using var mode = GpuKernels.Use(GpuKernelMode.Ptx);
        var rng = new Random(covered ? 4 : 5);
        (int B, int H, int Nq, int Nk, int D, bool Fused)[] shapes = covered
            ? [(1, 1, 1, 1, 64, false), (2, 3, 70, 67, 64, false), (2, 12, 197, 197, 64, true), (1, 2, 785, 785, 64, true)]
            : [(2, 3, 70, 67, 32, false), (1, 2, 40, 50, 128, false)];
        foreach (var (bsz, h, nq, nk, d, fused) in shapes)
        {
            using var scope = torch.NewDisposeScope();
            var hq = Rand(rng, bsz * h * nq * d); var hk = Rand(rng, bsz * h * nk * d); var hv = Rand(rng, bsz * h * nk * d); var hg = Rand(rng, bsz * h * nq * d);
            (Tensor q, Tensor k, Tensor v, Tensor g) Make(Device dev)
            {
                // fused: stored (B, N, H, D) and permuted to (B, H, N, D) — the strided layout of a qkv projection.
                Tensor T(float[] x, int n, bool grad) => fused
                    ? torch.tensor(x, [bsz, n, h, d], dev).permute(0, 2, 1, 3).detach().requires_grad_(grad)
                    : torch.tensor(x, [bsz, h, n, d], dev, requires_grad: grad);
                return (T(hq, nq, true), T(hk, nk, true), T(hv, nk, true), torch.tensor(hg, [bsz, h, nq, d], dev));
            }
            long before = GpuKernels.Launches.AttentionForward;
            var (gq, gk, gv, gg) = Make(device);
            var go = torch.nn.functional.scaled_dot_product_attention(gq, gk, gv);
            go.backward(gg);
            long after = GpuKernels.Launches.AttentionForward;
            Assert.True(covered ? after > before : after == before, $"attention {bsz}×{h}×{nq}×{nk}×{d}: PTX launches {before} → {after}");
            var (cq, ck, cv, cg) = Make(Device.CPU);
            var co = torch.nn.functional.scaled_dot_product_attention(cq, ck, cv);
            co.backward(cg);
            Close($"attention output {bsz}×{h}×{nq}×{nk}×{d}", go.ToArray(), co.ToArray(), covered ? 3e-3 : 1e-4);
            Close("attention dq", gq.grad!.ToArray(), cq.grad!.ToArray(), covered ? 1e-2 : 1e-4);
            Close("attention dk", gk.grad!.ToArray(), ck.grad!.ToArray(), covered ? 1e-2 : 1e-4);
            Close("attention dv", gv.grad!.ToArray(), cv.grad!.ToArray(), covered ? 1e-2 : 1e-4);
        }
    }

    static void Close(string what, float[] got, float[] want, double atol)
    {
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < got.Length; i++)
            if (!(Math.Abs(got[i] - want[i]) <= atol * (1 + Math.Abs(want[i]))))
                throw new Xunit.Sdk.XunitException($"{what}[{i}] = {got[i]}, CPU {want[i]} (tolerance {atol})");
    }

    static float[] Rand(Random rng, int n)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }
}
