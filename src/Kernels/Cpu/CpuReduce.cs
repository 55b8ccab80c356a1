using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FsrNative.Kernels.Cpu;

/// <summary>
/// Reductions over the middle axis of a contiguous (outer, r, inner) block: y[o, i] = reduce_j x[o, j, i].
/// inner == 1 is the row case (horizontal SIMD along the row); inner &gt; 1 the column case (vertical SIMD: 32 lanes
/// of inner at a time, walking down r).
/// <para><b>Summation order and accuracy.</b> Sums are pairwise over fixed blocks: a row is split in halves
/// (at multiples of 32) down to leaves of ≤ 4096 elements, each summed in 32 float lanes (4 × Vector256, so ≤ 128
/// sequential adds per lane) and combined by a fixed lane tree; a column is split in halves down to leaves of ≤ 128
/// rows summed sequentially per lane. The worst-case relative error is therefore about
/// (128 + log2(n/4096) + 5)·2⁻²⁴·Σ|x| for rows and (128 + log2(r/128))·2⁻²⁴·Σ|x| for columns — typically √ of that —
/// against n·2⁻²⁴ for a naive loop. The split depends on the shape only, and threads evaluate whole subtrees of the
/// same tree, so results are bitwise identical whatever the core count.</para>
/// <para>Max/Min/ArgMax/ArgMin propagate NaN like torch (NaN counts as the extreme; the first NaN's index wins);
/// ties give the first index. Empty reductions: Sum/SumSquares give 0, Mean NaN, Variance NaN; Max/Min/Arg* throw.</para>
/// </summary>
public static unsafe class CpuReduce
{
    const int RowLeaf = 4096;
    const int ColLeaf = 128;
    const int Lanes = 32;

    // ------------------------------------------------------------------ reference (scalar, double accumulators)

