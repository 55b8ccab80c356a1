using System.Runtime.InteropServices;
using FsrNative.Kernels;
using FsrNative.Kernels.Cpu;
using FsrNative.Kernels.Random;
using Ref = FsrNative.Kernels.Cpu.Reference.ReferenceKernels<double>;

namespace FsrNative;

/// <summary>
/// The managed SIMD CPU backend. Each primitive checks layouts and hands contiguous spans to the kernels in
/// <c>src/Kernels/Cpu</c> (SIMD, multi-core); this class only routes. Float64 tensors (gradient checks only) take
/// the plain reference kernels instead; data movement is generic over the element type.
/// </summary>
public sealed unsafe partial class CpuBackend : IBackend
{
    public static readonly CpuBackend Instance = new();
    CpuBackend() { }

    public Device Device => Device.CPU;
    public MemoryStats MemoryStats => CpuAllocator.Stats;
    public void ResetPeakMemoryStats() => CpuAllocator.ResetPeak();
    public void Synchronize() { }

    public Storage Allocate(int length) => new CpuStorage(CpuAllocator.Rent(length), length);

    static float[] Data(Tensor t) => ((CpuStorage)t.Storage).Data;

    /// <summary>All elements of the storage as T (offsets and strides are in elements of the tensor's type).</summary>
    static Span<T> All<T>(Tensor t) where T : unmanaged => MemoryMarshal.Cast<float, T>(Data(t).AsSpan());

    /// <summary>The span of a contiguous tensor; throws naming the op otherwise (a bug in the op layer).</summary>
    static Span<T> Contig<T>(Tensor t, string op) where T : unmanaged
    {
        if (!t.is_contiguous())
            throw new InvalidOperationException($"{op}: cpu backend expects a contiguous {t.Describe()} (strides {Shape.Format(t.StrideSpan)})");
        return All<T>(t).Slice(t.Offset, t.NumEl);
    }

    static Span<float> Contig(Tensor t, string op) => Contig<float>(t, op);
    static Span<int> ContigInt(Tensor t, string op) => Contig<int>(t, op);
    static Span<double> ContigD(Tensor t, string op) => Contig<double>(t, op);
    static bool IsDouble(Tensor t) => t.DType == DType.Float64;

    static void SameShape(Tensor a, Tensor b, string op)
    {
        if (!Shape.SameShape(a.ShapeSpan, b.ShapeSpan))
            throw new ArgumentException($"{op}: shapes {Shape.Format(a.ShapeSpan)} and {Shape.Format(b.ShapeSpan)} differ");
    }

    // ---- transfers --------------------------------------------------------------------------------------------

    public void Upload(ReadOnlySpan<float> host, Tensor dst)
    {
        if (host.Length != dst.NumEl) throw new ArgumentException($"upload: {host.Length} host values for {dst.NumEl} elements");
        if (IsDouble(dst))
        {
            var d = ContigD(dst, "upload");
            for (int i = 0; i < host.Length; i++) d[i] = host[i];
            return;
        }
        host.CopyTo(Contig(dst, "upload"));
    }

    /// <summary>Host doubles into a contiguous Float64 tensor.</summary>
    internal static void UploadDouble(ReadOnlySpan<double> host, Tensor dst) => host.CopyTo(ContigD(dst, "upload"));

    public void Download(Tensor src, Span<float> host)
    {
        if (host.Length != src.NumEl) throw new ArgumentException($"download: {host.Length} host slots for {src.NumEl} elements");
        if (IsDouble(src)) { var d = DownloadDouble(src); for (int i = 0; i < d.Length; i++) host[i] = (float)d[i]; return; }
        if (src.is_contiguous()) { Data(src).AsSpan(src.Offset, src.NumEl).CopyTo(host); return; }
        var tmp = new float[src.NumEl];
        GatherToContiguous<float>(src, tmp);
        tmp.CopyTo(host);
    }

    internal static double[] DownloadDouble(Tensor src)
    {
        var result = new double[src.NumEl];
        GatherToContiguous<double>(src, result);
        return result;
    }

