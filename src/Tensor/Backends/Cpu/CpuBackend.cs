using FsrNative.Kernels;
using FsrNative.Kernels.Cpu;
using FsrNative.Kernels.Random;

namespace FsrNative;

/// <summary>
/// The managed SIMD CPU backend. Each primitive checks layouts and hands contiguous spans to the kernels in
/// <c>src/Kernels/Cpu</c> (SIMD, multi-core); this class only routes.
/// </summary>
public sealed unsafe class CpuBackend : IBackend
{
    public static readonly CpuBackend Instance = new();
    CpuBackend() { }

    public Device Device => Device.CPU;
    public MemoryStats MemoryStats => CpuAllocator.Stats;
    public void Synchronize() { }

    public Storage Allocate(int length) => new CpuStorage(CpuAllocator.Rent(length), length);

    static float[] Data(Tensor t) => ((CpuStorage)t.Storage).Data;

    /// <summary>The span of a contiguous tensor; throws naming the op otherwise (a bug in the op layer).</summary>
    static Span<float> Contig(Tensor t, string op)
    {
        if (!t.is_contiguous())
            throw new InvalidOperationException($"{op}: cpu backend expects a contiguous {t.Describe()} (strides {Shape.Format(t.StrideSpan)})");
        return Data(t).AsSpan(t.Offset, t.NumEl);
    }

    static Span<int> ContigInt(Tensor t, string op) => System.Runtime.InteropServices.MemoryMarshal.Cast<float, int>(Contig(t, op));

    static void SameShape(Tensor a, Tensor b, string op)
    {
        if (!Shape.SameShape(a.ShapeSpan, b.ShapeSpan))
            throw new ArgumentException($"{op}: shapes {Shape.Format(a.ShapeSpan)} and {Shape.Format(b.ShapeSpan)} differ");
    }

    // ---- transfers --------------------------------------------------------------------------------------------

    public void Upload(ReadOnlySpan<float> host, Tensor dst)
    {
        if (host.Length != dst.NumEl) throw new ArgumentException($"upload: {host.Length} host values for {dst.NumEl} elements");
        host.CopyTo(Contig(dst, "upload"));
    }

    public void Download(Tensor src, Span<float> host)
    {
        if (host.Length != src.NumEl) throw new ArgumentException($"download: {host.Length} host slots for {src.NumEl} elements");
        if (src.is_contiguous()) { Data(src).AsSpan(src.Offset, src.NumEl).CopyTo(host); return; }
        float[] data = Data(src);
        fixed (float* hp = host)
        {
            float* h = hp;
            var contiguous = Shape.ContiguousStrides(src.ShapeSpan);
            StridedRows.Run(src.ShapeSpan, [src.StrideArray, contiguous], [src.Offset, 0], (off, len, rs) =>
            {
                for (int i = 0; i < len; i++) h[off[1] + i * rs[1]] = data[off[0] + i * rs[0]];
            });
        }
    }

    // ---- data movement ----------------------------------------------------------------------------------------

    public void Fill(Tensor dst, float value)
    {
        float[] data = Data(dst);
        if (dst.is_contiguous()) { data.AsSpan(dst.Offset, dst.NumEl).Fill(value); return; }
        StridedRows.Run(dst.ShapeSpan, [dst.StrideArray], [dst.Offset], (off, len, rs) =>
        {
            if (rs[0] == 1) data.AsSpan(off[0], len).Fill(value);
            else for (int i = 0; i < len; i++) data[off[0] + i * rs[0]] = value;
        });
    }

    public void Copy(Tensor src, Tensor dst)
    {
        SameShape(src, dst, "copy");
        float[] s = Data(src), d = Data(dst);
        if (src.is_contiguous() && dst.is_contiguous())
        {
            s.AsSpan(src.Offset, src.NumEl).CopyTo(d.AsSpan(dst.Offset, dst.NumEl));
            return;
        }
        StridedRows.Run(dst.ShapeSpan, [src.StrideArray, dst.StrideArray], [src.Offset, dst.Offset], (off, len, rs) =>
        {
            if (rs[0] == 1 && rs[1] == 1) s.AsSpan(off[0], len).CopyTo(d.AsSpan(off[1], len));
            else if (rs[0] == 0) d.AsSpan(off[1], len).Fill(s[off[0]]);
            else for (int i = 0; i < len; i++) d[off[1] + i * rs[1]] = s[off[0] + i * rs[0]];
        });
    }

