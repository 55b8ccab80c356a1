// The permutohedral lattice on the GPU (definition: Cpu/Reference/ReferenceCrf.cs, Cpu/Crf/LatticeTables.cs). Sort-based
// construction instead of the reference's hash table, so that nothing depends on thread timing:
//  1. Embed: one thread per point computes its d+1 simplex vertices and barycentric weights (the reference's float
//     arithmetic) and packs each vertex's d coordinates into one 64-bit key, (c_i − min_i) << shift_i, with per-axis
//     ranges the host derives from the features' per-axis minima and maxima (LatticePacking); element e = p·(d+1) + r.
//  2. Stable LSD radix sort of (key, e) by key, 4 bits per pass over the packed width: SortCount (one thread per tile of
//     SortTile consecutive elements counts its 16 digits), an exclusive scan of the digit-major (digit, tile) counts,
//     SortScatter (each tile thread walks its tile again, in order, and writes each element at its digit's running
//     offset). Stable, so equal keys keep ascending element (= point) order.
//  3. MarkVertices + scan: vertex ids by first appearance in key order; ScatterVertices writes each element's vertex,
//     the segment starts (vertex v owns sorted positions [start(v), start(v+1))) and the vertex keys (sorted).
//  4. Neighbours: one thread per (vertex, direction) unpacks its key, forms the ∓1 / ±d neighbours and finds them by
//     binary search in the sorted vertex keys (M = missing, the zero row).
// Filtering, values (M+1, K) vertex-major with row M kept zero:
//  * SplatChunks + SplatCarry: a deterministic segmented sum (no atomics). The sorted element list is cut into chunks of
//    SplatChunk elements; one thread per (chunk, channel) sums each segment piece in its chunk in order and writes a
//    segment that lies inside the chunk directly, else its piece (head piece: the segment started before the chunk;
//    tail piece: it starts here and runs on). SplatCarry, one thread per (vertex, channel) of a segment that crosses a
//    chunk boundary, adds its tail piece and the head pieces of the following chunks in order. Each segment's sum runs
//    in point order, so long segments (flat image regions) cost O(chunk + chunks spanned) per thread.
//  * Blur: one thread per (vertex, channel) per direction, ping-pong buffers.
//  * Slice: one thread per (channel, point), planar output (coalesced), times the optional symmetric scale.
// Scans (ScanBlockSums / ScanSums / ScanBlocks): one thread per block of ScanBlock ints summed sequentially, one thread
// scanning the block sums (and writing the total after them), one thread per block writing its exclusive prefix.
// All kernels are implicitly grouped and grid-stride; no shared memory; integer work only in the construction; the
// only local memory is the per-thread arrays of Embed (4 × 10 words) and of the sort (16 counters).
using ILGPU;

namespace FsrNative.Kernels.Gpu;

/// <summary>How a vertex's d lattice coordinates are packed into one 64-bit key: coordinate i is stored as
/// c_i − Min(i) in Bits(i) bits at bit Shift(i). Built on the host from the features' per-axis ranges.</summary>
public struct LatticePacking
{
    public int Dims;
    public int TotalBits;
    public int Min0, Min1, Min2, Min3, Min4, Min5, Min6, Min7;
    public int Bits0, Bits1, Bits2, Bits3, Bits4, Bits5, Bits6, Bits7;
    public int Shift0, Shift1, Shift2, Shift3, Shift4, Shift5, Shift6, Shift7;

    public readonly int Min(int i) => i switch { 0 => Min0, 1 => Min1, 2 => Min2, 3 => Min3, 4 => Min4, 5 => Min5, 6 => Min6, _ => Min7 };
    public readonly int Bits(int i) => i switch { 0 => Bits0, 1 => Bits1, 2 => Bits2, 3 => Bits3, 4 => Bits4, 5 => Bits5, 6 => Bits6, _ => Bits7 };
    public readonly int Shift(int i) => i switch { 0 => Shift0, 1 => Shift1, 2 => Shift2, 3 => Shift3, 4 => Shift4, 5 => Shift5, 6 => Shift6, _ => Shift7 };

