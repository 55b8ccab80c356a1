using FsrNative.Kernels;
using FsrNative.Kernels.Gpu;
using ILGPU;
using ILGPU.Runtime;

namespace FsrNative;

/// <summary>
/// The kernels of one accelerator, each compiled on first use and then kept as a launch delegate in a field (ILGPU
/// compiles per accelerator: ≈250 ms for the first kernel, a few ms for each later one). Implicitly grouped kernels
/// are loaded with <c>LoadAutoGroupedStreamKernel</c> (launched with an element count), explicitly grouped ones with
/// <c>LoadStreamKernel</c> (launched with a <see cref="KernelConfig"/>); all run on the default stream. Not
/// thread-safe by itself: the backend calls it under its lock.
/// </summary>
internal sealed partial class IlgpuKernels(Accelerator acc)
{
    // ---- copy / fill / cast -------------------------------------------------------------------------------------
    internal Action<Index1D, int, int, ArrayView<float>, float> FillContiguous
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, float>(CopyKernels.FillContiguous);
    internal Action<Index1D, int, int, ArrayView<float>, StridedLayout, float> FillStrided
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, StridedLayout, float>(CopyKernels.FillStrided);
    internal Action<Index1D, int, int, ArrayView<float>, StridedLayout, ArrayView<float>, StridedLayout> CopyStrided
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, StridedLayout, ArrayView<float>, StridedLayout>(CopyKernels.CopyStrided);
    internal Action<Index1D, int, int, ArrayView<int>, StridedLayout, ArrayView<float>> CastInt32ToFloat
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<int>, StridedLayout, ArrayView<float>>(CopyKernels.CastInt32ToFloat);
    internal Action<Index1D, int, int, ArrayView<float>, StridedLayout, ArrayView<int>, ArrayView<int>> CastFloatToInt32
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, StridedLayout, ArrayView<int>, ArrayView<int>>(CopyKernels.CastFloatToInt32);

    // ---- elementwise --------------------------------------------------------------------------------------------
    internal Action<Index1D, int, int, ArrayView<float>, ArrayView<float>, UnaryOp, float, float> UnaryContiguous
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, UnaryOp, float, float>(ElementwiseKernels.UnaryContiguous);
    internal Action<Index1D, int, int, ArrayView<float>, StridedLayout, ArrayView<float>, UnaryOp, float, float> UnaryStrided
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, StridedLayout, ArrayView<float>, UnaryOp, float, float>(ElementwiseKernels.UnaryStrided);
    internal Action<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, UnaryOp, float, float> UnaryBackward
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, UnaryOp, float, float>(ElementwiseKernels.UnaryBackward);
    internal Action<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, BinaryOp> BinaryContiguous
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, BinaryOp>(ElementwiseKernels.BinaryContiguous);
    internal Action<Index1D, int, int, ArrayView<float>, StridedLayout, ArrayView<float>, StridedLayout, ArrayView<float>, BinaryOp> BinaryStrided
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, StridedLayout, ArrayView<float>, StridedLayout, ArrayView<float>, BinaryOp>(ElementwiseKernels.BinaryStrided);
    internal Action<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>> WhereContiguous
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(ElementwiseKernels.WhereContiguous);
    internal Action<Index1D, int, int, ArrayView<float>, StridedLayout, ArrayView<float>, StridedLayout, ArrayView<float>, StridedLayout, ArrayView<float>> WhereStrided
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, StridedLayout, ArrayView<float>, StridedLayout, ArrayView<float>, StridedLayout, ArrayView<float>>(ElementwiseKernels.WhereStrided);

