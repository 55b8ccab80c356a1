using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using ILGPU.Runtime.Cuda;

namespace FsrNative;

/// <summary>What the CUDA driver library says about itself, found without ILGPU (see <see cref="CudaInfo.Probe"/>).</summary>
/// <param name="Library">The driver library that loaded (e.g. <c>libcuda.so.1</c>), or null when none could be loaded.</param>
/// <param name="LoadError">Why no driver library loaded (null when one did).</param>
/// <param name="InitResult">The CUresult of <c>cuInit(0)</c> with its name (e.g. <c>0 CUDA_SUCCESS</c>), or null.</param>
/// <param name="DriverVersion">The CUDA version the driver supports (<c>cuDriverGetVersion</c>, e.g. 12.4), or null.</param>
/// <param name="DeviceCount">What <c>cuDeviceGetCount</c> reports, or null when it could not be asked.</param>
/// <param name="MissingExports">Driver API entry points ILGPU 1.5.3 binds that this library does not export.</param>
public sealed record CudaDriverProbe(string? Library, string? LoadError, string? InitResult, Version? DriverVersion,
    int? DeviceCount, IReadOnlyList<string> MissingExports)
{
    /// <summary>True when the library loaded, <c>cuInit</c> succeeded and it reports at least one device.</summary>
    public bool HasDevices => InitResult is not null && InitResult.StartsWith("0 ", StringComparison.Ordinal) && DeviceCount > 0;

    /// <summary>One line: the library, its init result, the driver's CUDA version and the device count.</summary>
    public override string ToString()
    {
        if (Library is null) return $"no CUDA driver library could be loaded ({LoadError})";
        var parts = new List<string> { $"driver library {Library}", $"cuInit: {InitResult}" };
        if (DriverVersion is not null) parts.Add($"driver supports CUDA {DriverVersion.Major}.{DriverVersion.Minor}");
        if (DeviceCount is not null) parts.Add($"{DeviceCount} device(s)");
        if (MissingExports.Count > 0) parts.Add($"missing entry points ILGPU needs: {string.Join(", ", MissingExports)}");
        return string.Join("; ", parts);
    }
}

/// <summary>
/// The CUDA side of the machine, for error messages, <c>fsr</c>'s device report, the <c>Cuda</c> test category's skip
/// reason and the GPU runner's probe. <see cref="Probe"/> asks the driver library directly (its own small P/Invoke
/// through <see cref="NativeLibrary"/>, so it works whatever ILGPU concluded); <see cref="Devices"/> lists what ILGPU
/// made of each device (architecture, driver, the PTX ISA it will emit). Nothing here throws.
/// </summary>
public static class CudaInfo
{
    /// <summary>Library names tried, in order. <c>libcuda.so.1</c> is what every Linux NVIDIA driver installs; the
    /// unversioned <c>libcuda.so</c> (the name ILGPU asks for) often exists only with development packages, and in
    /// containers only when the NVIDIA container toolkit creates the link.</summary>
    internal static readonly string[] LibraryNames = OperatingSystem.IsWindows()
        ? ["nvcuda.dll"]
        : ["libcuda.so.1", "libcuda.so", "/usr/lib/wsl/lib/libcuda.so.1"];

    /// <summary>The driver API entry points ILGPU 1.5.3 imports (Src/ILGPU/Runtime/Cuda/CudaAPI.xml at tag v1.5.3).
    /// A driver that lacks one fails in ILGPU with EntryPointNotFoundException at first use.</summary>
    internal static readonly string[] IlgpuImports =
    [
        "cuInit", "cuDriverGetVersion", "cuDeviceGet", "cuDeviceGetCount", "cuDeviceGetName", "cuDeviceTotalMem_v2",
        "cuDeviceGetAttribute", "cuCtxCreate_v2", "cuCtxDestroy_v2", "cuCtxSetCurrent", "cuCtxSynchronize",
        "cuCtxGetCacheConfig", "cuCtxSetCacheConfig", "cuCtxGetSharedMemConfig", "cuCtxSetSharedMemConfig",
        "cuDeviceCanAccessPeer", "cuCtxEnablePeerAccess", "cuCtxDisablePeerAccess", "cuDeviceGetP2PAttribute",
        "cuPointerGetAttribute", "cuMemGetInfo_v2", "cuMemAlloc_v2", "cuMemFree_v2", "cuMemAllocHost_v2", "cuMemFreeHost",
        "cuMemcpyAsync", "cuMemsetD8Async", "cuMemHostRegister_v2", "cuMemHostUnregister", "cuMemHostGetDevicePointer_v2",
        "cuStreamCreate", "cuStreamCreateWithPriority", "cuStreamDestroy_v2", "cuStreamSynchronize", "cuGetErrorString",
        "cuModuleLoadData", "cuModuleLoadDataEx", "cuModuleUnload", "cuModuleGetFunction", "cuLaunchKernel",
        "cuOccupancyMaxActiveBlocksPerMultiprocessor", "cuOccupancyMaxPotentialBlockSize", "cuEventCreate",
        "cuEventDestroy_v2", "cuEventQuery", "cuEventElapsedTime", "cuEventRecord", "cuEventSynchronize",
    ];

    static readonly Lazy<CudaDriverProbe> ProbeOnce = new(ProbeDriver);

    /// <summary>The driver library's own answers (computed once per process).</summary>
    public static CudaDriverProbe Probe => ProbeOnce.Value;