    static void GatherToContiguous<T>(Tensor src, T[] dst) where T : unmanaged
    {
        float[] data = Data(src);
        var contiguous = Shape.ContiguousStrides(src.ShapeSpan);
        StridedRows.Run(src.ShapeSpan, [src.StrideArray, contiguous], [src.Offset, 0], (off, len, rs) =>
        {
            var s = MemoryMarshal.Cast<float, T>(data.AsSpan());
            for (int i = 0; i < len; i++) dst[off[1] + i * rs[1]] = s[off[0] + i * rs[0]];
        });
    }

    // ---- data movement (generic over the element type) ----------------------------------------------------

    public void Fill(Tensor dst, float value)
    {
        if (IsDouble(dst)) FillT(dst, (double)value);
        else FillT(dst, value);
    }

    static void FillT<T>(Tensor dst, T value) where T : unmanaged
    {
        if (dst.is_contiguous()) { Contig<T>(dst, "fill").Fill(value); return; }
        float[] data = Data(dst);
        StridedRows.Run(dst.ShapeSpan, [dst.StrideArray], [dst.Offset], (off, len, rs) =>
        {
            var d = MemoryMarshal.Cast<float, T>(data.AsSpan());
            if (rs[0] == 1) d.Slice(off[0], len).Fill(value);
            else for (int i = 0; i < len; i++) d[off[0] + i * rs[0]] = value;
        });
    }

    public void Copy(Tensor src, Tensor dst)
    {
        SameShape(src, dst, "copy");
        if (src.DType.Words() != dst.DType.Words())
            throw new ArgumentException($"copy: element types {src.DType} and {dst.DType} differ in size; use cast");
        if (IsDouble(src)) CopyT<double>(src, dst);
        else CopyT<float>(src, dst);
    }

    static void CopyT<T>(Tensor src, Tensor dst) where T : unmanaged
    {
        if (src.is_contiguous() && dst.is_contiguous())
        {
            Contig<T>(src, "copy").CopyTo(Contig<T>(dst, "copy"));
            return;
        }
        float[] sd = Data(src), dd = Data(dst);
        StridedRows.Run(dst.ShapeSpan, [src.StrideArray, dst.StrideArray], [src.Offset, dst.Offset], (off, len, rs) =>
        {
            var s = MemoryMarshal.Cast<float, T>(sd.AsSpan());
            var d = MemoryMarshal.Cast<float, T>(dd.AsSpan());
            if (rs[0] == 1 && rs[1] == 1) s.Slice(off[0], len).CopyTo(d.Slice(off[1], len));
            else if (rs[0] == 0 && rs[1] == 1) d.Slice(off[1], len).Fill(s[off[0]]);
            else for (int i = 0; i < len; i++) d[off[1] + i * rs[1]] = s[off[0] + i * rs[0]];
        });
    }

    public void Cast(Tensor src, Tensor dst)
    {
        SameShape(src, dst, "cast");
        Tensor? tmp = null;
        if (!src.is_contiguous())
        {
            tmp = Tensor.Empty(src.ShapeArray, Device, src.DType).DetachFromDisposeScope();
            Copy(src, tmp);
        }
        try
        {
            var s = tmp ?? src;
            int n = s.NumEl;
            switch (s.DType, dst.DType)
            {
                case var (a, b) when a == b: Copy(s, dst); break;
                case (DType.Int32, DType.Float32): { var si = ContigInt(s, "cast"); var d = Contig(dst, "cast"); for (int i = 0; i < n; i++) d[i] = si[i]; break; }
                case (DType.Int32, DType.Float64): { var si = ContigInt(s, "cast"); var d = ContigD(dst, "cast"); for (int i = 0; i < n; i++) d[i] = si[i]; break; }
                case (DType.Float32, DType.Float64): { var sf = Contig(s, "cast"); var d = ContigD(dst, "cast"); for (int i = 0; i < n; i++) d[i] = sf[i]; break; }
                case (DType.Float64, DType.Float32): { var sd = ContigD(s, "cast"); var d = Contig(dst, "cast"); for (int i = 0; i < n; i++) d[i] = (float)sd[i]; break; }
                case (DType.Float32, DType.Int32): { var sf = Contig(s, "cast"); var d = ContigInt(dst, "cast"); for (int i = 0; i < n; i++) d[i] = ToInt(sf[i], i); break; }
                case (DType.Float64, DType.Int32): { var sd = ContigD(s, "cast"); var d = ContigInt(dst, "cast"); for (int i = 0; i < n; i++) d[i] = ToInt(sd[i], i); break; }
                default: throw new NotSupportedException($"cast from {s.DType} to {dst.DType}");
            }
        }
        finally { tmp?.Dispose(); }
    }

