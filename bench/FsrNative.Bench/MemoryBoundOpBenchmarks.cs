using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using TorchSharp;
using F = FsrNative.torch.nn.functional;
using ours = FsrNative.torch;
using TorchTensor = TorchSharp.torch.Tensor;

namespace FsrNative.Bench;

// Inside FsrNative.*, `torch` is the engine's; in benchmarks it names TorchSharp's, the baseline.
using torch = TorchSharp.torch;

/// <summary>
/// The memory-bound ops of a transformer step through each engine's public API, on the same values:
/// softmax and layer_norm over (8·784, 768) (ViT-B/16 tokens of a batch of 8), exact GELU over (8·784, 3072)
/// (the MLP's hidden activations), and an add of two 16M-float tensors. Both sides allocate their outputs as a
/// user's code does and release them at once; ours go back to the caching allocator (a dispose per step), libtorch's
/// to its allocator. The Ratio column reads ours / libtorch within each category.
/// </summary>
[Config(typeof(GemmConfig))]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class MemoryBoundOpBenchmarks
{
    const int Tokens = 8 * 784, Width = 768, Hidden = 3072, AddLength = 16 << 20;

    TorchTensor _tx = null!, _tGamma = null!, _tBeta = null!, _tHidden = null!, _tA = null!, _tB = null!;
    Tensor _x = null!, _gamma = null!, _beta = null!, _hidden = null!, _a = null!, _b = null!;

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(2);
        var gen = torch.manual_seed(7);
        _tx = torch.randn(Tokens, Width, generator: gen);
        _tGamma = torch.randn(Width, generator: gen);
        _tBeta = torch.randn(Width, generator: gen);
        _tHidden = torch.randn(Tokens, Hidden, generator: gen);
        _tA = torch.randn(AddLength, generator: gen);
        _tB = torch.randn(AddLength, generator: gen);
        _x = Copy(_tx); _gamma = Copy(_tGamma); _beta = Copy(_tBeta);
        _hidden = Copy(_tHidden); _a = Copy(_tA); _b = Copy(_tB);
    }

    static Tensor Copy(TorchTensor t) => ours.tensor(t.contiguous().data<float>().ToArray(), t.shape.Select(d => (int)d).ToArray());

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var t in new[] { _tx, _tGamma, _tBeta, _tHidden, _tA, _tB }) t.Dispose();
        foreach (var t in new[] { _x, _gamma, _beta, _hidden, _a, _b }) t.Dispose();
    }

    [BenchmarkCategory("softmax (6272, 768)"), Benchmark(Baseline = true, Description = "libtorch")]
    public void SoftmaxTorch() { using var y = _tx.softmax(-1); }

    [BenchmarkCategory("softmax (6272, 768)"), Benchmark(Description = "FsrNative")]
    public void SoftmaxOurs() { using var y = _x.softmax(-1); }

    [BenchmarkCategory("layer_norm (6272, 768)"), Benchmark(Baseline = true, Description = "libtorch")]
    public void LayerNormTorch() { using var y = torch.nn.functional.layer_norm(_tx, [Width], _tGamma, _tBeta); }

    [BenchmarkCategory("layer_norm (6272, 768)"), Benchmark(Description = "FsrNative")]
    public void LayerNormOurs() { using var y = F.layer_norm(_x, [Width], _gamma, _beta); }

    [BenchmarkCategory("gelu (6272, 3072)"), Benchmark(Baseline = true, Description = "libtorch")]
    public void GeluTorch() { using var y = torch.nn.functional.gelu(_tHidden); }

    [BenchmarkCategory("gelu (6272, 3072)"), Benchmark(Description = "FsrNative")]
    public void GeluOurs() { using var y = _hidden.gelu(); }

    [BenchmarkCategory("add 16M"), Benchmark(Baseline = true, Description = "libtorch")]
    public void AddTorch() { using var y = _tA.add(_tB); }

    [BenchmarkCategory("add 16M"), Benchmark(Description = "FsrNative")]
    public void AddOurs() { using var y = _a.add(_b); }
}

/// <summary>
/// The memory-bound ops timed the way the bench README recommends on a loaded machine: one thread each (FsrNative's
/// element-wise workers off, libtorch set_num_threads(1)), by thread CPU time (page faults of fresh outputs count:
/// they are system time of the thread), interleaved, best and median.
/// Run: <c>FSRNATIVE_CPU_THREADS=1 dotnet run -c Release --project bench/FsrNative.Bench -- --thread-cpu-memory</c>.
/// </summary>
public static class MemoryBoundThreadCpu
{
    public static int Run(TextWriter output)
    {
        FsrNative.Kernels.Cpu.CpuKernelSettings.ParallelMinWork = long.MaxValue;
        output.WriteLine($"load average before: {File.ReadAllText("/proc/loadavg").Trim()}");
        var b = new MemoryBoundOpBenchmarks();
        b.Setup();
        torch.set_num_threads(1);   // after the setup, which asks for 2 (thread CPU time sees the calling thread only)
        (string name, Action ours, Action libtorch)[] cases =
        [
            ("softmax (6272, 768)", b.SoftmaxOurs, b.SoftmaxTorch),
            ("layer_norm (6272, 768)", b.LayerNormOurs, b.LayerNormTorch),
            ("gelu (6272, 3072)", b.GeluOurs, b.GeluTorch),
            ("add 16M", b.AddOurs, b.AddTorch),
        ];
        output.WriteLine("| op | ours best / median (ms) | libtorch best / median (ms) | speed ratio best / median |");
        output.WriteLine("|---|---:|---:|---:|");
        foreach (var (name, oursCase, torchCase) in cases)
        {
            var t = VitThreadCpu.Interleaved([oursCase, torchCase], 15);
            var o = VitThreadCpu.Stats(t[0]);
            var l = VitThreadCpu.Stats(t[1]);
            output.WriteLine($"| {name} | {o.best:F2} / {o.median:F2} | {l.best:F2} / {l.median:F2} | {l.best / o.best:F2} / {l.median / o.median:F2} |");
        }
        b.Cleanup();
        output.WriteLine($"load average after: {File.ReadAllText("/proc/loadavg").Trim()}");
        return 0;
    }
}
