using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FsrNative.Kernels.Cpu;

/// <summary>
/// Elementwise unary functions and their gradients over contiguous float spans.
/// <para>Layout of this file (llm.c style): the scalar reference versions first (one loop over
/// <see cref="ScalarMath"/>, kept for the tests), then the fast versions: Vector256 + FMA, 4× unrolled, split over
/// cores above <see cref="CpuParallel.MinParallelWork"/>. Tails (n mod 8) run through the same vector code with masked
/// loads and stores, so an element's result never depends on its position, the length or the thread split.
/// Transcendentals come from <see cref="CpuVecMath"/> (≤ 1.5 ulp; TensorPrimitives was measured and not used: its
/// Exp gives exp(0) = 1.0000001 and ≤ 1.8 ulp, its Tanh gives tanh(0) = −6e-8).</para>
/// <para>Aliasing: the output may be the very same memory as an input (in place); partial overlaps are not allowed.</para>
/// </summary>
public static unsafe class CpuUnary
{
    // ------------------------------------------------------------------ reference (scalar)

    /// <summary>Scalar reference of <see cref="Forward"/>.</summary>
    public static void ForwardReference(UnaryOp op, ReadOnlySpan<float> x, Span<float> y, float a, float b)
    {
        CheckSameLength(x.Length, y.Length, nameof(y));
        for (int i = 0; i < x.Length; i++) y[i] = ScalarMath.Unary(op, x[i], a, b);
    }

    /// <summary>Scalar reference of <see cref="Backward"/>.</summary>
    public static void BackwardReference(UnaryOp op, ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> gy,
        Span<float> gx, float a, float b)
    {
        CheckBackwardArgs(op, x, y, gy, gx);
        for (int i = 0; i < gy.Length; i++)
            gx[i] = ScalarMath.UnaryBackward(op, x.IsEmpty ? 0f : x[i], y.IsEmpty ? 0f : y[i], gy[i], a, b);
    }

    // ------------------------------------------------------------------ public fast API

    /// <summary>True when <see cref="Backward"/> reads x for this op (otherwise x may be passed empty).</summary>
    public static bool BackwardNeedsInput(UnaryOp op) => op switch
    {
        UnaryOp.Abs or UnaryOp.Log or UnaryOp.Square or UnaryOp.PowScalar or UnaryOp.Relu or UnaryOp.GeluErf
            or UnaryOp.GeluTanh or UnaryOp.Clamp or UnaryOp.RDivScalar or UnaryOp.RPowScalar => true,
        _ => false,
    };

    /// <summary>True when <see cref="Backward"/> reads y = f(x) for this op (otherwise y may be passed empty).</summary>
    public static bool BackwardNeedsOutput(UnaryOp op) => op switch
    {
        UnaryOp.Exp or UnaryOp.Sqrt or UnaryOp.Rsqrt or UnaryOp.Sigmoid or UnaryOp.Tanh or UnaryOp.RPowScalar => true,
        _ => false,
    };

    /// <summary>y = f(x). x and y may be the same memory.</summary>
    public static void Forward(UnaryOp op, ReadOnlySpan<float> x, Span<float> y, float a, float b)
    {
        CheckSameLength(x.Length, y.Length, nameof(y));
        if (x.Length == 0) return;
        if (!CpuVecMath.IsSupported)
        {
            ForwardReference(op, x, y, a, b);
            return;
        }
        fixed (float* px0 = x, py0 = y)
        {
            float* px = px0, py = py0;
            bool nt = 4L * x.Length >= CpuKernelSettings.StreamingStoreMinBytes;
            CpuParallel.For(x.Length, WorkPerElement(op), 64, (s, e) => ForwardRange(op, px + s, py + s, (int)(e - s), a, b, nt));
        }
    }

