namespace FsrNative.Kernels.Gpu;

/// <summary>
/// Marks a static method as an ILGPU kernel entry point. The Ptx tests find every method carrying it, compile it
/// to PTX for sm_80 and sm_90 and assemble the result with ptxas; the ILGPU backend loads the same methods.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class GpuKernelAttribute : Attribute
{
    /// <summary>True for kernels whose first parameter is a <c>KernelConfig</c>-style explicit group
    /// (they use shared memory or group barriers); false for implicitly grouped kernels taking an <c>Index1D</c>.</summary>
    public bool ExplicitlyGrouped { get; init; }
}
