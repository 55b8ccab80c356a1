using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Oracle;

using ts = TorchSharp.torch;

/// <summary>
/// Random ops: not comparable element by element with libtorch (different generators), so checked statistically —
/// moments of 10⁵ draws against the distribution's, with libtorch's own sample moments as a sanity reference —
/// and for determinism (same seed and draw → same values).
/// </summary>
[Trait(Categories.Trait, Categories.Oracle)]
public class RandomOracleTests
{
    const int N = 100_000;

    static (double mean, double std, double min, double max) Moments(float[] v)
    {
        double mean = v.Average(x => (double)x);
        double std = Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1));
        return (mean, std, v.Min(), v.Max());
    }

    static (double mean, double std, double min, double max) TorchMoments(ts.Tensor t) => Moments(Torch.ToArray(t));

    /// <summary>10⁵ standard normals: mean within 5σ/√N of 0 (σ/√N ≈ 0.0032), std within 1.5 %; libtorch's own
    /// sample passes the same bounds.</summary>
    [Fact]
    public void NormalMoments()
    {
        Torch.EnsureInitialized();
        using var scope = DisposeScope.Open();
        var g = new Generator(2024);
        var (mean, std, _, _) = Moments(torch.randn([N], g).ToArray());
        Assert.InRange(mean, -0.016, 0.016);
        Assert.InRange(std, 0.985, 1.015);

        var (m2, s2, _, _) = Moments(torch.normal([N], 3f, 0.5f, g).ToArray());
        Assert.InRange(m2, 3 - 0.008, 3 + 0.008);
        Assert.InRange(s2, 0.5 * 0.985, 0.5 * 1.015);

        using var tg = new ts.Generator(2024);
        using var tr = ts.randn([N], generator: tg);
        var (tm, tstd, _, _) = TorchMoments(tr);
        Assert.InRange(tm, -0.016, 0.016);
        Assert.InRange(tstd, 0.985, 1.015);
    }

    /// <summary>Normal tails: about 4.55 % of draws beyond 2σ, 0.27 % beyond 3σ (Box–Muller must not clip tails).</summary>
    [Fact]
    public void NormalTails()
    {
        using var scope = DisposeScope.Open();
        var v = torch.randn([N], new Generator(7)).ToArray();
        double beyond2 = v.Count(x => Math.Abs(x) > 2) / (double)N;
        double beyond3 = v.Count(x => Math.Abs(x) > 3) / (double)N;
        Assert.InRange(beyond2, 0.0455 - 0.004, 0.0455 + 0.004);
        Assert.InRange(beyond3, 0.0027 - 0.0012, 0.0027 + 0.0012);
        Assert.All(v, x => Assert.True(float.IsFinite(x)));
    }

    /// <summary>Uniform [low, high): every draw in range, mean (low+high)/2, std (high−low)/√12.</summary>
    [Theory]
    [InlineData(0f, 1f)]
    [InlineData(-2f, 3f)]
    public void UniformRangeAndMoments(float low, float high)
    {
        Torch.EnsureInitialized();
        using var scope = DisposeScope.Open();
        var g = new Generator(99);
        var v = (low == 0 && high == 1 ? torch.rand([N], g) : torch.uniform([N], low, high, g)).ToArray();
        Assert.All(v, x => Assert.True(x >= low && x < high, $"{x} outside [{low}, {high})"));
        var (mean, std, min, max) = Moments(v);
        double w = high - low;
        Assert.InRange(mean, (low + high) / 2 - 0.01 * w, (low + high) / 2 + 0.01 * w);
        Assert.InRange(std, w / Math.Sqrt(12) * 0.985, w / Math.Sqrt(12) * 1.015);
        Assert.True(min < low + 0.001 * w && max > high - 0.001 * w, "draws should reach both ends of the range");

        using var tg = new ts.Generator(99);
        using var tu = ts.rand([N], generator: tg);
        var (tm, ts_, _, _) = TorchMoments(tu);
        Assert.InRange(tm, 0.49, 0.51);
        Assert.InRange(ts_, 1 / Math.Sqrt(12) * 0.985, 1 / Math.Sqrt(12) * 1.015);
    }

    /// <summary>trunc_normal(0, 1, −2, 2): all draws in [−2, 2], mean 0, std of the truncated normal ≈ 0.8796.</summary>
    [Fact]
    public void TruncNormalMoments()
    {
        using var scope = DisposeScope.Open();
        var v = torch.trunc_normal([N], generator: new Generator(5)).ToArray();
        Assert.All(v, x => Assert.InRange(x, -2f, 2f));
        var (mean, std, _, _) = Moments(v);
        Assert.InRange(mean, -0.015, 0.015);
        Assert.InRange(std, 0.8796 * 0.985, 0.8796 * 1.015);
        // Shape, not just moments: P(|x| > 1 | |x| ≤ 2) = 2(Φ(2) − Φ(1)) / (2Φ(2) − 1) ≈ 0.2848.
        Assert.InRange(v.Count(x => Math.Abs(x) > 1) / (double)N, 0.2848 - 0.006, 0.2848 + 0.006);
        // No libtorch reference here: TorchSharp 0.107's nn.init.trunc_normal_(t, 0, 1, -2, 2) fills the tensor with
        // 1.0 (checked on this build), so its sample moments are useless; the truncated normal's moments are exact.
    }

    /// <summary>trunc_normal with a mean, std and asymmetric bounds.</summary>
    [Fact]
    public void TruncNormalShiftedAndAsymmetric()
    {
        using var scope = DisposeScope.Open();
        var v = torch.trunc_normal([N], mean: 1f, std: 0.02f, a: 0.98f, b: 1.1f, generator: new Generator(6)).ToArray();
        Assert.All(v, x => Assert.InRange(x, 0.98f, 1.1f));
        // Truncation at −1σ below and +5σ above: mean = μ + σ·φ(−1)/(1−Φ(−1)) ≈ μ + 0.2876σ.
        var (mean, _, _, _) = Moments(v);
        Assert.InRange(mean, 1 + 0.02 * 0.2876 - 0.0003, 1 + 0.02 * 0.2876 + 0.0003);
    }

    /// <summary>Same seed and the same sequence of draws → the same values; later draws differ from earlier ones.</summary>
    [Fact]
    public void DeterministicPerSeedAndDraw()
    {
        using var scope = DisposeScope.Open();
        float[] Draw(ulong seed, out float[] second)
        {
            var g = new Generator(seed);
            var first = torch.randn([1000], g).ToArray();
            second = torch.rand([1000], g).ToArray();
            return first;
        }
        var a = Draw(11, out var a2);
        var b = Draw(11, out var b2);
        var c = Draw(12, out _);
        Assert.Equal(a, b);
        Assert.Equal(a2, b2);
        Assert.NotEqual(a, c);
        Assert.NotEqual(a.Take(100), a2.Take(100));
    }

    /// <summary>The default generator: manual_seed restarts it.</summary>
    [Fact]
    public void ManualSeedRestartsTheDefaultGenerator()
    {
        using var scope = DisposeScope.Open();
        float[] first, again;
        lock (Generator.Default)
        {
            torch.manual_seed(123);
            first = torch.randn([64]).ToArray();
            torch.manual_seed(123);
            again = torch.randn([64]).ToArray();
        }
        Assert.Equal(first, again);
    }

    /// <summary>Resuming from get_state continues the exact sequence.</summary>
    [Fact]
    public void GeneratorStateResumes()
    {
        using var scope = DisposeScope.Open();
        var g = new Generator(77);
        torch.randn([10], g);
        var state = g.get_state();
        var next = torch.uniform([50], -1, 1, g).ToArray();
        var h = new Generator(0);
        h.set_state(state);
        Assert.Equal(next, torch.uniform([50], -1, 1, h).ToArray());
    }

    /// <summary>Element i of a draw does not depend on the tensor's size: a prefix of a longer draw is the shorter draw.</summary>
    [Fact]
    public void ElementsDependOnIndexOnly()
    {
        using var scope = DisposeScope.Open();
        var small = torch.randn([13], new Generator(3)).ToArray();
        var large = torch.randn([5000], new Generator(3)).ToArray();
        Assert.Equal(small, large[..13]);
        var smallU = torch.rand([7, 3], new Generator(4)).ToArray();
        var largeU = torch.rand([100_000], new Generator(4)).ToArray();
        Assert.Equal(smallU, largeU[..21]);
    }
}
