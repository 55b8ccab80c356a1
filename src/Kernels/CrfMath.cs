namespace FsrNative.Kernels;

/// <summary>
/// PAR's neighbourhood (spec §3.6): up to <see cref="Max"/> dilations, each with the 8 neighbours of a 3×3 kernel
/// dilated by d, in the reference's order (its conv2d kernel positions, row by row, centre skipped):
/// (−d,−d), (−d,0), (−d,+d), (0,−d), (0,+d), (+d,−d), (+d,0), (+d,+d) as (dy, dx). Neighbour n is position n mod 8 of
/// dilation n / 8; its distance is d (axial) or d·√2 (diagonal: positions 0, 2, 5, 7). Passed by value to the kernels.
/// </summary>
public readonly struct ParDilations
{
    /// <summary>Most dilations one call takes (the spec uses six: 1, 2, 4, 8, 12, 24).</summary>
    public const int Max = 8;

    public readonly int Count;
    readonly int _d0, _d1, _d2, _d3, _d4, _d5, _d6, _d7;

    public ParDilations(ReadOnlySpan<int> dilations)
    {
        if (dilations.Length is < 1 or > Max)
            throw new ArgumentException($"par: expected 1 to {Max} dilations, got {dilations.Length}");
        foreach (int d in dilations)
            if (d < 1) throw new ArgumentException($"par: dilations must be positive, got {d}");
        Count = dilations.Length;
        Span<int> v = stackalloc int[Max];
        dilations.CopyTo(v);
        (_d0, _d1, _d2, _d3, _d4, _d5, _d6, _d7) = (v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]);
    }

    /// <summary>Dilation <paramref name="i"/> (0 ≤ i &lt; Count).</summary>
    public int Get(int i) => i switch { 0 => _d0, 1 => _d1, 2 => _d2, 3 => _d3, 4 => _d4, 5 => _d5, 6 => _d6, _ => _d7 };

    /// <summary>Number of neighbours: 8 per dilation.</summary>
    public int Neighbours => Count * 8;

    /// <summary>Row offset of neighbour <paramref name="n"/>.</summary>
    public int Dy(int n) => ParMath.UnitDy(n & 7) * Get(n >> 3);

    /// <summary>Column offset of neighbour <paramref name="n"/>.</summary>
    public int Dx(int n) => ParMath.UnitDx(n & 7) * Get(n >> 3);
}

/// <summary>
/// PAR's constants and its position term (spec §3.6), shared by the CPU, reference and GPU kernels.
/// a_n = −mean_ch((|I_n − I| / (σ + <see cref="Eps"/>) / <see cref="Temperature"/>)²) with σ the unbiased standard
/// deviation of the neighbours' values; b_n = −(p_n / (std(p) + Eps) / Temperature)²;
/// w_n = softmax(a)_n + <see cref="PositionWeight"/>·softmax(b)_n.
/// </summary>
public static class ParMath
{
    /// <summary>The reference's w1 (dividing both affinities).</summary>
    public const float Temperature = 0.3f;
    /// <summary>The reference's w2 (weight of the position softmax).</summary>
    public const float PositionWeight = 0.01f;
    /// <summary>Added to standard deviations before dividing.</summary>
    public const float Eps = 1e-8f;
    /// <summary>Most image channels PAR takes (the GPU kernel keeps one standard deviation per channel in registers).</summary>
    public const int MaxChannels = 4;

    /// <summary>Row direction (−1, 0, +1) of kernel position <paramref name="pos"/> (0..7).</summary>
    public static int UnitDy(int pos) => pos < 3 ? -1 : pos < 5 ? 0 : 1;

    /// <summary>Column direction (−1, 0, +1) of kernel position <paramref name="pos"/> (0..7).</summary>
    public static int UnitDx(int pos) => pos == 0 || pos == 3 || pos == 5 ? -1 : pos == 1 || pos == 6 ? 0 : 1;

    /// <summary>True for the diagonal positions (distance d·√2).</summary>
    public static bool IsDiagonal(int pos) => pos == 0 || pos == 2 || pos == 5 || pos == 7;

    /// <summary>
    /// PositionWeight·softmax_n(−(p_n / (std(p) + Eps) / Temperature)²), one value per neighbour: the same for every
    /// pixel and image. Evaluated in float in the reference's order (its torch ops run in float32).
    /// </summary>
    public static float[] PositionWeights(ParDilations dilations)
    {
        int n = dilations.Neighbours;
        var p = new float[n];
        float sqrt2 = MathF.Sqrt(2f);
        for (int i = 0; i < n; i++) p[i] = IsDiagonal(i & 7) ? sqrt2 * dilations.Get(i >> 3) : dilations.Get(i >> 3);
        float mean = 0f;
        foreach (float v in p) mean += v;
        mean /= n;
        float ss = 0f;
        foreach (float v in p) ss += (v - mean) * (v - mean);
        float std = n > 1 ? MathF.Sqrt(ss / (n - 1)) : float.NaN;   // torch.std of one value is NaN, as here
        var b = new float[n];
        float max = float.NegativeInfinity;
        for (int i = 0; i < n; i++)
        {
            float t = p[i] / (std + Eps) / Temperature;
            b[i] = -(t * t);
            max = MathF.Max(max, b[i]);
        }
        float sum = 0f;
        for (int i = 0; i < n; i++) { b[i] = MathF.Exp(b[i] - max); sum += b[i]; }
        for (int i = 0; i < n; i++) b[i] = PositionWeight * (b[i] / sum);
        return b;
    }
}

/// <summary>
/// Constants of the permutohedral lattice (Adams, Baek and Davis 2010) as implemented by Krähenbühl's dense CRF
/// (densecrf/src/permutohedral.cpp, wrapped by pydensecrf and by the dense-energy loss): features are scaled by
/// <see cref="Scale"/> and embedded in the hyperplane Σx = 0 of (d+1)-space, splatted onto the d+1 vertices of their
/// enclosing simplex with barycentric weights, blurred with [½, 1, ½] along each of the d+1 lattice directions, and
/// sliced back with the same weights times <see cref="Alpha"/>. The result approximates
/// Σ_j exp(−½‖f_i − f_j‖²)·v_j (self included) up to a factor near 1 (measured in the tests).
/// </summary>
public static class LatticeMath
{
    /// <summary>Largest feature dimension d (keys are d 16-bit lattice coordinates, as in the reference).</summary>
    public const int MaxDims = 8;

    /// <summary>The scale of feature axis <paramref name="i"/> (the diagonal of E in the paper):
    /// √(2/3)·(d+1) / √((i+1)(i+2)), with √(2/3)·(d+1) rounded to float first, as in the reference.</summary>
    public static double Scale(int i, int d)
    {
        float invStdDev = (float)(Math.Sqrt(2.0 / 3.0) * (d + 1));
        return 1.0 / Math.Sqrt((double)((i + 2) * (i + 1))) * invStdDev;
    }

    /// <summary>The slicing factor 1 / (1 + 2^−d) ("a magic scaling constant" in the reference).</summary>
    public static float Alpha(int d) => 1f / (1f + MathF.Pow(2f, -d));

    /// <summary>Alpha in double, for the Float64 reference.</summary>
    public static double AlphaDouble(int d) => 1.0 / (1.0 + Math.Pow(2.0, -d));
}