    /// <summary>Scalar reference of <see cref="Reduce"/>; sums accumulate in double (a tighter reference than the
    /// fast path, which the tests compare against with a tolerance).</summary>
    public static void ReduceReference(ReduceOp op, ReadOnlySpan<float> x, int outer, int r, int inner, Span<float> y)
    {
        CheckShape(x.Length, y.Length, outer, r, inner);
        if (r == 0 && (op == ReduceOp.Max || op == ReduceOp.Min)) throw EmptyError(op.ToString());
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                double acc = op == ReduceOp.Max ? double.NegativeInfinity : op == ReduceOp.Min ? double.PositiveInfinity : 0;
                bool nan = false;
                for (int j = 0; j < r; j++)
                {
                    float v = x[(o * r + j) * inner + i];
                    switch (op)
                    {
                        case ReduceOp.Sum: case ReduceOp.Mean: acc += v; break;
                        case ReduceOp.SumSquares: acc += (double)v * v; break;
                        case ReduceOp.Max: if (float.IsNaN(v)) nan = true; else if (v > acc) acc = v; break;
                        case ReduceOp.Min: if (float.IsNaN(v)) nan = true; else if (v < acc) acc = v; break;
                    }
                }
                if (op == ReduceOp.Mean) acc /= r;
                y[o * inner + i] = nan ? float.NaN : (float)acc;
            }
    }

    /// <summary>Scalar reference of <see cref="ArgReduce"/>.</summary>
    public static void ArgReduceReference(bool max, ReadOnlySpan<float> x, int outer, int r, int inner, Span<float> values, Span<int> indices)
    {
        CheckShape(x.Length, values.Length, outer, r, inner);
        if (indices.Length != values.Length) throw new ArgumentException("CpuReduce.ArgReduce: indices length differs from values.", nameof(indices));
        if (r == 0) throw EmptyError(max ? "ArgMax" : "ArgMin");
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int best = 0;
                float bv = x[o * r * inner + i];
                for (int j = 1; j < r && !float.IsNaN(bv); j++)
                {
                    float v = x[(o * r + j) * inner + i];
                    if (float.IsNaN(v) || (max ? v > bv : v < bv)) { bv = v; best = j; }
                }
                values[o * inner + i] = bv;
                indices[o * inner + i] = best;
            }
    }

    /// <summary>Scalar reference of <see cref="Variance"/> (two-pass in double).</summary>
    public static void VarianceReference(ReadOnlySpan<float> x, int outer, int r, int inner, float correction, Span<float> y, Span<float> mean)
    {
        CheckShape(x.Length, y.Length, outer, r, inner);
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                double s = 0;
                for (int j = 0; j < r; j++) s += x[(o * r + j) * inner + i];
                double m = s / r, m2 = 0;
                for (int j = 0; j < r; j++) { double d = x[(o * r + j) * inner + i] - m; m2 += d * d; }
                y[o * inner + i] = (float)(m2 / Math.Max(0.0, r - (double)correction));
                if (!mean.IsEmpty) mean[o * inner + i] = (float)m;
            }
    }

    // ------------------------------------------------------------------ public fast API

    /// <summary>y[o, i] = reduce over j of x[o, j, i]; x is (outer, r, inner) contiguous, y is (outer, inner).</summary>
    public static void Reduce(ReduceOp op, ReadOnlySpan<float> x, int outer, int r, int inner, Span<float> y)
    {
        CheckShape(x.Length, y.Length, outer, r, inner);
        if (outer == 0 || inner == 0) return;
        if (r == 0)
        {
            if (op == ReduceOp.Max || op == ReduceOp.Min) throw EmptyError(op.ToString());
            y.Fill(op == ReduceOp.Mean ? float.NaN : 0f);
            return;
        }
        if (!CpuVecMath.IsSupported) { ReduceReference(op, x, outer, r, inner, y); return; }
        var kind = op switch
        {
            ReduceOp.Sum or ReduceOp.Mean => Kind.Sum,
            ReduceOp.SumSquares => Kind.SumSquares,
            ReduceOp.Max => Kind.Max,
            ReduceOp.Min => Kind.Min,
            _ => throw new ArgumentOutOfRangeException(nameof(op), op, "CpuReduce.Reduce: unknown ReduceOp"),
        };
        float scale = op == ReduceOp.Mean ? r : 1f;
        fixed (float* px0 = x, py0 = y)
        {
            float* px = px0, py = py0;
            if (inner == 1)
            {
                if (outer < 2 * CpuParallel.Workers && (long)r >= 4 * RowLeaf)
                    for (int o = 0; o < outer; o++) py[o] = Finish(RowTree(kind, px + (long)o * r, r, default, SplitDepth(r, RowLeaf)), scale);
                else
                    CpuParallel.For(outer, r, 1, (s, e) =>
                    {
                        for (long o = s; o < e; o++) py[o] = Finish(RowTree(kind, px + o * r, r, default, 0), scale);
                    });
            }
            else
                ColumnDriver(kind, px, outer, r, inner, default, (p, w, acc) =>
                {
                    if (scale != 1f) for (int k = 0; k < 4; k++) acc[k] = Avx.Divide(acc[k], Vector256.Create(scale));
                    StoreLanes(p, acc, w);
                }, py);
        }
    }

    /// <summary>Index and value of the first maximum (max = true) or minimum along r, like torch.max(dim)/argmax:
    /// a NaN counts as the extreme (the first NaN wins), ties give the first index.</summary>
    public static void ArgReduce(bool max, ReadOnlySpan<float> x, int outer, int r, int inner, Span<float> values, Span<int> indices)
    {
        CheckShape(x.Length, values.Length, outer, r, inner);
        if (indices.Length != values.Length) throw new ArgumentException("CpuReduce.ArgReduce: indices length differs from values.", nameof(indices));
        if (outer == 0 || inner == 0) return;
        if (r == 0) throw EmptyError(max ? "ArgMax" : "ArgMin");
        if (!CpuVecMath.IsSupported) { ArgReduceReference(max, x, outer, r, inner, values, indices); return; }
        fixed (float* px0 = x, pv0 = values)
        fixed (int* pi0 = indices)
        {
            float* px = px0, pv = pv0;
            int* pi = pi0;
            if (inner == 1)
                CpuParallel.For(outer, r, 1, (s, e) =>
                {
                    for (long o = s; o < e; o++) pi[o] = ArgRow(max, px + o * r, r, out pv[o]);
                });
            else
            {
                int chunks = (inner + 7) / 8;
                CpuParallel.For((long)outer * chunks, r * 8L, 1, (s, e) =>
                {
                    for (long t = s; t < e; t++)
                    {
                        long o = t / chunks;
                        int i0 = (int)(t % chunks) * 8;
                        ArgColumn(max, px + o * r * inner + i0, r, inner, Math.Min(8, inner - i0), pv + o * inner + i0, pi + o * inner + i0);
                    }
                });
            }
        }
    }

    /// <summary>Variance over r with Bessel-style <paramref name="correction"/> (torch.var(correction=…)): Σ(x−mean)² /
    /// max(0, r − correction), two-pass with the pairwise sums above plus the compensation term −(Σ(x−mean))²/r.
    /// <paramref name="mean"/> receives the mean, or may be empty.</summary>
    public static void Variance(ReadOnlySpan<float> x, int outer, int r, int inner, float correction, Span<float> y, Span<float> mean)
    {
        CheckShape(x.Length, y.Length, outer, r, inner);
        if (!mean.IsEmpty && mean.Length != y.Length) throw new ArgumentException("CpuReduce.Variance: mean length differs from y.", nameof(mean));
        if (outer == 0 || inner == 0) return;
        if (r == 0) { y.Fill(float.NaN); if (!mean.IsEmpty) mean.Fill(float.NaN); return; }
        if (!CpuVecMath.IsSupported) { VarianceReference(x, outer, r, inner, correction, y, mean); return; }
        float div = MathF.Max(0f, r - correction);
        fixed (float* px0 = x, py0 = y, pm0 = mean)
        {
            float* px = px0, py = py0, pm = pm0;
            if (inner == 1)
            {
                int depth = outer < 2 * CpuParallel.Workers && (long)r >= 4 * RowLeaf ? SplitDepth(r, RowLeaf) : 0;
                CpuParallel.For(outer, depth > 0 ? 1 : 3L * r, 1, (s, e) =>
                {
                    for (long o = s; o < e; o++)
                    {
                        float* row = px + o * r;
                        float m = RowTree(Kind.Sum, row, r, default, depth).ToScalar() / r;
                        var mv = Vector256.Create(m);
                        float m2 = RowTree(Kind.CenteredSquares, row, r, mv, depth).ToScalar();
                        float c = RowTree(Kind.Centered, row, r, mv, depth).ToScalar();
                        py[o] = (m2 - c * c / r) / div;
                        if (pm != null) pm[o] = m;
                    }
                });
            }
            else
            {
                // Pass 1: the mean (into y as scratch); pass 2: centred squares and the centred sum.
                ColumnDriver(Kind.Sum, px, outer, r, inner, default, (p, w, acc) =>
                {
                    for (int k = 0; k < 4; k++) acc[k] = Avx.Divide(acc[k], Vector256.Create((float)r));
                    StoreLanes(p, acc, w);
                }, py);
                if (pm != null) new Span<float>(py, y.Length).CopyTo(new Span<float>(pm, y.Length));
                // y holds the mean: each chunk reads its means, then overwrites them with the variance.
                ColumnDriver(Kind.CenteredSquares, px, outer, r, inner, py, null, py, secondPass: true, rTotal: r, divisor: div);
            }
        }
    }

    // ------------------------------------------------------------------ row case

    enum Kind { Sum, SumSquares, Max, Min, Centered, CenteredSquares }

    static int SplitDepth(long n, int leaf)
    {
        // Enough subtrees for every core a few times over, never below leaf size.
        int depth = 0;
        while (depth < 4 && (n >> (depth + 1)) >= leaf) depth++;
        return depth;
    }

    static float Finish(Vector256<float> packed, float scale)
    {
        float v = packed.ToScalar();
        return scale == 1f ? v : v / scale;
    }

    /// <summary>Pairwise tree over a row; the result is in lane 0 (NaN-propagating for Max/Min).
    /// The top <paramref name="parallelDepth"/> levels run their halves in parallel.</summary>
    static Vector256<float> RowTree(Kind kind, float* p, long n, Vector256<float> mean, int parallelDepth)
    {
        if (n <= RowLeaf) return RowLeafReduce(kind, p, (int)n, mean);
        long h = (n / 2 + Lanes - 1) / Lanes * Lanes;
        Vector256<float> left, right;
        if (parallelDepth > 0)
        {
            Vector256<float> l = default, rr = default;
            Parallel.Invoke(
                () => l = RowTree(kind, p, h, mean, parallelDepth - 1),
                () => rr = RowTree(kind, p + h, n - h, mean, parallelDepth - 1));
            left = l; right = rr;
        }
        else
        {
            left = RowTree(kind, p, h, mean, 0);
            right = RowTree(kind, p + h, n - h, mean, 0);
        }
        return Combine(kind, left, right);
    }

    static Vector256<float> Combine(Kind kind, Vector256<float> a, Vector256<float> b) => kind switch
    {
        Kind.Max => MaxNan(a, b),
        Kind.Min => MinNan(a, b),
        _ => Vector256.CreateScalar(a.ToScalar() + b.ToScalar()),
    };

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static Vector256<float> RowLeafReduce(Kind kind, float* p, int n, Vector256<float> mean)
    {
        var a0 = Vector256<float>.Zero;
        var a1 = Vector256<float>.Zero;
        var a2 = Vector256<float>.Zero;
        var a3 = Vector256<float>.Zero;
        int i = 0;
        switch (kind)
        {
            case Kind.Sum:
                for (; i <= n - 32; i += 32)
                {
                    a0 = Avx.Add(a0, Avx.LoadVector256(p + i));
                    a1 = Avx.Add(a1, Avx.LoadVector256(p + i + 8));
                    a2 = Avx.Add(a2, Avx.LoadVector256(p + i + 16));
                    a3 = Avx.Add(a3, Avx.LoadVector256(p + i + 24));
                }
                for (; i <= n - 8; i += 8) a0 = Avx.Add(a0, Avx.LoadVector256(p + i));
                if (i < n) a1 = Avx.Add(a1, CpuVecMath.LoadTail(p + i, n - i));
                break;
            case Kind.SumSquares:
                for (; i <= n - 32; i += 32)
                {
                    var v0 = Avx.LoadVector256(p + i); a0 = Fma.MultiplyAdd(v0, v0, a0);
                    var v1 = Avx.LoadVector256(p + i + 8); a1 = Fma.MultiplyAdd(v1, v1, a1);
                    var v2 = Avx.LoadVector256(p + i + 16); a2 = Fma.MultiplyAdd(v2, v2, a2);
                    var v3 = Avx.LoadVector256(p + i + 24); a3 = Fma.MultiplyAdd(v3, v3, a3);
                }
                for (; i <= n - 8; i += 8) { var v = Avx.LoadVector256(p + i); a0 = Fma.MultiplyAdd(v, v, a0); }
                if (i < n) { var v = CpuVecMath.LoadTail(p + i, n - i); a1 = Fma.MultiplyAdd(v, v, a1); }
                break;
            case Kind.Centered:
                for (; i <= n - 32; i += 32)
                {
                    a0 = Avx.Add(a0, Avx.Subtract(Avx.LoadVector256(p + i), mean));
                    a1 = Avx.Add(a1, Avx.Subtract(Avx.LoadVector256(p + i + 8), mean));
                    a2 = Avx.Add(a2, Avx.Subtract(Avx.LoadVector256(p + i + 16), mean));
                    a3 = Avx.Add(a3, Avx.Subtract(Avx.LoadVector256(p + i + 24), mean));
                }
                for (; i <= n - 8; i += 8) a0 = Avx.Add(a0, Avx.Subtract(Avx.LoadVector256(p + i), mean));
                if (i < n) a1 = Avx.Add(a1, Avx.And(CpuVecMath.TailMask(n - i), Avx.Subtract(CpuVecMath.LoadTail(p + i, n - i), mean)));
                break;
            case Kind.CenteredSquares:
                for (; i <= n - 32; i += 32)
                {
                    var d0 = Avx.Subtract(Avx.LoadVector256(p + i), mean); a0 = Fma.MultiplyAdd(d0, d0, a0);
                    var d1 = Avx.Subtract(Avx.LoadVector256(p + i + 8), mean); a1 = Fma.MultiplyAdd(d1, d1, a1);
                    var d2 = Avx.Subtract(Avx.LoadVector256(p + i + 16), mean); a2 = Fma.MultiplyAdd(d2, d2, a2);
                    var d3 = Avx.Subtract(Avx.LoadVector256(p + i + 24), mean); a3 = Fma.MultiplyAdd(d3, d3, a3);
                }
                for (; i <= n - 8; i += 8) { var d = Avx.Subtract(Avx.LoadVector256(p + i), mean); a0 = Fma.MultiplyAdd(d, d, a0); }
                if (i < n)
                {
                    var d = Avx.And(CpuVecMath.TailMask(n - i), Avx.Subtract(CpuVecMath.LoadTail(p + i, n - i), mean));
                    a1 = Fma.MultiplyAdd(d, d, a1);
                }
                break;
            case Kind.Max:
            case Kind.Min:
            {
                // Accumulators start at the first element (n ≥ 1); NaNs are tracked apart in `nan`.
                bool isMax = kind == Kind.Max;
                var first = Vector256.Create(p[0]);
                a0 = a1 = a2 = a3 = first;
                var nan = Vector256<float>.Zero;
                for (; i <= n - 32; i += 32)
                {
                    var v0 = Avx.LoadVector256(p + i);
                    var v1 = Avx.LoadVector256(p + i + 8);
                    var v2 = Avx.LoadVector256(p + i + 16);
                    var v3 = Avx.LoadVector256(p + i + 24);
                    nan = Avx.Or(nan, Avx.Or(Avx.CompareUnordered(v0, v1), Avx.CompareUnordered(v2, v3)));
                    if (isMax) { a0 = Avx.Max(a0, v0); a1 = Avx.Max(a1, v1); a2 = Avx.Max(a2, v2); a3 = Avx.Max(a3, v3); }
                    else { a0 = Avx.Min(a0, v0); a1 = Avx.Min(a1, v1); a2 = Avx.Min(a2, v2); a3 = Avx.Min(a3, v3); }
                }
                for (; i < n; i += 8)
                {
                    // tail lanes beyond n are filled with the first element, which changes nothing
                    var v = i <= n - 8 ? Avx.LoadVector256(p + i)
                        : Avx.BlendVariable(first, CpuVecMath.LoadTail(p + i, n - i), CpuVecMath.TailMask(n - i));
                    nan = Avx.Or(nan, Avx.CompareUnordered(v, v));
                    a0 = isMax ? Avx.Max(a0, v) : Avx.Min(a0, v);
                }
                a0 = isMax ? Avx.Max(Avx.Max(a0, a1), Avx.Max(a2, a3)) : Avx.Min(Avx.Min(a0, a1), Avx.Min(a2, a3));
                float m = isMax ? CpuVecMath.HorizontalMax(a0) : CpuVecMath.HorizontalMin(a0);
                bool anyNan = Avx.MoveMask(nan) != 0 || float.IsNaN(p[0]);
                return Vector256.CreateScalar(anyNan ? float.NaN : m);
            }
        }
        return Vector256.CreateScalar(CpuVecMath.HorizontalSum(Avx.Add(Avx.Add(a0, a1), Avx.Add(a2, a3))));
    }

    /// <summary>Returns the first index of the row's extreme (NaN first), writing its value.</summary>
    static int ArgRow(bool max, float* p, int n, out float value)
    {
        var ext = RowTree(max ? Kind.Max : Kind.Min, p, n, default, 0);
        float target = ext.ToScalar();
        value = target;
        bool nan = float.IsNaN(target);
        var t = Vector256.Create(target);
        int i = 0;
        for (; i <= n - 8; i += 8)
        {
            var v = Avx.LoadVector256(p + i);
            int mask = Avx.MoveMask(nan ? Avx.CompareUnordered(v, v) : Avx.CompareEqual(v, t));
            if (mask != 0) return i + BitOperations.TrailingZeroCount(mask);
        }
        for (; i < n; i++)
            if (nan ? float.IsNaN(p[i]) : p[i] == target) return i;
        return 0; // unreachable: the extreme is in the row
    }

    // ------------------------------------------------------------------ column case

    [InlineArray(4)]
    struct Vec4 { Vector256<float> _e; }

    delegate void ColumnSink(float* dst, int width, Vec4 acc);

    /// <summary>Runs the column tree for every (outer, 32-lane chunk of inner) and hands each result to sink.
    /// For the variance second pass (secondPass), it also computes the centred sum and finishes the variance.</summary>
    static void ColumnDriver(Kind kind, float* px, int outer, int r, int inner, float* means, ColumnSink? sink, float* py,
        bool secondPass = false, int rTotal = 0, float divisor = 0f)
    {
        int chunks = (inner + Lanes - 1) / Lanes;
        long items = (long)outer * chunks;
        int depth = items < 2 * CpuParallel.Workers && (long)r * Math.Min(inner, Lanes) >= 4L * RowLeaf ? SplitDepth(r, 4 * ColLeaf) : 0;
        CpuParallel.For(items, depth > 0 ? 1 : (long)r * Math.Min(inner, Lanes), 1, (s, e) =>
        {
            for (long t = s; t < e; t++)
            {
                long o = t / chunks;
                int i0 = (int)(t % chunks) * Lanes;
                int w = Math.Min(Lanes, inner - i0);
                float* src = px + o * r * inner + i0;
                float* dst = py + o * inner + i0;
                Vec4 mv = default;
                if (means != null) mv = LoadLanes(means + o * inner + i0, w);
                var acc = ColumnTree(kind, src, r, inner, w, mv, depth);
                if (secondPass)
                {
                    var c = ColumnTree(Kind.Centered, src, r, inner, w, mv, depth);
                    for (int k = 0; k < 4; k++)
                        acc[k] = Avx.Divide(Avx.Subtract(acc[k], Avx.Divide(Avx.Multiply(c[k], c[k]), Vector256.Create((float)rTotal))),
                            Vector256.Create(divisor));
                    StoreLanes(dst, acc, w);
                }
                else sink!(dst, w, acc);
            }
        });
    }

    static Vec4 LoadLanes(float* p, int w)
    {
        Vec4 v = default;
        for (int k = 0; k < 4; k++)
        {
            int m = Math.Clamp(w - 8 * k, 0, 8);
            v[k] = m == 8 ? Avx.LoadVector256(p + 8 * k) : m > 0 ? CpuVecMath.LoadTail(p + 8 * k, m) : default;
        }
        return v;
    }

    static void StoreLanes(float* p, Vec4 v, int w)
    {
        for (int k = 0; k < 4; k++)
        {
            int m = Math.Clamp(w - 8 * k, 0, 8);
            if (m == 8) Avx.Store(p + 8 * k, v[k]);
            else if (m > 0) CpuVecMath.StoreTail(p + 8 * k, v[k], m);
        }
    }

    static Vec4 ColumnTree(Kind kind, float* p, long r, int stride, int w, Vec4 mean, int parallelDepth)
    {
        if (r <= ColLeaf || ((kind == Kind.Max || kind == Kind.Min) && parallelDepth == 0))
            return ColumnLeaf(kind, p, (int)r, stride, w, mean);
        long h = r / 2;
        Vec4 left, right;
        if (parallelDepth > 0)
        {
            Vec4 l = default, rr = default;
            Parallel.Invoke(
                () => l = ColumnTree(kind, p, h, stride, w, mean, parallelDepth - 1),
                () => rr = ColumnTree(kind, p + h * stride, r - h, stride, w, mean, parallelDepth - 1));
            left = l; right = rr;
        }
        else
        {
            left = ColumnTree(kind, p, h, stride, w, mean, 0);
            right = ColumnTree(kind, p + h * stride, r - h, stride, w, mean, 0);
        }
        for (int k = 0; k < 4; k++)
            left[k] = kind switch
            {
                Kind.Max => MaxNan(left[k], right[k]),
                Kind.Min => MinNan(left[k], right[k]),
                _ => Avx.Add(left[k], right[k]),
            };
        return left;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> MaxNan(Vector256<float> acc, Vector256<float> v)
        => Avx.BlendVariable(Avx.Max(acc, v), acc, Avx.CompareUnordered(acc, acc)); // Max returns v when either is NaN

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> MinNan(Vector256<float> acc, Vector256<float> v)
        => Avx.BlendVariable(Avx.Min(acc, v), acc, Avx.CompareUnordered(acc, acc));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static Vec4 ColumnLeaf(Kind kind, float* p, int r, int stride, int w, Vec4 mean)
    {
        Vec4 acc = default;
        if (w == Lanes)
        {
            var a0 = Vector256<float>.Zero; var a1 = a0; var a2 = a0; var a3 = a0;
            var m0 = mean[0]; var m1 = mean[1]; var m2 = mean[2]; var m3 = mean[3];
            switch (kind)
            {
                case Kind.Sum:
                    for (int j = 0; j < r; j++, p += stride)
                    {
                        a0 = Avx.Add(a0, Avx.LoadVector256(p)); a1 = Avx.Add(a1, Avx.LoadVector256(p + 8));
                        a2 = Avx.Add(a2, Avx.LoadVector256(p + 16)); a3 = Avx.Add(a3, Avx.LoadVector256(p + 24));
                    }
                    break;
                case Kind.SumSquares:
                    for (int j = 0; j < r; j++, p += stride)
                    {
                        var v0 = Avx.LoadVector256(p); var v1 = Avx.LoadVector256(p + 8);
                        var v2 = Avx.LoadVector256(p + 16); var v3 = Avx.LoadVector256(p + 24);
                        a0 = Fma.MultiplyAdd(v0, v0, a0); a1 = Fma.MultiplyAdd(v1, v1, a1);
                        a2 = Fma.MultiplyAdd(v2, v2, a2); a3 = Fma.MultiplyAdd(v3, v3, a3);
                    }
                    break;
                case Kind.Centered:
                    for (int j = 0; j < r; j++, p += stride)
                    {
                        a0 = Avx.Add(a0, Avx.Subtract(Avx.LoadVector256(p), m0)); a1 = Avx.Add(a1, Avx.Subtract(Avx.LoadVector256(p + 8), m1));
                        a2 = Avx.Add(a2, Avx.Subtract(Avx.LoadVector256(p + 16), m2)); a3 = Avx.Add(a3, Avx.Subtract(Avx.LoadVector256(p + 24), m3));
                    }
                    break;
                case Kind.CenteredSquares:
                    for (int j = 0; j < r; j++, p += stride)
                    {
                        var d0 = Avx.Subtract(Avx.LoadVector256(p), m0); var d1 = Avx.Subtract(Avx.LoadVector256(p + 8), m1);
                        var d2 = Avx.Subtract(Avx.LoadVector256(p + 16), m2); var d3 = Avx.Subtract(Avx.LoadVector256(p + 24), m3);
                        a0 = Fma.MultiplyAdd(d0, d0, a0); a1 = Fma.MultiplyAdd(d1, d1, a1);
                        a2 = Fma.MultiplyAdd(d2, d2, a2); a3 = Fma.MultiplyAdd(d3, d3, a3);
                    }
                    break;
                case Kind.Max:
                case Kind.Min:
                    a0 = Avx.LoadVector256(p); a1 = Avx.LoadVector256(p + 8); a2 = Avx.LoadVector256(p + 16); a3 = Avx.LoadVector256(p + 24);
                    p += stride;
                    if (kind == Kind.Max)
                        for (int j = 1; j < r; j++, p += stride)
                        {
                            a0 = MaxNan(a0, Avx.LoadVector256(p)); a1 = MaxNan(a1, Avx.LoadVector256(p + 8));
                            a2 = MaxNan(a2, Avx.LoadVector256(p + 16)); a3 = MaxNan(a3, Avx.LoadVector256(p + 24));
                        }
                    else
                        for (int j = 1; j < r; j++, p += stride)
                        {
                            a0 = MinNan(a0, Avx.LoadVector256(p)); a1 = MinNan(a1, Avx.LoadVector256(p + 8));
                            a2 = MinNan(a2, Avx.LoadVector256(p + 16)); a3 = MinNan(a3, Avx.LoadVector256(p + 24));
                        }
                    break;
            }
            acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3;
            return acc;
        }
        // Narrow chunk (the inner tail): one vector at a time with masked loads.
        for (int k = 0; k < 4; k++)
        {
            int m = Math.Clamp(w - 8 * k, 0, 8);
            if (m == 0) break;
            var mask = CpuVecMath.TailMask(m);
            float* q = p + 8 * k;
            var mk = mean[k];
            var a = Vector256<float>.Zero;
            switch (kind)
            {
                case Kind.Sum: for (int j = 0; j < r; j++, q += stride) a = Avx.Add(a, Avx.MaskLoad(q, mask)); break;
                case Kind.SumSquares: for (int j = 0; j < r; j++, q += stride) { var v = Avx.MaskLoad(q, mask); a = Fma.MultiplyAdd(v, v, a); } break;
                case Kind.Centered: for (int j = 0; j < r; j++, q += stride) a = Avx.Add(a, Avx.Subtract(Avx.MaskLoad(q, mask), mk)); break;
                case Kind.CenteredSquares:
                    for (int j = 0; j < r; j++, q += stride) { var d = Avx.Subtract(Avx.MaskLoad(q, mask), mk); a = Fma.MultiplyAdd(d, d, a); }
                    break;
                case Kind.Max:
                    a = Avx.MaskLoad(q, mask); q += stride;
                    for (int j = 1; j < r; j++, q += stride) a = MaxNan(a, Avx.MaskLoad(q, mask));
                    break;
                case Kind.Min:
                    a = Avx.MaskLoad(q, mask); q += stride;
                    for (int j = 1; j < r; j++, q += stride) a = MinNan(a, Avx.MaskLoad(q, mask));
                    break;
            }
            acc[k] = a;
        }
        return acc;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void ArgColumn(bool max, float* p, int r, int stride, int w, float* values, int* indices)
    {
        var mask = CpuVecMath.TailMask(w);
        var best = Avx.MaskLoad(p, mask);
        var idx = Vector256<int>.Zero;
        var j8 = Vector256<int>.Zero;
        var one = Vector256.Create(1);
        p += stride;
        for (int j = 1; j < r; j++, p += stride)
        {
            j8 = Avx2.Add(j8, one);
            var v = Avx.MaskLoad(p, mask);
            // take v where it beats best strictly, or where v is NaN and best is not (the first NaN wins)
            var beats = max ? Avx.CompareGreaterThan(v, best) : Avx.CompareLessThan(v, best);
            var take = Avx.Or(beats, Avx.AndNot(Avx.CompareUnordered(best, best), Avx.CompareUnordered(v, v)));
            best = Avx.BlendVariable(best, v, take);
            idx = Avx.BlendVariable(idx.AsSingle(), j8.AsSingle(), take).AsInt32();
        }
        if (w == 8)
        {
            Avx.Store(values, best);
            Avx.Store(indices, idx);
        }
        else
        {
            Avx.MaskStore(values, mask, best);
            Avx2.MaskStore(indices, mask.AsInt32(), idx);
        }
    }

    // ------------------------------------------------------------------ checks

    static void CheckShape(int xLen, int yLen, int outer, int r, int inner)
    {
        if (outer < 0 || r < 0 || inner < 0)
            throw new ArgumentException($"CpuReduce: negative shape ({outer}, {r}, {inner}).");
        if ((long)outer * r * inner != xLen)
            throw new ArgumentException($"CpuReduce: x has length {xLen}, expected outer·r·inner = {outer}·{r}·{inner}.", "x");
        if ((long)outer * inner != yLen)
            throw new ArgumentException($"CpuReduce: output has length {yLen}, expected outer·inner = {outer}·{inner}.", "y");
    }

    static ArgumentException EmptyError(string what)
        => new($"CpuReduce.{what}: cannot reduce over an empty axis (r = 0), as torch refuses.");
}
