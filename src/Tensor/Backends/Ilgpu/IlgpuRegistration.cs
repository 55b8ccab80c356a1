namespace FsrNative;

/// <summary>Registers the ILGPU backends (CUDA and the CPU accelerator) with <see cref="Backends"/>. Registration only
/// stores factories: the ILGPU context and accelerators are created when a device is first used.</summary>
internal static class IlgpuRegistration
{
    internal static void Register()
    {
        Backends.RegisterFactory(DeviceType.Cuda, IlgpuBackend.Create);
        Backends.RegisterFactory(DeviceType.IlgpuCpu, IlgpuBackend.Create);
        Backends.RegisterCudaDeviceCount(IlgpuRuntime.CudaDeviceCount);
    }
}
