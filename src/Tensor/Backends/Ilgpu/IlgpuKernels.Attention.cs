using FsrNative.Kernels;
using FsrNative.Kernels.Gpu;
using ILGPU;
using ILGPU.Runtime;

namespace FsrNative;

/// <summary>Launch delegates of the attention and dropout kernels (compiled on first use).</summary>
internal sealed partial class IlgpuKernels
{
    // ---- attention: naive (emulator, any head size) -----------------------------------------------------------------
    internal Action<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionGeometry> AttentionForwardNaive
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionGeometry>(AttentionKernels.ForwardNaive);
    internal Action<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionGeometry> AttentionProbs
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionGeometry>(AttentionKernels.Probs);
    internal Action<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> AttentionBackwardDelta
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(AttentionKernels.BackwardDelta);
    internal Action<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionGeometry> AttentionBackwardNaiveQ
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionGeometry>(AttentionKernels.BackwardNaiveQ);
    internal Action<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionGeometry> AttentionBackwardNaiveKV
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionGeometry>(AttentionKernels.BackwardNaiveKV);

    // ---- attention: tiled (GPU; D, Dv ≤ 64 and ≤ 128 variants) ------------------------------------------------------
    internal Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionGeometry> AttentionForwardTiled64
        => field ??= acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionGeometry>(AttentionKernels.ForwardTiled64);
    internal Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionGeometry> AttentionForwardTiled128
        => field ??= acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionGeometry>(AttentionKernels.ForwardTiled128);
    internal Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionGeometry> AttentionBackwardKV64
        => field ??= acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionGeometry>(AttentionKernels.BackwardKV64);
    internal Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionGeometry> AttentionBackwardKV128
        => field ??= acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionGeometry>(AttentionKernels.BackwardKV128);
    internal Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionGeometry> AttentionBackwardQ64
        => field ??= acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionGeometry>(AttentionKernels.BackwardQ64);
    internal Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionGeometry> AttentionBackwardQ128
        => field ??= acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionGeometry>(AttentionKernels.BackwardQ128);

    // ---- dropout --------------------------------------------------------------------------------------------------
    internal Action<Index1D, int, int, ArrayView<float>, ArrayView<float>, float, float, ulong, ulong> Dropout
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, float, float, ulong, ulong>(DropoutKernels.Dropout);
}
