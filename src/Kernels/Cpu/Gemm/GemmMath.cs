using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FsrNative.Kernels.Cpu;

/// <summary>
/// The scalar and Vector256 math the GEMM epilogue needs: erf, exp, GELU (erf and tanh forms).
/// erf is N. Juffa's minimax erff (two branches, split at |x| = 0.9277): max abs error 5.7e-8, max rel error 8.6e-8
/// (≈1 ulp) in float over [-6, 6], measured against a double erf; better than Abramowitz–Stegun 7.1.26 (1.5e-7).
/// The scalar and the vector forms run the same operations in the same order, so they agree to within the exp's last ulp.
/// </summary>
internal static class GemmMath
{
    private const float ErfSplit = 0.927734375f; // 475/512
    private const float InvSqrt2 = 0.70710678118654752f;
    private const float SqrtTwoOverPi = 0.79788456080286536f;
    private const float GeluTanhCubic = 0.044715f;

    /// <summary>erf(x) in float, max abs error ≈ 6e-8.</summary>
    public static float Erf(float a)
    {
        float t = MathF.Abs(a);
        float s = a * a;
        float r;
        if (t > ErfSplit)
        {
            r = MathF.FusedMultiplyAdd(-1.72853470e-5f, t, 3.83197126e-4f);
            float u = MathF.FusedMultiplyAdd(-3.88396438e-3f, t, 2.42546219e-2f);
            r = MathF.FusedMultiplyAdd(r, s, u);
            r = MathF.FusedMultiplyAdd(r, t, -1.06777877e-1f);
            r = MathF.FusedMultiplyAdd(r, t, -6.34846687e-1f);
            r = MathF.FusedMultiplyAdd(r, t, -1.28717512e-1f);
            r = MathF.FusedMultiplyAdd(r, t, -t);
            r = 1.0f - Exp(r);
            r = MathF.CopySign(r, a);
        }
        else
        {
            r = -5.96761703e-4f;
            r = MathF.FusedMultiplyAdd(r, s, 4.99119423e-3f);
            r = MathF.FusedMultiplyAdd(r, s, -2.67681349e-2f);
            r = MathF.FusedMultiplyAdd(r, s, 1.12819925e-1f);
            r = MathF.FusedMultiplyAdd(r, s, -3.76125336e-1f);
            r = MathF.FusedMultiplyAdd(r, s, 1.28379166e-1f);
            r = MathF.FusedMultiplyAdd(r, a, a);
        }
        return r;
    }

    /// <summary>exp(x) in float (Cephes expf polynomial), same algorithm as <see cref="Exp(Vector256{float})"/>.</summary>
    public static float Exp(float x)
    {
        x = Math.Clamp(x, -87.3f, 88.0f);
        float fx = MathF.Round(x * 1.44269504088896341f, MidpointRounding.ToEven);
        x = MathF.FusedMultiplyAdd(fx, -0.693359375f, x);
        x = MathF.FusedMultiplyAdd(fx, 2.12194440e-4f, x);
        float y = 1.9875691500e-4f;
        y = MathF.FusedMultiplyAdd(y, x, 1.3981999507e-3f);
        y = MathF.FusedMultiplyAdd(y, x, 8.3334519073e-3f);
        y = MathF.FusedMultiplyAdd(y, x, 4.1665795894e-2f);
        y = MathF.FusedMultiplyAdd(y, x, 1.6666665459e-1f);
        y = MathF.FusedMultiplyAdd(y, x, 5.0000001201e-1f);
        y = MathF.FusedMultiplyAdd(y, x * x, x) + 1.0f;
        return y * BitConverter.Int32BitsToSingle(((int)fx + 127) << 23);
    }

    /// <summary>GELU with the exact erf: 0.5x(1+erf(x/√2)).</summary>
    public static float GeluErf(float x) => 0.5f * x * (1.0f + Erf(x * InvSqrt2));

