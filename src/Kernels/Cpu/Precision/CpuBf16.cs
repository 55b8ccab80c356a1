using System.Runtime.Intrinsics;

namespace FsrNative.Kernels.Cpu;

/// <summary>
/// Rounding float32 to bfloat16 (1 sign, 8 exponent, 7 mantissa bits), the result stored back in float32 — the
/// emulation behind autocast (docs/engine.md "Mixed precision"). bfloat16 is the upper half of a float32, so
/// rounding to nearest, ties to even, is an integer add on the bits:
/// <code>
/// bits' = (bits + 0x7FFF + ((bits &gt;&gt; 16) &amp; 1)) &amp; 0xFFFF0000      (finite and ±∞)
/// NaN   → (bits | 0x00400000) &amp; 0xFFFF0000                    (stays a quiet NaN: truncating alone could give ∞)
/// </code>
/// A carry out of the mantissa moves into the exponent, which is exactly rounding up to the next binade; the largest
/// finite values round to ±∞ as IEEE says; subnormals are rounded (not flushed) like every other value — the same
/// as c10::BFloat16's round_to_nearest_even and the tensor cores' cvt.rn.bf16.f32.
/// <para>Vector256 over 8 floats (one add, shift, and, compare and blend per vector), split over cores for long
/// inputs; each element's result is exact, so it never depends on the position, length or thread split. The plain
/// arithmetic definition the tests hold this against is <c>Reference.ReferencePrecision</c>.</para>
/// </summary>
public static unsafe class CpuBf16
{
    /// <summary>One value rounded to the nearest bfloat16 (ties to even), as a float32.</summary>
    public static float Round(float x)
    {
        uint bits = BitConverter.SingleToUInt32Bits(x);
        if (float.IsNaN(x)) return BitConverter.UInt32BitsToSingle((bits | 0x00400000u) & 0xFFFF0000u);
        return BitConverter.UInt32BitsToSingle((bits + 0x7FFFu + ((bits >> 16) & 1u)) & 0xFFFF0000u);
    }

    /// <summary>y[i] = bf16(x[i]). x and y may be the same memory (in place); partial overlaps are not allowed.</summary>
    public static void Round(ReadOnlySpan<float> x, Span<float> y)
    {
        if (y.Length != x.Length) throw new ArgumentException($"round_to_bfloat16: output has {y.Length} elements, input {x.Length}", nameof(y));
        if (x.Length == 0) return;
        fixed (float* px0 = x, py0 = y)
        {
            float* px = px0, py = py0;
            CpuParallel.For(x.Length, 1, 64, (s, e) => RoundRange(px + s, py + s, (int)(e - s)));
        }
    }

    static void RoundRange(float* x, float* y, int n)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var one = Vector256.Create(1u);
            var half = Vector256.Create(0x7FFFu);
            var high = Vector256.Create(0xFFFF0000u);
            var quiet = Vector256.Create(0x00400000u);
            for (; i <= n - 8; i += 8)
            {
                var v = Vector256.Load(x + i);
                var bits = v.AsUInt32();
                var rounded = (bits + half + (Vector256.ShiftRightLogical(bits, 16) & one)) & high;
                var nan = (bits | quiet) & high;
                var isNumber = Vector256.Equals(v, v).AsUInt32();   // false only for NaN
                Vector256.ConditionalSelect(isNumber, rounded, nan).AsSingle().Store(y + i);
            }
        }
        for (; i < n; i++) y[i] = Round(x[i]);
    }
}
