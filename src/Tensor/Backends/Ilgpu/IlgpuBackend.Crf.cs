using FsrNative.Kernels;
using FsrNative.Kernels.Gpu;
using ILGPU;
using ILGPU.Runtime;

namespace FsrNative;

public sealed partial class IlgpuBackend
{
    /// <summary>The GPU lattice: device buffers from the backend's caching allocator (ints stored in float words).</summary>
    internal sealed class IlgpuLatticeHandle : PermutohedralLattice
    {
        readonly IlgpuAllocator _allocator;
        readonly MemoryBuffer1D<float, Stride1D.Dense>[] _buffers;

        internal IlgpuLatticeHandle(IlgpuBackend owner, int points, int dims, int vertices,
            MemoryBuffer1D<float, Stride1D.Dense> offsets, MemoryBuffer1D<float, Stride1D.Dense> weights,
            MemoryBuffer1D<float, Stride1D.Dense> order, MemoryBuffer1D<float, Stride1D.Dense> sortedVertex,
            MemoryBuffer1D<float, Stride1D.Dense> starts, MemoryBuffer1D<float, Stride1D.Dense> neighbours)
            : base(owner.Device, DType.Float32, points, dims, vertices)
        {
            Owner = owner;
            _allocator = owner._allocator;
            Offsets = ((ArrayView<float>)offsets.View).Cast<int>();
            Weights = weights.View;
            Order = ((ArrayView<float>)order.View).Cast<int>();
            SortedVertex = ((ArrayView<float>)sortedVertex.View).Cast<int>();
            Starts = ((ArrayView<float>)starts.View).Cast<int>();
            Neighbours = ((ArrayView<float>)neighbours.View).Cast<int>();
            _buffers = [offsets, weights, order, sortedVertex, starts, neighbours];
        }

        internal IlgpuBackend Owner { get; }
        /// <summary>Vertex of each element (N·(d+1)).</summary>
        internal ArrayView<int> Offsets { get; }
        /// <summary>Barycentric weight of each element.</summary>
        internal ArrayView<float> Weights { get; }
        /// <summary>Elements sorted by (vertex, element).</summary>
        internal ArrayView<int> Order { get; }
        /// <summary>Vertex of each sorted position.</summary>
        internal ArrayView<int> SortedVertex { get; }
        /// <summary>First sorted position of each vertex (M + 1).</summary>
        internal ArrayView<int> Starts { get; }
        /// <summary>Blur neighbours ((d+1)·M·2), M = missing.</summary>
        internal ArrayView<int> Neighbours { get; }

        protected override void Release()
        {
            foreach (var b in _buffers) _allocator.Return(b);   // safe while queued kernels still read them: one stream
        }
    }