    public void Cast(Tensor src, Tensor dst)
    {
        SameShape(src, dst, "cast");
        using var tmp = src.is_contiguous() ? null : ContiguousCopy(src);
        var s = Contig(tmp ?? src, "cast");
        var d = Contig(dst, "cast");
        if (src.DType == dst.DType) { s.CopyTo(d); return; }
        if (src.DType == DType.Int32)
        {
            var si = System.Runtime.InteropServices.MemoryMarshal.Cast<float, int>(s);
            for (int i = 0; i < d.Length; i++) d[i] = si[i];
        }
        else
        {
            var di = System.Runtime.InteropServices.MemoryMarshal.Cast<float, int>(d);
            for (int i = 0; i < s.Length; i++)
            {
                float v = s[i];
                if (float.IsNaN(v) || v >= 2147483648f || v < -2147483648f)
                    throw new OverflowException($"cast to Int32: value {v} at element {i} is not representable");
                di[i] = (int)v;
            }
        }
    }

    Tensor ContiguousCopy(Tensor t)
    {
        var c = Tensor.Empty(t.ShapeArray, Device, t.DType).DetachFromDisposeScope();
        Copy(t, c);
        return c;
    }

    // ---- elementwise ------------------------------------------------------------------------------------------

    public void Unary(UnaryOp op, Tensor x, Tensor y, float a, float b)
    {
        SameShape(x, y, "unary");
        var ys = Contig(y, op.ToString());
        if (!x.is_contiguous())
        {
            Copy(x, y);            // gather the view into y, then transform in place
            CpuUnary.Forward(op, ys, ys, a, b);
            return;
        }
        CpuUnary.Forward(op, Data(x).AsSpan(x.Offset, x.NumEl), ys, a, b);
    }

    public void UnaryBackward(UnaryOp op, Tensor x, Tensor y, Tensor gy, Tensor gx, float a, float b)
    {
        string name = op + "_backward";
        CpuUnary.Backward(op, Contig(x, name), Contig(y, name), Contig(gy, name), Contig(gx, name), a, b);
    }

    public void Binary(BinaryOp op, Tensor a, Tensor b, Tensor y)
    {
        SameShape(a, y, op.ToString());
        SameShape(b, y, op.ToString());
        float[] ad = Data(a), bd = Data(b), yd = Data(y);
        Contig(y, op.ToString());
        if (a.is_contiguous() && b.is_contiguous())
        {
            CpuBinary.Forward(op, ad.AsSpan(a.Offset, a.NumEl), bd.AsSpan(b.Offset, b.NumEl), yd.AsSpan(y.Offset, y.NumEl));
            return;
        }
        StridedRows.Run(y.ShapeSpan, [a.StrideArray, b.StrideArray, y.StrideArray], [a.Offset, b.Offset, y.Offset], (off, len, rs) =>
        {
            var yr = yd.AsSpan(off[2], len);
            if (rs[0] == 1 && rs[1] == 1) CpuBinary.Forward(op, ad.AsSpan(off[0], len), bd.AsSpan(off[1], len), yr);
            else if (rs[0] == 1 && rs[1] == 0) CpuBinary.ForwardScalarRight(op, ad.AsSpan(off[0], len), bd[off[1]], yr);
            else if (rs[0] == 0 && rs[1] == 1) CpuBinary.ForwardScalarLeft(op, ad[off[0]], bd.AsSpan(off[1], len), yr);
            else for (int i = 0; i < len; i++) yr[i] = ScalarMath.Binary(op, ad[off[0] + i * rs[0]], bd[off[1] + i * rs[1]]);
        });
    }

    public void Where(Tensor cond, Tensor a, Tensor b, Tensor y)
    {
        SameShape(cond, y, "where"); SameShape(a, y, "where"); SameShape(b, y, "where");
        Contig(y, "where");
        float[] cd = Data(cond), ad = Data(a), bd = Data(b), yd = Data(y);
        StridedRows.Run(y.ShapeSpan, [cond.StrideArray, a.StrideArray, b.StrideArray, y.StrideArray],
            [cond.Offset, a.Offset, b.Offset, y.Offset], (off, len, rs) =>
        {
            if (rs[0] == 1 && rs[1] == 1 && rs[2] == 1 && rs[3] == 1)
                CpuBinary.Where(cd.AsSpan(off[0], len), ad.AsSpan(off[1], len), bd.AsSpan(off[2], len), yd.AsSpan(off[3], len));
            else
                for (int i = 0; i < len; i++)
                    yd[off[3] + i * rs[3]] = cd[off[0] + i * rs[0]] != 0 ? ad[off[1] + i * rs[1]] : bd[off[2] + i * rs[2]];
        });
    }