    /// <summary>gx = gy · f'(x), in PyTorch's form for each op (<see cref="ScalarMath.UnaryBackward"/>). x and y are
    /// read only where <see cref="BackwardNeedsInput"/> / <see cref="BackwardNeedsOutput"/> say so and may be empty
    /// otherwise. gx may be the same memory as gy.</summary>
    public static void Backward(UnaryOp op, ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> gy,
        Span<float> gx, float a, float b)
    {
        CheckBackwardArgs(op, x, y, gy, gx);
        if (gy.Length == 0) return;
        if (!CpuVecMath.IsSupported)
        {
            BackwardReference(op, x, y, gy, gx, a, b);
            return;
        }
        fixed (float* px0 = x, py0 = y, pg0 = gy, pgx0 = gx)
        {
            float* px = px0, py = py0, pg = pg0, pgx = pgx0;
            bool nt = 4L * gy.Length >= CpuKernelSettings.StreamingStoreMinBytes;
            CpuParallel.For(gy.Length, WorkPerElement(op), 64, (s, e) =>
                BackwardRange(op, px == null ? null : px + s, py == null ? null : py + s, pg + s, pgx + s, (int)(e - s), a, b, nt));
        }
    }

    // ------------------------------------------------------------------ ranges

    static long WorkPerElement(UnaryOp op) => op switch
    {
        UnaryOp.Exp or UnaryOp.Log or UnaryOp.Tanh or UnaryOp.Sigmoid or UnaryOp.GeluErf or UnaryOp.GeluTanh
            or UnaryOp.PowScalar or UnaryOp.RPowScalar => 4,
        _ => 1,
    };

    static void ForwardRange(UnaryOp op, float* x, float* y, int n, float a, float b, bool nt)
    {
        switch (op)
        {
            case UnaryOp.Identity:
                if (x != y) Map(new IdentityOp(), x, y, n, nt);
                break;
            case UnaryOp.Neg: Map(new NegOp(), x, y, n, nt); break;
            case UnaryOp.Abs: Map(new AbsOp(), x, y, n, nt); break;
            case UnaryOp.Exp: Map(new ExpOp(), x, y, n, nt); break;
            case UnaryOp.Log: Map(new LogOp(), x, y, n, nt); break;
            case UnaryOp.Tanh: Map(new TanhOp(), x, y, n, nt); break;
            case UnaryOp.Sqrt: Map(new SqrtOp(), x, y, n, nt); break;
            case UnaryOp.Rsqrt: Map(new RsqrtOp(), x, y, n, nt); break;
            case UnaryOp.Square: Map(new SquareOp(), x, y, n, nt); break;
            case UnaryOp.PowScalar:
                if (a == 2f) Map(new SquareOp(), x, y, n, nt);
                else if (a == 1f) { if (x != y) Map(new IdentityOp(), x, y, n, nt); }
                else if (a == 0.5f) Map(new SqrtOp(), x, y, n, nt);
                else if (a == 3f) Map(new CubeOp(), x, y, n, nt);
                else if (a == -1f) Map(new RecipOp(), x, y, n, nt);
                else if (a == -0.5f) Map(new RsqrtOp(), x, y, n, nt);
                else if (a == -2f) Map(new RecipSquareOp(), x, y, n, nt);
                else for (int i = 0; i < n; i++) y[i] = MathF.Pow(x[i], a);
                break;
            case UnaryOp.Relu: Map(new ReluOp(), x, y, n, nt); break;
            case UnaryOp.GeluErf: Map(new GeluErfOp(), x, y, n, nt); break;
            case UnaryOp.GeluTanh: Map(new GeluTanhOp(), x, y, n, nt); break;
            case UnaryOp.Sigmoid: Map(new SigmoidOp(), x, y, n, nt); break;
            case UnaryOp.Clamp: Map(new ClampOp(a, b), x, y, n, nt); break;
            case UnaryOp.AddScalar: Map(new AffineOp(1f, a, mul: false), x, y, n, nt); break;
            case UnaryOp.MulScalar: Map(new MulOp(a), x, y, n, nt); break;
            case UnaryOp.RDivScalar: Map(new RDivOp(a), x, y, n, nt); break;
            case UnaryOp.DivScalar: Map(new DivOp(a), x, y, n, nt); break;
            case UnaryOp.RSubScalar: Map(new RSubOp(a), x, y, n, nt); break;
            case UnaryOp.Affine: Map(new AffineOp(a, b, mul: true), x, y, n, nt); break;
            case UnaryOp.RPowScalar:
                for (int i = 0; i < n; i++) y[i] = MathF.Pow(a, x[i]);
                break;
            default: throw new ArgumentOutOfRangeException(nameof(op), op, "CpuUnary.Forward: unknown UnaryOp");
        }
    }

