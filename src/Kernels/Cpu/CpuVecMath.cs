using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FsrNative.Kernels.Cpu;

/// <summary>
/// Vector256 (AVX2 + FMA) transcendental functions for fused CPU kernels (softmax, GELU, GEMM epilogues).
/// Callers check <see cref="IsSupported"/> and otherwise use <see cref="ScalarMath"/>.
/// <para>Accuracy (measured in the tests against double precision): <see cref="Exp"/> ≤ 1 ulp, <see cref="Erf"/> ≤ 1.2 ulp
/// and ≤ 7e-8 absolute, <see cref="GeluErf"/> ≤ 2e-7 relative where |GELU| is not tiny, <see cref="Tanh"/> ≤ 1e-7
/// absolute and ≤ 2 ulp, <see cref="Log"/> ≤ 1.5 ulp (all measured in the tests).</para>
/// </summary>
public static class CpuVecMath
{
    /// <summary>True when the Vector256 paths run (AVX2 and FMA); the kernels fall back to scalar code otherwise.</summary>
    public static bool IsSupported => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>e^x per lane. Cody–Waite reduction x = n·ln2 + r, |r| ≤ ln2/2, degree-7 Taylor/minimax polynomial
    /// (Cephes expf coefficients), scaled by 2^n in two steps so that results are right down through the subnormals
    /// and overflow to +∞; −∞ → 0, NaN → NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        // Avx.Max/Min return their second operand when either is NaN: this order keeps NaN.
        x = Avx.Min(Vector256.Create(88.8f), Avx.Max(Vector256.Create(-104f), x));
        var n = Avx.RoundToNearestInteger(Avx.Multiply(x, Vector256.Create(1.44269504088896341f)));
        var r = Fma.MultiplyAddNegated(n, Vector256.Create(0.693359375f), x);
        r = Fma.MultiplyAddNegated(n, Vector256.Create(-2.12194440e-4f), r);
        var p = Vector256.Create(1.9875691500E-4f);
        p = Fma.MultiplyAdd(p, r, Vector256.Create(1.3981999507E-3f));
        p = Fma.MultiplyAdd(p, r, Vector256.Create(8.3334519073E-3f));
        p = Fma.MultiplyAdd(p, r, Vector256.Create(4.1665795894E-2f));
        p = Fma.MultiplyAdd(p, r, Vector256.Create(1.6666665459E-1f));
        p = Fma.MultiplyAdd(p, r, Vector256.Create(5.0000001201E-1f));
        p = Fma.MultiplyAdd(p, Avx.Multiply(r, r), r);
        p = Avx.Add(p, Vector256.Create(1f));
        var ni = Avx.ConvertToVector256Int32(n);
        var n1 = Avx2.ShiftRightArithmetic(ni, 1);
        var n2 = Avx2.Subtract(ni, n1);
        var bias = Vector256.Create(127);
        var s1 = Avx2.ShiftLeftLogical(Avx2.Add(n1, bias), 23).AsSingle();
        var s2 = Avx2.ShiftLeftLogical(Avx2.Add(n2, bias), 23).AsSingle();
        return Avx.Multiply(Avx.Multiply(p, s1), s2);
    }

    /// <summary>e^x for x ≤ 0 or NaN only (softmax after subtracting the max): no overflow handling, results below
    /// e^−87.3 flush to 0. Same polynomial as <see cref="Exp"/>, so equal results where both apply and no subnormals.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ExpNonPositive(Vector256<float> x)
    {
        var lo = Vector256.Create(-87.33654f);
        var under = Avx.CompareLessThan(x, lo); // false for NaN
        x = Avx.Max(lo, x);                     // NaN kept (second operand)
        var n = Avx.RoundToNearestInteger(Avx.Multiply(x, Vector256.Create(1.44269504088896341f)));
        var r = Fma.MultiplyAddNegated(n, Vector256.Create(0.693359375f), x);
        r = Fma.MultiplyAddNegated(n, Vector256.Create(-2.12194440e-4f), r);
        var p = Vector256.Create(1.9875691500E-4f);
        p = Fma.MultiplyAdd(p, r, Vector256.Create(1.3981999507E-3f));
        p = Fma.MultiplyAdd(p, r, Vector256.Create(8.3334519073E-3f));
        p = Fma.MultiplyAdd(p, r, Vector256.Create(4.1665795894E-2f));
        p = Fma.MultiplyAdd(p, r, Vector256.Create(1.6666665459E-1f));
        p = Fma.MultiplyAdd(p, r, Vector256.Create(5.0000001201E-1f));
        p = Fma.MultiplyAdd(p, Avx.Multiply(r, r), r);
        p = Avx.Add(p, Vector256.Create(1f));
        // n in [-126, 0]: 2^n is a normal float (for NaN the garbage scale meets p = NaN).
        var s = Avx2.ShiftLeftLogical(Avx2.Add(Avx.ConvertToVector256Int32(n), Vector256.Create(127)), 23).AsSingle();
        return Avx.AndNot(under, Avx.Multiply(p, s));
    }

    /// <summary>erf per lane, the same approximation as <see cref="ScalarMath.Erf"/> (both branches evaluated and blended).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Erf(Vector256<float> x)
    {
        var signMask = Vector256.Create(-0f);
        var t = Avx.AndNot(signMask, x);
        var s = Avx.Multiply(x, x);
        var p = Vector256.Create(ScalarMath.ErfP5);
        p = Fma.MultiplyAdd(p, s, Vector256.Create(ScalarMath.ErfP4));
        p = Fma.MultiplyAdd(p, s, Vector256.Create(ScalarMath.ErfP3));
        p = Fma.MultiplyAdd(p, s, Vector256.Create(ScalarMath.ErfP2));
        p = Fma.MultiplyAdd(p, s, Vector256.Create(ScalarMath.ErfP1));
        p = Fma.MultiplyAdd(p, s, Vector256.Create(ScalarMath.ErfP0));
        var small = Fma.MultiplyAdd(p, x, x);

        var tc = Avx.Min(Vector256.Create(4f), t); // NaN kept; beyond 4 the result rounds to 1
        var q = Vector256.Create(ScalarMath.ErfR6);
        q = Fma.MultiplyAdd(q, tc, Vector256.Create(ScalarMath.ErfR5));
        q = Fma.MultiplyAdd(q, tc, Vector256.Create(ScalarMath.ErfR4));
        q = Fma.MultiplyAdd(q, tc, Vector256.Create(ScalarMath.ErfR3));
        q = Fma.MultiplyAdd(q, tc, Vector256.Create(ScalarMath.ErfR2));
        q = Fma.MultiplyAdd(q, tc, Vector256.Create(ScalarMath.ErfR1));
        q = Fma.MultiplyAdd(q, tc, Vector256.Create(ScalarMath.ErfR0));
        q = Fma.MultiplySubtract(q, tc, tc); // q·t − t, one rounding as in the scalar fma(r, t, −t)
        var large = Avx.Subtract(Vector256.Create(1f), ExpNonPositive(q));
        large = Avx.Or(large, Avx.And(signMask, x));
        var useLarge = Avx.CompareGreaterThan(t, Vector256.Create(ScalarMath.ErfSplit));
        return Avx.BlendVariable(small, large, useLarge);
    }

    /// <summary>Exact GELU ½x(1 + erf(x/√2)) per lane, as <see cref="ScalarMath.GeluErf"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> GeluErf(Vector256<float> x)
    {
        var h = Avx.Multiply(Vector256.Create(0.5f), x);
        return Fma.MultiplyAdd(h, Erf(Avx.Multiply(x, Vector256.Create(ScalarMath.Sqrt1_2))), h);
    }

    /// <summary>d/dx exact GELU per lane: Φ(x) + x·φ(x), as <see cref="ScalarMath.GeluErfGrad"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> GeluErfGrad(Vector256<float> x)
    {
        var cdf = Avx.Multiply(Vector256.Create(0.5f), Avx.Add(Vector256.Create(1f), Erf(Avx.Multiply(x, Vector256.Create(ScalarMath.Sqrt1_2)))));
        var pdf = Avx.Multiply(Vector256.Create(ScalarMath.InvSqrt2Pi),
            ExpNonPositive(Avx.Multiply(Avx.Multiply(Vector256.Create(-0.5f), x), x)));
        return Fma.MultiplyAdd(x, pdf, cdf);
    }

    /// <summary>1/(1+e^−x) per lane, as <see cref="ScalarMath.Sigmoid"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Sigmoid(Vector256<float> x)
        => Avx.Divide(Vector256.Create(1f), Avx.Add(Vector256.Create(1f), Exp(Avx.Xor(x, Vector256.Create(-0f)))));

    /// <summary>tanh per lane, ≤ 2 ulp: for |x| ≤ 0.625 x + x³·Q(x²) (Q of degree 5, minimax fitted for this project,
    /// relative fit error 1.6e-10), beyond sign(x)·(1 − 2/(e^{2|x|}+1)). tanh(±0) = ±0, ±∞ → ±1, NaN → NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Tanh(Vector256<float> x)
    {
        var signMask = Vector256.Create(-0f);
        var t = Avx.AndNot(signMask, x);
        var s = Avx.Multiply(x, x);
        var q = Vector256.Create(0.0021429602f);
        q = Fma.MultiplyAdd(q, s, Vector256.Create(-0.008177397f));
        q = Fma.MultiplyAdd(q, s, Vector256.Create(0.021700703f));
        q = Fma.MultiplyAdd(q, s, Vector256.Create(-0.053946763f));
        q = Fma.MultiplyAdd(q, s, Vector256.Create(0.13333206f));
        q = Fma.MultiplyAdd(q, s, Vector256.Create(-0.3333333f));
        var small = Fma.MultiplyAdd(Avx.Multiply(x, s), q, x);
        var e = Exp(Avx.Add(t, t));
        var large = Avx.Subtract(Vector256.Create(1f), Avx.Divide(Vector256.Create(2f), Avx.Add(e, Vector256.Create(1f))));
        var r = Avx.BlendVariable(small, large, Avx.CompareGreaterThan(t, Vector256.Create(0.625f)));
        return Avx.Or(Avx.AndNot(signMask, r), Avx.And(signMask, x)); // tanh has the sign of x (also for ±0)
    }

    /// <summary>Natural log per lane, ≤ 1.5 ulp: x = m·2^e with m in [√½, √2), log = e·ln2 + log1p(m − 1) by the
    /// Cephes logf polynomial; subnormals rescaled first. log(0) = −∞, log(x &lt; 0) = NaN, log(+∞) = +∞, NaN → NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Log(Vector256<float> x)
    {
        var one = Vector256.Create(1f);
        var sub = Avx.CompareLessThan(x, Vector256.Create(1.17549435e-38f)); // subnormal, zero, negative
        var xs = Avx.BlendVariable(x, Avx.Multiply(x, Vector256.Create(8388608f)), sub); // ·2^23
        var bits = xs.AsInt32();
        var e = Avx2.Subtract(Avx2.ShiftRightLogical(bits, 23), Vector256.Create(126));
        var m = Avx.Or(Avx.And(xs, Vector256.Create(0x007FFFFF).AsSingle()), Vector256.Create(0.5f)); // [0.5, 1)
        var ef = Avx.Subtract(Avx.ConvertToVector256Single(e), Avx.And(sub, Vector256.Create(23f)));
        var lt = Avx.CompareLessThan(m, Vector256.Create(0.707106781186547524f));
        var tmp = Avx.And(m, lt);
        m = Avx.Subtract(m, one);
        ef = Avx.Subtract(ef, Avx.And(one, lt));
        m = Avx.Add(m, tmp); // m − 1 in [√½ − 1, √2 − 1)
        var z = Avx.Multiply(m, m);
        var y = Vector256.Create(7.0376836292E-2f);
        y = Fma.MultiplyAdd(y, m, Vector256.Create(-1.1514610310E-1f));
        y = Fma.MultiplyAdd(y, m, Vector256.Create(1.1676998740E-1f));
        y = Fma.MultiplyAdd(y, m, Vector256.Create(-1.2420140846E-1f));
        y = Fma.MultiplyAdd(y, m, Vector256.Create(1.4249322787E-1f));
        y = Fma.MultiplyAdd(y, m, Vector256.Create(-1.6668057665E-1f));
        y = Fma.MultiplyAdd(y, m, Vector256.Create(2.0000714765E-1f));
        y = Fma.MultiplyAdd(y, m, Vector256.Create(-2.4999993993E-1f));
        y = Fma.MultiplyAdd(y, m, Vector256.Create(3.3333331174E-1f));
        y = Avx.Multiply(Avx.Multiply(y, m), z);
        y = Fma.MultiplyAdd(ef, Vector256.Create(-2.12194440e-4f), y);
        y = Fma.MultiplyAddNegated(z, Vector256.Create(0.5f), y);
        var r = Fma.MultiplyAdd(ef, Vector256.Create(0.693359375f), Avx.Add(m, y));
        // special values
        r = Avx.BlendVariable(r, Vector256.Create(float.NegativeInfinity), Avx.CompareEqual(x, Vector256<float>.Zero));
        r = Avx.BlendVariable(r, Vector256.Create(float.NaN), Avx.CompareNotGreaterThanOrEqual(x, Vector256<float>.Zero)); // x < 0 or NaN
        return Avx.BlendVariable(r, x, Avx.CompareEqual(x, Vector256.Create(float.PositiveInfinity)));
    }

    /// <summary>tanh-GELU per lane, x·σ(2u), as <see cref="ScalarMath.GeluTanh"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> GeluTanh(Vector256<float> x)
    {
        var kx2 = Avx.Multiply(Avx.Multiply(Vector256.Create(ScalarMath.GeluKappa), x), x);
        var u = Avx.Multiply(Vector256.Create(ScalarMath.Sqrt2OverPi), Fma.MultiplyAdd(kx2, x, x));
        var e = Exp(Avx.Multiply(Vector256.Create(-2f), u));
        return Avx.Divide(x, Avx.Add(Vector256.Create(1f), e));
    }

    /// <summary>d/dx tanh-GELU per lane, PyTorch's formula as in <see cref="ScalarMath.GeluTanhGrad"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> GeluTanhGrad(Vector256<float> x)
    {
        var x2 = Avx.Multiply(x, x);
        var inner = Avx.Multiply(Vector256.Create(ScalarMath.Sqrt2OverPi),
            Fma.MultiplyAdd(Avx.Multiply(Vector256.Create(ScalarMath.GeluKappa), x2), x, x));
        var th = Tanh(inner);
        var one = Vector256.Create(1f);
        var half = Vector256.Create(0.5f);
        var left = Avx.Multiply(half, x);
        var leftDerivative = Avx.Multiply(half, Avx.Add(one, th));
        var innerDerivative = Avx.Multiply(Vector256.Create(ScalarMath.Sqrt2OverPi),
            Fma.MultiplyAdd(Vector256.Create(3f * ScalarMath.GeluKappa), x2, one));
        var rightDerivative = Avx.Multiply(Avx.Multiply(left, Fma.MultiplyAddNegated(th, th, one)), innerDerivative);
        return Avx.Add(leftDerivative, rightDerivative);
    }

    /// <summary>Mask with the first <paramref name="n"/> lanes set (0 ≤ n ≤ 8), for Avx.MaskLoad/MaskStore tails.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> TailMask(int n)
        => Avx2.CompareGreaterThan(Vector256.Create(n), Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7)).AsSingle();

    /// <summary>Loads lanes [0, n) from p (the rest are 0) without touching memory past p + n.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector256<float> LoadTail(float* p, int n) => Avx.MaskLoad(p, TailMask(n));

    /// <summary>Stores lanes [0, n) of v to p without touching memory past p + n.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void StoreTail(float* p, Vector256<float> v, int n) => Avx.MaskStore(p, TailMask(n), v);

    /// <summary>Sum of the 8 lanes in a fixed tree order ((0+4)+(2+6))+((1+5)+(3+7)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float HorizontalSum(Vector256<float> v)
    {
        var s = Sse.Add(v.GetLower(), v.GetUpper());
        s = Sse.Add(s, Sse.MoveHighToLow(s, s));
        s = Sse.AddScalar(s, Sse.Shuffle(s, s, 0x55));
        return s.ToScalar();
    }

    /// <summary>Max of the 8 lanes (NaN handling is the caller's: Avx max semantics).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float HorizontalMax(Vector256<float> v)
    {
        var s = Sse.Max(v.GetLower(), v.GetUpper());
        s = Sse.Max(s, Sse.MoveHighToLow(s, s));
        s = Sse.MaxScalar(s, Sse.Shuffle(s, s, 0x55));
        return s.ToScalar();
    }

    /// <summary>Min of the 8 lanes (NaN handling is the caller's).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float HorizontalMin(Vector256<float> v)
    {
        var s = Sse.Min(v.GetLower(), v.GetUpper());
        s = Sse.Min(s, Sse.MoveHighToLow(s, s));
        s = Sse.MinScalar(s, Sse.Shuffle(s, s, 0x55));
        return s.ToScalar();
    }
}

