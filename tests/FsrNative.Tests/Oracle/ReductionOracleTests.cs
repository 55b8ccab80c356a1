using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Oracle;

using TT = TorchSharp.torch.Tensor;

/// <summary>
/// Reductions over any set of axes with and without keepdim: sum, mean, amax/amin (ties share the gradient), max/min
/// with a dim (values + first index), argmax/argmin (first index on ties), var/std with correction 0 and 1.
/// </summary>
[Trait(Categories.Trait, Categories.Oracle)]
public class ReductionOracleTests
{
    static Tolerance T(double atol, double rtol) => new(atol, rtol);

    /// <summary>Sums of up to ~100 elements in a different order than libtorch's (vectorised, pairwise).</summary>
    static readonly Tolerance Sum = T(2e-6, 1e-5);
    /// <summary>Extremes pick an input value: exact. Their gradients are g or g/count.</summary>
    static readonly Tolerance Exact = T(0, 0);
    /// <summary>var/std: two passes over the data; rounding differs from libtorch's Welford.</summary>
    static readonly Tolerance Var = T(1e-5, 1e-4);

    static long[] L(int[] a) => Array.ConvertAll(a, v => (long)v);

    /// <summary>Every subset of the axes of a 3-D tensor, and a few 1-D/2-D/0-D cases. "" = all axes.</summary>
    public static readonly (string shape, int[] axes)[] AxisCases =
    [
        ("3x5x7", [0]), ("3x5x7", [1]), ("3x5x7", [2]), ("3x5x7", [-1]),
        ("3x5x7", [0, 1]), ("3x5x7", [0, 2]), ("3x5x7", [1, 2]), ("3x5x7", [2, 0]), ("3x5x7", [0, 1, 2]),
        ("33", [0]), ("7x13", [1]), ("7x1", [1]), ("1x13", [0]), ("2x3x4x5", [1, 3]),
        ("5x7@t", [0]), ("5x7@t", [1]), ("3x5x7@p", [0, 2]), ("4x6@e0", [0]), ("5x7@n", [1]),
    ];

    public static TheoryData<string, string, bool> Cases()
    {
        var data = new TheoryData<string, string, bool>();
        foreach (var (shape, axes) in AxisCases)
            foreach (bool keep in new[] { false, true })
                data.Add(shape, string.Join(",", axes), keep);
        return data;
    }

    static int[] Axes(string s) => s.Split(',').Select(int.Parse).ToArray();

    [Theory, MemberData(nameof(Cases))]
    public void Sum_(string shape, string axes, bool keepdim)
    {
        var a = Axes(axes);
        OpCheck.Check($"sum[{axes}] keepdim={keepdim}", [shape], x => x[0].sum(a, keepdim), x => x[0].sum(L(a), keepdim), Sum, Sum);
    }

    [Theory, MemberData(nameof(Cases))]
    public void Mean(string shape, string axes, bool keepdim)
    {
        var a = Axes(axes);
        OpCheck.Check($"mean[{axes}] keepdim={keepdim}", [shape], x => x[0].mean(a, keepdim), x => x[0].mean(L(a), keepdim), Sum, Sum);
    }

    /// <summary>amax/amin on values with many ties: the gradient is shared evenly among the tied elements.</summary>
    [Theory, MemberData(nameof(Cases))]
    public void AmaxAminWithTies(string shape, string axes, bool keepdim)
    {
        var a = Axes(axes);
        OpCheck.Check($"amax[{axes}] keepdim={keepdim}", [shape], x => x[0].amax(a, keepdim), x => x[0].amax(L(a), keepdim), Exact, T(1e-6, 1e-6), Values.Ties());
        OpCheck.Check($"amin[{axes}] keepdim={keepdim}", [shape], x => x[0].amin(a, keepdim), x => x[0].amin(L(a), keepdim), Exact, T(1e-6, 1e-6), Values.Ties());
    }

    [Theory, MemberData(nameof(Cases))]
    public void VarStd(string shape, string axes, bool keepdim)
    {
        var a = Axes(axes);
        foreach (int c in new[] { 0, 1 })
        {
            if (c == 1 && Count(shape, a) == 1) continue; // n − 1 = 0: inf/nan either way
            OpCheck.Check($"var[{axes}] correction={c} keepdim={keepdim}", [shape], x => x[0].var(a, c, keepdim), x => x[0].var(L(a), c == 1, keepdim), Var, Var);
            OpCheck.Check($"std[{axes}] correction={c} keepdim={keepdim}", [shape], x => x[0].std(a, c, keepdim), x => x[0].std(L(a), c == 1, keepdim), Var, Var);
        }
    }

