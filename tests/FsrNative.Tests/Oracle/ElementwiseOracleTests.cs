using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Oracle;

using TT = TorchSharp.torch.Tensor;
using ts = TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

/// <summary>
/// Unary, scalar and binary elementwise ops, comparisons, where and masked_fill against libtorch: forward and every
/// input gradient, on odd sizes, size-1 and 0-D shapes, broadcasting both ways and non-contiguous views.
/// </summary>
[Trait(Categories.Trait, Categories.Oracle)]
public class ElementwiseOracleTests
{
    static Tolerance T(double atol, double rtol) => new(atol, rtol);

    /// <summary>One row per unary op: our function, torch's, the input values and the (forward, backward) tolerances.</summary>
    public sealed record Unary(Func<Tensor, Tensor> Ours, Func<TT, TT> Theirs, ValueMaker Values, Tolerance Fwd, Tolerance Bwd);

    static readonly Tolerance Exact = T(0, 0);
    static readonly Tolerance SumOrder = T(1e-6, 1e-5);   // exact per element; broadcast views sum gradients in another order
    static readonly Tolerance Elem = T(1e-6, 1e-5);        // same formula, libm vs SLEEF/vectorised libm: a few ulp
    static readonly Tolerance Trans = T(1e-5, 1e-4);       // transcendental with chain-rule products in backward
    static readonly Tolerance Gelu = T(2e-5, 2e-4);        // erf/tanh implementations differ more

    public static readonly Dictionary<string, Unary> Unaries = new()
    {
        ["neg"] = new(x => x.neg(), x => x.neg(), Values.Uniform(), Exact, SumOrder),
        ["abs"] = new(x => x.abs(), x => x.abs(), Values.AwayFromZero(), Exact, SumOrder),
        ["exp"] = new(x => x.exp(), x => x.exp(), Values.Uniform(-3, 3), Elem, Elem),
        ["log"] = new(x => x.log(), x => x.log(), Values.Positive(0.05f, 5f), Elem, Elem),
        ["sqrt"] = new(x => x.sqrt(), x => x.sqrt(), Values.Positive(0.05f, 5f), Elem, Elem),
        ["rsqrt"] = new(x => x.rsqrt(), x => x.rsqrt(), Values.Positive(0.05f, 5f), Elem, Trans),
        ["square"] = new(x => x.square(), x => x.square(), Values.Uniform(-3, 3), Elem, Elem),
        ["pow2"] = new(x => x.pow(2f), x => x.pow(2f), Values.Uniform(-2, 2), Elem, Elem),
        ["pow3"] = new(x => x.pow(3f), x => x.pow(3f), Values.Uniform(-2, 2), Elem, Trans),
        ["pow0.5"] = new(x => x.pow(0.5f), x => x.pow(0.5f), Values.Positive(0.05f, 5f), Elem, Elem),
        ["pow-1.5"] = new(x => x.pow(-1.5f), x => x.pow(-1.5f), Values.Positive(0.2f, 5f), Elem, Trans),
        ["pow0"] = new(x => x.pow(0f), x => x.pow(0f), Values.Positive(), Exact, SumOrder),
        ["relu"] = new(x => x.relu(), x => x.relu(), Values.AwayFromZero(), Exact, SumOrder),
        ["gelu"] = new(x => x.gelu(), x => F.gelu(x), Values.Uniform(-4, 4), Gelu, Gelu),
        ["gelu_tanh"] = new(x => x.gelu("tanh"), x => F.gelu(x, TorchSharp.Modules.GELU.Approximate.tanh), Values.Uniform(-4, 4), Gelu, Gelu),
        ["sigmoid"] = new(x => x.sigmoid(), x => x.sigmoid(), Values.Uniform(-6, 6), Elem, Elem),
        ["tanh"] = new(x => x.tanh(), x => x.tanh(), Values.Uniform(-4, 4), Elem, Trans),
        ["clamp_min"] = new(x => x.clamp(min: -0.3f), x => x.clamp(min: -0.3f), Values.AwayFrom(-1, 1, 0.02f, -0.3f), Exact, SumOrder),
        ["clamp_max"] = new(x => x.clamp(max: 0.4f), x => x.clamp(max: 0.4f), Values.AwayFrom(-1, 1, 0.02f, 0.4f), Exact, SumOrder),
        ["clamp_both"] = new(x => x.clamp(-0.5f, 0.25f), x => x.clamp(-0.5f, 0.25f), Values.AwayFrom(-1, 1, 0.02f, -0.5f, 0.25f), Exact, SumOrder),
        // Scalar variants (add/sub/mul/div/rsub/rdiv by a scalar), and the operators that map to them.
        ["add_s"] = new(x => x.add(0.75f), x => x.add(0.75f), Values.Uniform(), Exact, SumOrder),
        ["sub_s"] = new(x => x.sub(0.75f), x => x.sub(0.75f), Values.Uniform(), Exact, SumOrder),
        ["mul_s"] = new(x => x.mul(-1.25f), x => x.mul(-1.25f), Values.Uniform(), Exact, SumOrder),
        ["div_s"] = new(x => x.div(3f), x => x.div(3f), Values.Uniform(), Exact, Elem),
        ["rsub_s"] = new(x => x.rsub(2f), x => 2f - x, Values.Uniform(), Exact, SumOrder),
        ["rdiv_s"] = new(x => x.rdiv(2f), x => 2f / x, Values.AwayFromZero(0.2f, 2f), Elem, Elem),
        ["op_s_minus_x"] = new(x => 2f - x, x => 2f - x, Values.Uniform(), Exact, SumOrder),
        ["op_s_over_x"] = new(x => 3f / x, x => 3f / x, Values.AwayFromZero(0.2f, 2f), Elem, Elem),
        ["op_x_times_s"] = new(x => x * 0.5f + 1f, x => x * 0.5f + 1f, Values.Uniform(), Exact, SumOrder),
        ["op_neg"] = new(x => -x, x => -x, Values.Uniform(), Exact, SumOrder),
    };

