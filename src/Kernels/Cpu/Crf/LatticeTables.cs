using System.Numerics;

namespace FsrNative.Kernels.Cpu.Crf;

/// <summary>
/// A permutohedral lattice built over N points with d-dimensional features (CPU). Element e = p·(d+1) + r is the
/// r-th vertex of point p's enclosing simplex. Vertices are numbered in order of first use (point-major), as in the
/// reference's hash table.
/// </summary>
public sealed class LatticeTables<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>N, d and M (the number of lattice vertices).</summary>
    public int Points, Dims, Vertices;

    /// <summary>Vertex of each element, (N, d+1).</summary>
    public required int[] Offsets;

    /// <summary>Barycentric weight of each element, (N, d+1); each point's weights sum to 1.</summary>
    public required T[] Weights;

    /// <summary>The elements sorted by vertex, and by element within a vertex (so by point): the splat's gather lists.</summary>
    public required int[] Order;

    /// <summary>Vertex v's elements are Order[SegmentStarts[v] .. SegmentStarts[v+1]); length M + 1.</summary>
    public required int[] SegmentStarts;

    /// <summary>Blur neighbours: [(j·M + v)·2] and [(j·M + v)·2 + 1] are the vertices at −1 and +1 steps along lattice
    /// direction j (0..d) from v, or M where the lattice has no such vertex (it then contributes zero).</summary>
    public required int[] Neighbours;

    /// <summary>The lattice coordinates (first d of the d+1; they sum to 0) of each vertex, (M, d).</summary>
    public required int[] Keys;

    /// <summary>Elements: N·(d+1).</summary>
    public int Elements => Points * (Dims + 1);
}

/// <summary>
/// Builds <see cref="LatticeTables{T}"/> from features (N, d), point-major. The embedding of each point is the
/// reference's (densecrf/src/permutohedral.cpp, its SSE path): elevate f·scale into the hyperplane, round each
/// coordinate to the nearest multiple of d+1 (ties to even), rank the remainders, wrap the coordinate sum back to 0,
/// barycentric weights, and the d+1 simplex vertices as canonical offsets from the rounded point. Points are embedded
/// in parallel; vertices are then numbered sequentially in element order (a hash table of 16-bit coordinate keys), so
/// the tables are the same on every machine. Neighbour lookups run in parallel.
/// </summary>
public static class LatticeBuilder
{
    /// <summary>Builds the lattice. Throws naming the point on a non-finite feature or when a lattice coordinate leaves
    /// the 16-bit key range of the reference (features too large: divide by a larger sigma).</summary>
    public static LatticeTables<T> Build<T>(ReadOnlySpan<T> features, int points, int dims)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (dims < 1 || dims > LatticeMath.MaxDims)
            throw new ArgumentException($"permutohedral lattice: feature dimension {dims} is outside 1..{LatticeMath.MaxDims}");
        if (points < 1) throw new ArgumentException($"permutohedral lattice: needs at least one point, got {points}");
        if (features.Length != (long)points * dims)
            throw new ArgumentException($"permutohedral lattice: {features.Length} feature values for {points} points of dimension {dims}");
        int d = dims, d1 = d + 1;
        long elements = (long)points * d1;
        if (elements > int.MaxValue / 2) throw new ArgumentException($"permutohedral lattice: {points} points of dimension {dims} are too many");
        int e = (int)elements;

        var weights = new T[e];
        var packed = new UInt128[e];
        var featureArray = features.ToArray();   // the parallel body cannot capture a span
        int badPoint = -1;
        CpuParallel.For(points, 40L * d1, 1, (p0, p1) =>
        {
            Span<int> keys = stackalloc int[LatticeMath.MaxDims * (LatticeMath.MaxDims + 1)];
            var scratch = new Embedding<T>.Scratch(stackalloc T[4 * (LatticeMath.MaxDims + 2)], stackalloc int[2 * (LatticeMath.MaxDims + 1)]);
            Span<T> scale = stackalloc T[LatticeMath.MaxDims];
            Embedding<T>.Scales(d, scale);
            for (int p = (int)p0; p < (int)p1; p++)
            {
                var f = featureArray.AsSpan(p * d, d);
                foreach (var v in f)
                    if (!T.IsFinite(v)) { Interlocked.CompareExchange(ref badPoint, p, -1); return; }
                if (!Embedding<T>.Embed(f, d, scale, keys, weights.AsSpan(p * d1, d1), scratch))
                {
                    Interlocked.CompareExchange(ref badPoint, p + points, -1);   // out of the key range
                    return;
                }
                for (int r = 0; r < d1; r++) packed[p * d1 + r] = Pack(keys.Slice(r * d, d));
            }
        });
        if (badPoint >= 0)
        {
            if (badPoint < points)
                throw new ArgumentException($"permutohedral lattice: point {badPoint} has a non-finite feature ({FormatPoint(features, badPoint, d)})");
            int p = badPoint - points;
            throw new ArgumentException($"permutohedral lattice: the features of point {p} ({FormatPoint(features, p, d)}) are too large: " +
                $"a lattice coordinate leaves the 16-bit key range (|coordinate| ≤ {short.MaxValue}); scale the features down (larger sigmas)");
        }

