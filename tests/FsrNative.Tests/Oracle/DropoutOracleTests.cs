using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Oracle;

using ts = TorchSharp.torch;
using TF = TorchSharp.torch.nn.functional;

/// <summary>
/// dropout and drop_path: not comparable element by element with libtorch (different generators), so checked for
/// their statistics (kept fraction within 5σ of 1 − p, the same bound libtorch's own sample meets), exact values of
/// kept elements (x/(1 − p), as torch and timm), determinism per seed, a fresh mask per draw, timm's per-sample
/// semantics for drop_path, and a backward that multiplies by exactly the forward's mask.
/// </summary>
[Trait(Categories.Trait, Categories.Oracle)]
public class DropoutOracleTests
{
    const int N = 100_000;

    static double KeptFraction(float[] y) => y.Count(v => v != 0) / (double)y.Length;

    static void AssertFraction(double kept, double p, int n, string what)
    {
        double sigma = Math.Sqrt(p * (1 - p) / n);
        Assert.True(Math.Abs(kept - (1 - p)) <= 5 * sigma + 1e-12, $"{what}: kept fraction {kept}, expected {1 - p} ± {5 * sigma}");
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.5)]
    [InlineData(0.9)]
    public void DropoutStatisticsAndValues(double p)
    {
        Torch.EnsureInitialized();
        using var scope = torch.NewDisposeScope();
        var x = torch.rand([N], new Generator(1)).add(0.5f);
        var y = torch.nn.functional.dropout(x, p, generator: new Generator(2));
        var xs = x.ToArray();
        var ys = y.ToArray();
        AssertFraction(KeptFraction(ys), p, N, $"dropout({p})");
        float scale = (float)(1 / (1 - p));
        for (int i = 0; i < N; i++)
            if (ys[i] != 0) Assert.Equal(xs[i] * scale, ys[i]);

        using var tx = ts.ones(N);
        using var ty = TF.dropout(tx, p);
        AssertFraction(KeptFraction(Torch.ToArray(ty)), p, N, $"libtorch dropout({p}) (sanity reference)");
    }

    [Fact]
    public void DropoutIsDeterministicPerSeedAndFreshPerDraw()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.ones([4096]);
        var a = torch.nn.functional.dropout(x, 0.5, generator: new Generator(7)).ToArray();
        var b = torch.nn.functional.dropout(x, 0.5, generator: new Generator(7)).ToArray();
        Assert.Equal(a, b);
        var g = new Generator(7);
        var first = torch.nn.functional.dropout(x, 0.5, generator: g).ToArray();
        var second = torch.nn.functional.dropout(x, 0.5, generator: g).ToArray();
        Assert.Equal(a, first);
        Assert.NotEqual(first, second);
        Assert.Equal(2UL, g.Stream);
        var c = torch.nn.functional.dropout(x, 0.5, generator: new Generator(8)).ToArray();
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void DropoutBackwardUsesTheForwardMask()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.rand([3, 1000], new Generator(3)).add(0.25f);
        x.requires_grad = true;
        var y = torch.nn.functional.dropout(x.t(), 0.3, generator: new Generator(4));   // a non-contiguous input
        var g = torch.rand([1000, 3], new Generator(5));
        y.backward(g);
        var ys = y.ToArray(); var gs = g.ToArray(); var gx = x.grad!.t().contiguous().ToArray();
        float scale = (float)(1 / 0.7);
        for (int i = 0; i < ys.Length; i++)
            Assert.Equal(ys[i] == 0 ? 0f : gs[i] * scale, gx[i]);
    }

    [Fact]
    public void DropoutEdgeCases()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.rand([50], new Generator(1));
        Assert.Same(x, torch.nn.functional.dropout(x, 0.5, training: false));
        Assert.Same(x, torch.nn.functional.dropout(x, 0.0));
        Assert.All(torch.nn.functional.dropout(x, 1.0).ToArray(), v => Assert.Equal(0f, v));
        Assert.Contains("dropout", Assert.Throws<ArgumentOutOfRangeException>(() => torch.nn.functional.dropout(x, 1.5)).Message);
        Assert.Contains("drop_path", Assert.Throws<ArgumentOutOfRangeException>(() => torch.nn.functional.drop_path(x, -0.1, true)).Message);
        Assert.Contains("drop_path", Assert.Throws<ArgumentException>(() => torch.nn.functional.drop_path(torch.scalar_tensor(1f), 0.1, true)).Message);
    }

    /// <summary>timm's drop_path: one draw per sample; a kept sample is x/(1 − p) (x with scale_by_keep = false), a
    /// dropped one 0; off in eval mode and for p = 0; the gradient is scaled per sample the same way.</summary>
    [Theory]
    [InlineData(0.1, true)]
    [InlineData(0.5, true)]
    [InlineData(0.3, false)]
    public void DropPathPerSample(double p, bool scaleByKeep)
    {
        using var scope = torch.NewDisposeScope();
        const int samples = 20_000;
        var x = torch.rand([samples, 3, 2], new Generator(11)).add(0.5f);
        x.requires_grad = true;
        var y = torch.nn.functional.drop_path(x, p, training: true, generator: new Generator(12), scale_by_keep: scaleByKeep);
        var g = torch.rand([samples, 3, 2], new Generator(13));
        y.backward(g);
        var xs = x.ToArray(); var ys = y.ToArray(); var gs = g.ToArray(); var gx = x.grad!.ToArray();
        float factor = scaleByKeep ? (float)(1 / (1 - p)) : 1f;
        int kept = 0;
        for (int s = 0; s < samples; s++)
        {
            bool keep = ys[s * 6] != 0;
            if (keep) kept++;
            for (int e = s * 6; e < s * 6 + 6; e++)
            {
                Assert.Equal(keep ? xs[e] * factor : 0f, ys[e]);
                Assert.Equal(keep ? gs[e] * factor : 0f, gx[e]);
            }
        }
        AssertFraction(kept / (double)samples, p, samples, $"drop_path({p}) samples kept");
        Assert.Same(x, torch.nn.functional.drop_path(x, p, training: false));
        Assert.Same(x, torch.nn.functional.drop_path(x, 0.0, training: true));
    }

    /// <summary>Dropout inside attention: probabilities are dropped at rate p (checked through the weights' row sums
    /// against a dropout-free run: with values = identity, output row = dropped probability row).</summary>
    [Fact]
    public void AttentionDropoutRate()
    {
        using var scope = torch.NewDisposeScope();
        const int nk = 64, nq = 500;
        var q = torch.randn([1, 1, nq, 8], new Generator(1));
        var k = torch.randn([1, 1, nk, 8], new Generator(2));
        var eye = new float[nk * nk];
        for (int i = 0; i < nk; i++) eye[i * nk + i] = 1f;
        var v = torch.tensor(eye, [1, 1, nk, nk]);
        var (plain, probs) = torch.nn.functional.scaled_dot_product_attention_with_weights(q, k, v);
        var dropped = torch.nn.functional.scaled_dot_product_attention(q, k, v, dropout_p: 0.25, generator: new Generator(3)).ToArray();
        var ps = probs.ToArray();
        Close.AssertClose(ps, plain.ToArray(), new Tolerance(1e-6, 1e-5), "identity values give the probabilities");
        int zeros = 0;
        for (int i = 0; i < ps.Length; i++)
        {
            if (dropped[i] == 0) { zeros++; continue; }
            Assert.True(Math.Abs(dropped[i] - ps[i] / 0.75f) <= 1e-6 + 1e-5 * Math.Abs(ps[i] / 0.75f), $"element {i}: {dropped[i]} vs {ps[i] / 0.75f}");
        }
        AssertFraction(1 - zeros / (double)ps.Length, 0.25, ps.Length, "attention dropout");
    }
}
