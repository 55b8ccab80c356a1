using System.Runtime.Intrinsics;
using FsrNative.Kernels.Cpu.Reference;

namespace FsrNative.Kernels.Cpu.Crf;

/// <summary>
/// The dense-CRF mean-field update and PAR on the CPU (float), split over cores. Definitions:
/// <see cref="ReferenceCrf{T}"/>.
/// <list type="bullet">
/// <item>MeanFieldUpdate: 8 points per Vector256 (labels are planes, so a label's values for 8 consecutive points are
/// one load): the logits −U + w1·f1 + w2·f2 go to a (labels × 8) scratch with their running maximum, then
/// exp(x − max) (<see cref="CpuVecMath.ExpNonPositive"/>), the sum and the division; scalar tail. Agrees with the
/// reference to float rounding (the vector exp is not MathF.Exp).</item>
/// <item>ParAffinity: the reference's per-pixel arithmetic in its order, rows split over cores: bit-identical to it; the
/// neighbour offsets are tabulated once and each pixel's clamped neighbour indices and values gathered once.</item>
/// <item>ParPropagate: per output row, for each neighbour n in order, acc[x] += w_n[x]·q[clamped row][x + dx] with
/// Vector256 over the interior columns and scalar clamped borders; the same sums in the same order as the reference,
/// so bit-identical. Work items are (image, plane, row).</item>
/// </list>
/// </summary>
public static unsafe class CpuCrf
{
    public static void MeanFieldUpdate(ReadOnlySpan<float> unary, ReadOnlySpan<float> f1, float w1, ReadOnlySpan<float> f2, float w2,
        Span<float> q, int labels, int points)
    {
        if (labels == 0 || points == 0) return;
        fixed (float* pu = unary, p1 = f1, p2 = f2, pq = q)
        {
            float* u = pu, a = f1.IsEmpty ? null : p1, b = f2.IsEmpty ? null : p2, o = pq;
            int blocks = (points + 7) / 8;
            CpuParallel.For(blocks, 6L * labels * 8, 1, (s, e) =>
            {
                var scratch = new float[labels * 8];
                fixed (float* t = scratch)
                    for (long blk = s; blk < e; blk++)
                    {
                        int p0 = (int)blk * 8;
                        if (p0 + 8 <= points && CpuVecMath.IsSupported) UpdateBlock(u, a, w1, b, w2, o, t, labels, points, p0);
                        else
                            for (int p = p0; p < Math.Min(points, p0 + 8); p++) UpdatePoint(u, a, w1, b, w2, o, t, labels, points, p);
                    }
            });
        }
    }

    static void UpdateBlock(float* u, float* a, float w1, float* b, float w2, float* q, float* t, int labels, int points, int p0)
    {
        var max = Vector256.Create(float.NegativeInfinity);
        var vw1 = Vector256.Create(w1);
        var vw2 = Vector256.Create(w2);
        for (int c = 0; c < labels; c++)
        {
            long i = (long)c * points + p0;
            var v = -Vector256.Load(u + i);
            if (a != null) v += vw1 * Vector256.Load(a + i);
            if (b != null) v += vw2 * Vector256.Load(b + i);
            v.Store(t + c * 8);
            max = Vector256.Max(max, v);
        }
        var sum = Vector256<float>.Zero;
        for (int c = 0; c < labels; c++)
        {
            var ex = CpuVecMath.ExpNonPositive(Vector256.Load(t + c * 8) - max);
            ex.Store(t + c * 8);
            sum += ex;
        }
        for (int c = 0; c < labels; c++) (Vector256.Load(t + c * 8) / sum).Store(q + (long)c * points + p0);
    }

    static void UpdatePoint(float* u, float* a, float w1, float* b, float w2, float* q, float* t, int labels, int points, int p)
    {
        float max = float.NegativeInfinity;
        for (int c = 0; c < labels; c++)
        {
            long i = (long)c * points + p;
            float v = -u[i];
            if (a != null) v += w1 * a[i];
            if (b != null) v += w2 * b[i];
            t[c] = v;
            if (v > max) max = v;
        }
        float sum = 0f;
        for (int c = 0; c < labels; c++) { t[c] = MathF.Exp(t[c] - max); sum += t[c]; }
        for (int c = 0; c < labels; c++) q[(long)c * points + p] = t[c] / sum;
    }