    static int ToInt(double v, int i)
    {
        if (double.IsNaN(v) || v >= 2147483648.0 || v <= -2147483649.0)
            throw new OverflowException($"cast to Int32: value {v} at element {i} is not representable");
        return (int)v;
    }

    // ---- elementwise ------------------------------------------------------------------------------------------

    public void Unary(UnaryOp op, Tensor x, Tensor y, float a, float b)
    {
        SameShape(x, y, "unary");
        if (!x.is_contiguous()) Copy(x, y);  // gather the view into y, then transform in place
        var src = x.is_contiguous() ? x : y;
        if (IsDouble(y)) { Ref.UnaryForward(op, ContigD(src, op.ToString()), ContigD(y, op.ToString()), a, b); return; }
        CpuUnary.Forward(op, Contig(src, op.ToString()), Contig(y, op.ToString()), a, b);
    }

    public void UnaryBackward(UnaryOp op, Tensor x, Tensor y, Tensor gy, Tensor gx, float a, float b)
    {
        string name = op + "_backward";
        if (IsDouble(x)) { Ref.UnaryBackward(op, ContigD(x, name), ContigD(y, name), ContigD(gy, name), ContigD(gx, name), a, b); return; }
        CpuUnary.Backward(op, Contig(x, name), Contig(y, name), Contig(gy, name), Contig(gx, name), a, b);
    }

