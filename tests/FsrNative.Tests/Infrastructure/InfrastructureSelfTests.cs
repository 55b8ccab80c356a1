namespace FsrNative.Tests.Infrastructure;

/// <summary>The test helpers themselves: deterministic data and the comparison rule and its report.</summary>
public class InfrastructureSelfTests
{
    [Fact]
    public void RandomDataIsDeterministicAndSeedDependent()
    {
        Assert.Equal(TestRandom.Uniform(42, 1000), TestRandom.Uniform(42, 1000));
        Assert.NotEqual(TestRandom.Uniform(42, 1000), TestRandom.Uniform(43, 1000));
        Assert.Equal(TestRandom.Normal(7, 999), TestRandom.Normal(7, 999));
        Assert.Equal(TestRandom.SeedFor("x", 1), TestRandom.SeedFor("x", 1));
        Assert.NotEqual(TestRandom.SeedFor("x", 1), TestRandom.SeedFor("x", 2));
        // A prefix of a longer draw is the shorter draw: sizes can change without reshuffling the start.
        Assert.Equal(TestRandom.Uniform(5, 10), TestRandom.Uniform(5, 20)[..10]);
    }

    [Fact]
    public void RandomDataHasTheRequestedRangeAndMoments()
    {
        var u = TestRandom.Uniform(1, 100_000, -2f, 3f);
        Assert.All(u, x => Assert.InRange(x, -2f, 3f));
        Assert.True(u.Max() < 3f);
        Assert.InRange(u.Average(), 0.45, 0.55);

        var n = TestRandom.Normal(2, 100_000, 1f, 2f);
        double mean = n.Average(x => (double)x);
        double std = Math.Sqrt(n.Average(x => (x - mean) * (x - mean)));
        Assert.InRange(mean, 0.97, 1.03);
        Assert.InRange(std, 1.97, 2.03);

        var k = TestRandom.Integers(3, 10_000, -3, 4);
        Assert.All(k, x => Assert.InRange(x, -3, 3));
        Assert.Equal(7, k.Distinct().Count());
    }

    [Fact]
    public void CloseAcceptsWithinAtolPlusRtolTimesReference()
    {
        float[] expected = [0f, 1f, -100f, float.PositiveInfinity];
        float[] actual = [1e-6f, 1.0001f, -100.01f, float.PositiveInfinity];
        Close.AssertClose(expected, actual, 1e-5, 1e-4, "within");
        Assert.NotNull(Close.Compare(expected, actual, 1e-7, 1e-6, "too tight"));
    }

    [Fact]
    public void CloseReportsFirstMismatchesAndMaxErrors()
    {
        float[] expected = [1, 2, 3, 4, 5, 6];
        float[] actual = [1, 2.5f, 3, 4, 5, 7];
        var report = Close.Compare(expected, actual, 1e-3, 1e-3, "toy op", [2, 3]);
        Assert.NotNull(report);
        Assert.Contains("toy op: 2 of 6 elements differ", report);
        Assert.Contains("[0, 1] expected 2, actual 2.5", report);
        Assert.Contains("[1, 2] expected 6, actual 7", report);
        Assert.Contains("max abs error 1 at [1, 2]", report);
        Assert.Contains("max rel error 0.25 at [0, 1]", report);
        var ex = Assert.ThrowsAny<Exception>(() => Close.AssertClose(expected, actual, 1e-3, 1e-3, "toy op"));
        Assert.Contains("toy op", ex.Message);
    }

    [Fact]
    public void CloseHandlesNanInfinityAndLengths()
    {
        Assert.NotNull(Close.Compare([float.NaN], [float.NaN], 1, 1, "nan"));
        Assert.Null(Close.Compare([float.NaN], [float.NaN], 1, 1, "nan", equalNan: true));
        Assert.NotNull(Close.Compare([1f], [float.NaN], 1, 1, "nan vs number", equalNan: true));
        Assert.NotNull(Close.Compare([float.PositiveInfinity], [float.NegativeInfinity], 1, 1, "inf"));
        Assert.NotNull(Close.Compare([float.PositiveInfinity], [float.MaxValue], 1, 1, "inf vs max"));
        Assert.Contains("length mismatch", Close.Compare([1f, 2f], [1f], 0, 0, "len"));
        Assert.Contains("shape [2, 2]", Close.Compare([1f, 2f], [1f, 2f], 0, 0, "shape", [2, 2]));
        Assert.Null(Close.Compare([1.0, 2.0], [1.0, 2.0 + 1e-12], Tolerance.Float64.Atol, Tolerance.Float64.Rtol, "double"));
    }
}