    /// <summary>Shapes every unary op runs on: odd sizes, size-1 dims, 0-D, 1-D, and views (transposed, sliced,
    /// broadcast, permuted).</summary>
    public static readonly string[] UnaryShapes = ["7x13", "33", "()", "1x1", "2x1x5", "7x13@t", "5x7@n", "4x6@e0", "2x3x5@p"];

    public static TheoryData<string, string> UnaryCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var op in Unaries.Keys)
            foreach (var shape in UnaryShapes) data.Add(op, shape);
        return data;
    }

    [Theory, MemberData(nameof(UnaryCases))]
    public void UnaryOp(string op, string shape)
    {
        var u = Unaries[op];
        OpCheck.Check(op, [shape], x => u.Ours(x[0]), x => u.Theirs(x[0]), u.Fwd, u.Bwd, u.Values);
    }

    // ---- binary -----------------------------------------------------------------------------------------------

    public sealed record Binary(Func<Tensor, Tensor, Tensor> Ours, Func<TT, TT, TT> Theirs, ValueMaker Values, Tolerance Fwd, Tolerance Bwd);

    public static readonly Dictionary<string, Binary> Binaries = new()
    {
        ["add"] = new((a, b) => a.add(b), (a, b) => a.add(b), Values.Uniform(), Exact, T(1e-6, 1e-5)),
        ["sub"] = new((a, b) => a.sub(b), (a, b) => a.sub(b), Values.Uniform(), Exact, T(1e-6, 1e-5)),
        ["mul"] = new((a, b) => a.mul(b), (a, b) => a.mul(b), Values.Uniform(), Exact, T(1e-6, 1e-5)),
        ["div"] = new((a, b) => a.div(b), (a, b) => a.div(b), Values.AwayFromZero(0.3f, 2f), T(1e-6, 1e-6), T(1e-5, 1e-5)),
        ["add_alpha"] = new((a, b) => a.add(b, 0.5f), (a, b) => a.add(b, 0.5f), Values.Uniform(), T(1e-7, 1e-6), T(1e-6, 1e-5)),
        ["maximum"] = new((a, b) => a.maximum(b), (a, b) => a.maximum(b), Values.Uniform(), Exact, T(1e-6, 1e-5)),
        ["minimum"] = new((a, b) => a.minimum(b), (a, b) => a.minimum(b), Values.Uniform(), Exact, T(1e-6, 1e-5)),
        // Ties: inputs from {−2, …, 2} so many pairs are equal; torch splits the gradient in half there.
        ["maximum_ties"] = new((a, b) => a.maximum(b), (a, b) => a.maximum(b), Values.Ties(), Exact, T(1e-6, 1e-5)),
        ["minimum_ties"] = new((a, b) => a.minimum(b), (a, b) => a.minimum(b), Values.Ties(), Exact, T(1e-6, 1e-5)),
        ["pow"] = new((a, b) => a.pow(b), (a, b) => a.pow(b), Values.Positive(0.3f, 2f), T(1e-6, 1e-5), T(1e-5, 1e-4)),
        ["op_plus"] = new((a, b) => a + b, (a, b) => a + b, Values.Uniform(), Exact, T(1e-6, 1e-5)),
        ["op_minus"] = new((a, b) => a - b, (a, b) => a - b, Values.Uniform(), Exact, T(1e-6, 1e-5)),
        ["op_times"] = new((a, b) => a * b, (a, b) => a * b, Values.Uniform(), Exact, T(1e-6, 1e-5)),
        ["op_over"] = new((a, b) => a / b, (a, b) => a / b, Values.AwayFromZero(0.3f, 2f), T(1e-6, 1e-6), T(1e-5, 1e-5)),
    };

    /// <summary>Shape pairs: equal, broadcast either way, leading-dim and middle-dim broadcasts, 0-D with a tensor,
    /// size-1 dims on both sides, and non-contiguous operands.</summary>
    public static readonly (string a, string b)[] BinaryShapes =
    [
        ("7x13", "7x13"),
        ("7x13", "13"),           // leading-dim broadcast of b
        ("13", "7x13"),           // … of a
        ("7x1", "1x13"),          // both broadcast
        ("4x1x5", "4x3x5"),       // middle-dim broadcast of a
        ("2x3x5", "2x1x5"),       // middle-dim broadcast of b
        ("3x5", "()"),            // 0-D right
        ("()", "3x5"),            // 0-D left
        ("()", "()"),
        ("7x13@t", "7x13"),       // transposed view
        ("5x7@n", "5x7@t"),       // sliced and transposed
        ("4x6@e0", "4x6"),        // expanded (stride-0) view
        ("2x3x5@p", "3x5@n0"),
    ];

    public static TheoryData<string, string, string> BinaryCases()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var op in Binaries.Keys)
            foreach (var (a, b) in BinaryShapes) data.Add(op, a, b);
        return data;
    }

    [Theory, MemberData(nameof(BinaryCases))]
    public void BinaryOp(string op, string a, string b)
    {
        var f = Binaries[op];
        OpCheck.Check(op, [a, b], x => f.Ours(x[0], x[1]), x => f.Theirs(x[0], x[1]), f.Fwd, f.Bwd, f.Values);
    }

    [Theory]
    [InlineData("7x13", "7x13")]
    [InlineData("7x13", "13")]
    [InlineData("2x1x5", "2x3x1")]
    public void PowTensorTensorGradientToOneSideOnly(string a, string b)
    {
        OpCheck.Check("pow(a, b!)", [a, In.Parse(b).NoGrad()], x => x[0].pow(x[1]), x => x[0].pow(x[1]), T(1e-6, 1e-5), T(1e-5, 1e-4), Values.Positive(0.3f, 2f));
        OpCheck.Check("pow(a!, b)", [In.Parse(a).NoGrad(), b], x => x[0].pow(x[1]), x => x[0].pow(x[1]), T(1e-6, 1e-5), T(1e-5, 1e-4), Values.Positive(0.3f, 2f));
    }

    // ---- comparisons, where, masked_fill ------------------------------------------------------------------------

    public static readonly Dictionary<string, (Func<Tensor, Tensor, Tensor> ours, Func<TT, TT, TT> theirs)> Comparisons = new()
    {
        ["eq"] = ((a, b) => a.eq(b), (a, b) => a.eq(b)),
        ["ne"] = ((a, b) => a.ne(b), (a, b) => a.ne(b)),
        ["lt"] = ((a, b) => a.lt(b), (a, b) => a.lt(b)),
        ["le"] = ((a, b) => a.le(b), (a, b) => a.le(b)),
        ["gt"] = ((a, b) => a.gt(b), (a, b) => a.gt(b)),
        ["ge"] = ((a, b) => a.ge(b), (a, b) => a.ge(b)),
    };

    public static TheoryData<string, string, string> ComparisonCases()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var op in Comparisons.Keys)
            foreach (var (a, b) in new[] { ("7x13", "7x13"), ("7x13", "13"), ("7x1", "1x13"), ("3x5", "()"), ("5x7@t", "5x7@n") })
                data.Add(op, a, b);
        return data;
    }

    /// <summary>Comparisons give float masks here (bool in torch, converted); they are not differentiable.</summary>
    [Theory, MemberData(nameof(ComparisonCases))]
    public void Comparison(string op, string a, string b)
    {
        var (ours, theirs) = Comparisons[op];
        OpCheck.Check(op, [In.Parse(a).NoGrad(), In.Parse(b).NoGrad()], x => ours(x[0], x[1]),
            x => theirs(x[0], x[1]).to_type(ts.ScalarType.Float32), Exact, Exact, Values.Ties());
    }

    [Theory]
    [InlineData("eq", 1f)]
    [InlineData("ne", 0f)]
    [InlineData("lt", 0.5f)]
    [InlineData("le", 1f)]
    [InlineData("gt", -1f)]
    [InlineData("ge", 0f)]
    public void ComparisonWithScalar(string op, float s)
    {
        Func<Tensor, Tensor> ours = op switch
        {
            "eq" => x => x.eq(s), "ne" => x => x.ne(s), "lt" => x => x.lt(s),
            "le" => x => x.le(s), "gt" => x => x.gt(s), _ => x => x.ge(s),
        };
        Func<TT, TT> theirs = op switch
        {
            "eq" => x => x.eq(s), "ne" => x => x.ne(s), "lt" => x => x.lt(s),
            "le" => x => x.le(s), "gt" => x => x.gt(s), _ => x => x.ge(s),
        };
        OpCheck.Check(op + "_s", ["7x13!"], x => ours(x[0]), x => theirs(x[0]).to_type(ts.ScalarType.Float32), Exact, Exact, Values.Ties());
    }

    /// <summary>where(cond, a, b): cond is a 0/1 float mask here and bool in torch; all three broadcast.</summary>
    [Theory]
    [InlineData("7x13", "7x13", "7x13")]
    [InlineData("7x13", "13", "7x1")]
    [InlineData("13", "7x13", "()")]
    [InlineData("2x1x5", "3x1", "2x3x5")]
    [InlineData("5x7@t", "5x7@n", "5x7@e1")]
    public void Where(string cond, string a, string b)
    {
        var c = In.Parse(cond).NoGrad().With(Values.Mask());
        OpCheck.Check("where", [c, a, b], x => torch.where(x[0], x[1], x[2]),
            x => ts.where(x[0].to_type(ts.ScalarType.Bool), x[1], x[2]), Exact, SumOrder);
    }

    [Theory]
    [InlineData("7x13", "7x13", 0f)]
    [InlineData("7x13", "13", -1e9f)]
    [InlineData("2x3x5", "2x1x5", 2.5f)]
    [InlineData("7x13@t", "7x1", float.NegativeInfinity)]
    public void MaskedFill(string x, string mask, float value)
    {
        var m = In.Parse(mask).NoGrad().With(Values.Mask(0.3));
        OpCheck.Check($"masked_fill({value})", [x, m], t => t[0].masked_fill(t[1], value),
            t => t[0].masked_fill(t[1].to_type(ts.ScalarType.Bool), value), Exact, SumOrder);
    }

    [Theory]
    [InlineData("7x13", "7x13")]
    [InlineData("7x13", "13")]
    [InlineData("3x5", "()")]
    public void FunctionalMaximumMinimum(string a, string b)
    {
        OpCheck.Check("torch.maximum", [a, b], x => torch.maximum(x[0], x[1]), x => ts.maximum(x[0], x[1]), Exact, T(1e-6, 1e-5));
        OpCheck.Check("torch.minimum", [a, b], x => torch.minimum(x[0], x[1]), x => ts.minimum(x[0], x[1]), Exact, T(1e-6, 1e-5));
    }

    [Theory]
    [InlineData("7x13")]
    [InlineData("2x3x5@p")]
    public void FunctionalActivations(string shape)
    {
        OpCheck.Check("F.relu", [shape], x => torch.nn.functional.relu(x[0]), x => F.relu(x[0]), Exact, Exact, Values.AwayFromZero());
        OpCheck.Check("F.gelu", [shape], x => torch.nn.functional.gelu(x[0]), x => F.gelu(x[0]), Gelu, Gelu, Values.Uniform(-4, 4));
        OpCheck.Check("F.gelu tanh", [shape], x => torch.nn.functional.gelu(x[0], "tanh"), x => F.gelu(x[0], TorchSharp.Modules.GELU.Approximate.tanh), Gelu, Gelu, Values.Uniform(-4, 4));
        OpCheck.Check("F.sigmoid", [shape], x => torch.nn.functional.sigmoid(x[0]), x => F.sigmoid(x[0]), Elem, Elem, Values.Uniform(-6, 6));
        OpCheck.Check("F.tanh", [shape], x => torch.nn.functional.tanh(x[0]), x => F.tanh(x[0]), Elem, Trans, Values.Uniform(-4, 4));
    }

    /// <summary>A chain reusing one input several times: gradients from every use are summed.</summary>
    [Fact]
    public void ReusedInputAccumulatesEveryPath()
    {
        OpCheck.Check("x*x + exp(x)*y - x/y", ["7x13", "13"],
            x => x[0].mul(x[0]).add(x[0].exp().mul(x[1])).sub(x[0].div(x[1])),
            x => x[0].mul(x[0]).add(x[0].exp().mul(x[1])).sub(x[0].div(x[1])),
            T(1e-5, 1e-5), T(1e-5, 1e-4), Values.AwayFromZero(0.3f, 1.5f));
    }
}
