using FsrNative.Kernels;
using FsrNative.Kernels.Gpu;
using ILGPU;
using ILGPU.Runtime;

namespace FsrNative;

/// <summary>Launch delegates of the CRF family (LatticeKernels, CrfKernels).</summary>
internal sealed partial class IlgpuKernels
{
    // ---- permutohedral lattice: construction ----------------------------------------------------------------------
    internal Action<Index1D, int, int, ArrayView<float>, int, int, ArrayView<float>> LatticeFeatureRanges
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, int, int, ArrayView<float>>(LatticeKernels.FeatureRanges);
    internal Action<Index1D, int, int, ArrayView<float>, ArrayView<float>, LatticePacking, ArrayView<ulong>, ArrayView<int>, ArrayView<float>> LatticeEmbed
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, LatticePacking, ArrayView<ulong>, ArrayView<int>, ArrayView<float>>(LatticeKernels.Embed);
    internal Action<Index1D, int, int, ArrayView<ulong>, ArrayView<int>, int, int> LatticeSortCount
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<ulong>, ArrayView<int>, int, int>(LatticeKernels.SortCount);
    internal Action<Index1D, int, int, ArrayView<ulong>, ArrayView<int>, ArrayView<ulong>, ArrayView<int>, ArrayView<int>, int, int> LatticeSortScatter
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<ulong>, ArrayView<int>, ArrayView<ulong>, ArrayView<int>, ArrayView<int>, int, int>(LatticeKernels.SortScatter);
    internal Action<Index1D, int, int, ArrayView<ulong>, ArrayView<int>> LatticeMarkVertices
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<ulong>, ArrayView<int>>(LatticeKernels.MarkVertices);
    internal Action<Index1D, int, int, ArrayView<ulong>, ArrayView<int>, ArrayView<int>, ArrayView<int>, ArrayView<int>, ArrayView<int>, ArrayView<ulong>> LatticeScatterVertices
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<ulong>, ArrayView<int>, ArrayView<int>, ArrayView<int>, ArrayView<int>, ArrayView<int>, ArrayView<ulong>>(LatticeKernels.ScatterVertices);
    internal Action<Index1D, int, int, ArrayView<ulong>, int, LatticePacking, ArrayView<int>> LatticeNeighbours
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<ulong>, int, LatticePacking, ArrayView<int>>(LatticeKernels.Neighbours);
    internal Action<Index1D, int, int, ArrayView<int>, int, ArrayView<int>> ScanBlockSums
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<int>, int, ArrayView<int>>(LatticeKernels.ScanBlockSums);
    internal Action<Index1D, int, int, ArrayView<int>, int> ScanSums
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<int>, int>(LatticeKernels.ScanSums);
    internal Action<Index1D, int, int, ArrayView<int>, int, ArrayView<int>> ScanBlocks
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<int>, int, ArrayView<int>>(LatticeKernels.ScanBlocks);

    // ---- permutohedral lattice: filtering -------------------------------------------------------------------------
    internal Action<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>, LatticeDims> LatticeSplatChunks
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>, LatticeDims>(LatticeKernels.SplatChunks);
    internal Action<Index1D, int, int, ArrayView<int>, ArrayView<float>, ArrayView<float>, int> LatticeSplatCarry
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<int>, ArrayView<float>, ArrayView<float>, int>(LatticeKernels.SplatCarry);
    internal Action<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<int>, int, int, int> LatticeBlur
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<int>, int, int, int>(LatticeKernels.Blur);
    internal Action<Index1D, int, int, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, LatticeDims, float> LatticeSlice
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, LatticeDims, float>(LatticeKernels.Slice);
    internal Action<Index1D, int, int, ArrayView<float>, ArrayView<float>, int> LatticeZeroRow
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, int>(LatticeKernels.ZeroRow);

    // ---- dense CRF and PAR ----------------------------------------------------------------------------------------
    internal Action<Index1D, int, int, ArrayView<float>, ArrayView<float>, float, int, ArrayView<float>, float, int, ArrayView<float>, int> MeanFieldUpdate
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, float, int, ArrayView<float>, float, int, ArrayView<float>, int>(CrfKernels.MeanFieldUpdate);
    internal Action<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, ParDilations> ParAffinity
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, ParDilations>(CrfKernels.ParAffinity);
    internal Action<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, ParDilations> ParPropagate
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, ParDilations>(CrfKernels.ParPropagate);
}
