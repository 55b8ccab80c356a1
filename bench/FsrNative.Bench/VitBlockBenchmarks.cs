using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using FsrNative.Nn;
using TorchSharp;
using ours = FsrNative.torch;
using TorchTensor = TorchSharp.torch.Tensor;

namespace FsrNative.Bench;

// Inside FsrNative.*, `torch` is the engine's; in benchmarks it names TorchSharp's, the baseline.
using torch = TorchSharp.torch;
using TF = TorchSharp.torch.nn.functional;

/// <summary>
/// The transformer workloads of FSR through each engine's module API, same weights and inputs:
/// <list type="bullet">
/// <item>one ViT-S/16 block (384 wide, 6 heads, MLP 1536, 196 tokens, batch 8): forward + backward to the input and
/// every parameter, gradients cleared each iteration. libtorch runs timm's block twice: attention composed of
/// matmul + softmax (timm's <c>fused_attn=False</c>, what we compute) and through F.scaled_dot_product_attention
/// (timm's default).</item>
/// <item>a whole ViT-B/16 forward at 448 px (785 tokens), batch 1, inference (no grad).</item>
/// </list>
/// Ratio = ours / libtorch (below 1: faster than libtorch).
/// </summary>
[Config(typeof(VitConfigBench))]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class VitBlockBenchmarks
{
    const int Batch = 8, Tokens = 196, Width = 384, Heads = 6;

    Block _block = null!;
    Tensor _x = null!, _g = null!;
    Dictionary<string, TorchTensor> _w = null!;
    TorchTensor _tx = null!, _tg = null!;

    [GlobalSetup(Targets = [nameof(BlockTorchComposed), nameof(BlockTorchSdpa), nameof(BlockOurs)])]
    public void SetupBlock()
    {
        torch.set_num_threads(2);
        ours.manual_seed(3);
        _block = new Block(Width, Heads, qkvBias: true);
        _block.eval();   // no dropout / drop-path in either engine
        _w = Weights(_block);
        var gen = torch.manual_seed(7);
        _tx = torch.randn(Batch, Tokens, Width, generator: gen).requires_grad_(true);
        _tg = torch.randn(Batch, Tokens, Width, generator: gen);
        _x = Copy(_tx).requires_grad_(true);
        _g = Copy(_tg);
    }

    static Dictionary<string, TorchTensor> Weights(Module m)
        => m.named_parameters().ToDictionary(p => p.name, p => torch.tensor(p.parameter.ToArray(), p.parameter.shape.Select(d => (long)d).ToArray()).requires_grad_(true));

    static Tensor Copy(TorchTensor t) => ours.tensor(t.detach().contiguous().data<float>().ToArray(), t.shape.Select(d => (int)d).ToArray());

    static TorchTensor Lin(Dictionary<string, TorchTensor> w, string p, TorchTensor x) => TF.linear(x, w[p + ".weight"], w[p + ".bias"]);

    static TorchTensor TimmBlock(Dictionary<string, TorchTensor> w, string p, TorchTensor x, int heads, bool sdpa)
    {
        long b = x.shape[0], n = x.shape[1], c = x.shape[2], hd = c / heads;
        var h = TF.layer_norm(x, [c], w[p + "norm1.weight"], w[p + "norm1.bias"], 1e-6);
        var qkv = Lin(w, p + "attn.qkv", h).reshape(b, n, 3, heads, hd).permute(2, 0, 3, 1, 4);
        TorchTensor a;
        if (sdpa) a = TF.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2]);
        else a = (qkv[0] * Math.Pow(hd, -0.5)).matmul(qkv[1].transpose(-2, -1)).softmax(-1).matmul(qkv[2]);
        x = x + Lin(w, p + "attn.proj", a.transpose(1, 2).reshape(b, n, c));
        h = TF.layer_norm(x, [c], w[p + "norm2.weight"], w[p + "norm2.bias"], 1e-6);
        return x + Lin(w, p + "mlp.fc2", TF.gelu(Lin(w, p + "mlp.fc1", h)));
    }

    void TorchStep(bool sdpa)
    {
        using var scope = torch.NewDisposeScope();
        var y = TimmBlock(_w, "", _tx, Heads, sdpa);
        torch.autograd.backward([y], [_tg]);
        foreach (var t in _w.Values) t.grad = null;
        _tx.grad = null;
    }

    [BenchmarkCategory("ViT-S/16 block fwd+bwd (8×196×384)"), Benchmark(Baseline = true, Description = "libtorch (matmul+softmax)")]
    public void BlockTorchComposed() => TorchStep(sdpa: false);

    [BenchmarkCategory("ViT-S/16 block fwd+bwd (8×196×384)"), Benchmark(Description = "libtorch (sdpa)")]
    public void BlockTorchSdpa() => TorchStep(sdpa: true);

    [BenchmarkCategory("ViT-S/16 block fwd+bwd (8×196×384)"), Benchmark(Description = "FsrNative")]
    public void BlockOurs()
    {
        using var scope = ours.NewDisposeScope();
        _block.forward(_x).backward(_g);
        _block.zero_grad();
        _x.zero_grad();
    }

    // ---- ViT-B/16 at 448 px ------------------------------------------------------------------------------------

    VisionTransformer _vit = null!;
    Tensor _image = null!;
    TorchTensor _timage = null!;
    Dictionary<string, TorchTensor> _vw = null!;

    [GlobalSetup(Targets = [nameof(VitBTorch), nameof(VitBTorchSdpa), nameof(VitBOurs)])]
    public void SetupVit()
    {
        torch.set_num_threads(2);
        ours.manual_seed(5);
        _vit = new VisionTransformer(VitConfig.Base16 with { ImgSize = 448 });
        _vit.eval();
        _vw = Weights(_vit);
        foreach (var t in _vw.Values) t.requires_grad_(false);
        var gen = torch.manual_seed(9);
        _timage = torch.randn(1, 3, 448, 448, generator: gen);
        _image = Copy(_timage);
    }

    void TorchVit(bool sdpa)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var x = TF.conv2d(_timage, _vw["patch_embed.proj.weight"], _vw["patch_embed.proj.bias"], strides: [16, 16]).flatten(2).transpose(1, 2);
        x = torch.cat([_vw["cls_token"].expand(1, -1, -1), x], 1) + _vw["pos_embed"];
        for (int i = 0; i < 12; i++) x = TimmBlock(_vw, $"blocks.{i}.", x, 12, sdpa);
        x = TF.layer_norm(x, [768], _vw["norm.weight"], _vw["norm.bias"], 1e-6);
        _ = Lin(_vw, "head", x.select(1, 0));
    }

    [BenchmarkCategory("ViT-B/16 forward 448 px, batch 1"), Benchmark(Baseline = true, Description = "libtorch (matmul+softmax)")]
    public void VitBTorch() => TorchVit(sdpa: false);

    [BenchmarkCategory("ViT-B/16 forward 448 px, batch 1"), Benchmark(Description = "libtorch (sdpa)")]
    public void VitBTorchSdpa() => TorchVit(sdpa: true);

    [BenchmarkCategory("ViT-B/16 forward 448 px, batch 1"), Benchmark(Description = "FsrNative")]
    public void VitBOurs()
    {
        using var scope = ours.NewDisposeScope();
        using var noGrad = ours.no_grad();
        _ = _vit.forward(_image);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _block?.Dispose();
        _vit?.Dispose();
    }
}

