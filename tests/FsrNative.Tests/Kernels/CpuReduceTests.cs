using FsrNative.Kernels;
using FsrNative.Kernels.Cpu;
using Xunit;

namespace FsrNative.Tests.Kernels;

/// <summary>CpuReduce: row and column cases against the double-accumulating reference; NaN, ties, determinism.</summary>
[Trait("Category", "Kernels")]
public class CpuReduceTests
{
    /// <summary>(outer, r, inner): rows of every test length, columns with narrow/odd/wide inner, a long single column.</summary>
    public static readonly (int outer, int r, int inner)[] Shapes =
    [
        (1, 1, 1), (3, 7, 1), (2, 8, 1), (5, 9, 1), (4, 33, 1), (3, 1000, 1), (2, 100003, 1), (1, 1 << 20, 1), (100003, 1, 1),
        (257, 64, 1), (2, 5, 3), (3, 7, 8), (2, 9, 33), (4, 33, 40), (2, 1000, 7), (1, 100003, 2), (3, 300, 64), (7, 3, 1000),
        (1, 1, 9), (1, 40000, 40),
    ];

    public static IEnumerable<object[]> OpShapes()
    {
        foreach (ReduceOp op in Enum.GetValues<ReduceOp>())
            for (int s = 0; s < Shapes.Length; s++)
                yield return [op, s];
    }

    public static IEnumerable<object[]> ShapeIndices() => Enumerable.Range(0, Shapes.Length).Select(s => new object[] { s });

    [Theory]
    [MemberData(nameof(OpShapes))]
    public void Reduce_MatchesReference(ReduceOp op, int shape)
    {
        var (outer, r, inner) = Shapes[shape];
        var x = CpuTestData.Uniform(outer * r * inner, 40 + shape, -2f, 3f);
        var expected = new float[outer * inner];
        var actual = new float[outer * inner];
        CpuReduce.ReduceReference(op, x, outer, r, inner, expected);
        CpuReduce.Reduce(op, x, outer, r, inner, actual);
        // Sums: relative to Σ|x| ≈ 2.5·r (pairwise float error ~ 1e-6 relative of it).
        double atol = op is ReduceOp.Max or ReduceOp.Min ? 0 : op == ReduceOp.Mean ? 2e-6 : 1e-6 * r * (op == ReduceOp.SumSquares ? 9 : 3);
        CpuTestData.AssertClose(expected, actual, 1e-6, atol, $"{op} ({outer},{r},{inner})");

        // Same shape again gives the same bits (fixed order regardless of threads).
        var again = new float[outer * inner];
        CpuReduce.Reduce(op, x, outer, r, inner, again);
        CpuTestData.AssertBitwiseEqual(actual, again, $"{op} repeat");
    }

    [Fact]
    public void Sum_PairwiseIsAccurate_OnLongRow()
    {
        // 2^24 + ones: a naive float loop stalls at 2^24; the blocked/pairwise sum keeps every 1.
        int n = 1 << 22;
        var x = new float[n];
        Array.Fill(x, 1f);
        var y = new float[1];
        CpuReduce.Reduce(ReduceOp.Sum, x, 1, n, 1, y);
        Assert.Equal(n, y[0]);
        var rng = new Random(1);
        for (int i = 0; i < n; i++) x[i] = (float)rng.NextDouble();
        var e = new float[1];
        CpuReduce.ReduceReference(ReduceOp.Sum, x, 1, n, 1, e);
        CpuReduce.Reduce(ReduceOp.Sum, x, 1, n, 1, y);
        Assert.True(Math.Abs(y[0] - e[0]) / e[0] < 2e-7, $"sum {y[0]} vs {e[0]}");
        CpuReduce.Reduce(ReduceOp.Sum, x, 1, n / 4, 4, new float[4]); // column tree on a long column
    }

    [Fact]
    public void MaxMin_PropagateNaN_RowAndColumn()
    {
        foreach (int n in new[] { 1, 7, 8, 9, 33, 1000, 100003 })
            foreach (int pos in new[] { 0, n / 2, n - 1 })
            {
                var x = CpuTestData.Uniform(n, n + pos);
                x[pos] = float.NaN;
                var y = new float[1];
                CpuReduce.Reduce(ReduceOp.Max, x, 1, n, 1, y);
                Assert.True(float.IsNaN(y[0]), $"max n={n} pos={pos}");
                CpuReduce.Reduce(ReduceOp.Min, x, 1, n, 1, y);
                Assert.True(float.IsNaN(y[0]), $"min n={n} pos={pos}");
            }
        var c = CpuTestData.Uniform(5 * 40, 3);
        c[2 * 40 + 3] = float.NaN;  // column 3
        c[4 * 40 + 39] = float.NaN; // column 39 (the masked tail chunk)
        var col = new float[40];
        CpuReduce.Reduce(ReduceOp.Max, c, 1, 5, 40, col);
        for (int i = 0; i < 40; i++) Assert.Equal(i is 3 or 39, float.IsNaN(col[i]));
        CpuReduce.Reduce(ReduceOp.Min, c, 1, 5, 40, col);
        for (int i = 0; i < 40; i++) Assert.Equal(i is 3 or 39, float.IsNaN(col[i]));
        float[] inf = [float.NegativeInfinity, float.NegativeInfinity];
        CpuReduce.Reduce(ReduceOp.Max, inf, 1, 2, 1, col.AsSpan(0, 1));
        Assert.Equal(float.NegativeInfinity, col[0]);
    }

