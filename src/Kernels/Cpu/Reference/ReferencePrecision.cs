using System.Numerics;

namespace FsrNative.Kernels.Cpu.Reference;

/// <summary>
/// The definition of rounding to bfloat16, generic over the float type (the Float64 path and the test reference of
/// <see cref="CpuBf16"/>), written from the number format rather than from the bit trick: bfloat16 has float32's
/// exponent range (normals from 2^−126, subnormals down to 2^−133) and 8 significant bits, so a value x with
/// e = max(⌊log2|x|⌋, −126) has the spacing u = 2^(e−7) around it, and
/// <code>
/// bf16(x) = roundHalfEven(x / u) · u,   ±∞ when |that| ≥ 2^128 (the largest finite bfloat16 is (2 − 2^−7)·2^127);
/// ±0, ±∞ and NaN are returned as they are.
/// </code>
/// For Float64 the value is rounded once, from the double (not through float32).
/// </summary>
public static class ReferencePrecision<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    static readonly T Overflow = T.ScaleB(T.One, 128);

    public static T RoundToBFloat16(T x)
    {
        if (T.IsNaN(x) || T.IsInfinity(x) || T.IsZero(x)) return x;
        int e = Math.Max(T.ILogB(x), -126);
        T q = T.ScaleB(T.Round(T.ScaleB(x, 7 - e), MidpointRounding.ToEven), e - 7);
        if (T.Abs(q) >= Overflow) return T.IsNegative(x) ? T.NegativeInfinity : T.PositiveInfinity;
        return q;
    }

    /// <summary>y[i] = bf16(x[i]); x and y may be the same memory.</summary>
    public static void RoundToBFloat16(ReadOnlySpan<T> x, Span<T> y)
    {
        for (int i = 0; i < x.Length; i++) y[i] = RoundToBFloat16(x[i]);
    }
}
