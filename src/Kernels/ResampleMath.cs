namespace FsrNative.Kernels;

/// <summary>Interpolation kernels of <c>interpolate</c>: 1, 2 or 4 taps per output index and axis.</summary>
public enum ResampleMode
{
    /// <summary>PyTorch's legacy "nearest": src = min(⌊o·scale⌋, in − 1) (OpenCV's INTER_NEAREST, not "nearest-exact").</summary>
    Nearest = 0,
    /// <summary>Linear along each axis (bilinear in 2-D), half-pixel or align-corners mapping.</summary>
    Linear = 1,
    /// <summary>Cubic convolution with A = −0.75 along each axis (bicubic), taps clamped at the border.</summary>
    Cubic = 2,
}

/// <summary>
/// One axis of a resampling: input and output sizes, PyTorch's source-index ratio (computed once on the host, in float,
/// exactly as ATen's <c>area_pixel_compute_scale</c>), and the mapping. Passed by value to the GPU kernels.
/// </summary>
public struct ResampleAxis
{
    public int In;
    public int Out;
    /// <summary>Source-index ratio: align_corners ? (in−1)/(out−1) (0 when out = 1) : scale_factor given ? 1/scale_factor : in/out.</summary>
    public float Scale;
    /// <summary>1 for align_corners = true (src = scale·o), 0 for the half-pixel mapping (src = scale·(o + ½) − ½).</summary>
    public int AlignCorners;

    /// <summary>ATen's rule for the ratio. <paramref name="scaleFactor"/> is the user's scale factor when the output size
    /// was derived from it (PyTorch then maps with 1/scale_factor, not in/out); null when a size was given.</summary>
    public static ResampleAxis Create(int inSize, int outSize, bool alignCorners, double? scaleFactor)
    {
        float scale;
        if (alignCorners) scale = outSize > 1 ? (float)(inSize - 1) / (outSize - 1) : 0f;
        else if (scaleFactor is double sf && sf > 0) scale = (float)(1.0 / sf);
        else scale = (float)inSize / outSize;
        return new ResampleAxis { In = inSize, Out = outSize, Scale = scale, AlignCorners = alignCorners ? 1 : 0 };
    }
}

/// <summary>The taps of one output index along one axis: up to four input indices (already clamped into [0, in)) and
/// their weights; unused taps have weight 0 and repeat index <see cref="I0"/>.</summary>
public struct ResampleTaps
{
    public int I0, I1, I2, I3;
    public float W0, W1, W2, W3;
}

/// <summary>
/// PyTorch's (ATen's, CPU) index and weight rules for nearest / bilinear / bicubic resampling along one axis, shared by
/// the CPU kernels (which tabulate them per call) and the ILGPU kernels (which evaluate them per thread), so that both
/// backends use bit-identical weights. Everything is float arithmetic as in ATen's float path:
/// <list type="bullet">
/// <item>nearest: src = min(⌊scale·o⌋, in − 1);</item>
/// <item>linear: identity when in = out; else real = align ? scale·o : max(scale·(o + ½) − ½, 0),
/// i0 = min(⌊real⌋, in − 1), λ = clamp(real − i0, 0, 1), i1 = i0 + (i0 &lt; in − 1), weights (1 − λ, λ);</item>
/// <item>cubic: real = align ? scale·o : scale·(o + ½) − ½ (not clamped), i = min(⌊real⌋, in − 1),
/// t = clamp(real − i, 0, 1), taps i − 1 … i + 2 clamped into [0, in), Keys' cubic convolution with A = −0.75.
/// The four weights are evaluated in factored form — A·t·(1−t)², (1−t)·(1 + t − (A+2)t²), t·(1 + (1−t) − (A+2)(1−t)²),
/// A·(1−t)·t² — which equal ATen's expanded polynomials (A+2)x³ − (A+3)x² + 1 and A·x³ − 5A·x² + 8A·x − 4A at
/// x = t, 1−t, 1+t, 2−t but avoid their cancellation: in float those lose up to ~1e-6 absolute near the ends of
/// the kernel (measured against exact arithmetic: ATen's weights are off by up to 3e-7, these by a few 1e-8).</item>
/// </list>
/// Tap index windows are non-decreasing in o, which the GPU backward uses to find the outputs an input feeds.
/// On the GPU, ptxas may contract scale·(o + ½) − ½ into one fma (one rounding instead of two): the source index then
/// differs in its last bit, which moves linear and cubic weights by ~1e-7 (both are continuous in it); nearest has no
/// addition to contract. (GpuMath.MulNoContract would forbid it, but its inline-asm result goes through a local-memory
/// slot per call: 40–120 bytes of stack frame in these kernels.)
/// </summary>
public static class ResampleMath
{
    /// <summary>Cubic convolution parameter (PyTorch, OpenCV).</summary>
    public const float CubicA = -0.75f;

    /// <summary>Number of taps per axis: 1, 2 or 4.</summary>
    public static int TapCount(ResampleMode mode) => mode == ResampleMode.Nearest ? 1 : mode == ResampleMode.Linear ? 2 : 4;

