using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using FsrNative.Kernels.Cpu;
using TorchSharp;
// FsrNative.Tensor wins inside namespace FsrNative; name TorchSharp's explicitly.
using TorchTensor = TorchSharp.torch.Tensor;

namespace FsrNative.Bench;

// Inside FsrNative.*, `torch` is the engine's; in benchmarks it names TorchSharp's, the baseline.
using torch = TorchSharp.torch;

/// <summary>
/// CPU SGEMM, C = A·op(B), against libtorch's (MKL/oneDNN-backed) matmul on the same values, both on 2 threads.
/// libtorch writes into a preallocated C (addmm_ with beta = 0), so the comparison is kernel against kernel with no
/// allocation on either side. TransB = true is x·Wᵀ as in Linear (W stored [out, in]).
/// Shapes: square 256…2048; ViT-B/16 at batch 8 (6272 tokens × 768 → 2304 (qkv) and → 3072 (MLP fc1)) and one image
/// (784 × 768 → 2304).
/// </summary>
[Config(typeof(GemmConfig))]
public abstract unsafe class SgemmBenchmarks
{
    /// <summary>M x N x K.</summary>
    public abstract string Shape { get; set; }

    [Params(false, true)]
    public bool TransB;

    private int _m, _n, _k;
    private float* _a, _b, _c;
    private TorchTensor? _ta, _tb, _tbOp, _tc;

    [GlobalSetup]
    public void Setup()
    {
        var dims = Shape.Split('x').Select(int.Parse).ToArray();
        (_m, _n, _k) = (dims[0], dims[1], dims[2]);
        torch.set_num_threads(2);
        _ta = torch.rand(_m, _k, generator: torch.manual_seed(1));
        _tb = TransB ? torch.rand(_n, _k) : torch.rand(_k, _n);
        _tbOp = TransB ? _tb.t() : _tb;
        _tc = torch.zeros(_m, _n);
        // the same values for us, in 64-byte aligned native buffers
        _a = Copy(_ta);
        _b = Copy(_tb);
        _c = (float*)NativeMemory.AlignedAlloc((nuint)((long)_m * _n * sizeof(float)), 64);
        new Span<float>(_c, _m * _n).Clear();
    }

    internal static float* Copy(TorchTensor t)
    {
        var values = t.contiguous().data<float>().ToArray();
        var p = (float*)NativeMemory.AlignedAlloc((nuint)(values.Length * sizeof(float)), 64);
        values.CopyTo(new Span<float>(p, values.Length));
        return p;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        NativeMemory.AlignedFree(_a);
        NativeMemory.AlignedFree(_b);
        NativeMemory.AlignedFree(_c);
        _tbOp?.Dispose();
        _ta?.Dispose();
        _tb?.Dispose();
        _tc?.Dispose();
    }

    [Benchmark(Baseline = true, Description = "libtorch")]
    public void Torch() => _tc!.addmm_(_ta!, _tbOp!, beta: 0, alpha: 1);

    [Benchmark(Description = "FsrNative")]
    public void Ours() => Sgemm.Multiply(false, TransB, _m, _n, _k, 1f, _a, _k, _b, TransB ? _k : _n, 0f, _c, _n);
}

/// <summary>Square products, 256 … 2048.</summary>
public class SgemmSquareBenchmarks : SgemmBenchmarks
{
    [Params("256x256x256", "512x512x512", "1024x1024x1024", "2048x2048x2048")]
    public override string Shape { get; set; } = "512x512x512";
}

/// <summary>ViT-B/16 Linear shapes: batch 8 × 784 tokens → qkv (2304) and fc1 (3072); one image → qkv.</summary>
public class SgemmVitBenchmarks : SgemmBenchmarks
{
    [Params("6272x2304x768", "6272x3072x768", "784x2304x768")]
    public override string Shape { get; set; } = "784x2304x768";
}

/// <summary>Adds the GFLOP/s column to the matrix-product benchmarks.</summary>
public sealed class GemmConfig : BenchmarkDotNet.Configs.ManualConfig
{
    public GemmConfig() => AddColumn(new GflopsColumn());
}

/// <summary>
/// Batched products as in ViT-B attention at batch 8 (96 = 8×12 heads, 784 tokens, head dim 64): scores Q·Kᵀ
/// (784×784×64, TransB) and context P·V (784×64×784). TorchSharp has no in-place batched product, so the baseline
/// is libtorch's addmm_ (beta = 0) per matrix into slices of a preallocated output (views made in the setup); torch.bmm,
/// which allocates its 236 MB output on every call as PyTorch code would, is shown beside it.
/// </summary>
[Config(typeof(GemmConfig))]
public unsafe class SgemmBatchedBenchmarks
{
    [Params("784x784x64:T", "784x64x784:N")]
    public string Case { get; set; } = "784x784x64:T";

    [Params(96)]
    public int Batch { get; set; }

    /// <summary>For the GFLOP/s column.</summary>
    public string Shape => Case.Split(':')[0];

    private int _m, _n, _k;
    private bool _transB;
    private float* _a, _b, _c;
    private TorchTensor? _ta, _tb, _tbOp, _tc;
    private TorchTensor[] _sa = [], _sb = [], _sc = [];

    [GlobalSetup]
    public void Setup()
    {
        var dims = Shape.Split('x').Select(int.Parse).ToArray();
        (_m, _n, _k) = (dims[0], dims[1], dims[2]);
        _transB = Case.EndsWith(":T");
        torch.set_num_threads(2);
        _ta = torch.rand(Batch, _m, _k);
        _tb = _transB ? torch.rand(Batch, _n, _k) : torch.rand(Batch, _k, _n);
        _tbOp = _transB ? _tb.transpose(1, 2) : _tb;
        _tc = torch.zeros(Batch, _m, _n);
        _sa = Enumerable.Range(0, Batch).Select(i => _ta[i]).ToArray();
        _sb = Enumerable.Range(0, Batch).Select(i => _tbOp[i]).ToArray();
        _sc = Enumerable.Range(0, Batch).Select(i => _tc[i]).ToArray();
        _a = SgemmBenchmarks.Copy(_ta);
        _b = SgemmBenchmarks.Copy(_tb);
        _c = (float*)NativeMemory.AlignedAlloc((nuint)((long)Batch * _m * _n * sizeof(float)), 64);
        new Span<float>(_c, Batch * _m * _n).Clear();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        NativeMemory.AlignedFree(_a);
        NativeMemory.AlignedFree(_b);
        NativeMemory.AlignedFree(_c);
        foreach (var t in _sa.Concat(_sb).Concat(_sc)) t.Dispose();
        _tbOp?.Dispose();
        _ta?.Dispose();
        _tb?.Dispose();
        _tc?.Dispose();
    }

    [Benchmark(Baseline = true, Description = "libtorch")]
    public void Torch()
    {
        for (int i = 0; i < _sc.Length; i++) _sc[i].addmm_(_sa[i], _sb[i], beta: 0, alpha: 1);
    }

    [Benchmark(Description = "libtorch bmm (allocates)")]
    public void TorchBmm()
    {
        using var c = torch.bmm(_ta!, _tbOp!);
    }

    [Benchmark(Description = "FsrNative")]
    public void Ours() => Sgemm.MultiplyBatched(false, _transB, Batch, _m, _n, _k, 1f,
        _a, _k, (long)_m * _k, _b, _transB ? _k : _n, (long)_k * _n, 0f, _c, _n, (long)_m * _n);
}