/// <summary>Run-time knobs of the CPU kernels. None changes a result: only speed.</summary>
public static class CpuKernelSettings
{
    /// <summary>
    /// Outputs at least this many bytes (whole call) that do not alias an input are written with non-temporal
    /// (streaming) stores after a masked head that aligns them to 32 bytes: they skip the read for ownership of
    /// every output line, and softmax then keeps each row's exps in an L1 scratch buffer. Off by default
    /// (long.MaxValue): measured on the 2-core EPYC dev machine (Zen 4 VM, 32 MB L3) it gave no gain for add and
    /// GELU over 64–77 MB and cost softmax over 236 MB about 15%, while it evicts outputs that the next op would
    /// have found in cache. FSRNATIVE_CPU_STREAMING_MIN_BYTES sets the initial value. Results are bitwise the same
    /// either way (the tests check that).
    /// </summary>
    public static long StreamingStoreMinBytes { get; set; } =
        long.TryParse(Environment.GetEnvironmentVariable("FSRNATIVE_CPU_STREAMING_MIN_BYTES"), out long v) && v > 0 ? v : long.MaxValue;

    /// <summary>
    /// Below this much work (elements, weighted ×3–4 for transcendental ops and multi-pass rows; about 50–100 µs on
    /// one core) a kernel runs on the calling thread. Measured on 2 cores: a (64, 768) layer_norm took 39 µs alone
    /// and no less split in two. Splits that change rounding depend on the shape only, so this never changes a result.
    /// </summary>
    public static long ParallelMinWork { get; set; } = 1 << 18;
}