    public PermutohedralLattice BuildLattice(Tensor features, int points, int dims)
    {
        const string name = "permutohedral_lattice";
        if (dims < 1 || dims > LatticeMath.MaxDims)
            throw new ArgumentException($"{name}: feature dimension {dims} is outside 1..{LatticeMath.MaxDims}");
        if (points < 1) throw new ArgumentException($"{name}: needs at least one point, got {points}");
        CheckCount(features, (long)points * dims, name, "features");
        long elementsLong = (long)points * (dims + 1);
        if (2 * elementsLong > int.MaxValue / 2) throw new ArgumentException($"{name}: {points} points of dimension {dims} are too many");
        int e = (int)elementsLong, d = dims, d1 = d + 1;
        var temps = new List<MemoryBuffer1D<float, Stride1D.Dense>>();   // returned at the end
        var kept = new List<MemoryBuffer1D<float, Stride1D.Dense>>();    // owned by the lattice (returned on failure)
        MemoryBuffer1D<float, Stride1D.Dense> Temp(int words)
        {
            var b = _allocator.Rent(Math.Max(1, words));
            temps.Add(b);
            return b;
        }
        MemoryBuffer1D<float, Stride1D.Dense> Keep(int words)
        {
            var b = _allocator.Rent(Math.Max(1, words));
            kept.Add(b);
            return b;
        }
        bool built = false;
        lock (_gate)
        {
            _acc.Bind();
            try
            {
                var fv = Contig(features, name);

                // Per-axis feature ranges (partial per chunk on the device, finished here): they bound the lattice
                // coordinates, which sets the key packing. A sync point.
                int chunks = (points + LatticeGeometry.RangeChunk - 1) / LatticeGeometry.RangeChunk;
                int items = d * chunks;
                var ranges = Temp(2 * items);
                _k.LatticeFeatureRanges(Grid(items), items, Grid(items), fv, points, d, ranges.View);
                var partial = new float[2 * items];
                ranges.View.SubView(0, 2 * items).CopyToCPU(Stream, partial);
                var lo = new double[d];
                var hi = new double[d];
                for (int axis = 0; axis < d; axis++)
                {
                    lo[axis] = double.PositiveInfinity;
                    hi[axis] = double.NegativeInfinity;
                    for (int c = 0; c < chunks; c++)
                    {
                        float a = partial[2 * (axis * chunks + c)], b = partial[2 * (axis * chunks + c) + 1];
                        if (float.IsNaN(a) || float.IsNaN(b))
                            throw new ArgumentException($"{name}: feature axis {axis} has a non-finite value among points {c * LatticeGeometry.RangeChunk}.." +
                                $"{Math.Min(points, (c + 1) * LatticeGeometry.RangeChunk) - 1}");
                        lo[axis] = Math.Min(lo[axis], a);
                        hi[axis] = Math.Max(hi[axis], b);
                    }
                }
                if (!LatticePacking.TryCreate(lo, hi, out var pack))
                    throw new NotSupportedException($"{name}: the features span too many lattice cells for 64-bit keys on {Device} " +
                        $"(axis ranges {string.Join(", ", Enumerable.Range(0, d).Select(i => $"[{lo[i]:G4}, {hi[i]:G4}]"))}); divide them by larger sigmas");

                var scale = Temp(d);
                var hostScale = new float[d];
                for (int i = 0; i < d; i++) hostScale[i] = (float)LatticeMath.Scale(i, d);
                scale.View.SubView(0, d).CopyFromCPU(Stream, hostScale);

                // Embed, then sort (key, element) by key.
                var keysA = Temp(2 * e); var keysB = Temp(2 * e);
                var elemA = Keep(e); var elemB = Keep(e);
                var weights = Keep(e);
                _k.LatticeEmbed(Grid(points), points, Grid(points), fv, scale.View, pack, Ulongs(keysA), Ints(elemA), weights.View);
                int tiles = (e + LatticeGeometry.SortTile - 1) / LatticeGeometry.SortTile;
                int digits = 1 << LatticeGeometry.SortBits;
                var counts = Temp(digits * tiles);
                var sums = Temp(Math.Max(digits * tiles, e) / LatticeGeometry.ScanBlock + 2);
                var (kIn, kOut, eIn, eOut) = (keysA, keysB, elemA, elemB);
                for (int shift = 0; shift < pack.TotalBits; shift += LatticeGeometry.SortBits)
                {
                    _k.LatticeSortCount(Grid(tiles), tiles, Grid(tiles), Ulongs(kIn), Ints(counts), e, shift);
                    ExclusiveScan(Ints(counts), digits * tiles, Ints(sums));
                    _k.LatticeSortScatter(Grid(tiles), tiles, Grid(tiles), Ulongs(kIn), Ints(eIn), Ulongs(kOut), Ints(eOut), Ints(counts), e, shift);
                    (kIn, kOut, eIn, eOut) = (kOut, kIn, eOut, eIn);
                }
                kept.Remove(eOut);   // the sorted elements are in eIn
                temps.Add(eOut);

                // Vertices: numbered by first appearance in key order. The count M comes back to the host (a sync point).
                var heads = Temp(e);
                _k.LatticeMarkVertices(Grid(e), e, Grid(e), Ulongs(kIn), Ints(heads));
                int blocks = ExclusiveScan(Ints(heads), e, Ints(sums));
                var total = new float[1];
                sums.View.SubView(blocks, 1).CopyToCPU(Stream, total);
                int m = BitConverter.SingleToInt32Bits(total[0]);

                var offsets = Keep(e);
                var sortedVertex = Keep(e);
                var starts = Keep(m + 1);
                var neighbours = Keep(2 * d1 * m);
                var vertexKeys = Temp(2 * m);
                _k.LatticeScatterVertices(Grid(e), e, Grid(e), Ulongs(kIn), Ints(eIn), Ints(heads), Ints(offsets), Ints(sortedVertex),
                    Ints(starts), Ulongs(vertexKeys));
                int pairs = m * d1;
                _k.LatticeNeighbours(Grid(pairs), pairs, Grid(pairs), Ulongs(vertexKeys), m, pack, Ints(neighbours));
                var lattice = new IlgpuLatticeHandle(this, points, d, m, offsets, weights, eIn, sortedVertex, starts, neighbours);
                built = true;
                return lattice;
            }
            finally
            {
                foreach (var b in temps) _allocator.Return(b);   // queued kernels run before any reuse (one stream)
                if (!built) foreach (var b in kept) _allocator.Return(b);
            }
        }
    }