    /// <summary>
    /// The packing for features whose axis i lies in [lo[i], hi[i]]: bounds of every lattice coordinate from interval
    /// arithmetic on the elevation (plus the rounding, wrap-around and simplex offsets, and a margin), then the fewest
    /// bits per axis. Returns false when the bounds need more than 64 bits (features spread over too many lattice cells).
    /// </summary>
    public static bool TryCreate(ReadOnlySpan<double> lo, ReadOnlySpan<double> hi, out LatticePacking packing)
    {
        int d = lo.Length;
        packing = new LatticePacking { Dims = d };
        Span<int> mins = stackalloc int[LatticeMath.MaxDims], bits = stackalloc int[LatticeMath.MaxDims];
        int total = 0;
        for (int j = 0; j < d; j++)
        {
            // elevated[j] = Σ_{i ≥ j} cf_i − j·cf_{j−1} (j ≥ 1), elevated[0] = Σ_i cf_i, cf_i = f_i·scale_i.
            double eLo = 0, eHi = 0;
            for (int i = j; i < d; i++) { eLo += lo[i] * LatticeMath.Scale(i, d); eHi += hi[i] * LatticeMath.Scale(i, d); }
            if (j > 0) { eLo -= j * hi[j - 1] * LatticeMath.Scale(j - 1, d); eHi -= j * lo[j - 1] * LatticeMath.Scale(j - 1, d); }
            double margin = 3.0 * (d + 1) + 2 + 1e-4 * Math.Max(Math.Abs(eLo), Math.Abs(eHi));
            double cLo = Math.Floor(eLo - margin), cHi = Math.Ceiling(eHi + margin);
            if (!(cHi - cLo < 1 << 30)) return false;
            mins[j] = (int)cLo;
            bits[j] = Math.Max(1, 64 - System.Numerics.BitOperations.LeadingZeroCount((ulong)(cHi - cLo)));
            total += bits[j];
        }
        if (total > 64) return false;
        int shift = 0;
        for (int j = 0; j < LatticeMath.MaxDims; j++)
        {
            int m = j < d ? mins[j] : 0, b = j < d ? bits[j] : 0;
            switch (j)
            {
                case 0: packing.Min0 = m; packing.Bits0 = b; packing.Shift0 = shift; break;
                case 1: packing.Min1 = m; packing.Bits1 = b; packing.Shift1 = shift; break;
                case 2: packing.Min2 = m; packing.Bits2 = b; packing.Shift2 = shift; break;
                case 3: packing.Min3 = m; packing.Bits3 = b; packing.Shift3 = shift; break;
                case 4: packing.Min4 = m; packing.Bits4 = b; packing.Shift4 = shift; break;
                case 5: packing.Min5 = m; packing.Bits5 = b; packing.Shift5 = shift; break;
                case 6: packing.Min6 = m; packing.Bits6 = b; packing.Shift6 = shift; break;
                default: packing.Min7 = m; packing.Bits7 = b; packing.Shift7 = shift; break;
            }
            shift += b;
        }
        packing.TotalBits = total;
        return true;
    }
}

/// <summary>Sizes of one filter call, passed by value to the splat and slice kernels.</summary>
public struct LatticeDims
{
    /// <summary>N·(d+1).</summary>
    public int Elements;
    public int Points;
    public int Channels;
    /// <summary>d + 1.</summary>
    public int D1;
    /// <summary>1 when the values are multiplied by a per-point scale before the splat and after the slice.</summary>
    public int HasScale;
}

/// <summary>Sizes of the filter's work items (fixed: results never depend on the device).</summary>
public static class LatticeGeometry
{
    /// <summary>Elements per radix-sort tile (one thread each).</summary>
    public const int SortTile = 64;
    /// <summary>Radix bits per sort pass (16 digits).</summary>
    public const int SortBits = 4;
    /// <summary>Sorted elements per splat chunk.</summary>
    public const int SplatChunk = 32;
    /// <summary>Points per feature-range chunk.</summary>
    public const int RangeChunk = 1024;
    /// <summary>Ints per scan block.</summary>
    public const int ScanBlock = 1024;
}