    static void BackwardRange(UnaryOp op, float* x, float* y, float* gy, float* gx, int n, float a, float b, bool nt)
    {
        switch (op)
        {
            case UnaryOp.Identity:
            case UnaryOp.AddScalar:
                if (gy != gx) Map(new IdentityOp(), gy, gx, n, nt);
                break;
            case UnaryOp.Neg:
            case UnaryOp.RSubScalar: Map(new NegOp(), gy, gx, n, nt); break;
            case UnaryOp.MulScalar:
            case UnaryOp.Affine: Map(new MulOp(a), gy, gx, n, nt); break;
            case UnaryOp.Abs: Map2(new AbsGrad(), x, gy, gx, n, nt); break;
            case UnaryOp.Log: Map2(new DivGrad(), x, gy, gx, n, nt); break;
            case UnaryOp.Square: Map2(new SquareGrad(), x, gy, gx, n, nt); break;
            case UnaryOp.Relu: Map2(new ReluGrad(), x, gy, gx, n, nt); break;
            case UnaryOp.GeluErf: Map2(new GeluErfGrad(), x, gy, gx, n, nt); break;
            case UnaryOp.GeluTanh: Map2(new GeluTanhGrad(), x, gy, gx, n, nt); break;
            case UnaryOp.Clamp: Map2(new ClampGrad(a, b), x, gy, gx, n, nt); break;
            case UnaryOp.RDivScalar: Map2(new RDivGrad(a), x, gy, gx, n, nt); break;
            case UnaryOp.DivScalar: Map(new DivOp(a), gy, gx, n, nt); break;
            case UnaryOp.Exp: Map2(new ExpGrad(), y, gy, gx, n, nt); break;
            case UnaryOp.Sqrt: Map2(new SqrtGrad(), y, gy, gx, n, nt); break;
            case UnaryOp.Rsqrt: Map2(new RsqrtGrad(), y, gy, gx, n, nt); break;
            case UnaryOp.Sigmoid: Map2(new SigmoidGrad(), y, gy, gx, n, nt); break;
            case UnaryOp.Tanh: Map2(new TanhGrad(), y, gy, gx, n, nt); break;
            case UnaryOp.PowScalar:
                if (a == 0f) new Span<float>(gx, n).Clear();
                else if (a == 2f) Map2(new SquareGrad(), x, gy, gx, n, nt);
                else if (a == 1f) { if (gy != gx) Map(new IdentityOp(), gy, gx, n, nt); }
                else if (a == 3f) Map2(new CubeGrad(), x, gy, gx, n, nt);
                else
                    for (int i = 0; i < n; i++) gx[i] = ScalarMath.UnaryBackward(op, x[i], 0f, gy[i], a, b);
                break;
            case UnaryOp.RPowScalar:
                for (int i = 0; i < n; i++) gx[i] = ScalarMath.UnaryBackward(op, x[i], y[i], gy[i], a, b);
                break;
            default: throw new ArgumentOutOfRangeException(nameof(op), op, "CpuUnary.Backward: unknown UnaryOp");
        }
    }

    // ------------------------------------------------------------------ vector loops