    static int Count(string shape, int[] axes)
    {
        var s = In.Parse(shape).Shape;
        return axes.Aggregate(1, (n, d) => n * s[d < 0 ? d + s.Length : d]);
    }

    [Theory]
    [InlineData("3x5x7")]
    [InlineData("33")]
    [InlineData("()")]
    [InlineData("5x7@t")]
    public void FullReductions(string shape)
    {
        OpCheck.Check("sum()", [shape], x => x[0].sum(), x => x[0].sum(), Sum, Sum);
        OpCheck.Check("mean()", [shape], x => x[0].mean(), x => x[0].mean(), Sum, Sum);
        OpCheck.Check("max()", [shape], x => x[0].max(), x => x[0].max(), Exact, T(1e-6, 1e-6), Values.Ties());
        OpCheck.Check("min()", [shape], x => x[0].min(), x => x[0].min(), Exact, T(1e-6, 1e-6), Values.Ties());
        if (In.Parse(shape).Shape.Aggregate(1, (a, b) => a * b) > 1)
        {
            OpCheck.Check("var()", [shape], x => x[0].var(), x => x[0].var(), Var, Var);
            OpCheck.Check("std()", [shape], x => x[0].std(), x => x[0].std(), Var, Var);
        }
        OpCheck.Check("argmax()", [In.Parse(shape).NoGrad()], x => x[0].argmax(), x => x[0].argmax(), values: Values.Ties());
    }

    [Theory]
    [InlineData("7x13", 1)]
    public void SumAndMeanOfOneDim(string shape, int dim)
    {
        OpCheck.Check("sum(dim)", [shape], x => x[0].sum(dim), x => x[0].sum(dim), Sum, Sum);
        OpCheck.Check("sum(dim, keepdim)", [shape], x => x[0].sum(dim, true), x => x[0].sum(dim, true), Sum, Sum);
        OpCheck.Check("mean(dim)", [shape], x => x[0].mean(dim), x => x[0].mean(L([dim]), false), Sum, Sum);
        OpCheck.Check("var(dim)", [shape], x => x[0].var(dim), x => x[0].var(dim, true, false), Var, Var);
        OpCheck.Check("std(dim, correction 0, keepdim)", [shape], x => x[0].std(dim, 0, true), x => x[0].std(dim, false, true), Var, Var);
    }

    /// <summary>Sums over ~1000 elements: float32 accumulation order matters more.</summary>
    [Theory]
    [InlineData("1000", "0")]
    [InlineData("8x125", "0,1")]
    [InlineData("33x33", "1")]
    public void LongReductions(string shape, string axes)
    {
        var a = Axes(axes);
        OpCheck.Check("sum(long)", [shape], x => x[0].sum(a), x => x[0].sum(L(a)), T(1e-4, 1e-4), Sum);
        OpCheck.Check("mean(long)", [shape], x => x[0].mean(a), x => x[0].mean(L(a)), T(1e-6, 1e-4), Sum);
        OpCheck.Check("var(long)", [shape], x => x[0].var(a), x => x[0].var(L(a)), T(1e-5, 1e-4), T(1e-5, 1e-4));
    }

    // ---- max/min with dim, argmax/argmin: first index on ties --------------------------------------------------

    public static TheoryData<string, int, bool> DimCases()
    {
        var data = new TheoryData<string, int, bool>();
        foreach (var (shape, dims) in new (string, int[])[] { ("3x5x7", [0, 1, 2, -1]), ("33", [0]), ("7x1", [1]), ("5x7@t", [0, 1]), ("3x5x7@p", [1]) })
            foreach (int d in dims)
                foreach (bool k in new[] { false, true })
                    data.Add(shape, d, k);
        return data;
    }

    /// <summary>Values and the index of the first extreme; the gradient goes to that index only.</summary>
    [Theory, MemberData(nameof(DimCases))]
    public void MaxMinWithDim(string shape, int dim, bool keepdim)
    {
        OpCheck.CheckMany($"max(dim={dim}, keepdim={keepdim})", [shape],
            x => { var (v, i) = x[0].max(dim, keepdim); return [v, i]; },
            x => { var (v, i) = x[0].max(dim, keepdim); return [v, i]; }, Exact, Exact, Values.Ties());
        OpCheck.CheckMany($"min(dim={dim}, keepdim={keepdim})", [shape],
            x => { var (v, i) = x[0].min(dim, keepdim); return [v, i]; },
            x => { var (v, i) = x[0].min(dim, keepdim); return [v, i]; }, Exact, Exact, Values.Ties());
    }

