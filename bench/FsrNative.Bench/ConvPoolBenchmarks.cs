using BenchmarkDotNet.Attributes;
using Fn = FsrNative.torch.nn.functional;
using ours = FsrNative.torch;
using TF = TorchSharp.torch.nn.functional;
using TorchTensor = TorchSharp.torch.Tensor;

namespace FsrNative.Bench;

// Inside FsrNative.*, `torch` is the engine's; in benchmarks it names TorchSharp's, the baseline.
using torch = TorchSharp.torch;

/// <summary>
/// conv2d and pooling on the CPU, ours against libtorch (TorchSharp, 2 threads) on the same values. Each iteration runs
/// in a dispose scope on both sides (ours: the caching allocator gets the outputs back, as in a training step).
/// Backward: libtorch through torch.autograd.grad (fresh gradients, no accumulation), ours through backward() with the
/// leaves' gradients dropped after each iteration.
/// <para>Shapes (FSR, ViT-B/16): the patch embedding 16×16 stride 16, 3 → 768 at 224 px (batch 8) and 448 px (batch 1);
/// the DeepLab-LargeFOV decoder on 28×28 maps at batch 8: 3×3 dilation 5 (768 → 512, 512 → 512) and the 1×1
/// classifier 512 → 21; pooling on (8, 512, 56, 56) with kernel 3, stride 2, padding 1; GAP/GMP on (8, 768, 28, 28).</para>
/// </summary>
public abstract class ConvPoolBenchmarkBase
{
    protected static TorchTensor TorchRandom(long[] shape, bool grad, int seed)
        => torch.randn(shape, generator: torch.manual_seed(seed)).requires_grad_(grad);

    /// <summary>Our tensor with the values of a TorchSharp tensor.</summary>
    protected static Tensor Ours(TorchTensor t, bool grad)
    {
        var values = t.detach().contiguous().data<float>().ToArray();
        var shape = t.shape.Select(v => (int)v).ToArray();
        var result = ours.tensor(values, shape, requires_grad: grad);
        return result.DetachFromDisposeScope();
    }

    protected static void Setup() => torch.set_num_threads(2);
}

/// <summary>conv2d forward and forward + backward.</summary>
public class Conv2dBenchmarks : ConvPoolBenchmarkBase
{
    /// <summary>name: N, C, H, W, O, kernel, stride, padding, dilation, bias, input needs a gradient.</summary>
    static readonly Dictionary<string, (int n, int c, int h, int w, int o, int k, int s, int p, int d, bool bias, bool inputGrad)> Cases = new()
    {
        ["patch224"] = (8, 3, 224, 224, 768, 16, 16, 0, 1, true, false),
        ["patch448"] = (1, 3, 448, 448, 768, 16, 16, 0, 1, true, false),
        ["fov768"] = (8, 768, 28, 28, 512, 3, 1, 5, 5, false, true),
        ["fov512"] = (8, 512, 28, 28, 512, 3, 1, 5, 5, false, true),
        ["cls1x1"] = (8, 512, 28, 28, 21, 1, 1, 0, 1, false, true),
    };

    [Params("patch224", "patch448", "fov768", "fov512", "cls1x1")]
    public string Case { get; set; } = "fov512";

    [Params(false, true)]
    public bool Backward { get; set; }

    (int n, int c, int h, int w, int o, int k, int s, int p, int d, bool bias, bool inputGrad) _g;
    TorchTensor? _tx, _tw, _tb, _tgy;
    Tensor? _x, _w, _b, _gy;