    internal interface IVecUnary { Vector256<float> Apply(Vector256<float> x); }
    internal interface IVecBinary { Vector256<float> Apply(Vector256<float> u, Vector256<float> v); }
    /// <summary>Marks ops with long polynomial chains (exp, erf, tanh…): the loops do not unroll them. Unrolled copies
    /// made the JIT spill ymm registers in the hot loop (a 6 KB frame for GELU's gradient); one ~60-instruction body
    /// per iteration already gives the out-of-order core independent work from consecutive iterations.</summary>
    internal interface IHeavy { }


    /// <summary>y[i] = op(x[i]) for i in [0, n), 4× unrolled, masked head/tail. With <paramref name="nt"/> (and y not
    /// x) the body uses aligned non-temporal stores after a masked head that aligns y to 32 bytes; every element
    /// gets the same arithmetic either way.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Map<T>(T op, float* x, float* y, int n, bool nt = false) where T : struct, IVecUnary
    {
        int i = 0;
        if (nt && x != y && ((nint)y & 3) == 0 && n >= 64)
        {
            int h = (int)(((32 - ((nint)y & 31)) & 31) >> 2);
            if (h > 0) CpuVecMath.StoreTail(y, op.Apply(CpuVecMath.LoadTail(x, h)), h);
            i = h;
            if (!(default(T) is IHeavy))
                for (; i <= n - 32; i += 32)
                {
                    var v0 = Avx.LoadVector256(x + i);
                    var v1 = Avx.LoadVector256(x + i + 8);
                    var v2 = Avx.LoadVector256(x + i + 16);
                    var v3 = Avx.LoadVector256(x + i + 24);
                    Avx.StoreAlignedNonTemporal(y + i, op.Apply(v0));
                    Avx.StoreAlignedNonTemporal(y + i + 8, op.Apply(v1));
                    Avx.StoreAlignedNonTemporal(y + i + 16, op.Apply(v2));
                    Avx.StoreAlignedNonTemporal(y + i + 24, op.Apply(v3));
                }
            for (; i <= n - 8; i += 8) Avx.StoreAlignedNonTemporal(y + i, op.Apply(Avx.LoadVector256(x + i)));
            Sse.StoreFence();
        }
        if (!(default(T) is IHeavy))
            for (; i <= n - 32; i += 32)
            {
                var v0 = Avx.LoadVector256(x + i);
                var v1 = Avx.LoadVector256(x + i + 8);
                var v2 = Avx.LoadVector256(x + i + 16);
                var v3 = Avx.LoadVector256(x + i + 24);
                Avx.Store(y + i, op.Apply(v0));
                Avx.Store(y + i + 8, op.Apply(v1));
                Avx.Store(y + i + 16, op.Apply(v2));
                Avx.Store(y + i + 24, op.Apply(v3));
            }
        for (; i <= n - 8; i += 8) Avx.Store(y + i, op.Apply(Avx.LoadVector256(x + i)));
        if (i < n)
        {
            int r = n - i;
            CpuVecMath.StoreTail(y + i, op.Apply(CpuVecMath.LoadTail(x + i, r)), r);
        }
    }

