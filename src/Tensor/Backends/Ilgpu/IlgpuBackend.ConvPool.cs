using FsrNative.Kernels;
using FsrNative.Kernels.Gpu;
using ILGPU;
using ILGPU.Runtime;

namespace FsrNative;

/// <summary>
/// Convolution and pooling on an ILGPU accelerator (kernels in src/Kernels/Gpu/ConvPoolKernels.cs). conv2d is im2col
/// into a scratch buffer from the caching allocator plus the GEMM kernel <see cref="Matmul"/> uses (tiled on a GPU,
/// naive on the shared emulator: see <see cref="GemmChoice"/>), in chunks of images that keep the scratch under
/// <see cref="ConvScratchBudget"/> floats. The input gradient is gcol = Wᵀ·gy then a gather col2im; the weight
/// gradient accumulates gy_n·col_nᵀ image after image (beta = 1). No float atomics anywhere.
/// </summary>
public sealed partial class IlgpuBackend
{
    /// <summary>Floats of im2col scratch one chunk of images may use (64 MiB) unless a single image needs more. Only
    /// speed and memory depend on it (tests lower it to run several chunks).</summary>
    internal int ConvScratchBudget { get; set; } = 1 << 24;

    static void CheckConv(Tensor x, Tensor w, Tensor y, in Conv2dGeometry g, string op, string xName, string yName)
    {
        CheckCount(x, (long)g.N * g.C * g.H * g.W, op, xName);
        CheckCount(w, (long)g.O * g.C * g.KH * g.KW, op, "weight");
        CheckCount(y, (long)g.N * g.O * g.OH * g.OW, op, yName);
    }

    int ConvChunk(in Conv2dGeometry g)
    {
        long per = (long)g.ColRows * g.OutPlane;
        if (per == 0) return Math.Max(g.N, 1);
        if (per > int.MaxValue / 2) throw new NotSupportedException($"conv2d: one image's im2col matrix ({per} floats) exceeds one buffer: {g}");
        return (int)Math.Clamp(ConvScratchBudget / per, 1, Math.Max(g.N, 1));
    }

    /// <summary>One batched GEMM on raw views (C contiguous (batch, m, n) from the start of <paramref name="c"/>), with
    /// per-entry element strides of A and B (0 = shared).</summary>
    void ConvGemm(ArrayView<float> a, int strideA, ArrayView<float> b, int strideB, ArrayView<float> c, int batch,
        int m, int n, int k, bool transA, int lda, bool transB, int ldb, float beta)
    {
        if (batch == 0 || m == 0 || n == 0) return;
        var la = StridedLayout.Create([batch], [strideA], 0);
        var lb = StridedLayout.Create([batch], [strideB], 0);
        var shape = new GemmShape
        {
            M = m, N = n, K = k, Lda = lda, Ldb = ldb, TransA = transA ? 1 : 0, TransB = transB ? 1 : 0,
            Alpha = 1f, Beta = beta, Batch = batch,
        };
        if (GemmChoice == GemmKernel.Naive)
        {
            long total = (long)batch * m * n;
            if (total > int.MaxValue) throw new NotSupportedException($"conv2d: a GEMM of {total} outputs exceeds one launch");
            _k.GemmNaive(Grid((int)total), (int)total, Grid((int)total), a, la, b, lb, c, shape);
        }
        else
        {
            long groups = (long)GpuMath.DivUp(n, MatmulKernels.TileN) * GpuMath.DivUp(m, MatmulKernels.TileM) * batch;
            if (groups > int.MaxValue) throw new NotSupportedException($"conv2d: {groups} GEMM tiles exceed one launch");
            _k.GemmTiled(new KernelConfig((int)groups, MatmulKernels.Threads), a, la, b, lb, c, shape);
        }
    }

    static int Total(long n, string op)
    {
        if (n > int.MaxValue) throw new NotSupportedException($"{op}: {n} elements exceed one launch");
        return (int)n;
    }