    public void Binary(BinaryOp op, Tensor a, Tensor b, Tensor y)
    {
        string name = op.ToString();
        SameShape(a, y, name);
        SameShape(b, y, name);
        Contig<float>(y, name);
        if (IsDouble(y)) { BinaryDouble(op, a, b, y); return; }
        float[] ad = Data(a), bd = Data(b), yd = Data(y);
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

    static void BinaryDouble(BinaryOp op, Tensor a, Tensor b, Tensor y)
    {
        float[] ad = Data(a), bd = Data(b), yd = Data(y);
        StridedRows.Run(y.ShapeSpan, [a.StrideArray, b.StrideArray, y.StrideArray], [a.Offset, b.Offset, y.Offset], (off, len, rs) =>
        {
            var av = MemoryMarshal.Cast<float, double>(ad.AsSpan());
            var bv = MemoryMarshal.Cast<float, double>(bd.AsSpan());
            var yv = MemoryMarshal.Cast<float, double>(yd.AsSpan());
            for (int i = 0; i < len; i++) yv[off[2] + i * rs[2]] = Ref.Binary(op, av[off[0] + i * rs[0]], bv[off[1] + i * rs[1]]);
        });
    }

    public void Where(Tensor cond, Tensor a, Tensor b, Tensor y)
    {
        SameShape(cond, y, "where"); SameShape(a, y, "where"); SameShape(b, y, "where");
        Contig<float>(y, "where");
        if (IsDouble(y)) { WhereT<double>(cond, a, b, y); return; }
        float[] cd = Data(cond), ad = Data(a), bd = Data(b), yd = Data(y);
        if (cond.DType == DType.Float32 && cond.is_contiguous() && a.is_contiguous() && b.is_contiguous())
        {
            CpuBinary.Where(cd.AsSpan(cond.Offset, y.NumEl), ad.AsSpan(a.Offset, y.NumEl), bd.AsSpan(b.Offset, y.NumEl), yd.AsSpan(y.Offset, y.NumEl));
            return;
        }
        WhereT<float>(cond, a, b, y);
    }

    static void WhereT<T>(Tensor cond, Tensor a, Tensor b, Tensor y) where T : unmanaged, IEquatable<T>
    {
        float[] cd = Data(cond), ad = Data(a), bd = Data(b), yd = Data(y);
        bool condDouble = IsDouble(cond);
        StridedRows.Run(y.ShapeSpan, [cond.StrideArray, a.StrideArray, b.StrideArray, y.StrideArray],
            [cond.Offset, a.Offset, b.Offset, y.Offset], (off, len, rs) =>
        {
            var av = MemoryMarshal.Cast<float, T>(ad.AsSpan());
            var bv = MemoryMarshal.Cast<float, T>(bd.AsSpan());
            var yv = MemoryMarshal.Cast<float, T>(yd.AsSpan());
            var cdd = MemoryMarshal.Cast<float, double>(cd.AsSpan());
            for (int i = 0; i < len; i++)
            {
                int ci = off[0] + i * rs[0];
                bool c = condDouble ? cdd[ci] != 0 : cd[ci] != 0;
                yv[off[3] + i * rs[3]] = c ? av[off[1] + i * rs[1]] : bv[off[2] + i * rs[2]];
            }
        });
    }

    // ---- reductions -------------------------------------------------------------------------------------------

    public void Reduce(ReduceOp op, Tensor x, int outer, int r, int inner, Tensor y)
    {
        string name = op.ToString();
        if (IsDouble(x)) { Ref.Reduce(op, ContigD(x, name), outer, r, inner, ContigD(y, name)); return; }
        CpuReduce.Reduce(op, Contig(x, name), outer, r, inner, Contig(y, name));
    }

    public void ArgReduce(bool max, Tensor x, int outer, int r, int inner, Tensor values, Tensor indices)
    {
        string name = max ? "argmax" : "argmin";
        if (r == 0) throw new ArgumentException($"{name}: cannot reduce over an empty dimension");
        if (IsDouble(x)) { Ref.ArgReduce(max, ContigD(x, name), outer, r, inner, ContigD(values, name), ContigInt(indices, name)); return; }
        CpuReduce.ArgReduce(max, Contig(x, name), outer, r, inner, Contig(values, name), ContigInt(indices, name));
    }

    public void Variance(Tensor x, int outer, int r, int inner, float correction, Tensor variance, Tensor mean)
    {
        if (IsDouble(x)) { Ref.Variance(ContigD(x, "var"), outer, r, inner, correction, ContigD(variance, "var"), ContigD(mean, "var")); return; }
        CpuReduce.Variance(Contig(x, "var"), outer, r, inner, correction, Contig(variance, "var"), Contig(mean, "var"));
    }

    // ---- matmul -----------------------------------------------------------------------------------------------

    public void Matmul(in MatmulArgs p)
    {
        Contig<float>(p.C, "matmul");
        if (p.BatchCount == 0 || p.M == 0 || p.N == 0) return;
        if (IsDouble(p.C)) { MatmulDouble(p); return; }
        int batchRank = p.BatchShape.Length;
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
            long mn = (long)p.M * p.N;
            for (int ob = 0; ob < p.BatchCount / innerBatch; ob++)
            {
                var (offA, offB) = OuterBatchOffsets(p, ob);
                Sgemm.MultiplyBatched(p.TransA, p.TransB, innerBatch, p.M, p.N, p.K, p.Alpha,
                    pa + offA, p.Lda, p.BatchStridesA[batchRank - 1],
                    pb + offB, p.Ldb, p.BatchStridesB[batchRank - 1],
                    p.Beta, pc + ob * innerBatch * mn, p.N, mn);
            }
        }
    }

    /// <summary>Element offsets of A and B for outer batch index <paramref name="ob"/> (all batch dims but the last).</summary>
    static (long a, long b) OuterBatchOffsets(in MatmulArgs p, int ob)
    {
        long offA = 0, offB = 0;
        int rem = ob;
        for (int d = p.BatchShape.Length - 2; d >= 0; d--)
        {
            int idx = rem % p.BatchShape[d];
            rem /= p.BatchShape[d];
            offA += (long)idx * p.BatchStridesA[d];
            offB += (long)idx * p.BatchStridesB[d];
        }
        return (offA, offB);
    }

