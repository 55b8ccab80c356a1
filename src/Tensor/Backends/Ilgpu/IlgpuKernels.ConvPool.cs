using FsrNative.Kernels;
using FsrNative.Kernels.Gpu;
using ILGPU;
using ILGPU.Runtime;

namespace FsrNative;

/// <summary>Launch delegates of the convolution and pooling kernels (src/Kernels/Gpu/ConvPoolKernels.cs).</summary>
internal sealed partial class IlgpuKernels
{
    internal Action<Index1D, int, int, ArrayView<float>, int, ArrayView<float>, Conv2dGeometry> Im2Col
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, int, ArrayView<float>, Conv2dGeometry>(ConvPoolKernels.Im2Col);
    internal Action<Index1D, int, int, ArrayView<float>, ArrayView<float>, int, Conv2dGeometry> Col2Im
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, int, Conv2dGeometry>(ConvPoolKernels.Col2Im);
    internal Action<Index1D, int, int, ArrayView<float>, ArrayView<float>, int, int> FillBias
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, int, int>(ConvPoolKernels.FillBias);
    internal Action<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<int>, Pool2dGeometry> MaxPool2d
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<int>, Pool2dGeometry>(ConvPoolKernels.MaxPool2d);
    internal Action<Index1D, int, int, ArrayView<float>, ArrayView<int>, ArrayView<float>, Pool2dGeometry> MaxPool2dBackward
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<int>, ArrayView<float>, Pool2dGeometry>(ConvPoolKernels.MaxPool2dBackward);
    internal Action<Index1D, int, int, ArrayView<float>, ArrayView<float>, Pool2dGeometry> AvgPool2d
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, Pool2dGeometry>(ConvPoolKernels.AvgPool2d);
    internal Action<Index1D, int, int, ArrayView<float>, ArrayView<float>, Pool2dGeometry> AvgPool2dBackward
        => field ??= acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, Pool2dGeometry>(ConvPoolKernels.AvgPool2dBackward);
}