public static class LatticeKernels
{
    // ---- construction ---------------------------------------------------------------------------------------------

    /// <summary>Per (axis, chunk of RangeChunk points), item = axis·chunks + chunk (n = d·chunks): the minimum and
    /// maximum of that axis over the chunk to ranges[2·item], [2·item + 1]; both NaN when a value is not finite.</summary>
    [GpuKernel]
    public static void FeatureRanges(Index1D index, int n, int step, ArrayView<float> features, int points, int d, ArrayView<float> ranges)
    {
        int chunks = (points + LatticeGeometry.RangeChunk - 1) / LatticeGeometry.RangeChunk;
        for (int item = index; item < n; item += step)
        {
            int axis = item / chunks, chunk = item - axis * chunks;
            int end = IntrinsicMath.Min(points, (chunk + 1) * LatticeGeometry.RangeChunk);
            float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
            bool bad = false;
            for (int p = chunk * LatticeGeometry.RangeChunk; p < end; p++)
            {
                float v = features[p * d + axis];
                if (!(MathF.Abs(v) <= float.MaxValue)) bad = true;
                lo = v < lo ? v : lo;
                hi = v > hi ? v : hi;
            }
            ranges[2 * item] = bad ? float.NaN : lo;
            ranges[2 * item + 1] = bad ? float.NaN : hi;
        }
    }

    /// <summary>Per point p (n = N): the d+1 vertices of its simplex as packed keys, element ids, barycentric weights.
    /// keys/elements/weights are (N·(d+1)); scale holds the d feature scales (LatticeMath.Scale, in float).</summary>
    [GpuKernel]
    public static void Embed(Index1D index, int n, int step, ArrayView<float> features, ArrayView<float> scale, LatticePacking pack,
        ArrayView<ulong> keys, ArrayView<int> elements, ArrayView<float> weights)
    {
        int d = pack.Dims, d1 = d + 1;
        var elevated = LocalMemory.Allocate<float>(LatticeMath.MaxDims + 1);
        var rem0 = LocalMemory.Allocate<float>(LatticeMath.MaxDims + 1);
        var bary = LocalMemory.Allocate<float>(LatticeMath.MaxDims + 2);
        var rank = LocalMemory.Allocate<int>(LatticeMath.MaxDims + 1);
        float dp1 = d1, invDp1 = 1f / d1;
        for (int p = index; p < n; p += step)
        {
            float sm = 0f;
            for (int j = d; j > 0; j--)
            {
                float cf = features[p * d + j - 1] * scale[j - 1];
                elevated[j] = sm - j * cf;
                sm += cf;
            }
            elevated[0] = sm;
            int sum = 0;
            for (int i = 0; i <= d; i++)
            {
                float v = MathF.Round(invDp1 * elevated[i]);   // ties to even, as the reference's SSE rounding
                rem0[i] = v * dp1;
                sum += (int)v;
                rank[i] = 0;
            }
            for (int i = 0; i < d; i++)
            {
                float di = elevated[i] - rem0[i];
                for (int j = i + 1; j <= d; j++)
                {
                    if (di < elevated[j] - rem0[j]) rank[i] += 1;
                    else rank[j] += 1;
                }
            }
            for (int i = 0; i <= d; i++)
            {
                int r = rank[i] + sum;
                if (r < 0) { r += d1; rem0[i] += dp1; }
                else if (r > d) { r -= d1; rem0[i] -= dp1; }
                rank[i] = r;
            }
            for (int i = 0; i <= d + 1; i++) bary[i] = 0f;
            for (int i = 0; i <= d; i++)
            {
                float v = (elevated[i] - rem0[i]) * invDp1;
                bary[d - rank[i]] += v;
                bary[d - rank[i] + 1] -= v;
            }
            bary[0] += 1f + bary[d + 1];
            for (int r = 0; r <= d; r++)
            {
                ulong key = 0;
                for (int i = 0; i < d; i++)
                {
                    int c = (int)rem0[i] + (rank[i] <= d - r ? r : r - d1);
                    key |= (ulong)(uint)(c - pack.Min(i)) << pack.Shift(i);
                }
                int e = p * d1 + r;
                keys[e] = key;
                elements[e] = e;
                weights[e] = bary[r];
            }
        }
    }