    static ArrayView<int> Ints(MemoryBuffer1D<float, Stride1D.Dense> b) => ((ArrayView<float>)b.View).Cast<int>();
    static ArrayView<ulong> Ulongs(MemoryBuffer1D<float, Stride1D.Dense> b) => ((ArrayView<float>)b.View).Cast<ulong>();

    /// <summary>Exclusive scan of data[0, n) in place; sums needs blocks + 1 words and ends with the total at
    /// sums[blocks]. Returns blocks.</summary>
    int ExclusiveScan(ArrayView<int> data, int n, ArrayView<int> sums)
    {
        int blocks = (n + LatticeGeometry.ScanBlock - 1) / LatticeGeometry.ScanBlock;
        _k.ScanBlockSums(Grid(blocks), blocks, Grid(blocks), data, n, sums);
        _k.ScanSums(1, 1, 1, sums, blocks);
        _k.ScanBlocks(Grid(blocks), blocks, Grid(blocks), data, n, sums);
        return blocks;
    }

    public void LatticeFilter(PermutohedralLattice lattice, Tensor values, Tensor output, int channels, bool reverse, Tensor? scale)
    {
        const string name = "lattice_filter";
        lattice.CheckAlive(name);
        if (lattice is not IlgpuLatticeHandle h || !ReferenceEquals(h.Owner, this))
            throw new ArgumentException($"{name}: {lattice} was not built by this {Device} backend");
        int n = lattice.Points, d1 = lattice.Dims + 1, m = lattice.Vertices;
        CheckCount(values, (long)channels * n, name, "values");
        CheckCount(output, (long)channels * n, name, "output");
        if (scale is not null) CheckCount(scale, n, name, "scale");
        if (channels == 0) return;
        int e = n * d1;
        lock (_gate)
        {
            _acc.Bind();
            var vin = Contig(values, name); var vout = Contig(output, name);
            ArrayView<float> sv = scale is null ? Placeholder : Contig(scale, name);
            var a = _allocator.Rent((m + 1) * channels);
            var b = _allocator.Rent((m + 1) * channels);
            int chunks = (e + LatticeGeometry.SplatChunk - 1) / LatticeGeometry.SplatChunk;
            var pieces = _allocator.Rent(2 * chunks * channels);
            try
            {
                var dims = new LatticeDims { Elements = e, Points = n, Channels = channels, D1 = d1, HasScale = scale is null ? 0 : 1 };
                _k.LatticeZeroRow(Grid(channels), channels, Grid(channels), a.View, b.View, m);
                int splat = chunks * channels;
                _k.LatticeSplatChunks(Grid(splat), splat, Grid(splat), vin, sv, h.Weights, h.Order, h.SortedVertex, h.Starts, a.View, pieces.View, dims);
                int work = m * channels;
                if (work > 0) _k.LatticeSplatCarry(Grid(work), work, Grid(work), h.Starts, pieces.View, a.View, channels);
                var (src, dst) = (a, b);
                for (int step = 0; step < d1; step++)
                {
                    if (work > 0) _k.LatticeBlur(Grid(work), work, Grid(work), src.View, dst.View, h.Neighbours, m, channels, reverse ? d1 - 1 - step : step);
                    (src, dst) = (dst, src);
                }
                int outs = channels * n;
                _k.LatticeSlice(Grid(outs), outs, Grid(outs), src.View, h.Offsets, h.Weights, sv, vout, dims, LatticeMath.Alpha(lattice.Dims));
            }
            finally
            {
                _allocator.Return(a);
                _allocator.Return(b);
                _allocator.Return(pieces);
            }
        }
    }

