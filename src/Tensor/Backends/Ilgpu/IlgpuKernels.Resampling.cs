using FsrNative.Kernels;
using FsrNative.Kernels.Gpu;
using ILGPU;
using ILGPU.Runtime;

namespace FsrNative;

/// <summary>Launch delegates of the resampling family (ResamplingKernels).</summary>
internal sealed partial class IlgpuKernels
{
    // ---- resampling ---------------------------------------------------------------------------------------------
    internal Action<Index1D, int, int, ArrayView<float>, ArrayView<float>, ResampleAxis, ResampleAxis, ResampleMode> ResampleForward
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, ResampleAxis, ResampleAxis, ResampleMode>(ResamplingKernels.ResampleForward);
    internal Action<Index1D, int, int, ArrayView<float>, ArrayView<float>, ResampleAxis, ResampleAxis, ResampleMode> ResampleBackward
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, ResampleAxis, ResampleAxis, ResampleMode>(ResamplingKernels.ResampleBackward);
    internal Action<Index1D, int, int, ArrayView<float>, ArrayView<float>, int, int> Flip
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, int, int>(ResamplingKernels.Flip);
}
