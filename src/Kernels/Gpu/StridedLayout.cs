namespace FsrNative.Kernels.Gpu;

/// <summary>
/// How a kernel reads one operand of any layout: up to <see cref="MaxRank"/> dimensions with their sizes and element
/// strides, plus a storage offset, passed by value (blittable: only int fields). Dimensions are stored innermost
/// first (slot 0 is the last, fastest-moving dimension), so <see cref="OffsetOf"/> peels the logical row-major
/// index with one division per dimension and no switch. Unused slots hold size 1 and stride 0.
/// The host coalesces adjacent dimensions first (a contiguous tensor becomes rank 1), so most layouts have rank 1–3.
/// </summary>
public struct StridedLayout
{
    public const int MaxRank = 8;

    /// <summary>Number of dimensions in use (0 for a scalar: every index maps to <see cref="Offset"/>).</summary>
    public int Rank;
    /// <summary>Storage offset of the element with logical index 0.</summary>
    public int Offset;
    /// <summary>Sizes, innermost first.</summary>
    public int S0, S1, S2, S3, S4, S5, S6, S7;
    /// <summary>Element strides, innermost first (0 along broadcast dimensions).</summary>
    public int T0, T1, T2, T3, T4, T5, T6, T7;

    /// <summary>The storage offset of the element with logical row-major index <paramref name="index"/>.</summary>
    public readonly int OffsetOf(int index)
    {
        int i = index, off = Offset;
        if (Rank > 0) { off += i % S0 * T0; i /= S0; }
        if (Rank > 1) { off += i % S1 * T1; i /= S1; }
        if (Rank > 2) { off += i % S2 * T2; i /= S2; }
        if (Rank > 3) { off += i % S3 * T3; i /= S3; }
        if (Rank > 4) { off += i % S4 * T4; i /= S4; }
        if (Rank > 5) { off += i % S5 * T5; i /= S5; }
        if (Rank > 6) { off += i % S6 * T6; i /= S6; }
        if (Rank > 7) { off += i % S7 * T7; }
        return off;
    }

    /// <summary>Builds a layout from row-major <paramref name="shape"/> and <paramref name="strides"/> (outermost
    /// first, as tensors store them). Throws when the rank exceeds <see cref="MaxRank"/>.</summary>
    public static StridedLayout Create(ReadOnlySpan<int> shape, ReadOnlySpan<int> strides, int offset)
    {
        if (shape.Length != strides.Length)
            throw new ArgumentException($"strided layout: {shape.Length} sizes but {strides.Length} strides");
        if (shape.Length > MaxRank)
            throw new NotSupportedException(
                $"strided layout: rank {shape.Length} after merging dimensions exceeds the {MaxRank} dimensions GPU kernels take");
        var l = new StridedLayout { Rank = shape.Length, Offset = offset };
        l.S0 = l.S1 = l.S2 = l.S3 = l.S4 = l.S5 = l.S6 = l.S7 = 1;
        for (int k = 0; k < shape.Length; k++)
        {
            int d = shape.Length - 1 - k;   // slot k holds dimension d (innermost first)
            l.Set(k, shape[d], strides[d]);
        }
        return l;
    }

    void Set(int slot, int size, int stride)
    {
        switch (slot)
        {
            case 0: S0 = size; T0 = stride; break;
            case 1: S1 = size; T1 = stride; break;
            case 2: S2 = size; T2 = stride; break;
            case 3: S3 = size; T3 = stride; break;
            case 4: S4 = size; T4 = stride; break;
            case 5: S5 = size; T5 = stride; break;
            case 6: S6 = size; T6 = stride; break;
            default: S7 = size; T7 = stride; break;
        }
    }

    public override readonly string ToString()
        => $"rank {Rank}, offset {Offset}, sizes(inner first) [{S0},{S1},{S2},{S3},{S4},{S5},{S6},{S7}], strides [{T0},{T1},{T2},{T3},{T4},{T5},{T6},{T7}]";
}
