using FsrNative.Tests.Infrastructure;
using ILGPU.Runtime;
using static FsrNative.Tests.Parity.ParityHarness;

namespace FsrNative.Tests.Parity;

/// <summary>The ILGPU backend's own machinery: device discovery, the emulator's configuration, the caching allocator's
/// counters, layout validation and moving tensors between devices.</summary>
[Trait(Categories.Trait, Categories.Parity)]
public sealed class IlgpuBackendTests
{
    [Fact]
    public void CudaDeviceCountNeverThrows()
    {
        int count = Backends.CudaDeviceCount();
        Assert.True(count >= 0);
        if (count == 0)
        {
            Assert.Equal(Device.CPU, Device.Parse("auto"));
            var ex = Assert.Throws<InvalidOperationException>(() => Backends.Get(Device.Cuda(0)));
            Assert.Contains("cuda:0", ex.Message);
            Assert.Contains("CUDA", ex.Message);
        }
        var beyond = Assert.Throws<InvalidOperationException>(() => Backends.Get(Device.Cuda(count + 3)));
        Assert.Contains($"cuda:{count + 3}", beyond.Message);
    }

    [Fact]
    public void EmulatorIsConfiguredLikeAnNvidiaGpu()
    {
        var be = Assert.IsType<IlgpuBackend>(Emu.Backend);
        Assert.Equal(AcceleratorType.CPU, be.Accelerator.AcceleratorType);
        Assert.Equal(32, be.Accelerator.WarpSize);
        Assert.Equal(1024, be.Accelerator.MaxNumThreadsPerGroup);
        Assert.Equal(Emu, be.Device);
    }

    [Fact]
    public void CachingAllocatorCountsHitsMissesAndBytes()
    {
        var be = IlgpuBackend.CreateIsolatedEmulator();
        try
        {
            var s0 = be.MemoryStats;
            Assert.Equal(new MemoryStats(0, 0, 0, 0, 0), s0);
            var a = be.Allocate(1000);                  // bucket 1024 words = 4 KiB
            var s1 = be.MemoryStats;
            Assert.Equal(4096, s1.BytesInUse);
            Assert.Equal(1, s1.CacheMisses);
            var b = be.Allocate(5000);                  // bucket 8192 words
            Assert.Equal(4096 + 32768, be.MemoryStats.PeakBytes);
            ReleaseStorage(a);
            var s2 = be.MemoryStats;
            Assert.Equal(32768, s2.BytesInUse);
            Assert.Equal(4096, s2.BytesCached);
            var c = be.Allocate(900);                   // same bucket: served from the cache
            var s3 = be.MemoryStats;
            Assert.Equal(1, s3.CacheHits);
            Assert.Equal(2, s3.CacheMisses);
            Assert.Equal(0, s3.BytesCached);
            ReleaseStorage(b);
            ReleaseStorage(c);
            be.EmptyCache();
            var s4 = be.MemoryStats;
            Assert.Equal(0, s4.BytesInUse);
            Assert.Equal(0, s4.BytesCached);
            Assert.Equal(4096 + 32768, s4.PeakBytes);
        }
        finally
        {
            be.DisposeIsolated();
        }
    }

    static void ReleaseStorage(Storage s) => Tensor.FromStorage(s, [s.Length], DType.Float32).Dispose();

    [Fact]
    public void TensorsMoveBetweenDevicesWithGradients()
    {
        var data = TestRandom.Uniform(8, 12, -1, 1);
        using var scope = torch.NewDisposeScope();
        var reference = torch.tensor(data, [3, 4], requires_grad: true);
        reference.exp().mul(2f).sum(0).sum().backward();
        var x = torch.tensor(data, [3, 4], requires_grad: true);
        var y = x.exp().to(Emu).mul(2f).cpu().sum(0);
        Assert.Equal(Device.CPU, y.device);
        y.sum().backward();
        Assert.Equal(Device.CPU, x.grad!.device);
        Close.AssertClose(reference.grad!.ToArray(), x.grad.ToArray(), Elementwise, "gradient through to(ilgpu-cpu) and back");
    }

    [Fact]
    public void LayoutErrorsNameTheOp()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.ones([3, 4], Emu);
        var ex = Assert.Throws<InvalidOperationException>(() => Emu.Backend.Softmax(x.t(), torch.empty([4, 3], Emu), 4, 3, 1, false));
        Assert.Contains("softmax", ex.Message);
        Assert.Contains("contiguous", ex.Message);
        var wrongDevice = Assert.Throws<InvalidOperationException>(() => Emu.Backend.Unary(global::FsrNative.Kernels.UnaryOp.Exp, torch.ones([2]), torch.empty([2], Emu), 0, 0));
        Assert.Contains("cpu", wrongDevice.Message);
        Assert.Throws<ArgumentException>(() => Emu.Backend.Reduce(global::FsrNative.Kernels.ReduceOp.Sum, x, 3, 5, 1, torch.empty([3], Emu)));
    }
}
