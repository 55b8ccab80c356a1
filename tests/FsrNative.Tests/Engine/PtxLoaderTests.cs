using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Engine;

/// <summary>
/// The PTX loader's and the kernel selection's error paths that run without a GPU: a missing driver library gives a
/// clear error naming what was tried; forcing the PTX kernels on a device that is not CUDA fails naming the op (never a
/// silent fallback); <c>auto</c> runs the ILGPU kernels (no architecture is validated yet); the mode parses.
/// </summary>
[Trait(Categories.Trait, EngineCategory.Name)]
public sealed class PtxLoaderTests
{
    [Fact]
    public void MissingDriverLibraryIsAClearError()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => CudaDriver.Open(["/nonexistent/libcuda.so.1", "libfsr-no-such-cuda.so"]));
        Assert.StartsWith("PTX kernels: the CUDA driver library (libcuda) could not be loaded", ex.Message);
        Assert.Contains("/nonexistent/libcuda.so.1: not found", ex.Message);
        Assert.Contains("libfsr-no-such-cuda.so: not found", ex.Message);
        Assert.Contains("FSR_GPU_KERNELS=ilgpu", ex.Message);
        if (CudaInfo.Probe.Library is null)
        {
            var shared = Assert.Throws<InvalidOperationException>(() => CudaDriver.Shared);
            Assert.Contains("libcuda.so.1: not found", shared.Message);
        }
    }

    [Fact]
    public void ForcingPtxOnTheCpuAcceleratorNamesTheOp()
    {
        var d = Device.IlgpuCpu;
        using var scope = torch.NewDisposeScope();
        var a = torch.tensor([1f, 2, 3, 4, 5, 6], [2, 3], d);
        var b = torch.tensor([1f, 2, 3, 4, 5, 6], [3, 2], d);
        var q = torch.tensor(new float[2 * 64], [1, 1, 2, 64], d);
        using (GpuKernels.Use(GpuKernelMode.Ptx))
        {
            var ex = Assert.Throws<InvalidOperationException>(() => a.matmul(b));
            Assert.StartsWith("matmul: the hand-written PTX kernels are forced", ex.Message);
            Assert.Contains("ilgpu-cpu", ex.Message);
            Assert.Contains("is not a CUDA device", ex.Message);
            var ea = Assert.Throws<InvalidOperationException>(() => torch.nn.functional.scaled_dot_product_attention(q, q, q));
            Assert.StartsWith("scaled_dot_product_attention: the hand-written PTX kernels are forced", ea.Message);
            var c = torch.zeros([2, 2], device: d);
            var eb = Assert.Throws<InvalidOperationException>(() => PtxGemm.TryBf16(new MatmulArgs(a, b, c, [], [], [], 2, 2, 3, false, 3, false, 2)));
            Assert.StartsWith("matmul (bf16): the hand-written PTX kernels are forced", eb.Message);
        }
        // auto (no validated architecture) and ilgpu: the ILGPU kernels run.
        Assert.Empty(GpuKernels.ValidatedArchitectures);
        foreach (var mode in new[] { GpuKernelMode.Auto, GpuKernelMode.Ilgpu })
            using (GpuKernels.Use(mode, allowTf32: true))
            {
                Assert.Equal([22f, 28, 49, 64], a.matmul(b).ToArray());
                var c = torch.zeros([2, 2], device: d);
                Assert.False(PtxGemm.TryBf16(new MatmulArgs(a, b, c, [], [], [], 2, 2, 3, false, 3, false, 2)));
            }
    }

    [Fact]
    public void PtxGemmOnCpuTensorsDeclines()
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.tensor([1f, 2], [1, 2]); var b = torch.tensor([3f, 4], [2, 1]); var c = torch.zeros([1, 1]);
        using (GpuKernels.Use(GpuKernelMode.Ptx))
            Assert.False(PtxGemm.TryBf16(new MatmulArgs(a, b, c, [], [], [], 1, 1, 2, false, 2, false, 1)));
    }

    [Fact]
    public void ModeParsesAndScopesRestore()
    {
        Assert.Equal(GpuKernelMode.Auto, GpuKernels.ParseMode(null));
        Assert.Equal(GpuKernelMode.Auto, GpuKernels.ParseMode(" AUTO "));
        Assert.Equal(GpuKernelMode.Ptx, GpuKernels.ParseMode("ptx"));
        Assert.Equal(GpuKernelMode.Ilgpu, GpuKernels.ParseMode("ILGPU"));
        var ex = Assert.Throws<ArgumentException>(() => GpuKernels.ParseMode("cublas", "FSR_GPU_KERNELS"));
        Assert.Equal("FSR_GPU_KERNELS: expected auto, ptx or ilgpu, got 'cublas'", ex.Message);
        var before = (GpuKernels.Mode, GpuKernels.AllowTf32);
        using (GpuKernels.Use(GpuKernelMode.Ilgpu, allowTf32: !before.AllowTf32))
        {
            Assert.Equal(GpuKernelMode.Ilgpu, GpuKernels.Mode);
            Assert.Equal(!before.AllowTf32, GpuKernels.AllowTf32);
            using (GpuKernels.Use(GpuKernelMode.Ptx)) Assert.Equal(GpuKernelMode.Ptx, GpuKernels.Mode);
            Assert.Equal(GpuKernelMode.Ilgpu, GpuKernels.Mode);
        }
        Assert.Equal(before, (GpuKernels.Mode, GpuKernels.AllowTf32));
        Assert.False(torch.backends.cuda.matmul.allow_tf32 && !GpuKernels.AllowTf32);
    }

    [Fact]
    public void UncoveredAttentionCasesAreNamed()
    {
        var g = new FsrNative.Kernels.AttentionGeometry { B = 1, H = 1, Nq = 3, Nk = 3, D = 64, Dv = 64, KeepProb = 1f, Scale = 0.125f };
        Assert.Null(IlgpuBackend.AttentionUncovered(g));
        Assert.Contains("head dimensions", IlgpuBackend.AttentionUncovered(g with { D = 32, Dv = 32 }));
        Assert.Equal("an attention mask", IlgpuBackend.AttentionUncovered(g with { HasMask = 1 }));
        Assert.Equal("dropout", IlgpuBackend.AttentionUncovered(g with { KeepProb = 0.9f }));
        Assert.Equal("no keys", IlgpuBackend.AttentionUncovered(g with { Nk = 0 }));
    }
}