    public void Conv2d(Tensor x, Tensor w, Tensor? bias, Tensor y, in Conv2dGeometry g)
    {
        const string name = "conv2d";
        CheckConv(x, w, y, g, name, "input", "output");
        if (bias is not null) CheckCount(bias, g.O, name, "bias");
        lock (_gate)
        {
            _acc.Bind();
            ArrayView<float> xv = Contig(x, name), wv = Contig(w, name), yv = Contig(y, name);
            ArrayView<float> bv = bias is null ? Placeholder : Contig(bias, name);
            int O = g.O, P = g.OutPlane, K = g.ColRows, images = g.N;
            int outTotal = Total((long)images * O * P, name);
            if (outTotal == 0) return;
            float beta = 0f;
            if (bias is not null)
            {
                _k.FillBias(Grid(outTotal), outTotal, Grid(outTotal), yv, bv, P, O);
                beta = 1f;
            }
            if (g.IsPointwise)
            {
                ConvGemm(wv, 0, xv, g.C * g.InPlane, yv, images, O, P, K, false, K, false, P, beta);
                return;
            }
            int chunk = ConvChunk(g);
            var scratch = _allocator.Rent(chunk * K * P);
            try
            {
                for (int n0 = 0; n0 < images; n0 += chunk)
                {
                    int nb = Math.Min(chunk, images - n0);
                    int colTotal = nb * K * P;
                    if (colTotal > 0) _k.Im2Col(Grid(colTotal), colTotal, Grid(colTotal), xv, n0 * g.C * g.InPlane, scratch.View, g);
                    ConvGemm(wv, 0, scratch.View, K * P, yv.SubView((long)n0 * O * P, (long)nb * O * P), nb, O, P, K, false, K, false, P, beta);
                }
            }
            finally
            {
                _allocator.Return(scratch);   // safe: later users of the buffer queue behind these kernels on the one stream
            }
        }
    }

    public void Conv2dBackwardInput(Tensor gy, Tensor w, Tensor gx, in Conv2dGeometry g)
    {
        const string name = "conv2d_backward_input";
        CheckConv(gx, w, gy, g, name, "input gradient", "output gradient");
        lock (_gate)
        {
            _acc.Bind();
            ArrayView<float> gyv = Contig(gy, name), wv = Contig(w, name), gxv = Contig(gx, name);
            int O = g.O, P = g.OutPlane, K = g.ColRows, images = g.N;
            int inTotal = Total((long)images * g.C * g.InPlane, name);
            if (inTotal == 0) return;
            if (O == 0 || P == 0)
            {
                _k.FillContiguous(Grid(inTotal), inTotal, Grid(inTotal), gxv, 0f);
                return;
            }
            if (g.IsPointwise)
            {
                ConvGemm(wv, 0, gyv, O * P, gxv, images, g.C, P, O, true, g.C, false, P, 0f);
                return;
            }
            int chunk = ConvChunk(g);
            var scratch = _allocator.Rent(chunk * K * P);
            try
            {
                for (int n0 = 0; n0 < images; n0 += chunk)
                {
                    int nb = Math.Min(chunk, images - n0);
                    ConvGemm(wv, 0, gyv.SubView((long)n0 * O * P, (long)nb * O * P), O * P, scratch.View, nb, K, P, O, true, K, false, P, 0f);
                    int total = nb * g.C * g.InPlane;
                    _k.Col2Im(Grid(total), total, Grid(total), scratch.View, gxv, n0 * g.C * g.InPlane, g);
                }
            }
            finally
            {
                _allocator.Return(scratch);
            }
        }
    }

