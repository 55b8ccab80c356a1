using FsrNative.Kernels.Gpu;
using ILGPU;
using ILGPU.Runtime;

namespace FsrNative.Tests.Ptx;

/// <summary>
/// Two tiny kernels that live in the TEST assembly, so discovery over FsrNative.Kernels never sees them. They prove
/// that the PTX toolchain works end to end (ILGPU → PTX → ptxas) even while FsrNative.Kernels has no kernels,
/// and they exercise the two entry styles: implicitly grouped (Index1D) and explicitly grouped (shared memory +
/// barrier). See <see cref="PtxToolchainSanity"/>.
/// </summary>
public static class SampleKernels
{
    public const int ReduceGroupSize = 256;

    /// <summary>c[i] = a[i] + b[i].</summary>
    [GpuKernel]
    public static void Add(Index1D i, ArrayView1D<float, Stride1D.Dense> a, ArrayView1D<float, Stride1D.Dense> b,
        ArrayView1D<float, Stride1D.Dense> c)
    {
        c[i] = a[i] + b[i];
    }

    /// <summary>
    /// One partial sum per group: each group of <see cref="ReduceGroupSize"/> threads loads its slice into shared
    /// memory and halves it with a barrier per step (tree reduction, deterministic order).
    /// </summary>
    [GpuKernel(ExplicitlyGrouped = true)]
    public static void GroupSum(ArrayView1D<float, Stride1D.Dense> input, ArrayView1D<float, Stride1D.Dense> partials, int n)
    {
        var tile = SharedMemory.Allocate<float>(ReduceGroupSize);
        int t = Group.IdxX;
        int gi = Grid.GlobalIndex.X;
        tile[t] = gi < n ? input[gi] : 0f;
        Group.Barrier();
        for (int s = ReduceGroupSize / 2; s > 0; s >>= 1)
        {
            if (t < s) tile[t] += tile[t + s];
            Group.Barrier();
        }
        if (t == 0) partials[Grid.IdxX] = tile[0];
    }
}
