using FsrNative.Kernels;
using FsrNative.Tests.Infrastructure;
using static FsrNative.Tests.Parity.ParityHarness;

namespace FsrNative.Tests.Parity;

/// <summary>
/// Kernel-level checks that need wide groups, run on a private emulator instance (its own CPU accelerator, so the OS
/// threads its groups start do not slow down the shared <c>ilgpu-cpu</c> device): every one-group-per-row kernel at
/// group sizes 1, 3 (not a power of two), 32 (one warp) and 37 (a partial second warp), and the tiled GEMM (groups of
/// 256 threads) against the naive reference and the CPU backend, including edge tiles, transposes, broadcast batches
/// and beta = 1.
/// </summary>
[Trait(Categories.Trait, Categories.Parity)]
public sealed class KernelGroupSizeParityTests
{
    /// <summary>A tensor of the isolated backend (the op API would route to the shared one).</summary>
    static Tensor Make(IlgpuBackend be, float[] data, params int[] shape)
    {
        var t = Tensor.FromStorage(be.Allocate(data.Length), shape, DType.Float32);
        be.Upload(data, t);
        return t;
    }

    static Tensor Empty(IBackend be, DType dtype, params int[] shape) => Tensor.FromStorage(be.Allocate(FsrNative.Shape.NumEl(shape)), shape, dtype);

    static float[] Get(IBackend be, Tensor t)
    {
        var host = new float[t.NumEl];
        be.Download(t, host);
        return host;
    }

    /// <summary>Runs <paramref name="body"/> on the CPU backend and on the isolated emulator at each group size.</summary>
    static void ForEachGroupSize(Func<IBackend, Func<float[], int[], Tensor>, float[][]> body, string what, Tolerance tol)
    {
        float[][] expected;
        using (torch.NewDisposeScope())
            expected = body(CpuBackend.Instance, (d, s) => torch.tensor(d, s));
        var be = IlgpuBackend.CreateIsolatedEmulator();
        try
        {
            foreach (int g in new[] { 1, 3, 32, 37 })
            {
                be.RowGroupSizeOverride = g;
                using var scope = torch.NewDisposeScope();
                var actual = body(be, (d, s) => Make(be, d, s));
                for (int i = 0; i < expected.Length; i++)
                    Close.AssertClose(expected[i], actual[i], tol, $"{what}, output {i}, group size {g}", equalNan: true);
            }
        }
        finally
        {
            be.DisposeIsolated();
        }
    }

    static readonly float[] X = TestRandom.Uniform(1, 3 * 45, -3, 3);

    [Fact]
    public void RowReductionsAtEveryGroupSize()
    {
        var withTies = Array.ConvertAll(TestRandom.Integers(2, 3 * 45, -4, 5), v => (float)v);
        withTies[50] = float.NaN;   // row 1 has a NaN
        ForEachGroupSize((be, make) =>
        {
            var x = make(X, [3, 45]);
            var results = new List<float[]>();
            foreach (var op in Enum.GetValues<ReduceOp>())
            {
                var y = Empty(be, DType.Float32, 3);
                be.Reduce(op, x, 3, 45, 1, y);
                results.Add(Get(be, y));
            }
            var t = make(withTies, [3, 45]);
            foreach (bool max in new[] { true, false })
            {
                var v = Empty(be, DType.Float32, 3);
                var i = Empty(be, DType.Int32, 3);
                be.ArgReduce(max, t, 3, 45, 1, v, i);
                results.Add(Get(be, v));
                results.Add(Get(be, i).Select(f => (float)BitConverter.SingleToInt32Bits(f)).ToArray());
                var m = Empty(be, DType.Float32, 3);
                be.Reduce(max ? ReduceOp.Max : ReduceOp.Min, t, 3, 45, 1, m);
                results.Add(Get(be, m));
            }
            var variance = Empty(be, DType.Float32, 3);
            var mean = Empty(be, DType.Float32, 3);
            be.Variance(x, 3, 45, 1, 1f, variance, mean);
            results.Add(Get(be, variance));
            results.Add(Get(be, mean));
            return results.ToArray();
        }, "row reductions", Sums);
    }

