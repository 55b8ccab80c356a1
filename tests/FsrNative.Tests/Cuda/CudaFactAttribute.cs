namespace FsrNative.Tests.Cuda;

/// <summary>
/// A fact that needs a usable CUDA device (<see cref="CudaChecks.Target"/>): without one it is skipped with the reason
/// ILGPU and the driver give (the pattern of Golden's <c>GoldenFactAttribute</c>). The reason is computed once per
/// process (it creates the ILGPU context, which lists the CUDA devices; it never creates a CUDA accelerator).
/// </summary>
public sealed class CudaFactAttribute : FactAttribute
{
    static readonly Lazy<string?> Reason = new(() => CudaChecks.SkipReason);

    public CudaFactAttribute()
    {
        if (Reason.Value is { } why) Skip = why;
    }
}
