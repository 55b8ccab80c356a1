using FsrNative.Tests.Infrastructure;
using FsrNative.Tests.Oracle;

namespace FsrNative.Tests.Gradcheck;

/// <summary>
/// Every differentiable op's backward against central finite differences in float64 (FsrNative.Gradcheck), on
/// small shapes, with inputs away from kinks (relu/abs at 0, clamp bounds, ties of max/min) and positive where the
/// op needs it (log, sqrt, pow). Views are applied inside the checked function, so their backwards are checked too.
/// Default options: eps 1e-6, atol 1e-5, rtol 1e-3, 3 random projections.
/// </summary>
[Trait(Categories.Trait, Categories.Gradcheck)]
public class GradcheckTests
{
    // ---- elementwise: the oracle tables, in float64 ---------------------------------------------------------------

    public static TheoryData<string, string> UnaryCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var op in ElementwiseOracleTests.Unaries.Keys)
            foreach (var shape in new[] { "3x4", "()", "4x3@t", "3x4@e0" }) data.Add(op, shape);
        return data;
    }

    [Theory, MemberData(nameof(UnaryCases))]
    public void Unary(string op, string shape)
    {
        var u = ElementwiseOracleTests.Unaries[op];
        GC.Check(op, [shape], x => u.Ours(x[0]), u.Values);
    }

    public static TheoryData<string, string, string> BinaryCases()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var op in ElementwiseOracleTests.Binaries.Keys.Where(k => !k.Contains("ties")))   // ties are kinks
            foreach (var (a, b) in new[] { ("3x4", "3x4"), ("3x4", "4"), ("3x1", "1x4"), ("2x1x3", "2x2x1"), ("3x4", "()"), ("3x4@t", "3x4@n") })
                data.Add(op, a, b);
        return data;
    }

    [Theory, MemberData(nameof(BinaryCases))]
    public void Binary(string op, string a, string b)
    {
        var f = ElementwiseOracleTests.Binaries[op];
        GC.Check(op, [a, b], x => f.Ours(x[0], x[1]), f.Values);
    }

    [Theory]
    [InlineData("3x4", "3x4", "3x4")]
    [InlineData("3x4", "4", "3x1")]
    [InlineData("4", "3x4", "()")]
    public void Where(string cond, string a, string b)
    {
        GC.Check("where", [In.Parse(cond).NoGrad().With(Values.Mask()), a, b], x => torch.where(x[0], x[1], x[2]));
    }

    [Theory]
    [InlineData("3x4", "3x4")]
    [InlineData("3x4", "4")]
    public void MaskedFill(string x, string mask)
    {
        GC.Check("masked_fill", [x, In.Parse(mask).NoGrad().With(Values.Mask())], t => t[0].masked_fill(t[1], -2f));
    }

    // ---- reductions ------------------------------------------------------------------------------------------

    public static TheoryData<string, string, bool> ReductionCases()
    {
        var data = new TheoryData<string, string, bool>();
        foreach (var (shape, axes) in new[] { ("2x3x4", "0"), ("2x3x4", "1"), ("2x3x4", "2"), ("2x3x4", "0,2"), ("2x3x4", "1,2"), ("2x3x4", "0,1,2"), ("4x3@t", "1"), ("2x3x4@p", "0,1") })
            foreach (bool keep in new[] { false, true })
                data.Add(shape, axes, keep);
        return data;
    }

    static int[] Axes(string s) => s.Split(',').Select(int.Parse).ToArray();

    [Theory, MemberData(nameof(ReductionCases))]
    public void Reductions(string shape, string axes, bool keepdim)
    {
        var a = Axes(axes);
        GC.Check($"sum[{axes}]", [shape], x => x[0].sum(a, keepdim));
        GC.Check($"mean[{axes}]", [shape], x => x[0].mean(a, keepdim));
        // Distinct random values: no ties, so amax/amin are differentiable.
        GC.Check($"amax[{axes}]", [shape], x => x[0].amax(a, keepdim));
        GC.Check($"amin[{axes}]", [shape], x => x[0].amin(a, keepdim));
        GC.Check($"var[{axes}] c=1", [shape], x => x[0].var(a, 1, keepdim));
        GC.Check($"var[{axes}] c=0", [shape], x => x[0].var(a, 0, keepdim));
        GC.Check($"std[{axes}] c=1", [shape], x => x[0].std(a, 1, keepdim));
        GC.Check($"std[{axes}] c=0", [shape], x => x[0].std(a, 0, keepdim));
    }

    [Theory]
    [InlineData("2x3x4", 0)]
    [InlineData("2x3x4", 1)]
    [InlineData("2x3x4", -1)]
    [InlineData("4x3@t", 0)]
    public void MaxMinWithDim(string shape, int dim)
    {
        GC.Check($"max(dim={dim})", [shape], x => x[0].max(dim).values);
        GC.Check($"min(dim={dim}, keepdim)", [shape], x => x[0].min(dim, keepdim: true).values);
    }

    [Fact]
    public void FullReductions()
    {
        GC.Check("sum()", ["3x4"], x => x[0].sum());
        GC.Check("mean()", ["3x4"], x => x[0].mean());
        GC.Check("max()", ["3x4"], x => x[0].max());
        GC.Check("min()", ["3x4"], x => x[0].min());
        GC.Check("var()", ["3x4"], x => x[0].var());
        GC.Check("std()", ["3x4"], x => x[0].std());
    }

    // ---- matmul, linear ------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("3", "3")]
    [InlineData("3", "3x2")]
    [InlineData("2x3", "3")]
    [InlineData("2x3", "3x4")]
    [InlineData("2x2x3", "2x3x2")]
    [InlineData("2x1x3x4", "3x4x2")]     // broadcast batch
    [InlineData("2x3x4", "4x2")]         // shared right operand
    [InlineData("2x3@t", "3x4@t")]       // transposed views
    [InlineData("2x3@n", "3x2@e1")]      // sliced and broadcast views
    [InlineData("3x1", "1x2")]           // k = 1
    public void Matmul(string a, string b)
    {
        GC.Check("matmul", [a, b], x => x[0].matmul(x[1]));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Linear(bool bias)
    {
        In[] inputs = bias ? ["2x3x4", "5x4", "5"] : ["2x3x4", "5x4"];
        GC.Check($"linear(bias={bias})", inputs, x => torch.nn.functional.linear(x[0], x[1], bias ? x[2] : null));
    }

    // ---- softmax, layer_norm ----------------------------------------------------------------------------------

    [Theory]
    [InlineData("2x3x4", 0)]
    [InlineData("2x3x4", 1)]
    [InlineData("2x3x4", 2)]
    [InlineData("4x3@t", -1)]
    public void Softmax(string shape, int dim)
    {
        GC.Check($"softmax({dim})", [shape], x => x[0].softmax(dim), Values.Normal(0, 2));
        GC.Check($"log_softmax({dim})", [shape], x => x[0].log_softmax(dim), Values.Normal(0, 2));
    }

    [Theory]
    [InlineData("2x3x4", "4", true, true)]
    [InlineData("2x3x4", "4", false, false)]
    [InlineData("2x3x4", "3x4", true, true)]   // normalised over 2 dims, affine
    [InlineData("2x3x4", "3x4", false, false)]
    [InlineData("2x3x4", "4", true, false)]
    [InlineData("2x3x4", "4", false, true)]
    [InlineData("4x3@t", "3", true, true)]
    public void LayerNorm(string x, string normalized, bool weight, bool bias)
    {
        var ns = In.Parse(normalized).Shape;
        var inputs = new List<In> { x };
        if (weight) inputs.Add(new In { Shape = ns, Values = Values.Uniform(0.5f, 1.5f) });
        if (bias) inputs.Add(normalized);
        GC.Check($"layer_norm({normalized}, w={weight}, b={bias})", inputs.ToArray(),
            t => torch.nn.functional.layer_norm(t[0], ns, weight ? t[1] : null, bias ? t[weight ? 2 : 1] : null), Values.Normal(0, 1.5f));
    }

    // ---- indexing, joining ---------------------------------------------------------------------------------------

    [Theory]
    [InlineData("4x3", 0, 6, 4)]
    [InlineData("4x3", 1, 5, 3)]
    [InlineData("2x3x4", 1, 4, 3)]
    public void IndexSelect(string x, int dim, int k, int high)
    {
        GC.Check($"index_select({dim})", [x, In.Index(high, k)], t => t[0].index_select(dim, t[1]));
    }

    [Theory]
    [InlineData("3x4", 1, "3x5", 4)]
    [InlineData("4x3", 0, "6x3", 4)]
    [InlineData("4x5", 1, "2x3", 5)]       // index smaller than the input in dim 0
    [InlineData("2x3x4", 2, "2x2x3", 4)]
    public void Gather(string x, int dim, string index, int high)
    {
        GC.Check($"gather({dim})", [x, In.Index(high, In.Parse(index).Shape)], t => t[0].gather(dim, t[1]));
    }

    [Theory]
    [InlineData("3x4", 0, "5x4", 3, "5x4")]    // duplicate indices
    [InlineData("3x4", 1, "3x6", 4, "3x6")]
    [InlineData("4x5", 1, "2x3", 5, "2x3")]    // index smaller than self in dim 0
    public void ScatterAdd(string self, int dim, string index, int high, string src)
    {
        GC.Check($"scatter_add({dim})", [self, In.Index(high, In.Parse(index).Shape), src], t => t[0].scatter_add(dim, t[1], t[2]));
    }

    [Fact]
    public void GatherThenScatterAdd()
    {
        GC.Check("scatter_add(gather)", ["3x4", In.Index(4, 3, 5), "3x4"],
            t => t[2].scatter_add(1, t[1], t[0].gather(1, t[1]).exp()));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(-1)]
    public void CatStack(int dim)
    {
        GC.Check($"cat({dim})", ["2x3", "2x3@t", "2x3@n"], t => torch.cat(t, dim));
        GC.Check($"stack({dim})", ["2x3", "2x3@t", "2x3"], t => torch.stack(t, dim));
    }

    [Fact]
    public void CatOfDifferentLengths()
    {
        GC.Check("cat(0) 2+1+3", ["2x3", "1x3", "3x3"], t => torch.cat(t, 0));
    }

    /// <summary>Parts of a split/chunk, weighted differently and summed, so each part's gradient is distinct.</summary>
    [Theory]
    [InlineData("5x3", 0)]
    [InlineData("3x5", 1)]
    public void SplitChunk(string shape, int dim)
    {
        GC.Check($"split(2, {dim})", [shape], t => Weighted(t[0].split(2, dim)));
        GC.Check($"split([1,3,1], {dim})", [shape], t => Weighted(t[0].split([1, 3, 1], dim)));
        GC.Check($"chunk(3, {dim})", [shape], t => Weighted(t[0].chunk(3, dim)));
    }

    static Tensor Weighted(Tensor[] parts)
    {
        Tensor total = parts[0].exp().sum();
        for (int i = 1; i < parts.Length; i++) total = total.add(parts[i].mul(i + 1.5f).square().sum());
        return total;
    }

    // ---- views ------------------------------------------------------------------------------------------------

    public static TheoryData<string> ViewNames() => new(ViewInPlaceOracleTests.Views.Keys);

    /// <summary>The oracle's view table, followed by a nonlinear op so the gradient's values depend on position.</summary>
    [Theory, MemberData(nameof(ViewNames))]
    public void View(string name)
    {
        var v = ViewInPlaceOracleTests.Views[name];
        GC.Check(name, [v.Shape], x => v.Ours(x[0]).square());
    }

    // ---- composites ---------------------------------------------------------------------------------------------

    [Fact]
    public void AttentionBlock()
    {
        // softmax(q·kᵀ/√d)·v with q, k, v from one input through linear maps: matmul of views, softmax, broadcast.
        GC.Check("attention", ["2x3x4", "4x4", "4x4", "4x4"], t =>
        {
            var q = t[0].matmul(t[1]);
            var k = t[0].matmul(t[2]);
            var v = t[0].matmul(t[3]);
            return q.matmul(k.transpose(-1, -2)).mul(0.5f).softmax(-1).matmul(v);
        }, Values.Uniform(-0.7f, 0.7f));
    }

    [Fact]
    public void MlpWithResidualAndLayerNorm()
    {
        GC.Check("mlp", ["2x3x4", "6x4", "6", "4x6", "4", "3x4", "3x4"], t =>
        {
            var h = torch.nn.functional.linear(t[0], t[1], t[2]).gelu();
            var y = torch.nn.functional.linear(h, t[3], t[4]).add(t[0]);
            return torch.nn.functional.layer_norm(y, [3, 4], t[5], t[6]);
        });
    }

    [Fact]
    public void CrossEntropyLikeLoss()
    {
        GC.Check("nll(log_softmax)", ["4x5", In.Index(5, 4, 1)], t => t[0].log_softmax(1).gather(1, t[1]).neg().mean());
    }

    [Fact]
    public void InputUsedManyTimes()
    {
        GC.Check("x·x + exp(x)·y − x/y", ["3x4", "4"], t => t[0].mul(t[0]).add(t[0].exp().mul(t[1])).sub(t[0].div(t[1])), Values.AwayFromZero(0.3f, 1.5f));
    }
}