    static void MatmulDouble(in MatmulArgs p)
    {
        var a = All<double>(p.A); var b = All<double>(p.B); var c = All<double>(p.C);
        int batchRank = p.BatchShape.Length;
        int inner = batchRank == 0 ? 1 : p.BatchShape[batchRank - 1];
        long sa = batchRank == 0 ? 0 : p.BatchStridesA[batchRank - 1], sb = batchRank == 0 ? 0 : p.BatchStridesB[batchRank - 1];
        for (int bi = 0; bi < p.BatchCount; bi++)
        {
            var (offA, offB) = batchRank == 0 ? (0L, 0L) : OuterBatchOffsets(p, bi / inner);
            offA += (bi % inner) * sa;
            offB += (bi % inner) * sb;
            Ref.Gemm(p.TransA, p.TransB, p.M, p.N, p.K, p.Alpha, a, (int)(p.A.Offset + offA), p.Lda, b, (int)(p.B.Offset + offB), p.Ldb,
                p.Beta, c, p.C.Offset + bi * p.M * p.N, p.N);
        }
    }

    // ---- normalisation ----------------------------------------------------------------------------------------

    public void Softmax(Tensor x, Tensor y, int outer, int l, int inner, bool log)
    {
        if (IsDouble(x)) { Ref.Softmax(ContigD(x, "softmax"), ContigD(y, "softmax"), outer, l, inner, log); return; }
        CpuSoftmax.Forward(Contig(x, "softmax"), Contig(y, "softmax"), outer, l, inner, log);
    }

    public void SoftmaxBackward(Tensor y, Tensor gy, Tensor gx, int outer, int l, int inner, bool log)
    {
        const string n = "softmax_backward";
        if (IsDouble(y)) { Ref.SoftmaxBackward(ContigD(y, n), ContigD(gy, n), ContigD(gx, n), outer, l, inner, log); return; }
        CpuSoftmax.Backward(Contig(y, n), Contig(gy, n), Contig(gx, n), outer, l, inner, log);
    }

    public void LayerNorm(Tensor x, Tensor? gamma, Tensor? beta, Tensor y, Tensor mean, Tensor rstd, int rows, int c, float eps)
    {
        const string n = "layer_norm";
        if (IsDouble(x))
        {
            Ref.LayerNorm(ContigD(x, n), gamma is null ? default : ContigD(gamma, n), beta is null ? default : ContigD(beta, n),
                ContigD(y, n), ContigD(mean, n), ContigD(rstd, n), rows, c, eps);
            return;
        }
        CpuLayerNorm.Forward(Contig(x, n), gamma is null ? default : Contig(gamma, n), beta is null ? default : Contig(beta, n),
            Contig(y, n), Contig(mean, n), Contig(rstd, n), rows, c, eps);
    }

    public void LayerNormBackward(Tensor x, Tensor? gamma, Tensor mean, Tensor rstd, Tensor gy, Tensor gx, Tensor? gGamma, Tensor? gBeta, int rows, int c)
    {
        const string n = "layer_norm_backward";
        if (IsDouble(x))
        {
            Ref.LayerNormBackward(ContigD(x, n), gamma is null ? default : ContigD(gamma, n), ContigD(mean, n), ContigD(rstd, n), ContigD(gy, n),
                ContigD(gx, n), gGamma is null ? default : ContigD(gGamma, n), gBeta is null ? default : ContigD(gBeta, n), rows, c);
            return;
        }
        CpuLayerNorm.Backward(Contig(x, n), gamma is null ? default : Contig(gamma, n), Contig(mean, n), Contig(rstd, n), Contig(gy, n), Contig(gx, n),
            gGamma is null ? default : Contig(gGamma, n), gBeta is null ? default : Contig(gBeta, n), rows, c);
    }

    // ---- indexing (generic over the element type) -------------------------------------------------------------

    static void CheckIndex(int value, int n, string op, int position)
    {
        if ((uint)value >= (uint)n)
            throw new IndexOutOfRangeException($"{op}: index {value} at position {position} is out of range for a dimension of size {n}");
    }

    public void IndexSelect(Tensor src, Tensor index, Tensor dst, int outer, int n, int inner)
    {
        if (IsDouble(src)) IndexSelectT<double>(src, index, dst, outer, n, inner);
        else IndexSelectT<float>(src, index, dst, outer, n, inner);
    }