    [Theory]
    [MemberData(nameof(ShapeIndices))]
    public void ArgReduce_MatchesReference_WithTies(int shape)
    {
        var (outer, r, inner) = Shapes[shape];
        var x = CpuTestData.Uniform(outer * r * inner, 70 + shape);
        for (int i = 0; i < x.Length; i++) x[i] = MathF.Round(x[i] * 2f) / 2f; // many ties
        foreach (bool max in new[] { true, false })
        {
            var ev = new float[outer * inner]; var ei = new int[outer * inner];
            var av = new float[outer * inner]; var ai = new int[outer * inner];
            CpuReduce.ArgReduceReference(max, x, outer, r, inner, ev, ei);
            CpuReduce.ArgReduce(max, x, outer, r, inner, av, ai);
            Assert.Equal(ei, ai);
            CpuTestData.AssertBitwiseEqual(ev, av, $"arg{(max ? "max" : "min")} values");
        }
    }

    [Fact]
    public void ArgReduce_FirstIndex_TiesAndNaN()
    {
        float nan = float.NaN;
        float[] x = [1f, 3f, 3f, 0f, 0f, 3f, 2f, 0f, 3f];
        var v = new float[1]; var i = new int[1];
        CpuReduce.ArgReduce(true, x, 1, 9, 1, v, i); Assert.Equal(1, i[0]); Assert.Equal(3f, v[0]);
        CpuReduce.ArgReduce(false, x, 1, 9, 1, v, i); Assert.Equal(3, i[0]);
        float[] withNaN = [1f, 5f, nan, 9f, nan, -9f, 0f, 0f, 0f, 0f];
        CpuReduce.ArgReduce(true, withNaN, 1, 10, 1, v, i); Assert.Equal(2, i[0]); Assert.True(float.IsNaN(v[0]));
        CpuReduce.ArgReduce(false, withNaN, 1, 10, 1, v, i); Assert.Equal(2, i[0]);
        // columns: (r = 5, inner = 3)
        float[] c = [1, 2, 3,
                     4, 2, nan,
                     4, 9, 0,
                     0, 9, nan,
                     4, -1, 7];
        var cv = new float[3]; var ci = new int[3];
        CpuReduce.ArgReduce(true, c, 1, 5, 3, cv, ci); Assert.Equal([1, 2, 1], ci);
        CpuReduce.ArgReduce(false, c, 1, 5, 3, cv, ci); Assert.Equal([3, 4, 1], ci);
    }

    [Theory]
    [MemberData(nameof(ShapeIndices))]
    public void Variance_MatchesReference(int shape)
    {
        var (outer, r, inner) = Shapes[shape];
        var x = CpuTestData.Uniform(outer * r * inner, 90 + shape, 99f, 101f); // |mean| ≫ std: the two-pass case
        foreach (float correction in new[] { 0f, 1f })
        {
            var ev = new float[outer * inner]; var em = new float[outer * inner];
            var av = new float[outer * inner]; var am = new float[outer * inner];
            CpuReduce.VarianceReference(x, outer, r, inner, correction, ev, em);
            CpuReduce.Variance(x, outer, r, inner, correction, av, am);
            CpuTestData.AssertClose(em, am, 1e-6, 0, $"mean ({outer},{r},{inner})");
            CpuTestData.AssertClose(ev, av, 1e-4, 1e-6, $"var c={correction} ({outer},{r},{inner})");
            var noMean = new float[outer * inner];
            CpuReduce.Variance(x, outer, r, inner, correction, noMean, default);
            CpuTestData.AssertBitwiseEqual(av, noMean, "variance without mean output");
        }
    }

    [Fact]
    public void EmptyAndDegenerate()
    {
        var y = new float[3];
        CpuReduce.Reduce(ReduceOp.Sum, [], 3, 0, 1, y); Assert.Equal([0f, 0f, 0f], y);
        CpuReduce.Reduce(ReduceOp.Mean, [], 3, 0, 1, y); Assert.All(y, v => Assert.True(float.IsNaN(v)));
        Assert.Throws<ArgumentException>(() => CpuReduce.Reduce(ReduceOp.Max, [], 3, 0, 1, new float[3]));
        Assert.Throws<ArgumentException>(() => CpuReduce.Reduce(ReduceOp.Sum, new float[5], 2, 2, 1, new float[2]));
        CpuReduce.Variance([2f], 1, 1, 1, 1f, y.AsSpan(0, 1), default); // r − correction = 0
        Assert.True(float.IsNaN(y[0]));                                    // 0/0, as torch
    }
}
