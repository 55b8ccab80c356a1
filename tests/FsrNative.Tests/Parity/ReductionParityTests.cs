using FsrNative.Kernels;
using FsrNative.Tests.Infrastructure;
using static FsrNative.Tests.Parity.ParityHarness;

namespace FsrNative.Tests.Parity;

/// <summary>
/// Reductions, arg-reductions and variance: the one-group-per-row kernels (last axis, length ≥ 32) and the
/// thread-per-column kernels (inner &gt; 1, or short rows), forward and backward.
/// </summary>
[Trait(Categories.Trait, Categories.Parity)]
public sealed class ReductionParityTests
{
    [Fact]
    public void SumAndMeanOverEveryKindOfAxis()
    {
        Check("sum last (rows kernel)", xs => xs[0].sum(1), Sums, new In([3, 37]));
        Check("sum last short (columns kernel)", xs => xs[0].sum(-1), Sums, new In([4, 5]));
        Check("sum middle (inner > 1)", xs => xs[0].sum(1), Sums, new In([3, 40, 5]));
        Check("sum first", xs => xs[0].sum(0, keepdim: true), Sums, new In([6, 2, 3]));
        Check("sum two runs", xs => xs[0].sum([0, 2]), Sums, new In([3, 4, 5, 2]));
        Check("sum all", xs => xs[0].sum(), Sums, new In([5, 9]));
        Check("sum of transposed", xs => xs[0].t().sum(1), Sums, new In([35, 3]));
        Check("sum size-1 dims", xs => xs[0].sum([1, 2]), Sums, new In([3, 1, 1, 4]));
        Check("mean last", xs => xs[0].mean(-1), Sums, new In([2, 33]));
        Check("mean middle", xs => xs[0].mean([1], keepdim: true), Sums, new In([2, 7, 3]));
        Check("mean all", xs => xs[0].mean(), Sums, new In([4, 4, 3]));
    }

    [Fact]
    public void AmaxAminWithTies()
    {
        var ints = new In([3, 40], -3, 4, Integers: true);
        Check("amax rows", xs => xs[0].amax([1]), Exact, ints);
        Check("amin rows", xs => xs[0].amin([1], keepdim: true), Exact, ints);
        Check("amax columns", xs => xs[0].amax([0]), Exact, new In([5, 3, 4], -3, 4, Integers: true));
        Check("max all", xs => xs[0].max(), Exact, new In([4, 6], -3, 4, Integers: true));
        Check("min all", xs => xs[0].min(), Exact, new In([4, 6]));
    }

    [Fact]
    public void MaxMinAlongDimWithIndices()
    {
        var ints = new In([3, 40], -5, 5, Integers: true);   // ties: the first index must win
        Check("max(dim) values rows", xs => xs[0].max(1).values, Exact, ints);
        Check("max(dim) indices rows", xs => xs[0].max(1).indices, Exact, ints);
        Check("min(dim) indices rows", xs => xs[0].min(1, keepdim: true).indices, Exact, ints);
        Check("max(dim) values columns", xs => xs[0].max(1).values, Exact, new In([2, 6, 3], -3, 3, Integers: true));
        Check("argmax columns", xs => xs[0].argmax(0), Exact, new In([7, 4], -3, 3, Integers: true));
        Check("argmin short rows", xs => xs[0].argmin(1), Exact, new In([5, 6], -3, 3, Integers: true));
        Check("argmax flat", xs => xs[0].argmax(), Exact, new In([4, 9]));
    }

