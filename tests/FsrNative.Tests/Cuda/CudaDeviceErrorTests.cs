using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Cuda;

/// <summary>
/// Creating a <c>cuda:N</c> backend fails with an error naming the cause, on any machine: without the driver library
/// (this is what machines without a GPU check), with a driver that reports no device, with an index beyond the devices.
/// The driver-too-old and missing-entry-point messages need a driver and are exercised by the fake libcuda of
/// bench/gpu/fake-libcuda (see docs/gpu.md).
/// </summary>
[Trait(Categories.Trait, Categories.Parity)]
public sealed class CudaDeviceErrorTests
{
    [Fact]
    public void DeviceCreationNamesTheCause()
    {
        var probe = CudaInfo.Probe;
        int usable = CudaInfo.UsableDeviceCount;
        if (usable == 0)
        {
            var ex = Assert.Throws<InvalidOperationException>(() => Backends.Get(Device.Cuda(0)));
            Assert.StartsWith("cuda:0: ", ex.Message);
            if (probe.Library is null)
            {
                Assert.Contains("the NVIDIA driver library (libcuda) is not installed or not visible", ex.Message);
                Assert.Contains("libcuda.so.1: not found", ex.Message);
            }
            else if (probe.HasDevices)
                Assert.Contains("too old", ex.Message);          // devices listed, none usable: the driver
            else
                Assert.Contains("cuInit", ex.Message + probe);
            Assert.Equal(ex.Message, CudaInfo.Unavailable(0));
            Assert.Equal(Device.CPU, Device.Parse("auto"));
        }
        else
        {
            Assert.Null(CudaInfo.Unavailable(0));
            var ex = Assert.Throws<InvalidOperationException>(() => Backends.Get(Device.Cuda(probe.DeviceCount ?? usable)));
            Assert.Contains("index out of range", ex.Message);
        }
    }

    [Fact]
    public void ProbeAndReportNeverThrow()
    {
        var probe = CudaInfo.Probe;
        Assert.NotNull(probe.ToString());
        if (probe.Library is null)
        {
            Assert.NotNull(probe.LoadError);
            Assert.Contains("libcuda.so.1", probe.LoadError);
            Assert.False(probe.HasDevices);
        }
        var report = CudaInfo.Report();
        Assert.Contains("CUDA driver:", report);
        Assert.Contains("usable CUDA device(s)", report);
    }

    [Fact]
    public void TheImportListMatchesIlgpu()
    {
        // The entry points CudaInfo checks are the ones ILGPU's CudaAPI binds (its generated private externs).
        var api = typeof(ILGPU.Runtime.Cuda.CudaAPI).Assembly.GetTypes()
            .Where(t => t.Namespace == "ILGPU.Runtime.Cuda" && t.Name.StartsWith("CudaAPI", StringComparison.Ordinal))
            .SelectMany(t => t.GetMethods(System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public))
            .Select(m => m.GetCustomAttributes(typeof(System.Runtime.InteropServices.DllImportAttribute), false)
                .Cast<System.Runtime.InteropServices.DllImportAttribute>().FirstOrDefault())
            .Where(a => a is not null).Select(a => a!.EntryPoint ?? "").Distinct().OrderBy(s => s, StringComparer.Ordinal).ToArray();
        Assert.NotEmpty(api);
        Assert.Equal(api, CudaInfo.IlgpuImports.OrderBy(s => s, StringComparer.Ordinal).ToArray());
    }
}
