using FsrNative.Kernels.Gpu;
using ILGPU;
using ILGPU.Runtime;

namespace FsrNative;

/// <summary>Launch delegates of the mixed-precision family (PrecisionKernels).</summary>
internal sealed partial class IlgpuKernels
{
    internal Action<Index1D, int, int, ArrayView<float>, ArrayView<float>> Bf16Round
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>>(PrecisionKernels.Bf16Round);
}