    public void MeanFieldUpdate(Tensor unary, Tensor? f1, float w1, Tensor? f2, float w2, Tensor q, int labels, int points)
    {
        const string name = "dense_crf_update";
        long count = (long)labels * points;
        CheckCount(unary, count, name, "unary");
        CheckCount(q, count, name, "marginals");
        if (f1 is not null) CheckCount(f1, count, name, "first filtered term");
        if (f2 is not null) CheckCount(f2, count, name, "second filtered term");
        lock (_gate)
        {
            _acc.Bind();
            var uv = Contig(unary, name); var qv = Contig(q, name);
            ArrayView<float> f1v = f1 is null ? Placeholder : Contig(f1, name);
            ArrayView<float> f2v = f2 is null ? Placeholder : Contig(f2, name);
            if (points == 0 || labels == 0) return;
            _k.MeanFieldUpdate(Grid(points), points, Grid(points), uv, f1v, w1, f1 is null ? 0 : 1, f2v, w2, f2 is null ? 0 : 1, qv, labels);
        }
    }

    public void ParAffinity(Tensor image, Tensor position, Tensor weights, int batch, int channels, int h, int w, ParDilations dilations)
    {
        const string name = "par";
        if (channels < 1 || channels > ParMath.MaxChannels)
            throw new ArgumentException($"{name}: the image must have 1 to {ParMath.MaxChannels} channels on {Device}, got {channels}");
        CheckCount(image, (long)batch * channels * h * w, name, "image");
        CheckCount(position, dilations.Neighbours, name, "position weights");
        CheckCount(weights, (long)batch * dilations.Neighbours * h * w, name, "affinity weights");
        lock (_gate)
        {
            _acc.Bind();
            var iv = Contig(image, name); var pv = Contig(position, name); var wv = Contig(weights, name);
            int n = batch * h * w;
            if (n == 0) return;
            _k.ParAffinity(Grid(n), n, Grid(n), iv, pv, wv, channels, h, w, dilations);
        }
    }

    public void ParPropagate(Tensor weights, Tensor q, Tensor output, int batch, int planes, int h, int w, ParDilations dilations)
    {
        const string name = "par";
        CheckCount(weights, (long)batch * dilations.Neighbours * h * w, name, "affinity weights");
        CheckCount(q, (long)batch * planes * h * w, name, "probabilities");
        CheckCount(output, (long)batch * planes * h * w, name, "output");
        lock (_gate)
        {
            _acc.Bind();
            var wv = Contig(weights, name); var qv = Contig(q, name); var ov = Contig(output, name);
            int n = batch * planes * h * w;
            if (n == 0) return;
            _k.ParPropagate(Grid(n), n, Grid(n), wv, qv, ov, planes, h, w, dilations);
        }
    }
}
