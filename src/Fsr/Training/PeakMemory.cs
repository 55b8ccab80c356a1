using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace FsrNative.Fsr.Training;

/// <summary>
/// Peak memory of a run, as <c>fsr train</c> prints it at the end (and writes into the metrics <c>end</c> event) and
/// <c>fsr train --profile-steps</c> prints it: the device caching allocator's peak bytes in use (tensor storage, in
/// bytes of allocator capacity: <see cref="IBackend.MemoryStats"/>, the CPU allocator or the ILGPU/CUDA one) and the
/// process's peak resident set (Linux: <c>VmHWM</c> of /proc/self/status; elsewhere the runtime's peak working set; null
/// when neither is known). The two differ: the RSS adds the runtime, the allocators' caches and host copies.
/// </summary>
public sealed record PeakMemory(Device Device, long PeakTensorBytes, long? PeakRssBytes)
{
    /// <summary>The peaks now (the allocator's peak counter is as its last reset left it).</summary>
    public static PeakMemory Measure(Device device) => new(device, device.Backend.MemoryStats.PeakBytes, ProcessPeakRssBytes());

    /// <summary>The process's peak resident set in bytes: VmHWM where /proc exists, else the runtime's peak working set.</summary>
    public static long? ProcessPeakRssBytes()
    {
        try
        {
            if (File.Exists("/proc/self/status"))
                foreach (var line in File.ReadLines("/proc/self/status"))
                    if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                        return ParseKiB(line) * 1024;
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        try
        {
            long ws = Process.GetCurrentProcess().PeakWorkingSet64;
            return ws > 0 ? ws : null;
        }
        catch (PlatformNotSupportedException) { return null; }
    }

    /// <summary>The number of a /proc status line such as <c>VmHWM:  123456 kB</c>.</summary>
    internal static long ParseKiB(string line)
    {
        var parts = line.Split(':', 2)[1].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return long.Parse(parts[0], CultureInfo.InvariantCulture);
    }

    /// <summary>"peak tensor memory (cpu) 1234 MiB, peak process RSS 1500 MiB".</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"peak tensor memory ({Device}) {MiB(PeakTensorBytes)}, peak process RSS {(PeakRssBytes is long r ? MiB(r) : "n/a")}");

    static string MiB(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:F0} MiB");

    /// <summary>Adds <c>peak_tensor_bytes</c>, <c>peak_tensor_device</c> and <c>peak_rss_bytes</c> (null when unknown).</summary>
    public void AddTo(JsonObject line)
    {
        line["peak_tensor_device"] = Device.ToString();
        line["peak_tensor_bytes"] = PeakTensorBytes;
        line["peak_rss_bytes"] = PeakRssBytes;
    }
}