/// <summary>
/// One AdamW step (weight decay on, two groups) over the parameters of a ViT-S/16 (22M values in 152 tensors, with
/// gradients): our fused per-parameter loop against TorchSharp's torch.optim.AdamW (libtorch in-place ops).
/// </summary>
[Config(typeof(VitConfigBench))]
public class AdamWStepBenchmarks
{
    List<Tensor> _ours = null!;
    List<TorchSharp.Modules.Parameter> _theirs = null!;
    FsrNative.Optim.AdamW _opt = null!;
    TorchSharp.Modules.AdamW _topt = null!;
    VisionTransformer _vit = null!;

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(2);
        _vit = new VisionTransformer(VitConfig.Small16);
        _ours = _vit.parameters().ToList();
        foreach (var p in _ours) p.grad = ours.randn(p.shape).DetachFromDisposeScope();
        _theirs = _ours.Select(p =>
        {
            var t = new TorchSharp.Modules.Parameter(torch.tensor(p.ToArray(), p.shape.Select(d => (long)d).ToArray()));
            t.grad = torch.tensor(p.grad!.ToArray(), p.shape.Select(d => (long)d).ToArray());
            return t;
        }).ToList();
        _opt = new FsrNative.Optim.AdamW([new FsrNative.Optim.ParamGroup(_ours.Where(p => p.dim() <= 1), weight_decay: 0), new FsrNative.Optim.ParamGroup(_ours.Where(p => p.dim() > 1))], lr: 1e-4, weight_decay: 0.05);
        _topt = torch.optim.AdamW(
            [new TorchSharp.Modules.AdamW.ParamGroup(_theirs.Where(p => p.dim() <= 1), new TorchSharp.Modules.AdamW.Options { weight_decay = 0 }),
             new TorchSharp.Modules.AdamW.ParamGroup(_theirs.Where(p => p.dim() > 1), new TorchSharp.Modules.AdamW.Options { weight_decay = 0.05 })],
            1e-4, 0.9, 0.999, 1e-8, 0.05, false, false);
    }

    [Benchmark(Baseline = true, Description = "libtorch (TorchSharp AdamW)")]
    public void StepTorch() { using var scope = torch.NewDisposeScope(); _topt.step(); }

    [Benchmark(Description = "FsrNative AdamW")]
    public void StepOurs() => _opt.step();

    [GlobalCleanup]
    public void Cleanup()
    {
        _opt.Dispose();
        _vit.Dispose();
    }
}