/// <summary>
/// How the CPU kernels split work over cores. Every split that changes a result's rounding (a reduction's partial
/// sums) is a function of the shape alone, never of the core count, so results are the same on every machine.
/// </summary>
internal static class CpuParallel
{
    /// <summary>See <see cref="CpuKernelSettings.ParallelMinWork"/>.</summary>
    public static long MinParallelWork => CpuKernelSettings.ParallelMinWork;

    /// <summary>Cores the kernels use: Environment.ProcessorCount, or FSRNATIVE_CPU_THREADS when set (1 = never split).</summary>
    public static readonly int Workers =
        int.TryParse(Environment.GetEnvironmentVariable("FSRNATIVE_CPU_THREADS"), out int t) && t > 0 ? t : Environment.ProcessorCount;

    /// <summary>Runs body(start, end) over [0, n) split into chunks that are multiples of <paramref name="align"/>
    /// (except the last), in parallel when n·workPerItem ≥ <see cref="MinParallelWork"/> and more than one core exists.</summary>
    public static void For(long n, long workPerItem, int align, Action<long, long> body)
    {
        int workers = Workers;
        if (n <= 0) return;
        if (workers <= 1 || n * workPerItem < MinParallelWork || n < 2 * align)
        {
            body(0, n);
            return;
        }
        // About 4 chunks per core (dynamic balancing), none smaller than half the threshold's worth of work.
        long minChunk = Math.Max(align, MinParallelWork / 2 / Math.Max(1, workPerItem));
        long chunks = Math.Clamp(n / minChunk, 1, 4L * workers);
        if (chunks <= 1)
        {
            body(0, n);
            return;
        }
        long size = (n + chunks - 1) / chunks;
        size = (size + align - 1) / align * align;
        chunks = (n + size - 1) / size;
        Action<long> chunk = i =>
        {
            long s = i * size;
            body(s, Math.Min(n, s + size));
        };
        if (!CpuWorkerPool.TryRun(chunks, chunk))
            Parallel.For(0, chunks, chunk); // the pool is busy (nested or concurrent call): the thread pool takes it
    }
}

