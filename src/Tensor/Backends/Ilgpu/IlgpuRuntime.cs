using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace FsrNative;

/// <summary>
/// The process-wide ILGPU context and the accelerators made from it. The context is created lazily, on the first
/// request for an ILGPU device or for the CUDA device count, never by CPU-only work. It enables the CUDA devices ILGPU
/// finds, one CPU device configured like an NVIDIA GPU (<see cref="CPUDevice.Nvidia"/>: warp size 32, 32 warps, so
/// groups of up to 1024 threads, one simulated multiprocessor) and ILGPU.Algorithms (the same settings as the Ptx
/// tests' compiler context, so they check the PTX that production runs). Accelerators live until the process ends.
/// </summary>
internal static class IlgpuRuntime
{
    static readonly Lock Gate = new();
    static Context? _context;

    /// <summary>The CPU device the <c>ilgpu-cpu</c> backend emulates: ILGPU's NVIDIA-like configuration.</summary>
    internal static CPUDevice EmulatedDevice => CPUDevice.Nvidia;

    internal static Context Context
    {
        get
        {
            lock (Gate)
                return _context ??= Context.Create(builder => builder
                    .Cuda()                       // finds nothing (and does not throw) without a driver
                    .CPU(EmulatedDevice)
                    .EnableAlgorithms());
        }
    }

    /// <summary>How many CUDA devices ILGPU can use; 0 without a GPU or driver (never throws for that).</summary>
    internal static int CudaDeviceCount()
    {
        try
        {
            return Context.GetCudaDevices().Count;
        }
        catch (Exception)
        {
            return 0;   // a driver that cannot even be queried counts as no device; CreateAccelerator explains why
        }
    }

    /// <summary>Creates the accelerator for <paramref name="device"/>; throws naming the device and the reason when ILGPU
    /// cannot provide it.</summary>
    internal static Accelerator CreateAccelerator(Device device)
    {
        switch (device.Type)
        {
            case DeviceType.IlgpuCpu:
                // Parallel mode: every group thread is an OS thread (Auto would switch to the much slower sequential
                // scheduler whenever a debugger is attached).
                return EmulatedDevice.CreateCPUAccelerator(Context, CPUAcceleratorMode.Parallel);
            case DeviceType.Cuda:
                {
                    var devices = Context.GetCudaDevices();
                    if (device.Index < 0 || device.Index >= devices.Count)
                        throw new InvalidOperationException(
                            $"{device}: ILGPU found {devices.Count} usable CUDA device(s); {CudaDriverStatus()}");
                    var cuda = devices[device.Index];
                    try
                    {
                        return cuda.CreateCudaAccelerator(Context);
                    }
                    catch (Exception ex)
                    {
                        throw new InvalidOperationException(
                            $"{device} ({cuda.Name}, compute capability {cuda.Architecture}): ILGPU {typeof(Context).Assembly.GetName().Version?.ToString(3)} " +
                            $"cannot use this device with the installed driver ({cuda.DriverVersion}): {ex.Message}", ex);
                    }
                }
            default:
                throw new NotSupportedException($"device {device}: not an ILGPU device");
        }
    }

    /// <summary>What the CUDA driver API says about itself (for error messages).</summary>
    static string CudaDriverStatus()
    {
        try
        {
            var error = CudaAPI.CurrentAPI.GetDeviceCount(out int count);
            if (error != CudaError.CUDA_SUCCESS)
                return $"the CUDA driver API reports {error} (is an NVIDIA driver with libcuda installed and a GPU visible?)";
            return $"the CUDA driver reports {count} device(s)";
        }
        catch (Exception ex)
        {
            return $"the CUDA driver library could not be used ({ex.GetType().Name}: {ex.Message})";
        }
    }
}
