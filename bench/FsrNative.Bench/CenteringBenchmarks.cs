using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using TT = TorchSharp.torch.Tensor;
using ts = TorchSharp.torch;
using TF = TorchSharp.torch.nn.functional;

namespace FsrNative.Bench;

/// <summary>
/// The DINO loss over 4096-wide rows: our fused dino_cross_entropy against the same expression composed of libtorch
/// ops, −Σ softmax((t − c)/τt)·log_softmax(s/τs), then the mean over rows; forward, and forward + backward to the
/// student logits (teacher detached, as in training). Rows: 16 (FSR's class tokens at batch 16) and 128 (64·2).
/// </summary>
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory), CategoriesColumn]
public class CenteringBenchmarks
{
    [Params(16, 128)]
    public int Rows { get; set; } = 16;

    const int D = 4096;
    const float Ts = 0.1f, Tt = 0.04f;
    TT? _ts, _tt, _tc;
    Tensor? _s, _t, _c;

    [GlobalSetup]
    public void Setup()
    {
        VisionBench.Init();
        (_ts, _s) = VisionBench.Randn(1, true, 2f, Rows, D);
        (_tt, _t) = VisionBench.Randn(2, false, 2f, Rows, D);
        (_tc, _c) = VisionBench.Randn(3, false, 0.5f, D);
    }

    TT TheirLoss() => (-(TF.softmax((_tt! - _tc!) / Tt, -1) * TF.log_softmax(_ts! / Ts, -1)).sum(-1)).mean();

    Tensor OurLoss() => torch.nn.functional.dino_cross_entropy(_s!, _t!, _c!, Ts, Tt).mean();

    [Benchmark(Baseline = true, Description = "libtorch"), BenchmarkCategory("forward")]
    public void TorchForward()
    {
        using var scope = ts.NewDisposeScope();
        using var noGrad = ts.no_grad();
        TheirLoss();
    }

    [Benchmark(Description = "FsrNative"), BenchmarkCategory("forward")]
    public void OursForward()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        OurLoss();
    }

    [Benchmark(Baseline = true, Description = "libtorch"), BenchmarkCategory("forward+backward")]
    public void TorchForwardBackward()
    {
        using var scope = ts.NewDisposeScope();
        ts.autograd.grad([TheirLoss()], [_ts!]);
    }

    [Benchmark(Description = "FsrNative"), BenchmarkCategory("forward+backward")]
    public void OursForwardBackward()
    {
        using var scope = torch.NewDisposeScope();
        OurLoss().backward();
        _s!.zero_grad();
    }
}