/// <summary>
/// Persistent worker threads for <see cref="CpuParallel.For"/>: Workers − 1 background threads that spin about
/// 100 µs after a job (so back-to-back kernels find them awake) and then block. The caller works on the chunks too
/// and returns when all are done. Measured on the 2-core dev machine: Parallel.For cost about 18 µs per call
/// even with an empty body and woke its worker late under load; a kernel's per-call overhead here is a few µs.
/// One job at a time: a nested or concurrent call gets false and uses Parallel.For instead.
/// </summary>
internal static class CpuWorkerPool
{
    sealed class Job(Action<long> body, long chunks)
    {
        public readonly Action<long> Body = body;
        public readonly long Chunks = chunks;
        public long Next;
        public long Done;
        public Exception? Error;
    }

    static readonly int threadCount = CpuParallel.Workers - 1;
    static readonly long spinTicks = System.Diagnostics.Stopwatch.Frequency / 10_000; // 100 µs
    static readonly SemaphoreSlim wake = new(0);
    static readonly object startLock = new();
    static bool started;
    static Job? current;
    static int sequence;
    static int sleepers;
    static int busy;

    public static bool TryRun(long chunks, Action<long> body)
    {
        if (threadCount <= 0 || Interlocked.CompareExchange(ref busy, 1, 0) != 0) return false;
        try
        {
            if (!started) Start();
            var job = new Job(body, chunks);
            Volatile.Write(ref current, job);
            Interlocked.Increment(ref sequence); // publishes the job (full fence)
            int sleeping = Volatile.Read(ref sleepers);
            if (sleeping > 0) wake.Release(sleeping);
            Work(job);
            var spin = new SpinWait();
            while (Volatile.Read(ref job.Done) < chunks) spin.SpinOnce(-1);
            Volatile.Write(ref current, null);
            if (job.Error != null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(job.Error);
            return true;
        }
        finally
        {
            Volatile.Write(ref busy, 0);
        }
    }

    static void Work(Job job)
    {
        long i;
        while ((i = Interlocked.Increment(ref job.Next) - 1) < job.Chunks)
        {
            try { job.Body(i); }
            catch (Exception e) { Interlocked.CompareExchange(ref job.Error, e, null); }
            Interlocked.Increment(ref job.Done);
        }
    }

    static void Start()
    {
        lock (startLock)
        {
            if (started) return;
            for (int k = 0; k < threadCount; k++)
                new Thread(WorkerLoop) { IsBackground = true, Name = $"FsrNative CPU kernel worker {k + 1}" }.Start();
            started = true;
        }
    }

    static void WorkerLoop()
    {
        int seen = Volatile.Read(ref sequence);
        while (true)
        {
            long spinUntil = System.Diagnostics.Stopwatch.GetTimestamp() + spinTicks;
            while (Volatile.Read(ref sequence) == seen)
            {
                if (System.Diagnostics.Stopwatch.GetTimestamp() < spinUntil)
                {
                    Thread.SpinWait(16);
                    continue;
                }
                // Dekker-style handshake with TryRun: announce sleeping, then re-check before blocking. A Release
                // meant for a worker that did not block only causes one spurious wake-up later.
                Interlocked.Increment(ref sleepers);
                if (Volatile.Read(ref sequence) == seen) wake.Wait();
                Interlocked.Decrement(ref sleepers);
                spinUntil = System.Diagnostics.Stopwatch.GetTimestamp() + spinTicks;
            }
            seen = Volatile.Read(ref sequence);
            var job = Volatile.Read(ref current);
            if (job != null) Work(job); // a stale job has no chunks left: Work returns at once
        }
    }
}