    /// <summary>Radix pass, counting: counts[digit·tiles + tile] = how many keys of the tile have that 4-bit digit at
    /// <paramref name="shift"/>; n = tiles.</summary>
    [GpuKernel]
    public static void SortCount(Index1D index, int n, int step, ArrayView<ulong> keys, ArrayView<int> counts, int total, int shift)
    {
        var count = LocalMemory.Allocate<int>(1 << LatticeGeometry.SortBits);
        for (int tile = index; tile < n; tile += step)
        {
            for (int b = 0; b < 1 << LatticeGeometry.SortBits; b++) count[b] = 0;
            int end = IntrinsicMath.Min(total, (tile + 1) * LatticeGeometry.SortTile);
            for (int i = tile * LatticeGeometry.SortTile; i < end; i++)
                count[(int)(keys[i] >> shift) & ((1 << LatticeGeometry.SortBits) - 1)] += 1;
            for (int b = 0; b < 1 << LatticeGeometry.SortBits; b++) counts[b * n + tile] = count[b];
        }
    }

    /// <summary>Radix pass, scattering: each tile (n = tiles) writes its keys and element ids, in order, from the
    /// exclusive-scanned counts (the first position of each digit of the tile).</summary>
    [GpuKernel]
    public static void SortScatter(Index1D index, int n, int step, ArrayView<ulong> keysIn, ArrayView<int> elementsIn,
        ArrayView<ulong> keysOut, ArrayView<int> elementsOut, ArrayView<int> offsets, int total, int shift)
    {
        var position = LocalMemory.Allocate<int>(1 << LatticeGeometry.SortBits);
        for (int tile = index; tile < n; tile += step)
        {
            for (int b = 0; b < 1 << LatticeGeometry.SortBits; b++) position[b] = offsets[b * n + tile];
            int end = IntrinsicMath.Min(total, (tile + 1) * LatticeGeometry.SortTile);
            for (int i = tile * LatticeGeometry.SortTile; i < end; i++)
            {
                ulong key = keysIn[i];
                int b = (int)(key >> shift) & ((1 << LatticeGeometry.SortBits) - 1);
                int at = position[b];
                position[b] = at + 1;
                keysOut[at] = key;
                elementsOut[at] = elementsIn[i];
            }
        }
    }

    /// <summary>heads[i] = 1 where sorted key i differs from key i − 1 (a new vertex), else 0; n = elements.</summary>
    [GpuKernel]
    public static void MarkVertices(Index1D index, int n, int step, ArrayView<ulong> keys, ArrayView<int> heads)
    {
        for (int i = index; i < n; i += step)
            heads[i] = i == 0 || keys[i] != keys[i - 1] ? 1 : 0;
    }

    /// <summary>From the exclusive scan of the heads: the vertex of each sorted element (sortedVertex), of each element
    /// (offsets, by element id), each vertex's first sorted position (starts, with starts[M] = n) and key; n = elements.</summary>
    [GpuKernel]
    public static void ScatterVertices(Index1D index, int n, int step, ArrayView<ulong> keys, ArrayView<int> elements, ArrayView<int> scan,
        ArrayView<int> offsets, ArrayView<int> sortedVertex, ArrayView<int> starts, ArrayView<ulong> vertexKeys)
    {
        for (int i = index; i < n; i += step)
        {
            bool head = i == 0 || keys[i] != keys[i - 1];
            int v = scan[i] + (head ? 1 : 0) - 1;
            sortedVertex[i] = v;
            offsets[elements[i]] = v;
            if (head)
            {
                starts[v] = i;
                vertexKeys[v] = keys[i];
            }
            if (i == n - 1) starts[v + 1] = n;
        }
    }