    /// <summary>PAR affinity weights (batch, nb, h, w); see <see cref="ReferenceCrf{T}.ParAffinity"/>.</summary>
    public static void ParAffinity(ReadOnlySpan<float> image, ReadOnlySpan<float> position, Span<float> weights, int batch, int channels, int h, int w, ParDilations dil)
    {
        int nb = dil.Neighbours;
        // The neighbour offsets, once (ParDilations.Dy/Dx go through switches: too slow per pixel and neighbour).
        var dys = new int[nb];
        var dxs = new int[nb];
        for (int n = 0; n < nb; n++) { dys[n] = dil.Dy(n); dxs[n] = dil.Dx(n); }
        fixed (float* pimg = image, ppos = position, pw = weights)
        {
            float* img = pimg, pos = ppos, wts = pw;
            CpuParallel.For((long)batch * h, 12L * nb * channels * w, 1, (s, e) =>
            {
                var a = new float[nb];
                var idx = new int[nb];
                var values = new float[channels * nb];
                var sigma = new float[channels];
                for (long row = s; row < e; row++)
                {
                    int b = (int)(row / h), y = (int)(row % h);
                    for (int x = 0; x < w; x++) AffinityPixel(img, pos, wts, a, idx, values, sigma, dys, dxs, b, channels, h, w, y, x, nb);
                }
            });
        }
    }

    /// <summary>One pixel: the reference's arithmetic in its order (so bit-identical), with the 48 clamped neighbour
    /// indices computed once and each channel's neighbour values gathered once.</summary>
    static void AffinityPixel(float* image, float* position, float* weights, float[] a, int[] idx, float[] values, float[] sigma,
        int[] dys, int[] dxs, int b, int channels, int h, int w, int y, int x, int nb)
    {
        int hw = h * w;
        for (int n = 0; n < nb; n++) idx[n] = Math.Clamp(y + dys[n], 0, h - 1) * w + Math.Clamp(x + dxs[n], 0, w - 1);
        for (int c = 0; c < channels; c++)
        {
            float* plane = image + (long)(b * channels + c) * hw;
            int o = c * nb;
            float mean = 0f;
            for (int n = 0; n < nb; n++) { float v = plane[idx[n]]; values[o + n] = v; mean += v; }
            mean /= nb;
            float ss = 0f;
            for (int n = 0; n < nb; n++)
            {
                float dv = values[o + n] - mean;
                ss += dv * dv;
            }
            sigma[c] = MathF.Sqrt(ss / (nb - 1));
        }
        float max = float.NegativeInfinity;
        for (int n = 0; n < nb; n++)
        {
            float s = 0f;
            for (int c = 0; c < channels; c++)
            {
                float centre = image[(long)(b * channels + c) * hw + y * w + x];
                float u = MathF.Abs(values[c * nb + n] - centre) / (sigma[c] + ParMath.Eps) / ParMath.Temperature;
                s += u * u;
            }
            a[n] = -(s / channels);
            if (a[n] > max) max = a[n];
        }
        float sum = 0f;
        for (int n = 0; n < nb; n++) { a[n] = MathF.Exp(a[n] - max); sum += a[n]; }
        long at = (long)b * nb * hw + y * w + x;
        for (int n = 0; n < nb; n++) weights[at + (long)n * hw] = a[n] / sum + position[n];
    }

    /// <summary>One PAR propagation step (batch, planes, h, w); see <see cref="ReferenceCrf{T}.ParPropagate"/>.</summary>
    public static void ParPropagate(ReadOnlySpan<float> weights, ReadOnlySpan<float> q, Span<float> output, int batch, int planes, int h, int w, ParDilations dil)
    {
        int nb = dil.Neighbours;
        fixed (float* pw = weights, pq = q, po = output)
        {
            float* wts = pw, src = pq, dst = po;
            CpuParallel.For((long)batch * planes * h, 2L * nb * w, 1, (s, e) =>
            {
                int hw = h * w;
                for (long item = s; item < e; item++)
                {
                    int y = (int)(item % h);
                    long bp = item / h;              // b·planes + k
                    int b = (int)(bp / planes);
                    float* outRow = dst + bp * hw + (long)y * w;
                    float* plane = src + bp * hw;
                    new Span<float>(outRow, w).Clear();
                    for (int n = 0; n < nb; n++)
                    {
                        float* wr = wts + (long)(b * nb + n) * hw + (long)y * w;
                        float* qr = plane + (long)Math.Clamp(y + dil.Dy(n), 0, h - 1) * w;
                        int dx = dil.Dx(n);
                        int x0 = Math.Max(0, -dx), x1 = Math.Min(w, w - dx);   // columns whose source needs no clamping
                        if (x1 <= x0) { x0 = 0; x1 = 0; }
                        for (int x = 0; x < x0; x++) outRow[x] += wr[x] * qr[Math.Clamp(x + dx, 0, w - 1)];
                        int xv = x0;
                        for (; xv + 8 <= x1; xv += 8)
                            (Vector256.Load(outRow + xv) + Vector256.Load(wr + xv) * Vector256.Load(qr + xv + dx)).Store(outRow + xv);
                        for (; xv < x1; xv++) outRow[xv] += wr[xv] * qr[xv + dx];
                        for (int x = Math.Max(x1, x0); x < w; x++) outRow[x] += wr[x] * qr[Math.Clamp(x + dx, 0, w - 1)];
                    }
                }
            });
        }
    }
}
