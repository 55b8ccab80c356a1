// 2-D resampling (nearest / bilinear / bicubic) of contiguous (planes, H, W) blocks and flip of (outer, n, inner)
// blocks. Implicitly grouped, grid-stride (launch extent = step ≤ the work count; thread t does items t, t+step, …).
//  * ResampleForward: one thread per output element; the taps of its row and column come from ResampleMath (the
//    same float arithmetic as the CPU tables), at most 4×4 reads.
//  * ResampleBackward: one thread per INPUT element, gathering (no atomics): the outputs whose taps reach input
//    index i along an axis form one contiguous range, because tap windows are non-decreasing in the output index;
//    its ends are found by binary search (ResampleMath.FirstOutputReaching / EndOutputStartingBy). The thread sums
//    gy over that (rows × columns) range weighted by the total weight it has in each output's taps (border clamping
//    can give one input several taps). Each gx element is written once by one thread: deterministic.
//  * Flip: one thread per element.
// No shared memory; registers only (ResampleTaps is 8 scalars).
using ILGPU;

namespace FsrNative.Kernels.Gpu;

public static class ResamplingKernels
{
    /// <summary>y[p, oh, ow] = Σ_a Σ_b wH(oh, a)·wW(ow, b)·x[p, iH(oh, a), iW(ow, b)]; n = planes·h.Out·w.Out.</summary>
    [GpuKernel]
    public static void ResampleForward(Index1D index, int n, int step, ArrayView<float> x, ArrayView<float> y,
        ResampleAxis h, ResampleAxis w, ResampleMode mode)
    {
        int taps = ResampleMath.TapCount(mode);
        for (int e = index; e < n; e += step)
        {
            int ow = e % w.Out, rest = e / w.Out;
            int oh = rest % h.Out, p = rest / h.Out;
            var th = ResampleMath.Taps(mode, h, oh);
            var tw = ResampleMath.Taps(mode, w, ow);
            int plane = p * h.In * w.In;
            float sum = 0f;
            for (int a = 0; a < taps; a++)
            {
                int row = plane + ResampleMath.Index(th, a) * w.In;
                float inner = 0f;
                for (int b = 0; b < taps; b++) inner += ResampleMath.Weight(tw, b) * x[row + ResampleMath.Index(tw, b)];
                sum += ResampleMath.Weight(th, a) * inner;
            }
            y[e] = sum;
        }
    }

    /// <summary>gx[p, ih, iw] = Σ over the outputs whose taps reach (ih, iw) of weight·gy; n = planes·h.In·w.In.</summary>
    [GpuKernel]
    public static void ResampleBackward(Index1D index, int n, int step, ArrayView<float> gy, ArrayView<float> gx,
        ResampleAxis h, ResampleAxis w, ResampleMode mode)
    {
        int taps = ResampleMath.TapCount(mode);
        for (int e = index; e < n; e += step)
        {
            int iw = e % w.In, rest = e / w.In;
            int ih = rest % h.In, p = rest / h.In;
            int oh0 = ResampleMath.FirstOutputReaching(mode, h, ih), oh1 = ResampleMath.EndOutputStartingBy(mode, h, ih);
            int ow0 = ResampleMath.FirstOutputReaching(mode, w, iw), ow1 = ResampleMath.EndOutputStartingBy(mode, w, iw);
            int plane = p * h.Out * w.Out;
            float sum = 0f;
            for (int oh = oh0; oh < oh1; oh++)
            {
                float wh = ResampleMath.WeightOf(ResampleMath.Taps(mode, h, oh), taps, ih);
                if (wh == 0f) continue;
                int row = plane + oh * w.Out;
                float inner = 0f;
                for (int ow = ow0; ow < ow1; ow++)
                    inner += ResampleMath.WeightOf(ResampleMath.Taps(mode, w, ow), taps, iw) * gy[row + ow];
                sum += wh * inner;
            }
            gx[e] = sum;
        }
    }

    /// <summary>dst(o, j, i) = src(o, n − 1 − j, i) over 4-byte words; total = outer·n·inner.</summary>
    [GpuKernel]
    public static void Flip(Index1D index, int total, int step, ArrayView<float> src, ArrayView<float> dst, int n, int inner)
    {
        for (int e = index; e < total; e += step)
        {
            int i = e % inner, rest = e / inner;
            int j = rest % n, o = rest / n;
            dst[e] = src[(o * n + (n - 1 - j)) * inner + i];
        }
    }
}