    /// <summary>z[i] = op(u[i], v[i]) for i in [0, n), 4× unrolled, masked head/tail, optional non-temporal body
    /// as in <see cref="Map{T}"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Map2<T>(T op, float* u, float* v, float* z, int n, bool nt = false) where T : struct, IVecBinary
    {
        int i = 0;
        if (nt && z != u && z != v && ((nint)z & 3) == 0 && n >= 64)
        {
            int h = (int)(((32 - ((nint)z & 31)) & 31) >> 2);
            if (h > 0) CpuVecMath.StoreTail(z, op.Apply(CpuVecMath.LoadTail(u, h), CpuVecMath.LoadTail(v, h)), h);
            i = h;
            if (!(default(T) is IHeavy))
                for (; i <= n - 32; i += 32)
                {
                    var u0 = Avx.LoadVector256(u + i);
                    var u1 = Avx.LoadVector256(u + i + 8);
                    var u2 = Avx.LoadVector256(u + i + 16);
                    var u3 = Avx.LoadVector256(u + i + 24);
                    var v0 = Avx.LoadVector256(v + i);
                    var v1 = Avx.LoadVector256(v + i + 8);
                    var v2 = Avx.LoadVector256(v + i + 16);
                    var v3 = Avx.LoadVector256(v + i + 24);
                    Avx.StoreAlignedNonTemporal(z + i, op.Apply(u0, v0));
                    Avx.StoreAlignedNonTemporal(z + i + 8, op.Apply(u1, v1));
                    Avx.StoreAlignedNonTemporal(z + i + 16, op.Apply(u2, v2));
                    Avx.StoreAlignedNonTemporal(z + i + 24, op.Apply(u3, v3));
                }
            for (; i <= n - 8; i += 8) Avx.StoreAlignedNonTemporal(z + i, op.Apply(Avx.LoadVector256(u + i), Avx.LoadVector256(v + i)));
            Sse.StoreFence();
        }
        if (!(default(T) is IHeavy))
            for (; i <= n - 32; i += 32)
            {
                var u0 = Avx.LoadVector256(u + i);
                var u1 = Avx.LoadVector256(u + i + 8);
                var u2 = Avx.LoadVector256(u + i + 16);
                var u3 = Avx.LoadVector256(u + i + 24);
                var v0 = Avx.LoadVector256(v + i);
                var v1 = Avx.LoadVector256(v + i + 8);
                var v2 = Avx.LoadVector256(v + i + 16);
                var v3 = Avx.LoadVector256(v + i + 24);
                Avx.Store(z + i, op.Apply(u0, v0));
                Avx.Store(z + i + 8, op.Apply(u1, v1));
                Avx.Store(z + i + 16, op.Apply(u2, v2));
                Avx.Store(z + i + 24, op.Apply(u3, v3));
            }
        for (; i <= n - 8; i += 8) Avx.Store(z + i, op.Apply(Avx.LoadVector256(u + i), Avx.LoadVector256(v + i)));
        if (i < n)
        {
            int r = n - i;
            CpuVecMath.StoreTail(z + i, op.Apply(CpuVecMath.LoadTail(u + i, r), CpuVecMath.LoadTail(v + i, r)), r);
        }
    }

    // ------------------------------------------------------------------ forward ops

    struct IdentityOp : IVecUnary { public Vector256<float> Apply(Vector256<float> x) => x; }
    struct NegOp : IVecUnary { public Vector256<float> Apply(Vector256<float> x) => Avx.Xor(x, Vector256.Create(-0f)); }
    struct AbsOp : IVecUnary { public Vector256<float> Apply(Vector256<float> x) => Avx.AndNot(Vector256.Create(-0f), x); }
    struct SqrtOp : IVecUnary { public Vector256<float> Apply(Vector256<float> x) => Avx.Sqrt(x); }
    struct RsqrtOp : IVecUnary { public Vector256<float> Apply(Vector256<float> x) => Avx.Divide(Vector256.Create(1f), Avx.Sqrt(x)); }
    struct SquareOp : IVecUnary { public Vector256<float> Apply(Vector256<float> x) => Avx.Multiply(x, x); }
    struct CubeOp : IVecUnary { public Vector256<float> Apply(Vector256<float> x) => Avx.Multiply(Avx.Multiply(x, x), x); }
    struct RecipOp : IVecUnary { public Vector256<float> Apply(Vector256<float> x) => Avx.Divide(Vector256.Create(1f), x); }
    struct RecipSquareOp : IVecUnary { public Vector256<float> Apply(Vector256<float> x) => Avx.Divide(Vector256.Create(1f), Avx.Multiply(x, x)); }
    /// <summary>max(0, x) with Avx.Max's NaN rule (second operand): NaN stays NaN, like torch.relu.</summary>
    struct ReluOp : IVecUnary { public Vector256<float> Apply(Vector256<float> x) => Avx.Max(Vector256<float>.Zero, x); }
    struct GeluErfOp : IVecUnary, IHeavy { public Vector256<float> Apply(Vector256<float> x) => CpuVecMath.GeluErf(x); }
    struct GeluTanhOp : IVecUnary, IHeavy { public Vector256<float> Apply(Vector256<float> x) => CpuVecMath.GeluTanh(x); }
    struct ExpOp : IVecUnary, IHeavy { public Vector256<float> Apply(Vector256<float> x) => CpuVecMath.Exp(x); }
    struct LogOp : IVecUnary, IHeavy { public Vector256<float> Apply(Vector256<float> x) => CpuVecMath.Log(x); }
    struct TanhOp : IVecUnary, IHeavy { public Vector256<float> Apply(Vector256<float> x) => CpuVecMath.Tanh(x); }
    struct SigmoidOp : IVecUnary, IHeavy { public Vector256<float> Apply(Vector256<float> x) => CpuVecMath.Sigmoid(x); }