    static void IndexSelectT<T>(Tensor src, Tensor index, Tensor dst, int outer, int n, int inner) where T : unmanaged
    {
        const string name = "index_select";
        var s = Contig<T>(src, name); var d = Contig<T>(dst, name); var idx = ContigInt(index, name);
        int k = idx.Length;
        for (int j = 0; j < k; j++) CheckIndex(idx[j], n, name, j);
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < k; j++)
                s.Slice((o * n + idx[j]) * inner, inner).CopyTo(d.Slice((o * k + j) * inner, inner));
    }

    public void IndexAdd(Tensor dst, Tensor index, Tensor src, int outer, int n, int inner)
    {
        const string name = "index_add";
        var idx = ContigInt(index, name);
        int k = idx.Length;
        for (int j = 0; j < k; j++) CheckIndex(idx[j], n, name, j);
        if (IsDouble(dst))
        {
            var sd = ContigD(src, name); var dd = ContigD(dst, name);
            for (int o = 0; o < outer; o++)
                for (int j = 0; j < k; j++)
                    for (int i = 0; i < inner; i++) dd[(o * n + idx[j]) * inner + i] += sd[(o * k + j) * inner + i];
            return;
        }
        var s = Contig(src, name); var d = Contig(dst, name);
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < k; j++)
            {
                var dr = d.Slice((o * n + idx[j]) * inner, inner);
                System.Numerics.Tensors.TensorPrimitives.Add(dr, s.Slice((o * k + j) * inner, inner), dr);
            }
    }

    public void Gather(Tensor src, Tensor index, Tensor dst, int outer, int n, int k, int inner)
    {
        if (IsDouble(src)) GatherT<double>(src, index, dst, outer, n, k, inner);
        else GatherT<float>(src, index, dst, outer, n, k, inner);
    }

    static void GatherT<T>(Tensor src, Tensor index, Tensor dst, int outer, int n, int k, int inner) where T : unmanaged
    {
        var s = Contig<T>(src, "gather"); var d = Contig<T>(dst, "gather"); var idx = ContigInt(index, "gather");
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < k; j++)
                for (int i = 0; i < inner; i++)
                {
                    int p = (o * k + j) * inner + i;
                    CheckIndex(idx[p], n, "gather", p);
                    d[p] = s[(o * n + idx[p]) * inner + i];
                }
    }

    public void ScatterAdd(Tensor dst, Tensor index, Tensor src, int outer, int n, int k, int inner)
    {
        const string name = "scatter_add";
        var idx = ContigInt(index, name);
        bool dbl = IsDouble(dst);
        var sf = dbl ? default : Contig(src, name); var df = dbl ? default : Contig(dst, name);
        var sd = dbl ? ContigD(src, name) : default; var dd = dbl ? ContigD(dst, name) : default;
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < k; j++)
                for (int i = 0; i < inner; i++)
                {
                    int p = (o * k + j) * inner + i;
                    CheckIndex(idx[p], n, name, p);
                    int q = (o * n + idx[p]) * inner + i;
                    if (dbl) dd[q] += sd[p]; else df[q] += sf[p];
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
        float scale = high - low;
        FillRandom(dst, i => low + scale * Philox.Uniform(seed, stream, i));
    }

    public void RandomNormal(Tensor dst, ulong seed, ulong stream, float mean, float std)
        => FillRandom(dst, i => mean + std * Philox.Normal(seed, stream, i));

    static void FillRandom(Tensor dst, Func<long, float> value)
    {
        Contig(dst, "random");
        float[] d = Data(dst);
        int off = dst.Offset, n = dst.NumEl;
        bool dbl = IsDouble(dst);
        Parallel.For(0, (n + 4095) / 4096, chunk =>
        {
            int end = Math.Min(n, (chunk + 1) * 4096);
            var dd = MemoryMarshal.Cast<float, double>(d.AsSpan());
            for (int i = chunk * 4096; i < end; i++)
            {
                if (dbl) dd[off + i] = value(i);
                else d[off + i] = value(i);
            }
        });
    }
}
