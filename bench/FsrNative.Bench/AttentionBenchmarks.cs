using BenchmarkDotNet.Attributes;
using TorchSharp;
// FsrNative.Tensor and FsrNative.torch win inside namespace FsrNative; TorchSharp's go by these names.
using TorchTensor = TorchSharp.torch.Tensor;
using ts = TorchSharp.torch;
using Ours = FsrNative.torch;

namespace FsrNative.Bench;

/// <summary>
/// scaled_dot_product_attention on the CPU, ours against libtorch's (TorchSharp) on the same values, both on 2 threads:
/// forward alone (no grad) and forward + backward (gradients of q, k and v). Shapes: ViT-B/16 at 448 px, one image
/// (1, 12, 784, 64), and eight images at 224 px (8, 12, 196, 64); the FSR aggregation module's masked cross-attention
/// (8 images, 1 query token over 784 patch tokens, 12 heads of 64) with a per-(image, key) keep mask (a boolean
/// attn_mask for libtorch). Every iteration runs in a dispose scope on both sides, and the leaves' gradients are
/// released after each backward, so our allocator's pooling is exercised as in a training step.
/// </summary>
public class AttentionBenchmarks
{
    /// <summary>"B,H,Nq,Nk,D", with ":mask" for a keep mask per (batch, key).</summary>
    [Params("1,12,784,784,64", "8,12,196,196,64", "8,12,1,784,64:mask")]
    public string Case { get; set; } = "1,12,784,784,64";

    [Params(false, true)]
    public bool Backward { get; set; }

    Tensor? _q, _k, _v, _keep, _g;
    TorchTensor? _tq, _tk, _tv, _tmask, _tg;

    [GlobalSetup]
    public void Setup()
    {
        ts.set_num_threads(2);
        var parts = Case.Split(':');
        var d = parts[0].Split(',').Select(int.Parse).ToArray();
        int b = d[0], h = d[1], nq = d[2], nk = d[3], e = d[4];
        bool masked = parts.Length > 1;
        var gen = ts.manual_seed(1);
        _tq = ts.randn([b, h, nq, e], generator: gen).requires_grad_(Backward);
        _tk = ts.randn([b, h, nk, e], generator: gen).requires_grad_(Backward);
        _tv = ts.randn([b, h, nk, e], generator: gen).requires_grad_(Backward);
        _tg = ts.randn([b, h, nq, e], generator: gen);
        _q = Leaf(_tq); _k = Leaf(_tk); _v = Leaf(_tv); _g = Leaf(_tg, false);
        if (masked)
        {
            using var keep = ts.rand([b, 1, 1, nk], generator: gen).lt(0.6);   // 40 % of the tokens masked, as FSR's 320 of 784
            keep[.., .., .., 0] = ts.tensor(true);                              // no image fully masked
            _tmask = keep.clone();
            _keep = Ours.tensor(keep.to_type(ts.ScalarType.Float32).data<float>().ToArray(), [b, 1, 1, nk]);
        }
    }

    Tensor Leaf(TorchTensor t, bool? grad = null)
        => Ours.tensor(t.detach().contiguous().data<float>().ToArray(), t.shape.Select(s => (int)s).ToArray(), requires_grad: grad ?? Backward);

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var t in new[] { _q, _k, _v, _keep, _g }) t?.Dispose();
        foreach (var t in new[] { _tq, _tk, _tv, _tmask, _tg }) t?.Dispose();
    }

    [Benchmark(Baseline = true, Description = "libtorch")]
    public void Torch()
    {
        using var scope = ts.NewDisposeScope();
        if (!Backward)
        {
            using var _ = ts.no_grad();
            ts.nn.functional.scaled_dot_product_attention(_tq!, _tk!, _tv!, _tmask);
            return;
        }
        var y = ts.nn.functional.scaled_dot_product_attention(_tq!, _tk!, _tv!, _tmask);
        y.backward([_tg!]);
        foreach (var t in new[] { _tq!, _tk!, _tv! }) { t.grad?.Dispose(); t.grad = null; }
    }

    [Benchmark(Description = "FsrNative")]
    public void FsrNative()
    {
        using var scope = Ours.NewDisposeScope();
        if (!Backward)
        {
            using var _ = Ours.no_grad();
            Ours.nn.functional.scaled_dot_product_attention(_q!, _k!, _v!, keep_mask: _keep);
            return;
        }
        var y = Ours.nn.functional.scaled_dot_product_attention(_q!, _k!, _v!, keep_mask: _keep);
        y.backward(_g!);
        foreach (var t in new[] { _q!, _k!, _v! }) { t.grad?.Dispose(); t.grad = null; }
    }
}
