using ILGPU.Runtime.Cuda;

namespace FsrNative.Kernels.Gpu;

/// <summary>Small helpers the GPU kernels share (plain arithmetic, so they compile for every ILGPU backend).</summary>
public static class GpuMath
{
    /// <summary>x ≠ x: the NaN test in plain arithmetic.</summary>
#pragma warning disable CS1718 // comparing a variable with itself is the point
    public static bool IsNaN(float x) => x != x;
#pragma warning restore CS1718

    /// <summary>
    /// a·b rounded on its own, never fused with a following addition. ptxas contracts a plain <c>mul.f32</c> followed
    /// by <c>add.f32</c> into one <c>fma</c> (one rounding instead of two), which would change the last bit of e.g.
    /// <c>low + scale·u</c> compared with the CPU backend; <c>mul.rn.f32</c> carries an explicit rounding mode and is
    /// therefore never contracted. On other accelerators (the CPU emulator) it is a plain product.
    /// </summary>
    public static float MulNoContract(float a, float b)
    {
        if (CudaAsm.IsSupported)
        {
            CudaAsm.Emit("mul.rn.f32 %0, %1, %2;", out float r, a, b);
            return r;
        }
        return a * b;
    }

    /// <summary>Ceiling division for non-negative ints.</summary>
    public static int DivUp(int a, int b) => (a + b - 1) / b;
}