        // Number the vertices in element order (a linear-probing hash table keyed by the packed coordinates).
        var offsets = new int[e];
        var table = new KeyTable(Math.Max(16, points));
        for (int i = 0; i < e; i++) offsets[i] = table.FindOrAdd(packed[i]);
        int m = table.Count;

        // Gather lists: a stable counting sort of the elements by vertex.
        var starts = new int[m + 1];
        foreach (int v in offsets) starts[v + 1]++;
        for (int v = 0; v < m; v++) starts[v + 1] += starts[v];
        var order = new int[e];
        var fill = starts.AsSpan(0, m).ToArray();
        for (int i = 0; i < e; i++) order[fill[offsets[i]]++] = i;

        // Keys and blur neighbours: along direction j the neighbours are key ∓ 1 with component j ± d instead (for j < d),
        // i.e. ∓(1, …, 1) ± (d+1)·e_j in (d+1)-space.
        var vertexKeys = new int[m * d];
        for (int v = 0; v < m; v++) Unpack(table.KeyOf(v), vertexKeys.AsSpan(v * d, d));
        var neighbours = new int[d1 * m * 2];
        CpuParallel.For(m, 8L * d1, 1, (v0, v1) =>
        {
            Span<int> n1 = stackalloc int[LatticeMath.MaxDims], n2 = stackalloc int[LatticeMath.MaxDims];
            for (int v = (int)v0; v < (int)v1; v++)
            {
                var key = vertexKeys.AsSpan(v * d, d);
                for (int j = 0; j <= d; j++)
                {
                    for (int k = 0; k < d; k++) { n1[k] = key[k] - 1; n2[k] = key[k] + 1; }
                    if (j < d) { n1[j] = key[j] + d; n2[j] = key[j] - d; }
                    neighbours[(j * m + v) * 2] = Lookup(table, n1[..d], m);
                    neighbours[(j * m + v) * 2 + 1] = Lookup(table, n2[..d], m);
                }
            }
        });

        return new LatticeTables<T>
        {
            Points = points, Dims = d, Vertices = m,
            Offsets = offsets, Weights = weights, Order = order, SegmentStarts = starts,
            Neighbours = neighbours, Keys = vertexKeys,
        };
    }

    static string FormatPoint<T>(ReadOnlySpan<T> features, int p, int d) where T : unmanaged, IFloatingPointIeee754<T>
        => string.Join(", ", features.Slice(p * d, d).ToArray());

    static int Lookup(KeyTable table, ReadOnlySpan<int> key, int missing)
    {
        foreach (int c in key)
            if (c < short.MinValue || c > short.MaxValue) return missing;
        int v = table.Find(Pack(key));
        return v < 0 ? missing : v;
    }

    /// <summary>d ≤ 8 coordinates of 16 bits each (two's complement) in one 128-bit key.</summary>
    static UInt128 Pack(ReadOnlySpan<int> key)
    {
        UInt128 r = 0;
        for (int i = 0; i < key.Length; i++) r |= (UInt128)(ushort)(short)key[i] << (16 * i);
        return r;
    }

    static void Unpack(UInt128 packed, Span<int> key)
    {
        for (int i = 0; i < key.Length; i++) key[i] = (short)(ushort)(packed >> (16 * i));
    }

    /// <summary>Open addressing with linear probing; ids in insertion order; grows at half load.</summary>
    sealed class KeyTable(int expected)
    {
        int[] _slots = NewSlots(expected);
        UInt128[] _keys = new UInt128[Math.Max(16, expected)];
        public int Count { get; private set; }

        static int[] NewSlots(int expected)
        {
            var s = new int[(int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(32, 2 * expected))];
            Array.Fill(s, -1);
            return s;
        }

        static int Hash(UInt128 k, int mask)
        {
            ulong lo = (ulong)k, hi = (ulong)(k >> 64);
            ulong h = lo * 0x9E3779B97F4A7C15UL ^ (hi + 0x632BE59BD9B4E019UL) * 0xC2B2AE3D27D4EB4FUL;
            h ^= h >> 31;
            return (int)h & mask;
        }

        public UInt128 KeyOf(int id) => _keys[id];

        public int Find(UInt128 key)
        {
            var slots = _slots;
            int mask = slots.Length - 1;
            for (int h = Hash(key, mask); ; h = (h + 1) & mask)
            {
                int id = slots[h];
                if (id < 0) return -1;
                if (_keys[id] == key) return id;
            }
        }

        public int FindOrAdd(UInt128 key)
        {
            if (2 * (Count + 1) > _slots.Length) Grow();
            int mask = _slots.Length - 1;
            for (int h = Hash(key, mask); ; h = (h + 1) & mask)
            {
                int id = _slots[h];
                if (id < 0)
                {
                    if (Count == _keys.Length) Array.Resize(ref _keys, 2 * _keys.Length);
                    _keys[Count] = key;
                    _slots[h] = Count;
                    return Count++;
                }
                if (_keys[id] == key) return id;
            }
        }

        void Grow()
        {
            var slots = NewSlots(_slots.Length);   // twice as many slots
            int mask = slots.Length - 1;
            for (int id = 0; id < Count; id++)
            {
                int h = Hash(_keys[id], mask);
                while (slots[h] >= 0) h = (h + 1) & mask;
                slots[h] = id;
            }
            _slots = slots;
        }
    }
}

