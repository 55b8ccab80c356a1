using FsrNative.Tests.Infrastructure;
using static FsrNative.Tests.Parity.ParityHarness;

namespace FsrNative.Tests.Parity;

/// <summary>softmax / log_softmax (rows kernel for long last axes, column kernel otherwise) and layer_norm (one group
/// per row; parameter gradients one thread per column), forward and backward.</summary>
[Trait(Categories.Trait, Categories.Parity)]
public sealed class NormalizationParityTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SoftmaxOverEveryKindOfAxis(bool log)
    {
        Func<Tensor, int, Tensor> sm = log ? (x, d) => x.log_softmax(d) : (x, d) => x.softmax(d);
        string n = log ? "log_softmax" : "softmax";
        Check($"{n} last long (rows)", xs => sm(xs[0], -1), Sums, new In([3, 37], -4, 4));
        Check($"{n} last short (columns)", xs => sm(xs[0], 1), Sums, new In([4, 5], -4, 4));
        Check($"{n} middle (inner > 1)", xs => sm(xs[0], 1), Sums, new In([2, 6, 3], -4, 4));
        Check($"{n} first", xs => sm(xs[0], 0), Sums, new In([5, 4], -4, 4));
        Check($"{n} of transposed", xs => sm(xs[0].t(), 1), Sums, new In([33, 2], -4, 4));
        Check($"{n} length 1", xs => sm(xs[0], 1), Sums, new In([3, 1]));
    }

    [Fact]
    public void SoftmaxWithInfinities()
    {
        foreach (bool log in new[] { false, true })
        {
            var data = TestRandom.Uniform(3, 2 * 40, -1, 1);
            data[3] = float.NegativeInfinity; data[41] = float.PositiveInfinity;
            float[] Run(Device d)
            {
                using var scope = torch.NewDisposeScope();
                var x = On(d, data, 2, 40);
                return (log ? x.log_softmax(1) : x.softmax(1)).ToArray();
            }
            Close.AssertClose(Run(Device.CPU), Run(Emu), Sums, $"softmax(log={log}) with ±∞", [2, 40], equalNan: true);
        }
    }

    [Fact]
    public void LayerNormAffineAndPlain()
    {
        Check("layer_norm affine", xs => torch.nn.functional.layer_norm(xs[0], [37], xs[1], xs[2]), Sums,
            new In([5, 37]), new In([37]), new In([37]));
        Check("layer_norm plain", xs => torch.nn.functional.layer_norm(xs[0], [8]), Sums, new In([2, 3, 8]));
        Check("layer_norm weight only", xs => torch.nn.functional.layer_norm(xs[0], [6], xs[1]), Sums, new In([4, 6]), new In([6]));
        Check("layer_norm bias only, eps", xs => torch.nn.functional.layer_norm(xs[0], [5], null, xs[1], eps: 1e-3f), Sums,
            new In([3, 5]), new In([5]));
        Check("layer_norm 2-D normalized shape", xs => torch.nn.functional.layer_norm(xs[0], [3, 4], xs[1], xs[2]), Sums,
            new In([2, 3, 4]), new In([3, 4]), new In([3, 4]));
        Check("layer_norm of transposed", xs => torch.nn.functional.layer_norm(xs[0].t(), [3], xs[1], xs[2]), Sums,
            new In([3, 7]), new In([3]), new In([3]));
        Check("layer_norm frozen affine", xs => torch.nn.functional.layer_norm(xs[0], [9], xs[1], xs[2]), Sums,
            new In([3, 9]), new In([9], Grad: false), new In([9], Grad: false));
    }

    /// <summary>The primitive directly: mean and rstd outputs, and the gGamma/gBeta-only backward path.</summary>
    [Fact]
    public void LayerNormStatisticsDirect()
    {
        var x = TestRandom.Uniform(31, 4 * 33, -3, 3);
        var w = TestRandom.Uniform(32, 33, 0.5f, 1.5f);
        var gy = TestRandom.Uniform(33, 4 * 33, -1, 1);
        float[][] Run(Device d)
        {
            using var scope = torch.NewDisposeScope();
            var tx = On(d, x, 4, 33); var tw = On(d, w, 33); var tg = On(d, gy, 4, 33);
            var y = torch.empty([4, 33], d); var mean = torch.empty([4], d); var rstd = torch.empty([4], d);
            d.Backend.LayerNorm(tx, tw, null, y, mean, rstd, 4, 33, 1e-5f);
            var gx = torch.empty([4, 33], d); var gw = torch.empty([33], d); var gb = torch.empty([33], d);
            d.Backend.LayerNormBackward(tx, tw, mean, rstd, tg, gx, gw, gb, 4, 33);
            return [y.ToArray(), mean.ToArray(), rstd.ToArray(), gx.ToArray(), gw.ToArray(), gb.ToArray()];
        }
        var c = Run(Device.CPU);
        var e = Run(Emu);
        string[] names = ["y", "mean", "rstd", "gx", "gGamma", "gBeta"];
        for (int i = 0; i < c.Length; i++) Close.AssertClose(c[i], e[i], Sums, $"layer_norm {names[i]}");
    }
}
