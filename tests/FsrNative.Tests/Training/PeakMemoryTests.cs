using System.Text.Json.Nodes;
using FsrNative.Fsr.Training;
using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Training;

/// <summary>The peak-memory record `fsr train` prints and logs: /proc parsing, the labels, the JSON fields.</summary>
[Trait(Categories.Trait, TrainingCategory.Name)]
public class PeakMemoryTests
{
    [Fact]
    public void ParsesProcStatusLines()
    {
        Assert.Equal(123456, PeakMemory.ParseKiB("VmHWM:\t  123456 kB"));
        Assert.Equal(7, PeakMemory.ParseKiB("VmHWM: 7 kB"));
    }

    [Fact]
    public void LabelsTensorMemoryByDeviceAndRssByProcess()
    {
        var p = new PeakMemory(Device.CPU, 3L << 20, 5L << 20);
        Assert.Equal("peak tensor memory (cpu) 3 MiB, peak process RSS 5 MiB", p.ToString());
        Assert.Equal("peak tensor memory (cpu) 3 MiB, peak process RSS n/a", (p with { PeakRssBytes = null }).ToString());
        var line = new JsonObject();
        p.AddTo(line);
        Assert.Equal("cpu", (string?)line["peak_tensor_device"]);
        Assert.Equal(3L << 20, line["peak_tensor_bytes"]!.GetValue<long>());
        Assert.Equal(5L << 20, line["peak_rss_bytes"]!.GetValue<long>());
    }

    [Fact]
    public void MeasuresThisProcess()
    {
        var p = PeakMemory.Measure(Device.CPU);
        Assert.True(p.PeakTensorBytes >= 0);
        if (OperatingSystem.IsLinux()) Assert.True(p.PeakRssBytes > 10L << 20);
    }
}