    /// <summary>How many CUDA devices ILGPU can use (0 without a driver, GPU, or with a driver too old for ILGPU).</summary>
    public static int UsableDeviceCount => IlgpuRuntime.CudaDeviceCount();

    /// <summary>Null when <c>cuda:<paramref name="index"/></c> can be used, else why not (the same reason device creation
    /// would give, without creating the device).</summary>
    public static string? Unavailable(int index = 0) => IlgpuRuntime.CudaUnavailableReason(index);

    /// <summary>One line per CUDA device ILGPU sees: ordinal, name, compute capability, driver CUDA version, the PTX
    /// ISA and target ILGPU will emit, memory, and whether it is usable.</summary>
    public static IReadOnlyList<string> Devices() => IlgpuRuntime.DescribeCudaDevices();

    /// <summary>A multi-line report: the probe, then ILGPU's view of each device.</summary>
    public static string Report()
    {
        var lines = new List<string> { $"CUDA driver: {Probe}", $"ILGPU {IlgpuRuntime.IlgpuVersion}: {UsableDeviceCount} usable CUDA device(s)" };
        lines.AddRange(Devices().Select(d => "  " + d));
        return string.Join(Environment.NewLine, lines);
    }

    // ---- the probe ---------------------------------------------------------------------------------------------------

    static CudaDriverProbe ProbeDriver()
    {
        var errors = new List<string>();
        foreach (var name in LibraryNames)
        {
            if (!NativeLibrary.TryLoad(name, out var handle))
            {
                errors.Add($"{name}: not found");
                continue;
            }
            try
            {
                return ProbeLoaded(name, handle);
            }
            catch (Exception ex)
            {
                return new CudaDriverProbe(name, null, $"probe failed: {ex.GetType().Name}: {ex.Message}", null, null, []);
            }
        }
        return new CudaDriverProbe(null,
            string.Join(", ", errors) + " — is the NVIDIA driver installed, and in a container, was it started with GPU access (--gpus)?",
            null, null, null, []);
    }

    static unsafe CudaDriverProbe ProbeLoaded(string name, IntPtr handle)
    {
        var missing = IlgpuImports.Where(e => !NativeLibrary.TryGetExport(handle, e, out _)).ToArray();
        if (!NativeLibrary.TryGetExport(handle, "cuInit", out var pInit))
            return new CudaDriverProbe(name, null, "cuInit is not exported", null, null, missing);
        var cuInit = (delegate* unmanaged<uint, int>)pInit;
        int init = cuInit(0);
        string initText = $"{init} {ErrorName(handle, init)}";
        Version? version = null;
        if (NativeLibrary.TryGetExport(handle, "cuDriverGetVersion", out var pVer))
        {
            int v;
            if (((delegate* unmanaged<int*, int>)pVer)(&v) == 0) version = new Version(v / 1000, v % 1000 / 10);
        }
        int? count = null;
        if (init == 0 && NativeLibrary.TryGetExport(handle, "cuDeviceGetCount", out var pCount))
        {
            int c;
            if (((delegate* unmanaged<int*, int>)pCount)(&c) == 0) count = c;
        }
        return new CudaDriverProbe(name, null, initText, version, count, missing);
    }

    /// <summary>The CUresult's name (<c>cuGetErrorName</c>), e.g. CUDA_ERROR_NO_DEVICE.</summary>
    internal static unsafe string ErrorName(IntPtr handle, int code)
    {
        if (code == 0) return "CUDA_SUCCESS";
        if (!NativeLibrary.TryGetExport(handle, "cuGetErrorName", out var p)) return "(cuGetErrorName not exported)";
        byte* s = null;
        return ((delegate* unmanaged<int, byte**, int>)p)(code, &s) == 0 && s != null
            ? Marshal.PtrToStringAnsi((IntPtr)s) ?? "?"
            : "(unknown CUresult)";
    }

    // ---- loading libcuda.so.1 for ILGPU ------------------------------------------------------------------------------

    static int _resolverInstalled;

    /// <summary>
    /// ILGPU 1.5.3 binds the driver as <c>[DllImport("cuda")]</c>, which .NET probes on Linux as <c>libcuda.so</c> (and
    /// <c>cuda</c>, <c>libcuda</c>, <c>cuda.so</c>), never <c>libcuda.so.1</c>: on a machine with only the driver's
    /// versioned library ILGPU would silently find no GPU. This adds a fallback (after .NET's own probing failed, so
    /// ILGPU's WSL resolver and a present <c>libcuda.so</c> take precedence) that loads <c>libcuda.so.1</c> for ILGPU.
    /// Must run before the first ILGPU Cuda call.
    /// </summary>
    internal static void InstallDriverFallback()
    {
        if (Interlocked.Exchange(ref _resolverInstalled, 1) != 0) return;
        var ilgpu = typeof(CudaAccelerator).Assembly;
        AssemblyLoadContext.GetLoadContext(ilgpu)!.ResolvingUnmanagedDll += (Assembly assembly, string libraryName) =>
        {
            if (assembly != ilgpu || libraryName != "cuda" || OperatingSystem.IsWindows()) return IntPtr.Zero;
            foreach (var name in LibraryNames)
                if (NativeLibrary.TryLoad(name, out var h)) return h;
            return IntPtr.Zero;
        };
    }
}