    [GlobalSetup]
    public void GlobalSetup()
    {
        Setup();
        _g = Cases[Case];
        var g = _g;
        _tx = TorchRandom([g.n, g.c, g.h, g.w], Backward && g.inputGrad, 1);
        _tw = TorchRandom([g.o, g.c, g.k, g.k], Backward, 2).mul(0.05).detach().requires_grad_(Backward);
        _tb = g.bias ? TorchRandom([g.o], Backward, 3) : null;
        int oh = (g.h + 2 * g.p - g.d * (g.k - 1) - 1) / g.s + 1, ow = (g.w + 2 * g.p - g.d * (g.k - 1) - 1) / g.s + 1;
        _tgy = TorchRandom([g.n, g.o, oh, ow], false, 4);
        _x = Ours(_tx, Backward && g.inputGrad);
        _w = Ours(_tw, Backward);
        _b = _tb is null ? null : Ours(_tb, Backward);
        _gy = Ours(_tgy, false);
    }

    [Benchmark(Baseline = true, Description = "libtorch")]
    public void Torch()
    {
        using var scope = torch.NewDisposeScope();
        var g = _g;
        var y = TF.conv2d(_tx!, _tw!, _tb, [g.s, g.s], [g.p, g.p], [g.d, g.d]);
        if (!Backward) return;
        var leaves = new List<TorchTensor> { _tw! };
        if (g.inputGrad) leaves.Add(_tx!);
        if (_tb is not null) leaves.Add(_tb);
        torch.autograd.grad([y], leaves, [_tgy!]);
    }

    [Benchmark(Description = "FsrNative")]
    public void FsrNative()
    {
        using var scope = ours.NewDisposeScope();
        var g = _g;
        var y = Fn.conv2d(_x!, _w!, _b, g.s, g.p, g.d);
        if (!Backward) return;
        y.backward(_gy);
        _w!.zero_grad();
        _x!.zero_grad();
        _b?.zero_grad();
    }
}

/// <summary>max_pool2d / avg_pool2d (k3 s2 p1 on (8, 512, 56, 56)) and GAP / GMP (on (8, 768, 28, 28)), forward and
/// forward + backward. libtorch's GAP / GMP are adaptive_avg_pool2d / adaptive_max_pool2d to 1×1.</summary>
public class PoolBenchmarks : ConvPoolBenchmarkBase
{
    [Params("max_pool2d", "avg_pool2d", "gap", "gmp")]
    public string Op { get; set; } = "max_pool2d";

    [Params(false, true)]
    public bool Backward { get; set; }

    TorchTensor? _tx, _tgy;
    Tensor? _x, _gy;

    [GlobalSetup]
    public void GlobalSetup()
    {
        Setup();
        bool global = Op is "gap" or "gmp";
        long[] shape = global ? [8, 768, 28, 28] : [8, 512, 56, 56];
        long[] outShape = global ? [8, 768, 1, 1] : [8, 512, 28, 28];
        _tx = TorchRandom(shape, Backward, 1);
        _tgy = TorchRandom(outShape, false, 2);
        _x = Ours(_tx, Backward);
        _gy = Ours(_tgy, false);
    }

    [Benchmark(Baseline = true, Description = "libtorch")]
    public void Torch()
    {
        using var scope = torch.NewDisposeScope();
        var y = Op switch
        {
            "max_pool2d" => TF.max_pool2d(_tx!, [3, 3], [2, 2], [1, 1]),
            "avg_pool2d" => TF.avg_pool2d(_tx!, [3, 3], [2, 2], [1, 1]),
            "gap" => TF.adaptive_avg_pool2d(_tx!, [1, 1]),
            _ => TF.adaptive_max_pool2d(_tx!, [1, 1]),
        };
        if (Backward) torch.autograd.grad([y], [_tx!], [_tgy!]);
    }

    [Benchmark(Description = "FsrNative")]
    public void FsrNative()
    {
        using var scope = ours.NewDisposeScope();
        var y = Op switch
        {
            "max_pool2d" => Fn.max_pool2d(_x!, 3, 2, 1),
            "avg_pool2d" => Fn.avg_pool2d(_x!, 3, 2, 1),
            "gap" => Fn.global_avg_pool2d(_x!, keepdim: true),
            _ => Fn.global_max_pool2d(_x!, keepdim: true),
        };
        if (!Backward) return;
        y.backward(_gy);
        _x!.zero_grad();
    }
}