    // ---- reductions ---------------------------------------------------------------------------------------------
    internal Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, int, ReduceOp> ReduceRows
        => field ??= acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, int, ReduceOp>(ReduceKernels.ReduceRows);
    internal Action<Index1D, int, int, ArrayView<float>, ArrayView<float>, int, int, ReduceOp> ReduceColumns
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, int, int, ReduceOp>(ReduceKernels.ReduceColumns);
    internal Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<int>, int, int, int> ArgReduceRows
        => field ??= acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<int>, int, int, int>(ReduceKernels.ArgReduceRows);
    internal Action<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<int>, int, int, int> ArgReduceColumns
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<int>, int, int, int>(ReduceKernels.ArgReduceColumns);
    internal Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float> VarianceRows
        => field ??= acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float>(ReduceKernels.VarianceRows);
    internal Action<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float> VarianceColumns
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float>(ReduceKernels.VarianceColumns);

    // ---- matmul -------------------------------------------------------------------------------------------------
    internal Action<Index1D, int, int, ArrayView<float>, StridedLayout, ArrayView<float>, StridedLayout, ArrayView<float>, GemmShape> GemmNaive
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, StridedLayout, ArrayView<float>, StridedLayout, ArrayView<float>, GemmShape>(MatmulKernels.GemmNaive);
    internal Action<KernelConfig, ArrayView<float>, StridedLayout, ArrayView<float>, StridedLayout, ArrayView<float>, GemmShape> GemmTiled
        => field ??= acc.LoadStreamKernel<ArrayView<float>, StridedLayout, ArrayView<float>, StridedLayout, ArrayView<float>, GemmShape>(MatmulKernels.GemmTiled);

    // ---- softmax ------------------------------------------------------------------------------------------------
    internal Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, int, int> SoftmaxRows
        => field ??= acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, int, int>(SoftmaxKernels.SoftmaxRows);
    internal Action<Index1D, int, int, ArrayView<float>, ArrayView<float>, int, int, int> SoftmaxColumns
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, int, int, int>(SoftmaxKernels.SoftmaxColumns);
    internal Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int> SoftmaxBackwardRows
        => field ??= acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(SoftmaxKernels.SoftmaxBackwardRows);
    internal Action<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int> SoftmaxBackwardColumns
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(SoftmaxKernels.SoftmaxBackwardColumns);

    // ---- layer norm ---------------------------------------------------------------------------------------------
    internal Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float, int, int> LayerNormRows
        => field ??= acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float, int, int>(LayerNormKernels.LayerNormRows);
    internal Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int> LayerNormBackwardRows
        => field ??= acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(LayerNormKernels.LayerNormBackwardRows);
    internal Action<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int> LayerNormParamGrads
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(LayerNormKernels.LayerNormParamGrads);

    // ---- indexing -----------------------------------------------------------------------------------------------
    internal Action<Index1D, int, int, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int, int, ArrayView<int>> IndexSelect
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int, int, ArrayView<int>>(IndexingKernels.IndexSelect);
    internal Action<Index1D, int, int, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int, int, ArrayView<int>> IndexAdd
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int, int, ArrayView<int>>(IndexingKernels.IndexAdd);
    internal Action<Index1D, int, int, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int, int, ArrayView<int>> Gather
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int, int, ArrayView<int>>(IndexingKernels.Gather);
    internal Action<Index1D, int, int, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int, int, ArrayView<int>> ScatterAdd
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int, int, ArrayView<int>>(IndexingKernels.ScatterAdd);
    internal Action<Index1D, int, int, ArrayView<int>, ArrayView<float>, int, ArrayView<int>> OneHot
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<int>, ArrayView<float>, int, ArrayView<int>>(IndexingKernels.OneHot);
    internal Action<Index1D, int, int, ArrayView<int>, int, int, ArrayView<int>> CheckRange
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<int>, int, int, ArrayView<int>>(IndexingKernels.CheckRange);

    // ---- random -------------------------------------------------------------------------------------------------
    internal Action<Index1D, int, int, ArrayView<float>, ulong, ulong, float, float> Uniform
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ulong, ulong, float, float>(RandomKernels.Uniform);
    internal Action<Index1D, int, int, ArrayView<float>, ulong, ulong, float, float> Normal
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ulong, ulong, float, float>(RandomKernels.Normal);
}
