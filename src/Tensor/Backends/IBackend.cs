using FsrNative.Kernels;

namespace FsrNative;

/// <summary>
/// The narrow interface every backend implements (CPU SIMD, ILGPU on CUDA or on its CPU accelerator). The op
/// layer (Autograd assembly) turns every public op into calls of these primitives; a backend never sees autograd.
/// Conventions:
/// <list type="bullet">
/// <item>Outputs are preallocated by the caller, contiguous unless a parameter says otherwise, on this device.</item>
/// <item>Inputs of elementwise primitives may have any strides, already broadcast to the output's shape (stride 0
/// along broadcast dimensions). Other primitives take contiguous inputs and read them as
/// (outer, r, inner) blocks: the op layer decides where a copy is needed, never the backend silently.</item>
/// <item>Int32 tensors (indices) and Float32 tensors share 4-byte storage; copy and fill work on words.</item>
/// <item>Each primitive validates what the op layer cannot (e.g. index ranges) and throws naming the op.</item>
/// </list>
/// </summary>
public partial interface IBackend
{
    Device Device { get; }

    /// <summary>Uninitialised storage for <paramref name="length"/> 4-byte elements, from the caching allocator.</summary>
    Storage Allocate(int length);

    /// <summary>The caching allocator's counters (bytes of capacity in use, their peak, cached bytes, hits, misses).</summary>
    MemoryStats MemoryStats { get; }

    /// <summary>Restarts <see cref="MemoryStats"/>'s peak from the bytes in use now.</summary>
    void ResetPeakMemoryStats();

    /// <summary>Waits for all queued work. A sync point: callers name why they need it.</summary>
    void Synchronize();

    // ---- transfers (logical row-major order) -----------------------------------------------------------------
    /// <summary>Host → device; <paramref name="dst"/> contiguous, host.Length == dst.NumEl.</summary>
    void Upload(ReadOnlySpan<float> host, Tensor dst);
    /// <summary>Device → host of a tensor of any layout; synchronises.</summary>
    void Download(Tensor src, Span<float> host);

    // ---- data movement ---------------------------------------------------------------------------------------
    /// <summary>Sets every element of <paramref name="dst"/> (any layout) to the word <paramref name="value"/>
    /// (for Int32 tensors pass the integer's bits, <c>BitConverter.Int32BitsToSingle</c>).</summary>
    void Fill(Tensor dst, float value);
    /// <summary>Copies words from <paramref name="src"/> to <paramref name="dst"/>: same shape, any layouts.</summary>
    void Copy(Tensor src, Tensor dst);
    /// <summary>Converts Float32 ↔ Int32 (truncation toward zero, as PyTorch's <c>.to(int)</c>); dst contiguous.</summary>
    void Cast(Tensor src, Tensor dst);

    // ---- elementwise -----------------------------------------------------------------------------------------
    void Unary(UnaryOp op, Tensor x, Tensor y, float a, float b);
    /// <summary>gx = gy · f′(x) where y = f(x); all four contiguous, same shape.</summary>
    void UnaryBackward(UnaryOp op, Tensor x, Tensor y, Tensor gy, Tensor gx, float a, float b);
    void Binary(BinaryOp op, Tensor a, Tensor b, Tensor y);
    /// <summary>y = cond ≠ 0 ? a : b, inputs broadcast to y's shape by strides.</summary>
    void Where(Tensor cond, Tensor a, Tensor b, Tensor y);

    // ---- reductions over the middle axis of a contiguous (outer, r, inner) block → (outer, inner) -------------
    void Reduce(ReduceOp op, Tensor x, int outer, int r, int inner, Tensor y);
    /// <summary>Extreme values and the first index reaching them (NaN counts as the maximum, as in PyTorch).</summary>
    void ArgReduce(bool max, Tensor x, int outer, int r, int inner, Tensor values, Tensor indices);
    /// <summary>Variance with Bessel-style <paramref name="correction"/> (1 = unbiased) and the mean.</summary>
    void Variance(Tensor x, int outer, int r, int inner, float correction, Tensor variance, Tensor mean);

    // ---- linear algebra --------------------------------------------------------------------------------------
    void Matmul(in MatmulArgs args);

    // ---- normalisation (contiguous) --------------------------------------------------------------------------
    void Softmax(Tensor x, Tensor y, int outer, int l, int inner, bool log);
    void SoftmaxBackward(Tensor y, Tensor gy, Tensor gx, int outer, int l, int inner, bool log);
    /// <summary>Layer norm over the last axis of (rows, c); gamma/beta null for no affine; saves mean and rstd (rows).</summary>
    void LayerNorm(Tensor x, Tensor? gamma, Tensor? beta, Tensor y, Tensor mean, Tensor rstd, int rows, int c, float eps);
    /// <summary>Writes gx; and gGamma/gBeta (c) when not null.</summary>
    void LayerNormBackward(Tensor x, Tensor? gamma, Tensor mean, Tensor rstd, Tensor gy, Tensor gx, Tensor? gGamma, Tensor? gBeta, int rows, int c);

    // ---- indexing (contiguous; index tensors are Int32) -------------------------------------------------------
    /// <summary>dst(outer, k, inner) = src(outer, index[j], inner) for src (outer, n, inner).</summary>
    void IndexSelect(Tensor src, Tensor index, Tensor dst, int outer, int n, int inner);
    /// <summary>dst(outer, index[j], inner) += src(outer, j, inner); dst is (outer, n, inner). Deterministic order.</summary>
    void IndexAdd(Tensor dst, Tensor index, Tensor src, int outer, int n, int inner);
    /// <summary>dst(o, j, i) = src(o, index(o, j, i), i): src (outer, n, inner), index and dst (outer, k, inner).</summary>
    void Gather(Tensor src, Tensor index, Tensor dst, int outer, int n, int k, int inner);
    /// <summary>dst(o, index(o, j, i), i) += src(o, j, i): dst (outer, n, inner), index and src (outer, k, inner). Deterministic.</summary>
    void ScatterAdd(Tensor dst, Tensor index, Tensor src, int outer, int n, int k, int inner);
    /// <summary>dst(…, c) = index(…) == c ? 1 : 0 for c in [0, classes).</summary>
    void OneHot(Tensor index, Tensor dst, int classes);

    // ---- random (Philox4x32-10; identical bits on every backend) ----------------------------------------------
    void RandomUniform(Tensor dst, ulong seed, ulong stream, float low, float high);
    void RandomNormal(Tensor dst, ulong seed, ulong stream, float mean, float std);
}

/// <summary>
/// A batched matrix product C = alpha·op(A)·op(B) + beta·C over a batch of any rank. C is contiguous
/// (batch…, M, N). Element (b…, m, k) of op(A) is at A.Offset + Σ bᵢ·BatchStridesA[i] + (TransA ? k·Lda + m : m·Lda + k);
/// likewise B with (k, n). Batch strides may be 0 (broadcast). Beta is 0 (overwrite: C is never read) or 1 (accumulate).
/// </summary>
public readonly record struct MatmulArgs(
    Tensor A, Tensor B, Tensor C,
    int[] BatchShape, int[] BatchStridesA, int[] BatchStridesB,
    int M, int N, int K,
    bool TransA, int Lda, bool TransB, int Ldb,
    float Alpha = 1f, float Beta = 0f)
{
    public int BatchCount => Shape.NumEl(BatchShape);
}