    /// <summary>NaN counts as the extreme, and the first NaN's index wins (PyTorch's rule), in both kernel shapes.</summary>
    [Fact]
    public void ArgReduceAndReduceWithNaN()
    {
        var data = TestRandom.Uniform(5, 2 * 40, -1, 1);
        data[7] = float.NaN; data[20] = float.NaN;       // row 0: first NaN at 7
        data[40 + 39] = float.NaN;                         // row 1: NaN at the end
        foreach (bool max in new[] { true, false })
        {
            (float[] v, int[] i, float[] r, float[] cv, int[] ci) Run(Device d)
            {
                using var scope = torch.NewDisposeScope();
                var x = On(d, data, 2, 40);
                var values = torch.empty([2], d);
                var idx = torch.empty([2], d, DType.Int32);
                d.Backend.ArgReduce(max, x, 2, 40, 1, values, idx);          // rows kernel
                var red = torch.empty([2], d);
                d.Backend.Reduce(max ? ReduceOp.Max : ReduceOp.Min, x, 2, 40, 1, red);
                var colValues = torch.empty([2, 8], d);
                var colIdx = torch.empty([2, 8], d, DType.Int32);
                d.Backend.ArgReduce(max, x, 2, 5, 8, colValues, colIdx);      // columns kernel
                return (values.ToArray(), idx.ToIntArray(), red.ToArray(), colValues.ToArray(), colIdx.ToIntArray());
            }
            var c = Run(Device.CPU);
            var e = Run(Emu);
            Assert.Equal(new[] { 7, 79 - 40 }, c.i);
            Assert.Equal(c.i, e.i);
            Assert.Equal(c.ci, e.ci);
            Close.AssertClose(c.v, e.v, Exact, "arg values", equalNan: true);
            Close.AssertClose(c.r, e.r, Exact, "max/min with NaN", equalNan: true);
            Close.AssertClose(c.cv, e.cv, Exact, "arg values (columns)", equalNan: true);
        }
    }

    /// <summary>Sum of squares and mean through IBackend directly (Sum of squares has no op of its own).</summary>
    [Fact]
    public void EveryReduceOpDirect()
    {
        var data = TestRandom.Uniform(9, 3 * 36 * 2, -2, 2);
        foreach (var op in Enum.GetValues<ReduceOp>())
            foreach (var (outer, r, inner) in new[] { (6, 36, 1), (3, 36, 2), (72, 3, 1), (1, 216, 1) })
            {
                float[] Run(Device d)
                {
                    using var scope = torch.NewDisposeScope();
                    var x = On(d, data, outer, r, inner);
                    var y = torch.empty([outer, inner], d);
                    d.Backend.Reduce(op, x, outer, r, inner, y);
                    return y.ToArray();
                }
                Close.AssertClose(Run(Device.CPU), Run(Emu), Sums, $"{op} over ({outer}, {r}, {inner})");
            }
    }

    [Fact]
    public void VarianceAndStd()
    {
        Check("var rows unbiased", xs => xs[0].var(1), Sums, new In([3, 37]));
        Check("var biased short", xs => xs[0].var([1], correction: 0), Sums, new In([4, 6]));
        Check("var middle", xs => xs[0].var([1], keepdim: true), Sums, new In([2, 5, 3]));
        Check("var two axes", xs => xs[0].var([0, 2]), Sums, new In([3, 4, 5]));
        Check("std all", xs => xs[0].std(), Sums, new In([6, 7]));
        Check("std transposed", xs => xs[0].t().std(1), Sums, new In([40, 3]));
        CheckAllowingNaN("var of one element (0/0)", xs => xs[0].var(1), Sums, new In([3, 1], Grad: false));
    }

    [Fact]
    public void VarianceColumnsDirect()
    {
        var data = TestRandom.Uniform(10, 2 * 7 * 3, -2, 2);
        float[] Run(Device d, out float[] mean)
        {
            using var scope = torch.NewDisposeScope();
            var x = On(d, data, 2, 7, 3);
            var v = torch.empty([2, 3], d);
            var m = torch.empty([2, 3], d);
            d.Backend.Variance(x, 2, 7, 3, 1f, v, m);
            mean = m.ToArray();
            return v.ToArray();
        }
        var vc = Run(Device.CPU, out var mc);
        var ve = Run(Emu, out var me);
        Close.AssertClose(vc, ve, Sums, "variance (columns)");
        Close.AssertClose(mc, me, Sums, "mean (columns)");
    }
}
