namespace FsrNative;

/// <summary>Registers the ILGPU backends (CUDA and the CPU accelerator) with <see cref="Backends"/>.</summary>
internal static class IlgpuRegistration
{
    internal static void Register()
    {
        // The ILGPU backend registers its factories here once it exists.
    }
}