    /// <summary>GELU, tanh form, written as x·sigmoid(2u) = x / (1 + exp(−2u)), u = √(2/π)(x+0.044715x³).</summary>
    public static float GeluTanh(float x)
    {
        float u = SqrtTwoOverPi * MathF.FusedMultiplyAdd(GeluTanhCubic * x, x * x, x);
        return x / (1.0f + Exp(-2.0f * u));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        x = Avx.Min(Avx.Max(x, Vector256.Create(-87.3f)), Vector256.Create(88.0f));
        var fx = Avx.RoundToNearestInteger(Avx.Multiply(x, Vector256.Create(1.44269504088896341f)));
        x = Fma.MultiplyAdd(fx, Vector256.Create(-0.693359375f), x);
        x = Fma.MultiplyAdd(fx, Vector256.Create(2.12194440e-4f), x);
        var y = Vector256.Create(1.9875691500e-4f);
        y = Fma.MultiplyAdd(y, x, Vector256.Create(1.3981999507e-3f));
        y = Fma.MultiplyAdd(y, x, Vector256.Create(8.3334519073e-3f));
        y = Fma.MultiplyAdd(y, x, Vector256.Create(4.1665795894e-2f));
        y = Fma.MultiplyAdd(y, x, Vector256.Create(1.6666665459e-1f));
        y = Fma.MultiplyAdd(y, x, Vector256.Create(5.0000001201e-1f));
        y = Avx.Add(Fma.MultiplyAdd(y, Avx.Multiply(x, x), x), Vector256.Create(1.0f));
        var pow2n = Avx2.ShiftLeftLogical(Avx2.Add(Avx.ConvertToVector256Int32(fx), Vector256.Create(127)), 23).AsSingle();
        return Avx.Multiply(y, pow2n);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Erf(Vector256<float> a)
    {
        var signMask = Vector256.Create(-0.0f);
        var t = Avx.AndNot(signMask, a);
        var s = Avx.Multiply(a, a);
        // |x| > split branch
        var r = Fma.MultiplyAdd(Vector256.Create(-1.72853470e-5f), t, Vector256.Create(3.83197126e-4f));
        var u = Fma.MultiplyAdd(Vector256.Create(-3.88396438e-3f), t, Vector256.Create(2.42546219e-2f));
        r = Fma.MultiplyAdd(r, s, u);
        r = Fma.MultiplyAdd(r, t, Vector256.Create(-1.06777877e-1f));
        r = Fma.MultiplyAdd(r, t, Vector256.Create(-6.34846687e-1f));
        r = Fma.MultiplyAdd(r, t, Vector256.Create(-1.28717512e-1f));
        r = Fma.MultiplyAdd(r, t, Avx.Subtract(Vector256<float>.Zero, t));
        r = Avx.Subtract(Vector256.Create(1.0f), Exp(r));
        r = Avx.Or(r, Avx.And(signMask, a)); // r ≥ 0 here, so OR-ing the sign is copysign
        // |x| ≤ split branch
        var p = Vector256.Create(-5.96761703e-4f);
        p = Fma.MultiplyAdd(p, s, Vector256.Create(4.99119423e-3f));
        p = Fma.MultiplyAdd(p, s, Vector256.Create(-2.67681349e-2f));
        p = Fma.MultiplyAdd(p, s, Vector256.Create(1.12819925e-1f));
        p = Fma.MultiplyAdd(p, s, Vector256.Create(-3.76125336e-1f));
        p = Fma.MultiplyAdd(p, s, Vector256.Create(1.28379166e-1f));
        p = Fma.MultiplyAdd(p, a, a);
        var big = Avx.Compare(t, Vector256.Create(ErfSplit), FloatComparisonMode.OrderedGreaterThanNonSignaling);
        return Avx.BlendVariable(p, r, big);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> GeluErf(Vector256<float> x)
    {
        var e = Erf(Avx.Multiply(x, Vector256.Create(InvSqrt2)));
        return Avx.Multiply(Avx.Multiply(Vector256.Create(0.5f), x), Avx.Add(Vector256.Create(1.0f), e));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> GeluTanh(Vector256<float> x)
    {
        var x2 = Avx.Multiply(x, x);
        var u = Avx.Multiply(Vector256.Create(SqrtTwoOverPi), Fma.MultiplyAdd(Avx.Multiply(Vector256.Create(GeluTanhCubic), x), x2, x));
        var e = Exp(Avx.Multiply(Vector256.Create(-2.0f), u));
        return Avx.Divide(x, Avx.Add(Vector256.Create(1.0f), e));
    }

    /// <summary>Applies bias and activation to n contiguous floats in place (used by the unpacked paths and K = 0).</summary>
    public static unsafe void ApplyEpilogueRow(float* c, float* bias, int n, GemmEpilogue ep)
    {
        if (ep == GemmEpilogue.None) return;
        int j = 0;
        if (Avx2.IsSupported && Fma.IsSupported)
        {
            for (; j + 8 <= n; j += 8)
            {
                var v = Avx.LoadVector256(c + j);
                if (bias != null) v = Avx.Add(v, Avx.LoadVector256(bias + j));
                if (ep == GemmEpilogue.BiasGeluErf) v = GeluErf(v);
                else if (ep == GemmEpilogue.BiasGeluTanh) v = GeluTanh(v);
                Avx.Store(c + j, v);
            }
        }
        for (; j < n; j++)
        {
            float v = c[j];
            if (bias != null) v += bias[j];
            if (ep == GemmEpilogue.BiasGeluErf) v = GeluErf(v);
            else if (ep == GemmEpilogue.BiasGeluTanh) v = GeluTanh(v);
            c[j] = v;
        }
    }
}
