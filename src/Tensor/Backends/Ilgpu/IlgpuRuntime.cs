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
            {
                if (_context is not null) return _context;
                CudaInfo.InstallDriverFallback();     // lets ILGPU load libcuda.so.1 (see there)
                return _context = Context.Create(builder => builder
                    // Every CUDA device the driver lists, so that cuda:N is the CUDA ordinal and a device ILGPU cannot
                    // target (driver too old) is reported as such rather than silently missing (ILGPU's plain .Cuda()
                    // drops devices without a supported PTX ISA). Finds nothing (and does not throw) without a driver.
                    .Cuda(static _ => true)
                    .CPU(EmulatedDevice)
                    .EnableAlgorithms());
            }
        }
    }

    /// <summary>The ILGPU version (for messages).</summary>
    internal static string IlgpuVersion => typeof(Context).Assembly.GetName().Version?.ToString(3) ?? "?";

    /// <summary>How many CUDA devices ILGPU can use; 0 without a GPU or driver, or with a driver too old for ILGPU (never
    /// throws for that).</summary>
    internal static int CudaDeviceCount()
    {
        try
        {
            return CudaDevices().Count(IsUsable);
        }
        catch (Exception)
        {
            return 0;   // a driver that cannot even be queried counts as no device; CreateAccelerator explains why
        }
    }

    /// <summary>The CUDA devices the driver lists, in CUDA ordinal order (usable or not).</summary>
    static CudaDevice[] CudaDevices()
    {
        var list = new List<CudaDevice>();
        foreach (var d in Context.GetCudaDevices()) list.Add(d);
        return [.. list];
    }

    /// <summary>ILGPU can compile for the device: it knows its architecture and found a PTX ISA the driver accepts.</summary>
    static bool IsUsable(CudaDevice d) => d.Architecture.HasValue && d.InstructionSet.HasValue;

    /// <summary>Null when <c>cuda:index</c> can be used; else the reason, naming the cause (no driver library, cuInit's
    /// error, no device, index out of range, driver too old for ILGPU). Does not create the accelerator.</summary>
    internal static string? CudaUnavailableReason(int index)
    {
        var device = Device.Cuda(index);
        IReadOnlyList<CudaDevice> devices;
        try
        {
            devices = CudaDevices();
        }
        catch (Exception ex)
        {
            return $"{device}: ILGPU could not list CUDA devices ({ex.GetType().Name}: {ex.Message}); {CudaInfo.Probe}";
        }
        if (devices.Count == 0)
        {
            var probe = CudaInfo.Probe;
            string cause = probe.Library is null ? "the NVIDIA driver library (libcuda) is not installed or not visible"
                : probe.InitResult is null || !probe.InitResult.StartsWith("0 ", StringComparison.Ordinal) ? $"the CUDA driver failed to initialise (cuInit: {probe.InitResult})"
                : probe.DeviceCount is 0 ? "the CUDA driver reports no device (CUDA_VISIBLE_DEVICES? no GPU passed to the container?)"
                : "ILGPU could not enumerate the devices the driver reports";
            return $"{device}: no CUDA device is available: {cause}. Driver probe: {probe}";
        }
        if (index < 0 || index >= devices.Count)
            return $"{device}: CUDA device index out of range: the driver reports {devices.Count} device(s) (cuda:0 … cuda:{devices.Count - 1})";
        var d = devices[index];
        if (!d.Architecture.HasValue)
            return $"{device} ({d.Name}): ILGPU {IlgpuVersion} does not know this GPU's architecture";
        if (!d.InstructionSet.HasValue)
        {
            var target = new CudaCapabilityContext(d.Architecture.Value).TargetArchitecture;
            CudaAccelerator.TryGetInstructionSet(target, d.DriverVersion, out var minDriver, out _);
            return $"{device} ({d.Name}, compute capability {d.Architecture.Value}): the NVIDIA driver is too old: it supports CUDA " +
                $"{d.DriverVersion}, and ILGPU {IlgpuVersion} needs a driver for CUDA {minDriver} or newer to run PTX for {target} " +
                "(update the NVIDIA driver)";
        }
        return null;
    }

    /// <summary>One line per CUDA device ILGPU lists (see <see cref="CudaInfo.Devices"/>).</summary>
    internal static IReadOnlyList<string> DescribeCudaDevices()
    {
        try
        {
            return CudaDevices().Select((d, i) =>
            {
                string arch = d.Architecture.HasValue ? d.Architecture.Value.ToString() : "unknown";
                string target = d.Architecture.HasValue ? new CudaCapabilityContext(d.Architecture.Value).TargetArchitecture.ToString().ToLowerInvariant() : "?";
                string isa = d.InstructionSet.HasValue ? $"PTX ISA {d.InstructionSet.Value} (.target {target})" : "no PTX ISA (driver too old)";
                return $"cuda:{i}: {d.Name}, compute capability {arch}, driver CUDA {d.DriverVersion}, {isa}, " +
                    $"{d.MemorySize / (1024.0 * 1024 * 1024):F1} GiB, {d.NumMultiprocessors} SMs" + (IsUsable(d) ? "" : " — NOT usable: " + CudaUnavailableReason(i));
            }).ToArray();
        }
        catch (Exception ex)
        {
            return [$"ILGPU could not list CUDA devices ({ex.GetType().Name}: {ex.Message})"];
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
                    if (CudaUnavailableReason(device.Index) is { } reason)
                        throw new InvalidOperationException(reason);
                    var cuda = CudaDevices()[device.Index];
                    try
                    {
                        return cuda.CreateCudaAccelerator(Context);
                    }
                    catch (Exception ex)
                    {
                        string missing = CudaInfo.Probe.MissingExports.Count > 0
                            ? $"; the driver library lacks entry points ILGPU binds: {string.Join(", ", CudaInfo.Probe.MissingExports)}" : "";
                        throw new InvalidOperationException(
                            $"{device} ({cuda.Name}, compute capability {cuda.Architecture}, PTX ISA {cuda.InstructionSet}): ILGPU {IlgpuVersion} " +
                            $"cannot create a context on this device with the installed driver (CUDA {cuda.DriverVersion}): " +
                            $"{(ex is CudaException ce ? $"{ce.Error}: " : $"{ex.GetType().Name}: ")}{ex.Message}{missing}", ex);
                    }
                }
            default:
                throw new NotSupportedException($"device {device}: not an ILGPU device");
        }
    }
}
