// Dense-CRF mean-field update and PAR (definitions: Cpu/Reference/ReferenceCrf.cs). Implicitly grouped, grid-stride,
// no shared memory, no atomics:
//  * MeanFieldUpdate: one thread per point; three passes over its labels (planar (K, N): consecutive threads read
//    consecutive addresses): logits and their maximum, Σ exp, then the normalised marginals.
//  * ParAffinity: one thread per pixel; per channel (at most 4, kept in registers) the mean and unbiased variance of
//    the nb neighbour values (two passes), then three passes over the nb colour affinities (recomputed rather than
//    stored): their maximum, Σ exp, and the weights written to (batch, nb, h, w) (coalesced across pixels). The position term (PositionWeight·softmax(b), nb floats) is an input.
//  * ParPropagate: one thread per (image, plane, pixel): Σ_n w_n·q(neighbour n), clamped (replicate) addressing, in
//    neighbour order. One launch per iteration (each iteration reads the previous one's output up to 24 px away).
using ILGPU;

namespace FsrNative.Kernels.Gpu;

public static class CrfKernels
{
    /// <summary>q(·, p) = softmax over labels of −unary + w1·f1 + w2·f2 (a term is left out where its flag is 0);
    /// n = points; all (labels, points).</summary>
    [GpuKernel]
    public static void MeanFieldUpdate(Index1D index, int n, int step, ArrayView<float> unary, ArrayView<float> f1, float w1, int has1,
        ArrayView<float> f2, float w2, int has2, ArrayView<float> q, int labels)
    {
        for (int p = index; p < n; p += step)
        {
            float max = float.NegativeInfinity;
            for (int c = 0; c < labels; c++)
            {
                float v = Logit(unary, f1, w1, has1, f2, w2, has2, c * n + p);
                max = v > max ? v : max;
            }
            float sum = 0f;
            for (int c = 0; c < labels; c++) sum += MathF.Exp(Logit(unary, f1, w1, has1, f2, w2, has2, c * n + p) - max);
            for (int c = 0; c < labels; c++) q[c * n + p] = MathF.Exp(Logit(unary, f1, w1, has1, f2, w2, has2, c * n + p) - max) / sum;
        }
    }

    static float Logit(ArrayView<float> unary, ArrayView<float> f1, float w1, int has1, ArrayView<float> f2, float w2, int has2, int i)
    {
        float v = -unary[i];
        if (has1 != 0) v += w1 * f1[i];
        if (has2 != 0) v += w2 * f2[i];
        return v;
    }

    /// <summary>PAR weights (batch, nb, h, w) from image (batch, channels ≤ 4, h, w); n = batch·h·w.</summary>
    [GpuKernel]
    public static void ParAffinity(Index1D index, int n, int step, ArrayView<float> image, ArrayView<float> position, ArrayView<float> weights,
        int channels, int h, int w, ParDilations dil)
    {
        int nb = dil.Neighbours, hw = h * w;
        for (int item = index; item < n; item += step)
        {
            int b = item / hw, pix = item - b * hw;
            int y = pix / w, x = pix - y * w;
            int plane0 = b * channels * hw;
            float s0 = Sigma(image, plane0, nb, y, x, h, w, dil);
            float s1 = channels > 1 ? Sigma(image, plane0 + hw, nb, y, x, h, w, dil) : 0f;
            float s2 = channels > 2 ? Sigma(image, plane0 + 2 * hw, nb, y, x, h, w, dil) : 0f;
            float s3 = channels > 3 ? Sigma(image, plane0 + 3 * hw, nb, y, x, h, w, dil) : 0f;
            float max = float.NegativeInfinity;
            for (int k = 0; k < nb; k++)
            {
                float a = Affinity(image, plane0, channels, hw, w, pix, Neighbour(dil, k, y, x, h, w), s0, s1, s2, s3);
                max = a > max ? a : max;
            }
            float sum = 0f;
            for (int k = 0; k < nb; k++)
                sum += MathF.Exp(Affinity(image, plane0, channels, hw, w, pix, Neighbour(dil, k, y, x, h, w), s0, s1, s2, s3) - max);
            for (int k = 0; k < nb; k++)
            {
                float e = MathF.Exp(Affinity(image, plane0, channels, hw, w, pix, Neighbour(dil, k, y, x, h, w), s0, s1, s2, s3) - max);
                weights[(b * nb + k) * hw + pix] = e / sum + position[k];
            }
        }
    }

    /// <summary>a_n = −mean_ch((|I_n − I| / (σ_ch + ε) / T)²) of one pixel and neighbour (at = the neighbour's index).</summary>
    static float Affinity(ArrayView<float> image, int plane0, int channels, int hw, int w, int pix, int at, float s0, float s1, float s2, float s3)
    {
        float s = 0f;
        for (int c = 0; c < channels; c++)
        {
            int plane = plane0 + c * hw;
            float sigma = c == 0 ? s0 : c == 1 ? s1 : c == 2 ? s2 : s3;
            float u = MathF.Abs(image[plane + at] - image[plane + pix]) / (sigma + ParMath.Eps) / ParMath.Temperature;
            s += u * u;
        }
        return -(s / channels);
    }

    /// <summary>Unbiased standard deviation of the nb neighbour values of (y, x) in one plane (two passes, in order).</summary>
    static float Sigma(ArrayView<float> image, int plane, int nb, int y, int x, int h, int w, ParDilations dil)
    {
        float mean = 0f;
        for (int k = 0; k < nb; k++) mean += image[plane + Neighbour(dil, k, y, x, h, w)];
        mean /= nb;
        float ss = 0f;
        for (int k = 0; k < nb; k++)
        {
            float dv = image[plane + Neighbour(dil, k, y, x, h, w)] - mean;
            ss += dv * dv;
        }
        return MathF.Sqrt(ss / (nb - 1));
    }

    static int Neighbour(ParDilations dil, int n, int y, int x, int h, int w)
    {
        int yy = IntrinsicMath.Clamp(y + dil.Dy(n), 0, h - 1);
        int xx = IntrinsicMath.Clamp(x + dil.Dx(n), 0, w - 1);
        return yy * w + xx;
    }

    /// <summary>output(b, k, p) = Σ_n weights(b, n, p)·q(b, k, neighbour_n(p)); n = batch·planes·h·w.</summary>
    [GpuKernel]
    public static void ParPropagate(Index1D index, int n, int step, ArrayView<float> weights, ArrayView<float> q, ArrayView<float> output,
        int planes, int h, int w, ParDilations dil)
    {
        int nb = dil.Neighbours, hw = h * w;
        for (int item = index; item < n; item += step)
        {
            int bp = item / hw, pix = item - bp * hw;
            int b = bp / planes;
            int y = pix / w, x = pix - y * w;
            int plane = bp * hw;
            float acc = 0f;
            for (int k = 0; k < nb; k++)
                acc += weights[(b * nb + k) * hw + pix] * q[plane + Neighbour(dil, k, y, x, h, w)];
            output[item] = acc;
        }
    }
}
