using System.Collections.Concurrent;

namespace FsrNative;

/// <summary>
/// Creates each device's backend once, on first use. The ILGPU backends are registered by
/// <see cref="RegisterFactory"/> from their own file so this registry does not grow with every backend.
/// </summary>
public static class Backends
{
    static readonly ConcurrentDictionary<Device, IBackend> Instances = new();
    static readonly ConcurrentDictionary<DeviceType, Func<Device, IBackend>> Factories = new()
    {
        [DeviceType.Cpu] = _ => CpuBackend.Instance,
    };
    static Func<int>? _cudaDeviceCount;

    public static IBackend Get(Device device) => Instances.GetOrAdd(device, d =>
    {
        EnsureIlgpuRegistered();
        if (!Factories.TryGetValue(d.Type, out var factory))
            throw new NotSupportedException($"device {d}: no backend is available for {d.Type} in this build");
        return factory(d);
    });

    public static void RegisterFactory(DeviceType type, Func<Device, IBackend> factory) => Factories[type] = factory;

    public static void RegisterCudaDeviceCount(Func<int> count) => _cudaDeviceCount = count;

    /// <summary>How many CUDA devices ILGPU finds (0 without a GPU or driver).</summary>
    public static int CudaDeviceCount()
    {
        EnsureIlgpuRegistered();
        return _cudaDeviceCount?.Invoke() ?? 0;
    }

    static int _ilgpuRegistered;

    /// <summary>The ILGPU backends live in this assembly but register lazily, so CPU-only work never creates an
    /// ILGPU context.</summary>
    static void EnsureIlgpuRegistered()
    {
        if (Interlocked.Exchange(ref _ilgpuRegistered, 1) == 0) IlgpuRegistration.Register();
    }
}
