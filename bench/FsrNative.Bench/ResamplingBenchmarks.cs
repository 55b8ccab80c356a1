using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using TT = TorchSharp.torch.Tensor;
using ts = TorchSharp.torch;
using TF = TorchSharp.torch.nn.functional;
using IM = TorchSharp.torch.InterpolationMode;

namespace FsrNative.Bench;

/// <summary>
/// interpolate on the CPU against libtorch's, same input, 2 threads, forward and forward + backward (the input gradient
/// for an upstream gradient made in the setup). Each call runs in a dispose scope on both sides (outputs freed every
/// iteration; ours return to the caching allocator). Cases: FSR's decoder logits (8, 21, 28, 28) upsampled bilinearly
/// (align_corners false) to 448×448, and ViT-B's position embedding (1, 768, 14, 14) resized bicubically to 28×28.
/// </summary>
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory), CategoriesColumn]
public class ResamplingBenchmarks
{
    [Params("bilinear 8x21x28x28->448x448", "bicubic 1x768x14x14->28x28")]
    public string Case { get; set; } = "bilinear 8x21x28x28->448x448";

    int[] _in = [], _out = [];
    string _mode = "bilinear";
    TT? _tx, _tg;
    Tensor? _x, _g;

    [GlobalSetup]
    public void Setup()
    {
        VisionBench.Init();
        bool bilinear = Case.StartsWith("bilinear");
        _mode = bilinear ? "bilinear" : "bicubic";
        _in = bilinear ? [8, 21, 28, 28] : [1, 768, 14, 14];
        _out = bilinear ? [448, 448] : [28, 28];
        (_tx, _x) = VisionBench.Randn(1, true, 1f, _in);
        (_tg, _g) = VisionBench.Randn(2, false, 1f, _in[0], _in[1], _out[0], _out[1]);
    }

    IM Mode => _mode == "bilinear" ? IM.Bilinear : IM.Bicubic;

    [Benchmark(Baseline = true, Description = "libtorch"), BenchmarkCategory("forward")]
    public void TorchForward()
    {
        using var scope = ts.NewDisposeScope();
        using var noGrad = ts.no_grad();
        TF.interpolate(_tx!, [_out[0], _out[1]], mode: Mode, align_corners: false);
    }

    [Benchmark(Description = "FsrNative"), BenchmarkCategory("forward")]
    public void OursForward()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        torch.nn.functional.interpolate(_x!, size: _out, mode: _mode);
    }

    [Benchmark(Baseline = true, Description = "libtorch"), BenchmarkCategory("forward+backward")]
    public void TorchForwardBackward()
    {
        using var scope = ts.NewDisposeScope();
        var y = TF.interpolate(_tx!, [_out[0], _out[1]], mode: Mode, align_corners: false);
        ts.autograd.grad([y], [_tx!], [_tg!]);
    }

    [Benchmark(Description = "FsrNative"), BenchmarkCategory("forward+backward")]
    public void OursForwardBackward()
    {
        using var scope = torch.NewDisposeScope();
        var y = torch.nn.functional.interpolate(_x!, size: _out, mode: _mode);
        y.backward(_g);
        _x!.zero_grad();
    }
}