    [Theory, MemberData(nameof(DimCases))]
    public void ArgmaxArgminFirstIndexOnTies(string shape, int dim, bool keepdim)
    {
        var input = In.Parse(shape).NoGrad();
        OpCheck.Check($"argmax(dim={dim}, keepdim={keepdim})", [input], x => x[0].argmax(dim, keepdim), x => x[0].argmax(dim, keepdim), values: Values.Ties());
        OpCheck.Check($"argmin(dim={dim}, keepdim={keepdim})", [input], x => x[0].argmin(dim, keepdim), x => x[0].argmin(dim, keepdim), values: Values.Ties());
    }

    /// <summary>Ties everywhere: a row of equal values gives index 0, as in torch.</summary>
    [Fact]
    public void ArgmaxOfConstantRowsIsZero()
    {
        var input = new In { Shape = [4, 5], Grad = false, Values = (_, n) => new float[n] };
        OpCheck.Check("argmax(const)", [input], x => x[0].argmax(1), x => x[0].argmax(1, false));
        OpCheck.Check("argmin(const)", [input], x => x[0].argmin(1), x => x[0].argmin(1, false));
    }
}

/// <summary>Reductions at the edges: 0-D inputs reduced over dim 0/−1 (allowed by torch), empty dim lists.</summary>
[Trait(Categories.Trait, Categories.Oracle)]
public class ReductionEdgeOracleTests
{
    static readonly Tolerance Exact = new(0, 0);

    [Theory]
    [InlineData(0, false)]
    [InlineData(-1, true)]
    public void ZeroDimReductions(int dim, bool keepdim)
    {
        OpCheck.Check("sum(0-D)", ["()"], x => x[0].sum(dim, keepdim), x => x[0].sum(dim, keepdim), Exact, Exact);
        OpCheck.Check("mean(0-D)", ["()"], x => x[0].mean(dim, keepdim), x => x[0].mean([(long)dim], keepdim), Exact, Exact);
        OpCheck.Check("amax(0-D)", ["()"], x => x[0].amax([dim], keepdim), x => x[0].amax([(long)dim], keepdim), Exact, Exact);
        OpCheck.CheckMany("max(0-D, dim)", ["()"], x => { var (v, i) = x[0].max(dim, keepdim); return [v, i]; },
            x => { var (v, i) = x[0].max(dim, keepdim); return [v, i]; }, Exact, Exact);
        OpCheck.Check("argmax(0-D, dim)", ["()!"], x => x[0].argmax(dim, keepdim), x => x[0].argmax(dim, keepdim));
        OpCheck.Check("softmax(0-D)", ["()"], x => x[0].softmax(dim), x => x[0].softmax(dim), Exact, Exact);
        OpCheck.Check("log_softmax(0-D)", ["()"], x => x[0].log_softmax(dim), x => x[0].log_softmax(dim), Exact, Exact);
        OpCheck.Check("var(0-D, correction 0)", ["()"], x => x[0].var([dim], 0, keepdim), x => x[0].var([(long)dim], false, keepdim), Exact, Exact);
    }

    /// <summary>An empty dim list reduces over every dim in torch (x.sum(dim=[]) is the full sum), not over none.</summary>
    [Theory]
    [InlineData("3x4", false)]
    [InlineData("3x4", true)]
    [InlineData("()", false)]
    public void EmptyDimListReducesEverything(string shape, bool keepdim)
    {
        var sum = new Tolerance(2e-6, 1e-5);
        OpCheck.Check("sum([])", [shape], x => x[0].sum([], keepdim), x => x[0].sum(Array.Empty<long>(), keepdim), sum, sum);
        OpCheck.Check("mean([])", [shape], x => x[0].mean([], keepdim), x => x[0].mean(Array.Empty<long>(), keepdim), sum, sum);
        OpCheck.Check("amax([])", [shape], x => x[0].amax([], keepdim), x => x[0].amax(Array.Empty<long>(), keepdim), Exact, Exact, Values.Ties());
        OpCheck.Check("amin([])", [shape], x => x[0].amin([], keepdim), x => x[0].amin(Array.Empty<long>(), keepdim), Exact, Exact, Values.Ties());
    }
}