public sealed class VitConfigBench : ManualConfig
{
    public VitConfigBench() => AddColumn(BenchmarkDotNet.Columns.StatisticColumn.Min);
}

/// <summary>
/// The same two workloads timed the way the bench README recommends on a loaded machine: one thread each
/// (FsrNative: GEMM team and element-wise workers at 1 thread; libtorch: set_num_threads(1)), by thread CPU time
/// (CLOCK_THREAD_CPUTIME_ID, robust to other processes taking the core), interleaved, best and median.
/// Run: <c>FSRNATIVE_GEMM_THREADS=1 dotnet run -c Release --project bench/FsrNative.Bench -- --thread-cpu-vit</c>.
/// </summary>
public static class VitThreadCpu
{
    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    struct Timespec { public long Sec, Nsec; }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "clock_gettime")]
    static extern int ClockGettime(int clock, out Timespec ts);

    internal static double ThreadMs() { ClockGettime(3 /* CLOCK_THREAD_CPUTIME_ID */, out var t); return t.Sec * 1e3 + t.Nsec / 1e6; }

    internal static (double best, double median) Stats(List<double> v)
    {
        var s = v.Order().ToList();
        return (s[0], s[s.Count / 2]);
    }

    /// <summary>Runs each action <paramref name="reps"/> times, interleaved, after one warm-up each.</summary>
    internal static List<double>[] Interleaved(Action[] actions, int reps)
    {
        var times = actions.Select(_ => new List<double>()).ToArray();
        foreach (var a in actions) a();
        for (int r = 0; r < reps; r++)
            for (int i = 0; i < actions.Length; i++)
            {
                double t0 = ThreadMs();
                actions[i]();
                times[i].Add(ThreadMs() - t0);
            }
        return times;
    }

    public static int Run(TextWriter output)
    {
        FsrNative.Kernels.Cpu.CpuKernelSettings.ParallelMinWork = long.MaxValue;
        if (Environment.GetEnvironmentVariable("FSRNATIVE_GEMM_THREADS") != "1")
            output.WriteLine("warning: FSRNATIVE_GEMM_THREADS is not 1: our GEMM uses more than this thread, and thread CPU time misses that work");
        output.WriteLine($"load average before: {File.ReadAllText("/proc/loadavg").Trim()}");

        var b = new VitBlockBenchmarks();
        b.SetupBlock();
        torch.set_num_threads(1);   // after the setup, which asks for 2 (thread CPU time sees the calling thread only)
        var block = Interleaved([b.BlockOurs, b.BlockTorchComposed, b.BlockTorchSdpa], 10);
        Report(output, "ViT-S/16 block fwd+bwd 8×196×384", block);
        b.Cleanup();

        var v = new VitBlockBenchmarks();
        v.SetupVit();
        torch.set_num_threads(1);
        var vit = Interleaved([v.VitBOurs, v.VitBTorch, v.VitBTorchSdpa], 5);
        Report(output, "ViT-B/16 forward 448 px batch 1", vit);
        v.Cleanup();
        output.WriteLine($"load average after: {File.ReadAllText("/proc/loadavg").Trim()}");
        return 0;
    }

    static void Report(TextWriter output, string what, List<double>[] t)
    {
        if (torch.get_num_threads() != 1) output.WriteLine($"warning: libtorch runs {torch.get_num_threads()} threads");
        var ours = Stats(t[0]);
        output.WriteLine($"{what}: FsrNative best {ours.best:F1} / median {ours.median:F1} ms");
        string[] names = ["libtorch (matmul+softmax)", "libtorch (sdpa)"];
        for (int i = 1; i < t.Length; i++)
        {
            var s = Stats(t[i]);
            output.WriteLine($"  {names[i - 1]}: best {s.best:F1} / median {s.median:F1} ms; ours/libtorch {ours.best / s.best:F2} (best) {ours.median / s.median:F2} (median)");
        }
    }
}
