using System.Numerics;
using FsrNative.Kernels.Cpu.Crf;

namespace FsrNative.Kernels.Cpu.Reference;

/// <summary>
/// The definitions of the CRF family, generic over the float type, written plainly (llm.c style): the permutohedral
/// lattice filter exactly as Krähenbühl's <c>seqCompute</c> (scatter splat in point order, [½, 1, ½] blur along each
/// lattice direction, slice with weight·α), the dense-CRF mean-field update, and PAR's affinity and propagation.
/// The fast CPU kernels (<see cref="CpuLattice"/>, <see cref="CpuCrf"/>) are tested against these, and the Float64
/// path (gradient checks) runs them. Value layouts are planar: (channels, points) and (batch, planes, h, w).
/// </summary>
public static class ReferenceCrf<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>
    /// output (channels, N) = s ⊙ L(s ⊙ input), with L the lattice filter and s the optional per-point
    /// <paramref name="scale"/> (empty = 1). <paramref name="reverse"/> blurs the directions in the order d … 0: the
    /// transpose of the forward filter (splat and slice are each other's transposes, each direction's blur is symmetric).
    /// </summary>
    public static void LatticeFilter(LatticeTables<T> t, ReadOnlySpan<T> input, Span<T> output, int channels, bool reverse, ReadOnlySpan<T> scale)
    {
        int n = t.Points, d = t.Dims, d1 = d + 1, m = t.Vertices, k = channels;
        var values = new T[(m + 1) * k];      // row m stays zero: the value of a missing neighbour
        var next = new T[(m + 1) * k];
        bool scaled = !scale.IsEmpty;

        // Splat.
        for (int p = 0; p < n; p++)
            for (int r = 0; r < d1; r++)
            {
                int o = t.Offsets[p * d1 + r];
                T w = t.Weights[p * d1 + r];
                for (int c = 0; c < k; c++)
                {
                    T x = scaled ? input[c * n + p] * scale[p] : input[c * n + p];
                    values[o * k + c] += w * x;
                }
            }

        // Blur.
        T half = T.CreateChecked(0.5);
        for (int step = 0; step <= d; step++)
        {
            int j = reverse ? d - step : step;
            for (int v = 0; v < m; v++)
            {
                int n1 = t.Neighbours[(j * m + v) * 2], n2 = t.Neighbours[(j * m + v) * 2 + 1];
                for (int c = 0; c < k; c++)
                    next[v * k + c] = values[v * k + c] + half * (values[n1 * k + c] + values[n2 * k + c]);
            }
            (values, next) = (next, values);
        }

        // Slice.
        T alpha = typeof(T) == typeof(float) ? T.CreateChecked(LatticeMath.Alpha(d)) : T.CreateChecked(LatticeMath.AlphaDouble(d));
        for (int p = 0; p < n; p++)
            for (int c = 0; c < k; c++)
            {
                T acc = T.Zero;
                for (int r = 0; r < d1; r++)
                    acc += t.Weights[p * d1 + r] * alpha * values[t.Offsets[p * d1 + r] * k + c];
                output[c * n + p] = scaled ? acc * scale[p] : acc;
            }
    }

    /// <summary>
    /// One mean-field update of a dense CRF with Potts compatibilities (Krähenbühl's <c>inference</c> loop body):
    /// q(·, p) = softmax over labels of −unary + w1·f1 + w2·f2, where f1, f2 are the normalised filter outputs of the
    /// current marginals (empty spans are left out; with none, this is the initialisation softmax(−unary)).
    /// All (labels, points).
    /// </summary>
    public static void MeanFieldUpdate(ReadOnlySpan<T> unary, ReadOnlySpan<T> f1, T w1, ReadOnlySpan<T> f2, T w2, Span<T> q, int labels, int points)
    {
        var e = new T[labels];
        for (int p = 0; p < points; p++)
        {
            T max = T.NegativeInfinity;
            for (int c = 0; c < labels; c++)
            {
                int i = c * points + p;
                T v = -unary[i];
                if (!f1.IsEmpty) v += w1 * f1[i];
                if (!f2.IsEmpty) v += w2 * f2[i];
                e[c] = v;
                if (v > max) max = v;
            }
            T sum = T.Zero;
            for (int c = 0; c < labels; c++) { e[c] = T.Exp(e[c] - max); sum += e[c]; }
            for (int c = 0; c < labels; c++) q[c * points + p] = e[c] / sum;
        }
    }

    /// <summary>
    /// PAR's affinity weights (spec §3.6): weights (batch, nb, h, w) from image (batch, channels, h, w) with replicate
    /// padding, nb = 8·dilations: w_n = softmax_n(a) + position[n], a_n = −mean_ch((|I_n − I|/(σ + ε)/0.3)²), σ the
    /// unbiased standard deviation over the nb neighbour values of that channel and pixel.
    /// <paramref name="position"/> holds PositionWeight·softmax(b) (<see cref="ParMath.PositionWeights"/>).
    /// </summary>
    public static void ParAffinity(ReadOnlySpan<T> image, ReadOnlySpan<T> position, Span<T> weights, int batch, int channels, int h, int w, ParDilations dil)
    {
        int nb = dil.Neighbours, hw = h * w;
        var a = new T[nb];
        var sigma = new T[channels];
        T eps = T.CreateChecked(ParMath.Eps), temp = T.CreateChecked(ParMath.Temperature);
        T count = T.CreateChecked(nb), dof = T.CreateChecked(nb - 1);
        for (int b = 0; b < batch; b++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    for (int c = 0; c < channels; c++)
                    {
                        int plane = (b * channels + c) * hw;
                        T mean = T.Zero;
                        for (int n = 0; n < nb; n++) mean += image[plane + Neighbour(dil, n, y, x, h, w)];
                        mean /= count;
                        T ss = T.Zero;
                        for (int n = 0; n < nb; n++)
                        {
                            T dv = image[plane + Neighbour(dil, n, y, x, h, w)] - mean;
                            ss += dv * dv;
                        }
                        sigma[c] = T.Sqrt(ss / dof);
                    }
                    T max = T.NegativeInfinity;
                    for (int n = 0; n < nb; n++)
                    {
                        T s = T.Zero;
                        for (int c = 0; c < channels; c++)
                        {
                            int plane = (b * channels + c) * hw;
                            T u = T.Abs(image[plane + Neighbour(dil, n, y, x, h, w)] - image[plane + y * w + x]) / (sigma[c] + eps) / temp;
                            s += u * u;
                        }
                        a[n] = -(s / T.CreateChecked(channels));
                        if (a[n] > max) max = a[n];
                    }
                    T sum = T.Zero;
                    for (int n = 0; n < nb; n++) { a[n] = T.Exp(a[n] - max); sum += a[n]; }
                    for (int n = 0; n < nb; n++) weights[(b * nb + n) * hw + y * w + x] = a[n] / sum + position[n];
                }
    }

    /// <summary>One PAR propagation step: output(b, k, p) = Σ_n weights(b, n, p)·q(b, k, neighbour_n(p)) (replicate
    /// padding), summed in neighbour order.</summary>
    public static void ParPropagate(ReadOnlySpan<T> weights, ReadOnlySpan<T> q, Span<T> output, int batch, int planes, int h, int w, ParDilations dil)
    {
        int nb = dil.Neighbours, hw = h * w;
        for (int b = 0; b < batch; b++)
            for (int k = 0; k < planes; k++)
            {
                int plane = (b * planes + k) * hw;
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++)
                    {
                        T acc = T.Zero;
                        for (int n = 0; n < nb; n++)
                            acc += weights[(b * nb + n) * hw + y * w + x] * q[plane + Neighbour(dil, n, y, x, h, w)];
                        output[plane + y * w + x] = acc;
                    }
            }
    }

    /// <summary>Index within a plane of neighbour n of (y, x), clamped to the image (replicate padding).</summary>
    static int Neighbour(ParDilations dil, int n, int y, int x, int h, int w)
        => Math.Clamp(y + dil.Dy(n), 0, h - 1) * w + Math.Clamp(x + dil.Dx(n), 0, w - 1);
}