    // ---- reductions -------------------------------------------------------------------------------------------

    public void Reduce(ReduceOp op, Tensor x, int outer, int r, int inner, Tensor y)
        => CpuReduce.Reduce(op, Contig(x, op.ToString()), outer, r, inner, Contig(y, op.ToString()));

    public void ArgReduce(bool max, Tensor x, int outer, int r, int inner, Tensor values, Tensor indices)
    {
        string name = max ? "argmax" : "argmin";
        if (r == 0) throw new ArgumentException($"{name}: cannot reduce over an empty dimension");
        CpuReduce.ArgReduce(max, Contig(x, name), outer, r, inner, Contig(values, name), ContigInt(indices, name));
    }

    public void Variance(Tensor x, int outer, int r, int inner, float correction, Tensor variance, Tensor mean)
        => CpuReduce.Variance(Contig(x, "var"), outer, r, inner, correction, Contig(variance, "var"), Contig(mean, "var"));

    // ---- matmul -----------------------------------------------------------------------------------------------

    public void Matmul(in MatmulArgs p)
    {
        Contig(p.C, "matmul");
        int batchRank = p.BatchShape.Length;
        int batch = p.BatchCount;
        if (batch == 0 || p.M == 0 || p.N == 0) return;
        var args = p;
        fixed (float* a0 = Data(p.A), b0 = Data(p.B), c0 = Data(p.C))
        {
            float* pa = a0 + p.A.Offset, pb = b0 + p.B.Offset, pc = c0 + p.C.Offset;
            if (batchRank == 0)
            {
                Sgemm.Multiply(p.TransA, p.TransB, p.M, p.N, p.K, p.Alpha, pa, p.Lda, pb, p.Ldb, p.Beta, pc, p.N);
                return;
            }
            // The innermost batch dimension goes to the batched kernel; the outer ones are walked here.
            int innerBatch = p.BatchShape[batchRank - 1];
            int outerBatches = batch / innerBatch;
            long mn = (long)p.M * p.N;
            for (int ob = 0; ob < outerBatches; ob++)
            {
                long offA = 0, offB = 0;
                int rem = ob;
                for (int d = batchRank - 2; d >= 0; d--)
                {
                    int idx = rem % p.BatchShape[d];
                    rem /= p.BatchShape[d];
                    offA += (long)idx * p.BatchStridesA[d];
                    offB += (long)idx * p.BatchStridesB[d];
                }
                Sgemm.MultiplyBatched(p.TransA, p.TransB, innerBatch, p.M, p.N, p.K, p.Alpha,
                    pa + offA, p.Lda, p.BatchStridesA[batchRank - 1],
                    pb + offB, p.Ldb, p.BatchStridesB[batchRank - 1],
                    p.Beta, pc + ob * innerBatch * mn, p.N, mn);
            }
        }
    }

    // ---- normalisation ----------------------------------------------------------------------------------------

    public void Softmax(Tensor x, Tensor y, int outer, int l, int inner, bool log)
        => CpuSoftmax.Forward(Contig(x, "softmax"), Contig(y, "softmax"), outer, l, inner, log);

    public void SoftmaxBackward(Tensor y, Tensor gy, Tensor gx, int outer, int l, int inner, bool log)
        => CpuSoftmax.Backward(Contig(y, "softmax_backward"), Contig(gy, "softmax_backward"), Contig(gx, "softmax_backward"), outer, l, inner, log);

    public void LayerNorm(Tensor x, Tensor? gamma, Tensor? beta, Tensor y, Tensor mean, Tensor rstd, int rows, int c, float eps)
        => CpuLayerNorm.Forward(Contig(x, "layer_norm"), gamma is null ? default : Contig(gamma, "layer_norm"),
            beta is null ? default : Contig(beta, "layer_norm"), Contig(y, "layer_norm"), Contig(mean, "layer_norm"), Contig(rstd, "layer_norm"), rows, c, eps);