    struct ClampOp(float a, float b) : IVecUnary
    {
        readonly Vector256<float> lo = Vector256.Create(a), hi = Vector256.Create(b);
        // min(max(x, a), b); both return their second operand on NaN, so a NaN x comes through.
        public Vector256<float> Apply(Vector256<float> x) => Avx.Min(hi, Avx.Max(lo, x));
    }

    struct MulOp(float a) : IVecUnary
    {
        readonly Vector256<float> s = Vector256.Create(a);
        public Vector256<float> Apply(Vector256<float> x) => Avx.Multiply(x, s);
    }

    /// <summary>x / a as a true division (PyTorch divides; x·(1/a) would differ in the last bit).</summary>
    struct DivOp(float a) : IVecUnary
    {
        readonly Vector256<float> s = Vector256.Create(a);
        public Vector256<float> Apply(Vector256<float> x) => Avx.Divide(x, s);
    }

    struct RDivOp(float a) : IVecUnary
    {
        readonly Vector256<float> s = Vector256.Create(a);
        public Vector256<float> Apply(Vector256<float> x) => Avx.Divide(s, x);
    }

    struct RSubOp(float a) : IVecUnary
    {
        readonly Vector256<float> s = Vector256.Create(a);
        public Vector256<float> Apply(Vector256<float> x) => Avx.Subtract(s, x);
    }

    /// <summary>a·x + b as a multiply then an add (the rounding of PyTorch's x·s + t), or x + b alone.</summary>
    struct AffineOp(float a, float b, bool mul) : IVecUnary
    {
        readonly Vector256<float> s = Vector256.Create(a), t = Vector256.Create(b);
        readonly bool m = mul;
        public Vector256<float> Apply(Vector256<float> x) => Avx.Add(m ? Avx.Multiply(s, x) : x, t);
    }

    // ------------------------------------------------------------------ backward ops: Apply(x or y, gy)

