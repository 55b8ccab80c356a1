// Random fills from the counter-based Philox4x32-10 generator: element i of a draw is a pure function of
// (seed, stream, i), so these kernels give the same numbers as the CPU backend (which calls the very same Philox
// methods). Implicitly grouped, one work item per element, grid-stride (launch extent = step ≤ n). dst is contiguous.
using FsrNative.Kernels.Random;
using ILGPU;

namespace FsrNative.Kernels.Gpu;

public static class RandomKernels
{
    /// <summary>dst[i] = low + scale·U(seed, stream, i), U uniform in [0, 1); the host passes scale = high − low.</summary>
    [GpuKernel]
    public static void Uniform(Index1D index, int n, int step, ArrayView<float> dst, ulong seed, ulong stream, float low, float scale)
    {
        for (int i = index; i < n; i += step)
        {
            dst[i] = low + GpuMath.MulNoContract(scale, Philox.Uniform(seed, stream, i));
        }
    }

    /// <summary>dst[i] = mean + std·N(seed, stream, i), N standard normal (Box–Muller on Philox words).</summary>
    [GpuKernel]
    public static void Normal(Index1D index, int n, int step, ArrayView<float> dst, ulong seed, ulong stream, float mean, float std)
    {
        for (int i = index; i < n; i += step)
        {
            dst[i] = mean + GpuMath.MulNoContract(std, Philox.Normal(seed, stream, i));
        }
    }
}