    /// <summary>The taps of output index <paramref name="o"/>.</summary>
    public static ResampleTaps Taps(ResampleMode mode, ResampleAxis a, int o)
    {
        var t = new ResampleTaps();
        int last = a.In - 1;
        if (mode == ResampleMode.Nearest)
        {
            int src = (int)MathF.Floor(a.Scale * o);
            t.I0 = t.I1 = t.I2 = t.I3 = src < last ? src : last;
            t.W0 = 1f;
            return t;
        }
        if (mode == ResampleMode.Linear)
        {
            if (a.In == a.Out)
            {
                t.I0 = t.I1 = t.I2 = t.I3 = o;
                t.W0 = 1f;
                return t;
            }
            float real = SourceIndex(a, o);
            if (real < 0f) real = 0f;
            int i0 = (int)MathF.Floor(real);
            if (i0 > last) i0 = last;
            float l1 = Clamp01(real - i0);
            t.I0 = t.I2 = t.I3 = i0;
            t.I1 = i0 < last ? i0 + 1 : i0;
            t.W0 = 1f - l1;
            t.W1 = l1;
            return t;
        }
        {
            float real = SourceIndex(a, o);
            int i = (int)MathF.Floor(real);
            if (i > last) i = last;
            float x = Clamp01(real - i);
            t.I0 = ClampIndex(i - 1, last);
            t.I1 = ClampIndex(i, last);
            t.I2 = ClampIndex(i + 1, last);
            t.I3 = ClampIndex(i + 2, last);
            // Keys' kernel at distances 1 + x, x, 1 − x, 2 − x, in factored form (see the class comment).
            float y = 1f - x;
            t.W0 = CubicA * x * (y * y);
            t.W1 = y * (1f + x - (CubicA + 2f) * (x * x));
            t.W2 = x * (1f + y - (CubicA + 2f) * (y * y));
            t.W3 = CubicA * y * (x * x);
            return t;
        }
    }

    /// <summary>Tap <paramref name="k"/> (0–3) of <paramref name="t"/>: its input index and weight.</summary>
    public static int Index(ResampleTaps t, int k) => k == 0 ? t.I0 : k == 1 ? t.I1 : k == 2 ? t.I2 : t.I3;

    /// <inheritdoc cref="Index"/>
    public static float Weight(ResampleTaps t, int k) => k == 0 ? t.W0 : k == 1 ? t.W1 : k == 2 ? t.W2 : t.W3;

    /// <summary>The total weight input index <paramref name="i"/> receives from taps <paramref name="t"/> (border clamping
    /// can map several taps to one index).</summary>
    public static float WeightOf(ResampleTaps t, int taps, int i)
    {
        float w = 0f;
        if (t.I0 == i) w += t.W0;
        if (taps > 1 && t.I1 == i) w += t.W1;
        if (taps > 2 && t.I2 == i) w += t.W2;
        if (taps > 3 && t.I3 == i) w += t.W3;
        return w;
    }

    /// <summary>The smallest input index any tap of output <paramref name="o"/> reads.</summary>
    public static int FirstIndex(ResampleMode mode, ResampleAxis a, int o) => Taps(mode, a, o).I0;

    /// <summary>The largest input index any tap of output <paramref name="o"/> reads.</summary>
    public static int LastIndex(ResampleMode mode, ResampleAxis a, int o)
    {
        var t = Taps(mode, a, o);
        return mode == ResampleMode.Nearest ? t.I0 : mode == ResampleMode.Linear ? t.I1 : t.I3;
    }

    /// <summary>The first output whose taps reach input index <paramref name="i"/> or beyond (Out when none):
    /// a binary search over the non-decreasing last-tap index.</summary>
    public static int FirstOutputReaching(ResampleMode mode, ResampleAxis a, int i)
    {
        int lo = 0, hi = a.Out;   // answer in [lo, hi]
        while (lo < hi)
        {
            int mid = (lo + hi) >> 1;
            if (LastIndex(mode, a, mid) >= i) hi = mid;
            else lo = mid + 1;
        }
        return lo;
    }

    /// <summary>One past the last output whose taps start at or before input index <paramref name="i"/>.</summary>
    public static int EndOutputStartingBy(ResampleMode mode, ResampleAxis a, int i)
    {
        int lo = 0, hi = a.Out;   // first o with FirstIndex(o) > i, in [lo, hi]
        while (lo < hi)
        {
            int mid = (lo + hi) >> 1;
            if (FirstIndex(mode, a, mid) > i) hi = mid;
            else lo = mid + 1;
        }
        return lo;
    }

    static float SourceIndex(ResampleAxis a, int o)
        => a.AlignCorners != 0 ? a.Scale * o : a.Scale * (o + 0.5f) - 0.5f;

    static float Clamp01(float v) => v < 0f ? 0f : v > 1f ? 1f : v;

    static int ClampIndex(int i, int last) => i < 0 ? 0 : i > last ? last : i;
}
