using System.Numerics;

namespace FsrNative.Kernels.Cpu.Reference;

/// <summary>
/// The definition of 2-D resampling (nearest / bilinear / bicubic) and of flip, generic over the float type: direct
/// per-output sums y[p, oh, ow] = Σ_{a,b} wH(oh, a)·wW(ow, b)·x[p, iH(oh, a), iW(ow, b)] with the taps of
/// <see cref="ResampleMath"/>, and the backward as the transposed scatter in output order. The fast CPU kernels
/// (<see cref="CpuResample"/>) are tested against these, and the Float64 path (gradient checks) runs them.
/// Layout: contiguous (planes, H, W) blocks, planes = N·C.
/// </summary>
public static class ReferenceResampling<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static void Forward(ReadOnlySpan<T> x, Span<T> y, int planes, ResampleMode mode, ResampleAxis h, ResampleAxis w)
    {
        int taps = ResampleMath.TapCount(mode);
        for (int p = 0; p < planes; p++)
            for (int oh = 0; oh < h.Out; oh++)
            {
                var th = ResampleMath.Taps(mode, h, oh);
                for (int ow = 0; ow < w.Out; ow++)
                {
                    var tw = ResampleMath.Taps(mode, w, ow);
                    T sum = T.Zero;
                    for (int a = 0; a < taps; a++)
                    {
                        T wa = T.CreateChecked(ResampleMath.Weight(th, a));
                        int row = (p * h.In + ResampleMath.Index(th, a)) * w.In;
                        T inner = T.Zero;
                        for (int b = 0; b < taps; b++)
                            inner += T.CreateChecked(ResampleMath.Weight(tw, b)) * x[row + ResampleMath.Index(tw, b)];
                        sum += wa * inner;
                    }
                    y[(p * h.Out + oh) * w.Out + ow] = sum;
                }
            }
    }

    /// <summary>gx = the transpose of <see cref="Forward"/> applied to gy (gx is overwritten).</summary>
    public static void Backward(ReadOnlySpan<T> gy, Span<T> gx, int planes, ResampleMode mode, ResampleAxis h, ResampleAxis w)
    {
        int taps = ResampleMath.TapCount(mode);
        gx.Clear();
        for (int p = 0; p < planes; p++)
            for (int oh = 0; oh < h.Out; oh++)
            {
                var th = ResampleMath.Taps(mode, h, oh);
                for (int ow = 0; ow < w.Out; ow++)
                {
                    var tw = ResampleMath.Taps(mode, w, ow);
                    T g = gy[(p * h.Out + oh) * w.Out + ow];
                    for (int a = 0; a < taps; a++)
                    {
                        T ga = g * T.CreateChecked(ResampleMath.Weight(th, a));
                        int row = (p * h.In + ResampleMath.Index(th, a)) * w.In;
                        for (int b = 0; b < taps; b++)
                            gx[row + ResampleMath.Index(tw, b)] += ga * T.CreateChecked(ResampleMath.Weight(tw, b));
                    }
                }
            }
    }

    /// <summary>dst(o, j, i) = src(o, n − 1 − j, i) over contiguous (outer, n, inner) blocks.</summary>
    public static void Flip(ReadOnlySpan<T> src, Span<T> dst, int outer, int n, int inner)
    {
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < n; j++)
                src.Slice((o * n + n - 1 - j) * inner, inner).CopyTo(dst.Slice((o * n + j) * inner, inner));
    }
}