    public void LayerNormBackward(Tensor x, Tensor? gamma, Tensor mean, Tensor rstd, Tensor gy, Tensor gx, Tensor? gGamma, Tensor? gBeta, int rows, int c)
    {
        const string n = "layer_norm_backward";
        CpuLayerNorm.Backward(Contig(x, n), gamma is null ? default : Contig(gamma, n), Contig(mean, n), Contig(rstd, n), Contig(gy, n), Contig(gx, n),
            gGamma is null ? default : Contig(gGamma, n), gBeta is null ? default : Contig(gBeta, n), rows, c);
    }

    // ---- indexing ---------------------------------------------------------------------------------------------

    static void CheckIndex(int value, int n, string op, int position)
    {
        if ((uint)value >= (uint)n)
            throw new IndexOutOfRangeException($"{op}: index {value} at position {position} is out of range for a dimension of size {n}");
    }

    public void IndexSelect(Tensor src, Tensor index, Tensor dst, int outer, int n, int inner)
    {
        var s = Contig(src, "index_select"); var d = Contig(dst, "index_select"); var idx = ContigInt(index, "index_select");
        int k = idx.Length;
        for (int j = 0; j < k; j++) CheckIndex(idx[j], n, "index_select", j);
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < k; j++)
                s.Slice((o * n + idx[j]) * inner, inner).CopyTo(d.Slice((o * k + j) * inner, inner));
    }

    public void IndexAdd(Tensor dst, Tensor index, Tensor src, int outer, int n, int inner)
    {
        var s = Contig(src, "index_add"); var d = Contig(dst, "index_add"); var idx = ContigInt(index, "index_add");
        int k = idx.Length;
        for (int j = 0; j < k; j++) CheckIndex(idx[j], n, "index_add", j);
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < k; j++)
            {
                var dr = d.Slice((o * n + idx[j]) * inner, inner);
                var sr = s.Slice((o * k + j) * inner, inner);
                System.Numerics.Tensors.TensorPrimitives.Add(dr, sr, dr);
            }
    }

    public void Gather(Tensor src, Tensor index, Tensor dst, int outer, int n, int k, int inner)
    {
        var s = Contig(src, "gather"); var d = Contig(dst, "gather"); var idx = ContigInt(index, "gather");
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < k; j++)
                for (int i = 0; i < inner; i++)
                {
                    int p = (o * k + j) * inner + i;
                    int v = idx[p];
                    CheckIndex(v, n, "gather", p);
                    d[p] = s[(o * n + v) * inner + i];
                }
    }

    public void ScatterAdd(Tensor dst, Tensor index, Tensor src, int outer, int n, int k, int inner)
    {
        var s = Contig(src, "scatter_add"); var d = Contig(dst, "scatter_add"); var idx = ContigInt(index, "scatter_add");
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < k; j++)
                for (int i = 0; i < inner; i++)
                {
                    int p = (o * k + j) * inner + i;
                    int v = idx[p];
                    CheckIndex(v, n, "scatter_add", p);
                    d[(o * n + v) * inner + i] += s[p];
                }
    }

    public void OneHot(Tensor index, Tensor dst, int classes)
    {
        var idx = ContigInt(index, "one_hot"); var d = Contig(dst, "one_hot");
        d.Clear();
        for (int p = 0; p < idx.Length; p++)
        {
            CheckIndex(idx[p], classes, "one_hot", p);
            d[p * classes + idx[p]] = 1f;
        }
    }

    // ---- random -----------------------------------------------------------------------------------------------

    public void RandomUniform(Tensor dst, ulong seed, ulong stream, float low, float high)
    {
        float[] d = Data(dst);
        int off = dst.Offset;
        Contig(dst, "uniform");
        float scale = high - low;
        Parallel.For(0, (dst.NumEl + 4095) / 4096, chunk =>
        {
            int end = Math.Min(dst.NumEl, (chunk + 1) * 4096);
            for (int i = chunk * 4096; i < end; i++) d[off + i] = low + scale * Philox.Uniform(seed, stream, i);
        });
    }

    public void RandomNormal(Tensor dst, ulong seed, ulong stream, float mean, float std)
    {
        float[] d = Data(dst);
        int off = dst.Offset;
        Contig(dst, "normal");
        Parallel.For(0, (dst.NumEl + 4095) / 4096, chunk =>
        {
            int end = Math.Min(dst.NumEl, (chunk + 1) * 4096);
            for (int i = chunk * 4096; i < end; i++) d[off + i] = mean + std * Philox.Normal(seed, stream, i);
        });
    }
}