    public void Conv2dBackwardWeight(Tensor x, Tensor gy, Tensor gw, in Conv2dGeometry g)
    {
        const string name = "conv2d_backward_weight";
        CheckConv(x, gw, gy, g, name, "input", "output gradient");
        lock (_gate)
        {
            _acc.Bind();
            ArrayView<float> xv = Contig(x, name), gyv = Contig(gy, name), gwv = Contig(gw, name);
            int O = g.O, P = g.OutPlane, K = g.ColRows, images = g.N;
            int wTotal = Total((long)O * K, name);
            if (wTotal == 0) return;
            if (images == 0 || P == 0)
            {
                _k.FillContiguous(Grid(wTotal), wTotal, Grid(wTotal), gwv, 0f);
                return;
            }
            int xImage = g.C * g.InPlane;
            if (g.IsPointwise)
            {
                for (int n = 0; n < images; n++)
                    ConvGemm(gyv.SubView((long)n * O * P, (long)O * P), 0, xv.SubView((long)n * xImage, xImage), 0, gwv, 1,
                        O, K, P, false, P, true, P, n == 0 ? 0f : 1f);
                return;
            }
            int chunk = ConvChunk(g);
            var scratch = _allocator.Rent(chunk * K * P);
            try
            {
                for (int n0 = 0; n0 < images; n0 += chunk)
                {
                    int nb = Math.Min(chunk, images - n0);
                    int colTotal = nb * K * P;
                    _k.Im2Col(Grid(colTotal), colTotal, Grid(colTotal), xv, n0 * xImage, scratch.View, g);
                    for (int i = 0; i < nb; i++)
                    {
                        int n = n0 + i;
                        ConvGemm(gyv.SubView((long)n * O * P, (long)O * P), 0, scratch.View.SubView((long)i * K * P, (long)K * P), 0, gwv, 1,
                            O, K, P, false, P, true, P, n == 0 ? 0f : 1f);
                    }
                }
            }
            finally
            {
                _allocator.Return(scratch);
            }
        }
    }

    static void CheckPool(Tensor x, Tensor y, in Pool2dGeometry g, string op, string xName, string yName)
    {
        CheckCount(x, (long)g.Planes * g.H * g.W, op, xName);
        CheckCount(y, (long)g.Planes * g.OH * g.OW, op, yName);
    }

    public void MaxPool2d(Tensor x, Tensor y, Tensor indices, in Pool2dGeometry g)
    {
        const string name = "max_pool2d";
        CheckPool(x, y, g, name, "input", "output");
        CheckCount(indices, y.NumEl, name, "indices");
        lock (_gate)
        {
            _acc.Bind();
            var xv = Contig(x, name); var yv = Contig(y, name); var iv = ContigInt(indices, name);
            int total = y.NumEl;
            if (total == 0) return;
            _k.MaxPool2d(Grid(total), total, Grid(total), xv, yv, iv, g);
        }
    }

    public void MaxPool2dBackward(Tensor gy, Tensor indices, Tensor gx, in Pool2dGeometry g)
    {
        const string name = "max_pool2d_backward";
        CheckPool(gx, gy, g, name, "input gradient", "output gradient");
        CheckCount(indices, gy.NumEl, name, "indices");
        lock (_gate)
        {
            _acc.Bind();
            var gyv = Contig(gy, name); var iv = ContigInt(indices, name); var gxv = Contig(gx, name);
            int total = gx.NumEl;
            if (total == 0) return;
            _k.MaxPool2dBackward(Grid(total), total, Grid(total), gyv, iv, gxv, g);
        }
    }

    public void AvgPool2d(Tensor x, Tensor y, in Pool2dGeometry g)
    {
        string name = g.Adaptive != 0 ? "adaptive_avg_pool2d" : "avg_pool2d";
        CheckPool(x, y, g, name, "input", "output");
        lock (_gate)
        {
            _acc.Bind();
            var xv = Contig(x, name); var yv = Contig(y, name);
            int total = y.NumEl;
            if (total == 0) return;
            _k.AvgPool2d(Grid(total), total, Grid(total), xv, yv, g);
        }
    }

    public void AvgPool2dBackward(Tensor gy, Tensor gx, in Pool2dGeometry g)
    {
        string name = g.Adaptive != 0 ? "adaptive_avg_pool2d_backward" : "avg_pool2d_backward";
        CheckPool(gx, gy, g, name, "input gradient", "output gradient");
        lock (_gate)
        {
            _acc.Bind();
            var gyv = Contig(gy, name); var gxv = Contig(gx, name);
            int total = gx.NumEl;
            if (total == 0) return;
            _k.AvgPool2dBackward(Grid(total), total, Grid(total), gyv, gxv, g);
        }
    }
}
