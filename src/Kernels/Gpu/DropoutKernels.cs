// Dropout with Philox4x32-10 masks: element i of a draw is kept when Philox.Uniform(seed, stream, i) < keep and then
// multiplied by scale; the CPU backend evaluates the very same expression (CpuDropout), so the masks and outputs are
// bitwise equal on every backend. Implicitly grouped, one work item per element, grid-stride (launch extent = step).
using FsrNative.Kernels.Random;
using ILGPU;

namespace FsrNative.Kernels.Gpu;

public static class DropoutKernels
{
    /// <summary>y[i] = x[i]·(U(seed, stream, i) &lt; keep ? scale : 0) over contiguous x and y (n elements).</summary>
    [GpuKernel]
    public static void Dropout(Index1D index, int n, int step, ArrayView<float> x, ArrayView<float> y, float keep, float scale,
        ulong seed, ulong stream)
    {
        for (int i = index; i < n; i += step)
            y[i] = x[i] * (Philox.Uniform(seed, stream, i) < keep ? scale : 0f);
    }
}