    struct AbsGrad : IVecBinary
    {
        public Vector256<float> Apply(Vector256<float> x, Vector256<float> g)
        {
            var one = Vector256.Create(1f);
            var sign = Avx.Subtract(Avx.And(Avx.CompareGreaterThan(x, Vector256<float>.Zero), one),
                Avx.And(Avx.CompareLessThan(x, Vector256<float>.Zero), one));
            return Avx.Multiply(g, sign);
        }
    }
    struct DivGrad : IVecBinary { public Vector256<float> Apply(Vector256<float> x, Vector256<float> g) => Avx.Divide(g, x); }
    struct SquareGrad : IVecBinary { public Vector256<float> Apply(Vector256<float> x, Vector256<float> g) => Avx.Multiply(g, Avx.Multiply(Vector256.Create(2f), x)); }
    struct CubeGrad : IVecBinary { public Vector256<float> Apply(Vector256<float> x, Vector256<float> g) => Avx.Multiply(g, Avx.Multiply(Vector256.Create(3f), Avx.Multiply(x, x))); }
    /// <summary>torch threshold_backward: gx = x ≤ 0 ? 0 : gy (NaN x passes gy).</summary>
    struct ReluGrad : IVecBinary { public Vector256<float> Apply(Vector256<float> x, Vector256<float> g) => Avx.AndNot(Avx.CompareLessThanOrEqual(x, Vector256<float>.Zero), g); }
    struct GeluErfGrad : IVecBinary, IHeavy { public Vector256<float> Apply(Vector256<float> x, Vector256<float> g) => Avx.Multiply(g, CpuVecMath.GeluErfGrad(x)); }
    struct GeluTanhGrad : IVecBinary, IHeavy { public Vector256<float> Apply(Vector256<float> x, Vector256<float> g) => Avx.Multiply(g, CpuVecMath.GeluTanhGrad(x)); }
    struct ExpGrad : IVecBinary { public Vector256<float> Apply(Vector256<float> y, Vector256<float> g) => Avx.Multiply(g, y); }
    struct SqrtGrad : IVecBinary { public Vector256<float> Apply(Vector256<float> y, Vector256<float> g) => Avx.Divide(g, Avx.Multiply(Vector256.Create(2f), y)); }
    struct RsqrtGrad : IVecBinary
    {
        public Vector256<float> Apply(Vector256<float> y, Vector256<float> g)
            => Avx.Multiply(Avx.Multiply(Vector256.Create(-0.5f), g), Avx.Multiply(Avx.Multiply(y, y), y));
    }
    struct SigmoidGrad : IVecBinary
    {
        public Vector256<float> Apply(Vector256<float> y, Vector256<float> g)
            => Avx.Multiply(Avx.Multiply(g, Avx.Subtract(Vector256.Create(1f), y)), y);
    }
    struct TanhGrad : IVecBinary
    {
        public Vector256<float> Apply(Vector256<float> y, Vector256<float> g)
            => Avx.Multiply(g, Avx.Subtract(Vector256.Create(1f), Avx.Multiply(y, y)));
    }
    /// <summary>torch clamp_backward: gy where a ≤ x ≤ b (ends included), else 0 (a select, NaN x gives 0).</summary>
    struct ClampGrad(float a, float b) : IVecBinary
    {
        readonly Vector256<float> lo = Vector256.Create(a), hi = Vector256.Create(b);
        public Vector256<float> Apply(Vector256<float> x, Vector256<float> g)
            => Avx.And(Avx.And(Avx.CompareGreaterThanOrEqual(x, lo), Avx.CompareLessThanOrEqual(x, hi)), g);
    }
    /// <summary>d(a/x) = −gy·a/(x·x), torch's div backward for the divisor.</summary>
    struct RDivGrad(float a) : IVecBinary
    {
        readonly Vector256<float> s = Vector256.Create(a);
        public Vector256<float> Apply(Vector256<float> x, Vector256<float> g)
            => Avx.Divide(Avx.Multiply(Avx.Xor(g, Vector256.Create(-0f)), s), Avx.Multiply(x, x));
    }

    // ------------------------------------------------------------------ argument checks

    static void CheckSameLength(int expected, int actual, string name)
    {
        if (expected != actual)
            throw new ArgumentException($"CpuUnary: {name} has length {actual}, expected {expected}.", name);
    }

    static void CheckBackwardArgs(UnaryOp op, ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> gy, Span<float> gx)
    {
        CheckSameLength(gy.Length, gx.Length, nameof(gx));
        if (BackwardNeedsInput(op) || !x.IsEmpty) CheckSameLength(gy.Length, x.Length, nameof(x));
        if (BackwardNeedsOutput(op) || !y.IsEmpty) CheckSameLength(gy.Length, y.Length, nameof(y));
    }
}
