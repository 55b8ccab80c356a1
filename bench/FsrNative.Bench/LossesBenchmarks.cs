using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using TT = TorchSharp.torch.Tensor;
using ts = TorchSharp.torch;
using TF = TorchSharp.torch.nn.functional;

namespace FsrNative.Bench;

/// <summary>
/// Cross-entropy over FSR's upsampled segmentation logits (8, 21, 448, 448) against class targets with every tenth
/// position ignored (255), reduction mean: our fused kernel against libtorch's F.cross_entropy (log_softmax + nll_loss2d);
/// forward, and forward + backward to the logits.
/// </summary>
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory), CategoriesColumn]
public class LossesBenchmarks
{
    TT? _tx, _tt;
    Tensor? _x, _t;

    [GlobalSetup]
    public void Setup()
    {
        VisionBench.Init();
        (_tx, _x) = VisionBench.Randn(1, true, 3f, 8, 21, 448, 448);
        (_tt, _t) = VisionBench.Targets(21, 8, 448, 448);
    }

    [Benchmark(Baseline = true, Description = "libtorch"), BenchmarkCategory("cross_entropy forward")]
    public void TorchForward()
    {
        using var scope = ts.NewDisposeScope();
        using var noGrad = ts.no_grad();
        TF.cross_entropy(_tx!, _tt!, ignore_index: 255);
    }

    [Benchmark(Description = "FsrNative"), BenchmarkCategory("cross_entropy forward")]
    public void OursForward()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        torch.nn.functional.cross_entropy(_x!, _t!, 255);
    }

    [Benchmark(Baseline = true, Description = "libtorch"), BenchmarkCategory("cross_entropy forward+backward")]
    public void TorchForwardBackward()
    {
        using var scope = ts.NewDisposeScope();
        ts.autograd.grad([TF.cross_entropy(_tx!, _tt!, ignore_index: 255)], [_tx!]);
    }

    [Benchmark(Description = "FsrNative"), BenchmarkCategory("cross_entropy forward+backward")]
    public void OursForwardBackward()
    {
        using var scope = torch.NewDisposeScope();
        torch.nn.functional.cross_entropy(_x!, _t!, 255).backward();
        _x!.zero_grad();
    }
}