    /// <summary>Blur neighbours of every (vertex, direction): n = M·(d+1), item = j·M + v; writes the vertices at −1 and
    /// +1 steps along direction j to neighbours[2·item], [2·item + 1], or M where there is none.</summary>
    [GpuKernel]
    public static void Neighbours(Index1D index, int n, int step, ArrayView<ulong> vertexKeys, int m, LatticePacking pack, ArrayView<int> neighbours)
    {
        int d = pack.Dims;
        for (int item = index; item < n; item += step)
        {
            int j = item / m, v = item - j * m;
            ulong key = vertexKeys[v];
            ulong k1 = 0, k2 = 0;
            bool ok1 = true, ok2 = true;
            for (int i = 0; i < d; i++)
            {
                int bits = pack.Bits(i), shift = pack.Shift(i);
                long limit = 1L << bits;
                long c = (long)((key >> shift) & (ulong)(limit - 1));   // coordinate − Min(i)
                long c1 = i == j ? c + d : c - 1;
                long c2 = i == j ? c - d : c + 1;
                if (c1 < 0 || c1 >= limit) ok1 = false; else k1 |= (ulong)c1 << shift;
                if (c2 < 0 || c2 >= limit) ok2 = false; else k2 |= (ulong)c2 << shift;
            }
            neighbours[2 * item] = ok1 ? Find(vertexKeys, m, k1) : m;
            neighbours[2 * item + 1] = ok2 ? Find(vertexKeys, m, k2) : m;
        }
    }

    /// <summary>Binary search of a sorted key array; m when absent.</summary>
    static int Find(ArrayView<ulong> sorted, int m, ulong key)
    {
        int lo = 0, hi = m;
        while (lo < hi)
        {
            int mid = (lo + hi) >> 1;
            if (sorted[mid] < key) lo = mid + 1;
            else hi = mid;
        }
        return lo < m && sorted[lo] == key ? lo : m;
    }

    // ---- scans ----------------------------------------------------------------------------------------------------

    /// <summary>sums[b] = Σ of block b (ScanBlock ints of data[0, total)); n = blocks.</summary>
    [GpuKernel]
    public static void ScanBlockSums(Index1D index, int n, int step, ArrayView<int> data, int total, ArrayView<int> sums)
    {
        for (int b = index; b < n; b += step)
        {
            int end = IntrinsicMath.Min(total, (b + 1) * LatticeGeometry.ScanBlock);
            int s = 0;
            for (int i = b * LatticeGeometry.ScanBlock; i < end; i++) s += data[i];
            sums[b] = s;
        }
    }

    /// <summary>One thread (n = 1): exclusive scan of sums[0, blocks) in place, total written to sums[blocks].</summary>
    [GpuKernel]
    public static void ScanSums(Index1D index, int n, int step, ArrayView<int> sums, int blocks)
    {
        if (index >= n) return;
        int running = 0;
        for (int b = 0; b < blocks; b++)
        {
            int v = sums[b];
            sums[b] = running;
            running += v;
        }
        sums[blocks] = running;
    }

    /// <summary>Exclusive scan of data[0, total) in place, block b starting from sums[b]; n = blocks.</summary>
    [GpuKernel]
    public static void ScanBlocks(Index1D index, int n, int step, ArrayView<int> data, int total, ArrayView<int> sums)
    {
        for (int b = index; b < n; b += step)
        {
            int end = IntrinsicMath.Min(total, (b + 1) * LatticeGeometry.ScanBlock);
            int running = sums[b];
            for (int i = b * LatticeGeometry.ScanBlock; i < end; i++)
            {
                int v = data[i];
                data[i] = running;
                running += v;
            }
        }
    }

    // ---- filtering ------------------------------------------------------------------------------------------------

