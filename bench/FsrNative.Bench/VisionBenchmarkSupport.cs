using TT = TorchSharp.torch.Tensor;
using ts = TorchSharp.torch;

namespace FsrNative.Bench;

/// <summary>Shared setup of the resampling, centering and losses benchmarks: identical values on both sides, 2 threads.</summary>
internal static class VisionBench
{
    /// <summary>libtorch on 2 threads (the machine's cores; our kernels use CpuParallel.Workers = 2).</summary>
    public static void Init() => ts.set_num_threads(2);

    /// <summary>Normal values from a seeded libtorch generator, and the same values as an FsrNative tensor.</summary>
    public static (TT theirs, Tensor ours) Randn(int seed, bool requiresGrad, float scale, params int[] shape)
    {
        var t = (ts.randn(Array.ConvertAll(shape, v => (long)v), generator: ts.manual_seed(seed)) * scale).contiguous();
        var values = t.data<float>().ToArray();
        var ours = torch.tensor(values, shape);
        ours.requires_grad = requiresGrad;
        if (requiresGrad) t = t.detach().requires_grad_(true);
        return (t, ours.DetachFromDisposeScope());
    }

    /// <summary>Class targets in [0, classes), every tenth 255 (ignored): int64 for libtorch, Int32 for FsrNative.</summary>
    public static (TT theirs, Tensor ours) Targets(int classes, params int[] shape)
    {
        int n = shape.Aggregate(1, (a, b) => a * b);
        var rng = new Random(7);
        var v = new int[n];
        for (int i = 0; i < n; i++) v[i] = i % 10 == 3 ? 255 : rng.Next(classes);
        var theirs = ts.tensor(Array.ConvertAll(v, x => (long)x), Array.ConvertAll(shape, x => (long)x));
        return (theirs, torch.tensor((ReadOnlySpan<int>)v, shape).DetachFromDisposeScope());
    }
}