    [Fact]
    public void SoftmaxAndLayerNormRowsAtEveryGroupSize()
    {
        var gyData = TestRandom.Uniform(3, 3 * 45, -1, 1);
        var gamma = TestRandom.Uniform(4, 45, 0.5f, 1.5f);
        var beta = TestRandom.Uniform(5, 45, -0.5f, 0.5f);
        ForEachGroupSize((be, make) =>
        {
            var x = make(X, [3, 45]);
            var gy = make(gyData, [3, 45]);
            var results = new List<float[]>();
            foreach (bool log in new[] { false, true })
            {
                var y = Empty(be, DType.Float32, 3, 45);
                be.Softmax(x, y, 3, 45, 1, log);
                var gx = Empty(be, DType.Float32, 3, 45);
                be.SoftmaxBackward(y, gy, gx, 3, 45, 1, log);
                results.Add(Get(be, y));
                results.Add(Get(be, gx));
            }
            var w = make(gamma, [45]);
            var b = make(beta, [45]);
            var ln = Empty(be, DType.Float32, 3, 45);
            var mean = Empty(be, DType.Float32, 3);
            var rstd = Empty(be, DType.Float32, 3);
            be.LayerNorm(x, w, b, ln, mean, rstd, 3, 45, 1e-5f);
            var lgx = Empty(be, DType.Float32, 3, 45);
            var gw = Empty(be, DType.Float32, 45);
            var gb = Empty(be, DType.Float32, 45);
            be.LayerNormBackward(x, w, mean, rstd, gy, lgx, gw, gb, 3, 45);
            results.AddRange([Get(be, ln), Get(be, mean), Get(be, rstd), Get(be, lgx), Get(be, gw), Get(be, gb)]);
            return results.ToArray();
        }, "softmax / layer_norm rows", Sums);
    }

    static readonly (string name, int batch, int m, int n, int k, bool ta, bool tb, bool broadcastA, float beta)[] GemmCases =
    [
        ("one tile, odd sizes", 1, 33, 17, 40, false, false, false, 0f),
        ("edge tiles both ways, Aᵀ, beta 1", 1, 65, 70, 19, true, false, false, 1f),
        ("batched, Bᵀ, A broadcast over the batch", 3, 20, 9, 33, false, true, true, 0f),
        ("1×1×1", 1, 1, 1, 1, true, true, false, 0f),
    ];

    [Fact]
    public void TiledGemmMatchesNaiveAndCpu()
    {
        var be = IlgpuBackend.CreateIsolatedEmulator();
        try
        {
            foreach (var (name, batch, m, n, k, ta, tb, broadcastA, beta) in GemmCases)
            {
                int aRows = ta ? k : m, aCols = ta ? m : k, bRows = tb ? n : k, bCols = tb ? k : n;
                int aBatch = broadcastA ? 1 : batch;
                var aData = TestRandom.Uniform(10, aBatch * aRows * aCols, -1, 1);
                var bData = TestRandom.Uniform(11, batch * bRows * bCols, -1, 1);
                var cData = TestRandom.Uniform(12, batch * m * n, -1, 1);
                int[] batchShape = batch == 1 ? [] : [batch];
                int[] stridesA = batch == 1 ? [] : [broadcastA ? 0 : aRows * aCols];
                int[] stridesB = batch == 1 ? [] : [bRows * bCols];
                float[] Run(IBackend backend, Func<float[], int[], Tensor> make)
                {
                    var a = make(aData, [aBatch, aRows, aCols]);
                    var b = make(bData, [batch, bRows, bCols]);
                    var c = make(cData, [batch, m, n]);
                    backend.Matmul(new MatmulArgs(a, b, c, batchShape, stridesA, stridesB, m, n, k, ta, aCols, tb, bCols, 1f, beta));
                    return Get(backend, c);
                }
                float[] cpu, tiled, naive;
                using (torch.NewDisposeScope()) cpu = Run(CpuBackend.Instance, (d, s) => torch.tensor(d, s));
                using (torch.NewDisposeScope())
                {
                    be.GemmChoice = IlgpuBackend.GemmKernel.Tiled;
                    tiled = Run(be, (d, s) => Make(be, d, s));
                    be.GemmChoice = IlgpuBackend.GemmKernel.Naive;
                    naive = Run(be, (d, s) => Make(be, d, s));
                }
                Close.AssertClose(naive, tiled, Sums, $"tiled vs naive GEMM: {name}", [batch, m, n]);
                Close.AssertClose(cpu, tiled, Sums, $"tiled GEMM vs cpu: {name}", [batch, m, n]);
            }
        }
        finally
        {
            be.DisposeIsolated();
        }
    }
}
