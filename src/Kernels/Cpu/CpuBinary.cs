using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FsrNative.Kernels.Cpu;

/// <summary>
/// Elementwise binary functions over contiguous spans of equal length, with one side broadcast from a scalar, and
/// <see cref="Where"/>. Broadcasting of general shapes is the tensor backend's job (it calls these per contiguous run).
/// <para>Scalar reference versions first, then Vector256 versions (4× unrolled, masked tails, threaded above
/// <see cref="CpuParallel.MinParallelWork"/>). Maximum/Minimum propagate NaN from either side (torch.maximum);
/// comparisons give 1f/0f with IEEE semantics (NaN: only Ne is true). Pow runs MathF.Pow per element.
/// The output may be the same memory as either input.</para>
/// </summary>
public static unsafe class CpuBinary
{
    // ------------------------------------------------------------------ reference (scalar)

    /// <summary>Scalar reference of <see cref="Forward"/>.</summary>
    public static void ForwardReference(BinaryOp op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
    {
        Check(a.Length, b.Length, nameof(b));
        Check(a.Length, y.Length, nameof(y));
        for (int i = 0; i < a.Length; i++) y[i] = ScalarMath.Binary(op, a[i], b[i]);
    }

    /// <summary>Scalar reference of <see cref="ForwardScalarRight"/>.</summary>
    public static void ForwardScalarRightReference(BinaryOp op, ReadOnlySpan<float> a, float b, Span<float> y)
    {
        Check(a.Length, y.Length, nameof(y));
        for (int i = 0; i < a.Length; i++) y[i] = ScalarMath.Binary(op, a[i], b);
    }

    /// <summary>Scalar reference of <see cref="ForwardScalarLeft"/>.</summary>
    public static void ForwardScalarLeftReference(BinaryOp op, float a, ReadOnlySpan<float> b, Span<float> y)
    {
        Check(b.Length, y.Length, nameof(y));
        for (int i = 0; i < b.Length; i++) y[i] = ScalarMath.Binary(op, a, b[i]);
    }

    /// <summary>Scalar reference of <see cref="Where"/>.</summary>
    public static void WhereReference(ReadOnlySpan<float> cond, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
    {
        Check(cond.Length, a.Length, nameof(a));
        Check(cond.Length, b.Length, nameof(b));
        Check(cond.Length, y.Length, nameof(y));
        for (int i = 0; i < cond.Length; i++) y[i] = cond[i] != 0f ? a[i] : b[i];
    }

    // ------------------------------------------------------------------ public fast API

    /// <summary>y = a ∘ b elementwise; all four spans the same length.</summary>
    public static void Forward(BinaryOp op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
    {
        Check(a.Length, b.Length, nameof(b));
        Check(a.Length, y.Length, nameof(y));
        if (a.Length == 0) return;
        if (!CpuVecMath.IsSupported || op == BinaryOp.Pow)
        {
            // Pow: no vector pow; still threaded.
            if (op != BinaryOp.Pow || a.Length < CpuParallel.MinParallelWork / 8) { ForwardReference(op, a, b, y); return; }
        }
        fixed (float* pa0 = a, pb0 = b, py0 = y)
        {
            float* pa = pa0, pb = pb0, py = py0;
            bool nt = 4L * y.Length >= CpuKernelSettings.StreamingStoreMinBytes;
            CpuParallel.For(a.Length, op == BinaryOp.Pow ? 8 : 1, 64, (s, e) => Range(op, pa + s, pb + s, py + s, (int)(e - s), Mode.VV, 0f, nt));
        }
    }

    /// <summary>y = a ∘ b with b broadcast.</summary>
    public static void ForwardScalarRight(BinaryOp op, ReadOnlySpan<float> a, float b, Span<float> y)
    {
        Check(a.Length, y.Length, nameof(y));
        if (a.Length == 0) return;
        if (!CpuVecMath.IsSupported) { ForwardScalarRightReference(op, a, b, y); return; }
        // x^2, x^0.5, … are unary ops with their exact PyTorch special cases.
        if (op == BinaryOp.Pow) { CpuUnary.Forward(UnaryOp.PowScalar, a, y, b, 0f); return; }
        fixed (float* pa0 = a, py0 = y)
        {
            float* pa = pa0, py = py0;
            bool nt = 4L * y.Length >= CpuKernelSettings.StreamingStoreMinBytes;
            CpuParallel.For(a.Length, 1, 64, (s, e) => Range(op, pa + s, null, py + s, (int)(e - s), Mode.VS, b, nt));
        }
    }

    /// <summary>y = a ∘ b with a broadcast.</summary>
    public static void ForwardScalarLeft(BinaryOp op, float a, ReadOnlySpan<float> b, Span<float> y)
    {
        Check(b.Length, y.Length, nameof(y));
        if (b.Length == 0) return;
        if (!CpuVecMath.IsSupported) { ForwardScalarLeftReference(op, a, b, y); return; }
        if (op == BinaryOp.Pow) { CpuUnary.Forward(UnaryOp.RPowScalar, b, y, a, 0f); return; }
        fixed (float* pb0 = b, py0 = y)
        {
            float* pb = pb0, py = py0;
            bool nt = 4L * y.Length >= CpuKernelSettings.StreamingStoreMinBytes;
            CpuParallel.For(b.Length, 1, 64, (s, e) => Range(op, null, pb + s, py + s, (int)(e - s), Mode.SV, a, nt));
        }
    }

    /// <summary>y = cond ≠ 0 ? a : b (NaN counts as true, −0 as false).</summary>
    public static void Where(ReadOnlySpan<float> cond, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
    {
        Check(cond.Length, a.Length, nameof(a));
        Check(cond.Length, b.Length, nameof(b));
        Check(cond.Length, y.Length, nameof(y));
        if (cond.Length == 0) return;
        if (!CpuVecMath.IsSupported) { WhereReference(cond, a, b, y); return; }
        fixed (float* pc0 = cond, pa0 = a, pb0 = b, py0 = y)
        {
            float* pc = pc0, pa = pa0, pb = pb0, py = py0;
            CpuParallel.For(cond.Length, 1, 64, (s, e) => WhereRange(pc + s, pa + s, pb + s, py + s, (int)(e - s)));
        }
    }

    // ------------------------------------------------------------------ ranges

    enum Mode { VV, VS, SV }

    static void Range(BinaryOp op, float* a, float* b, float* y, int n, Mode m, float scalar, bool nt)
    {
        switch (op)
        {
            case BinaryOp.Add: Run(new AddOp(), a, b, y, n, m, scalar, nt); break;
            case BinaryOp.Sub: Run(new SubOp(), a, b, y, n, m, scalar, nt); break;
            case BinaryOp.Mul: Run(new MulOp(), a, b, y, n, m, scalar, nt); break;
            case BinaryOp.Div: Run(new DivOp(), a, b, y, n, m, scalar, nt); break;
            case BinaryOp.Maximum: Run(new MaxOp(), a, b, y, n, m, scalar, nt); break;
            case BinaryOp.Minimum: Run(new MinOp(), a, b, y, n, m, scalar, nt); break;
            case BinaryOp.Eq: Run(new EqOp(), a, b, y, n, m, scalar, nt); break;
            case BinaryOp.Ne: Run(new NeOp(), a, b, y, n, m, scalar, nt); break;
            case BinaryOp.Lt: Run(new LtOp(), a, b, y, n, m, scalar, nt); break;
            case BinaryOp.Le: Run(new LeOp(), a, b, y, n, m, scalar, nt); break;
            case BinaryOp.Gt: Run(new GtOp(), a, b, y, n, m, scalar, nt); break;
            case BinaryOp.Ge: Run(new GeOp(), a, b, y, n, m, scalar, nt); break;
            case BinaryOp.Pow:
                for (int i = 0; i < n; i++)
                    y[i] = MathF.Pow(m == Mode.SV ? scalar : a[i], m == Mode.VS ? scalar : b[i]);
                break;
            default: throw new ArgumentOutOfRangeException(nameof(op), op, "CpuBinary: unknown BinaryOp");
        }
    }

    static void Run<T>(T op, float* a, float* b, float* y, int n, Mode m, float scalar, bool nt) where T : struct, CpuUnary.IVecBinary
    {
        switch (m)
        {
            case Mode.VV: CpuUnary.Map2(op, a, b, y, n, nt); break;
            case Mode.VS: CpuUnary.Map(new RightScalar<T>(op, scalar), a, y, n, nt); break;
            default: CpuUnary.Map(new LeftScalar<T>(op, scalar), b, y, n, nt); break;
        }
    }

    struct RightScalar<T>(T op, float b) : CpuUnary.IVecUnary where T : struct, CpuUnary.IVecBinary
    {
        readonly Vector256<float> s = Vector256.Create(b);
        T o = op;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<float> Apply(Vector256<float> x) => o.Apply(x, s);
    }

    struct LeftScalar<T>(T op, float a) : CpuUnary.IVecUnary where T : struct, CpuUnary.IVecBinary
    {
        readonly Vector256<float> s = Vector256.Create(a);
        T o = op;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<float> Apply(Vector256<float> x) => o.Apply(s, x);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void WhereRange(float* c, float* a, float* b, float* y, int n)
    {
        var zero = Vector256<float>.Zero;
        int i = 0;
        for (; i <= n - 8; i += 8)
        {
            var isZero = Avx.CompareEqual(Avx.LoadVector256(c + i), zero); // ordered: NaN is "true"
            Avx.Store(y + i, Avx.BlendVariable(Avx.LoadVector256(a + i), Avx.LoadVector256(b + i), isZero));
        }
        if (i < n)
        {
            int r = n - i;
            // a zero-filled cond lane selects b's (zero-filled) lane; masked-off lanes are not stored anyway.
            var isZero = Avx.CompareEqual(CpuVecMath.LoadTail(c + i, r), zero);
            CpuVecMath.StoreTail(y + i, Avx.BlendVariable(CpuVecMath.LoadTail(a + i, r), CpuVecMath.LoadTail(b + i, r), isZero), r);
        }
    }

    // ------------------------------------------------------------------ ops

    struct AddOp : CpuUnary.IVecBinary { public Vector256<float> Apply(Vector256<float> a, Vector256<float> b) => Avx.Add(a, b); }
    struct SubOp : CpuUnary.IVecBinary { public Vector256<float> Apply(Vector256<float> a, Vector256<float> b) => Avx.Subtract(a, b); }
    struct MulOp : CpuUnary.IVecBinary { public Vector256<float> Apply(Vector256<float> a, Vector256<float> b) => Avx.Multiply(a, b); }
    struct DivOp : CpuUnary.IVecBinary { public Vector256<float> Apply(Vector256<float> a, Vector256<float> b) => Avx.Divide(a, b); }

    /// <summary>torch.maximum: NaN if either is NaN. Avx.Max(a, b) returns b when either is NaN, so only a NaN a
    /// needs the blend.</summary>
    struct MaxOp : CpuUnary.IVecBinary
    {
        public Vector256<float> Apply(Vector256<float> a, Vector256<float> b)
            => Avx.BlendVariable(Avx.Max(a, b), a, Avx.CompareUnordered(a, a));
    }

    struct MinOp : CpuUnary.IVecBinary
    {
        public Vector256<float> Apply(Vector256<float> a, Vector256<float> b)
            => Avx.BlendVariable(Avx.Min(a, b), a, Avx.CompareUnordered(a, a));
    }

    // Comparisons: the all-ones mask AND 1f gives 1f or 0f. Avx's Compare* are the ordered predicates, NotEqual unordered.
    struct EqOp : CpuUnary.IVecBinary { public Vector256<float> Apply(Vector256<float> a, Vector256<float> b) => Avx.And(Avx.CompareEqual(a, b), Vector256.Create(1f)); }
    struct NeOp : CpuUnary.IVecBinary { public Vector256<float> Apply(Vector256<float> a, Vector256<float> b) => Avx.And(Avx.CompareNotEqual(a, b), Vector256.Create(1f)); }
    struct LtOp : CpuUnary.IVecBinary { public Vector256<float> Apply(Vector256<float> a, Vector256<float> b) => Avx.And(Avx.CompareLessThan(a, b), Vector256.Create(1f)); }
    struct LeOp : CpuUnary.IVecBinary { public Vector256<float> Apply(Vector256<float> a, Vector256<float> b) => Avx.And(Avx.CompareLessThanOrEqual(a, b), Vector256.Create(1f)); }
    struct GtOp : CpuUnary.IVecBinary { public Vector256<float> Apply(Vector256<float> a, Vector256<float> b) => Avx.And(Avx.CompareGreaterThan(a, b), Vector256.Create(1f)); }
    struct GeOp : CpuUnary.IVecBinary { public Vector256<float> Apply(Vector256<float> a, Vector256<float> b) => Avx.And(Avx.CompareGreaterThanOrEqual(a, b), Vector256.Create(1f)); }

    static void Check(int expected, int actual, string name)
    {
        if (expected != actual)
            throw new ArgumentException($"CpuBinary: {name} has length {actual}, expected {expected}.", name);
    }
}