/// <summary>
/// The embedding of one point (the reference's arithmetic, in T): its d+1 simplex vertices (as d coordinates each)
/// and barycentric weights. The ILGPU kernel (LatticeKernels.Embed) repeats it in float.
/// </summary>
public static class Embedding<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Per-thread scratch: elevated (d+1), the rounded point (d+1), barycentric (d+2), and rank (d+1).</summary>
    public readonly ref struct Scratch(Span<T> values, Span<int> ints)
    {
        public readonly Span<T> Values = values;
        public readonly Span<int> Ints = ints;
    }

    /// <summary>The feature scales in T.</summary>
    public static void Scales(int d, Span<T> scale)
    {
        for (int i = 0; i < d; i++) scale[i] = T.CreateChecked(LatticeMath.Scale(i, d));
    }

    /// <summary>Writes keys (d+1 vertices × d coordinates, vertex-major) and weights (d+1); false when a coordinate leaves
    /// the 16-bit range.</summary>
    public static bool Embed(ReadOnlySpan<T> f, int d, ReadOnlySpan<T> scale, Span<int> keys, Span<T> weights, Scratch s)
    {
        int d1 = d + 1;
        var elevated = s.Values[..d1];
        var rem0 = s.Values.Slice(d1, d1);
        var bary = s.Values.Slice(2 * d1, d1 + 1);
        var rank = s.Ints[..d1];
        T dp1 = T.CreateChecked(d1);
        T invDp1 = T.One / dp1;

        // Elevate: elevated[j] = Σ_{i ≥ j} cf_i − j·cf_{j−1}, elevated[0] = Σ cf_i, cf_i = f_i·scale_i.
        T sm = T.Zero;
        for (int j = d; j > 0; j--)
        {
            T cf = f[j - 1] * scale[j - 1];
            elevated[j] = sm - T.CreateChecked(j) * cf;
            sm += cf;
        }
        elevated[0] = sm;

        // The closest remainder-0 point: round each coordinate to a multiple of d+1 (ties to even, as _mm_cvtps_epi32).
        int sum = 0;
        for (int i = 0; i <= d; i++)
        {
            T v = T.Round(invDp1 * elevated[i], MidpointRounding.ToEven);
            if (!(T.Abs(v) <= T.CreateChecked(1 << 20))) return false;   // far outside the key range (and no overflow below)
            rem0[i] = v * dp1;
            sum += int.CreateChecked(v);
        }

        // Rank of each coordinate's remainder (descending), then wrap the coordinate sum back to 0.
        rank.Clear();
        for (int i = 0; i < d; i++)
        {
            T di = elevated[i] - rem0[i];
            for (int j = i + 1; j <= d; j++)
            {
                if (di < elevated[j] - rem0[j]) rank[i]++;
                else rank[j]++;
            }
        }
        for (int i = 0; i <= d; i++)
        {
            rank[i] += sum;
            if (rank[i] < 0) { rank[i] += d1; rem0[i] += dp1; }
            else if (rank[i] > d) { rank[i] -= d1; rem0[i] -= dp1; }
        }

        // Barycentric coordinates.
        bary.Clear();
        for (int i = 0; i <= d; i++)
        {
            T v = (elevated[i] - rem0[i]) * invDp1;
            bary[d - rank[i]] += v;
            bary[d - rank[i] + 1] -= v;
        }
        bary[0] += T.One + bary[d + 1];
        bary[..d1].CopyTo(weights);

        // Vertex r: rem0 + the canonical simplex's vertex r permuted by rank: +r where rank ≤ d − r, else r − (d+1).
        for (int r = 0; r <= d; r++)
            for (int i = 0; i < d; i++)
            {
                int c = int.CreateChecked(rem0[i]) + (rank[i] <= d - r ? r : r - d1);
                if (c < short.MinValue || c > short.MaxValue) return false;
                keys[r * d + i] = c;
            }
        return true;
    }
}