    /// <summary>Splat, pass 1: item = chunk·K + channel (n = chunks·K). Sums each segment piece of the chunk in order:
    /// complete segments go to values[v·K + c]; pieces of crossing segments to pieces[2·item] (head: the segment began
    /// before the chunk) or pieces[2·item + 1] (tail: it begins in the chunk and continues). Input planar (K, N), times
    /// scale[p] when dims.HasScale ≠ 0.</summary>
    [GpuKernel]
    public static void SplatChunks(Index1D index, int n, int step, ArrayView<float> input, ArrayView<float> scale,
        ArrayView<float> weights, ArrayView<int> order, ArrayView<int> sortedVertex, ArrayView<int> starts,
        ArrayView<float> values, ArrayView<float> pieces, LatticeDims dims)
    {
        int total = dims.Elements, points = dims.Points, channels = dims.Channels, d1 = dims.D1, hasScale = dims.HasScale;
        for (int item = index; item < n; item += step)
        {
            int chunk = item / channels, c = item - chunk * channels;
            int i0 = chunk * LatticeGeometry.SplatChunk, i1 = IntrinsicMath.Min(total, i0 + LatticeGeometry.SplatChunk);
            int i = i0;
            while (i < i1)
            {
                int v = sortedVertex[i];
                int s = starts[v], e = starts[v + 1];
                int stop = IntrinsicMath.Min(e, i1);
                float acc = 0f;
                for (; i < stop; i++)
                {
                    int el = order[i];
                    int p = el / d1;
                    float x = input[c * points + p];
                    if (hasScale != 0) x *= scale[p];
                    acc += weights[el] * x;
                }
                if (s < i0) pieces[2 * item] = acc;
                else if (e > i1) pieces[2 * item + 1] = acc;
                else values[v * channels + c] = acc;
            }
        }
    }

    /// <summary>Splat, pass 2: item = v·K + channel (n = M·K). For a segment that crosses chunks: its tail piece plus the
    /// head pieces of the following chunks, in order.</summary>
    [GpuKernel]
    public static void SplatCarry(Index1D index, int n, int step, ArrayView<int> starts, ArrayView<float> pieces, ArrayView<float> values, int channels)
    {
        for (int item = index; item < n; item += step)
        {
            int v = item / channels, c = item - v * channels;
            int s = starts[v], e = starts[v + 1];
            int c0 = s / LatticeGeometry.SplatChunk, c1 = (e - 1) / LatticeGeometry.SplatChunk;
            if (c0 == c1) continue;
            float acc = pieces[2 * (c0 * channels + c) + 1];
            for (int chunk = c0 + 1; chunk <= c1; chunk++) acc += pieces[2 * (chunk * channels + c)];
            values[item] = acc;
        }
    }

    /// <summary>Blur along direction j: dst[v, c] = src[v, c] + ½(src[n1, c] + src[n2, c]); n = M·K (row M stays zero).</summary>
    [GpuKernel]
    public static void Blur(Index1D index, int n, int step, ArrayView<float> src, ArrayView<float> dst, ArrayView<int> neighbours,
        int m, int channels, int j)
    {
        for (int item = index; item < n; item += step)
        {
            int v = item / channels, c = item - v * channels;
            int n1 = neighbours[2 * (j * m + v)], n2 = neighbours[2 * (j * m + v) + 1];
            dst[item] = src[item] + 0.5f * (src[n1 * channels + c] + src[n2 * channels + c]);
        }
    }

    /// <summary>Slice: output[c, p] = (Σ_r (weight·α)·values[vertex, c])·scale[p]; item = c·N + p, n = K·N.</summary>
    [GpuKernel]
    public static void Slice(Index1D index, int n, int step, ArrayView<float> values, ArrayView<int> offsets, ArrayView<float> weights,
        ArrayView<float> scale, ArrayView<float> output, LatticeDims dims, float alpha)
    {
        int points = dims.Points, channels = dims.Channels, d1 = dims.D1, hasScale = dims.HasScale;
        for (int item = index; item < n; item += step)
        {
            int c = item / points, p = item - c * points;
            float acc = 0f;
            for (int r = 0; r < d1; r++)
            {
                int e = p * d1 + r;
                acc += weights[e] * alpha * values[offsets[e] * channels + c];
            }
            output[item] = hasScale != 0 ? acc * scale[p] : acc;
        }
    }

    /// <summary>values[M·K + c] = 0 (the zero row of missing neighbours); n = K.</summary>
    [GpuKernel]
    public static void ZeroRow(Index1D index, int n, int step, ArrayView<float> a, ArrayView<float> b, int m)
    {
        for (int c = index; c < n; c += step)
        {
            a[m * n + c] = 0f;
            b[m * n + c] = 0f;
        }
    }
}
