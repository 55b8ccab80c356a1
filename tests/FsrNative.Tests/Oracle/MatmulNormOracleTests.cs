using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Oracle;

using ts = TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

/// <summary>matmul in every rank combination, linear, softmax/log_softmax along every axis, layer_norm.</summary>
[Trait(Categories.Trait, Categories.Oracle)]
public class MatmulNormOracleTests
{
    static Tolerance T(double atol, double rtol) => new(atol, rtol);

    /// <summary>Dot products of up to 33 terms of O(1) values, summed in another order than libtorch's GEMM.</summary>
    static readonly Tolerance Gemm = T(1e-5, 1e-4);

    [Theory]
    [InlineData("7", "7")]                 // 1-D · 1-D → 0-D
    [InlineData("7", "7x5")]               // 1-D · 2-D
    [InlineData("5x7", "7")]               // 2-D · 1-D
    [InlineData("5x7", "7x4")]
    [InlineData("13x33", "33x17")]         // odd sizes
    [InlineData("3x5x7", "3x7x4")]         // batched
    [InlineData("2x1x5x7", "3x7x4")]       // broadcast batch on both sides
    [InlineData("3x5x7", "7x4")]           // shared right operand (folded into one GEMM)
    [InlineData("5x7", "3x7x4")]           // shared left operand
    [InlineData("4", "2x4x3")]             // 1-D · batched
    [InlineData("2x3x4", "4")]             // batched · 1-D
    [InlineData("5x1", "1x4")]             // k = 1
    [InlineData("1x7", "7x4")]             // m = 1
    [InlineData("5x7", "7x1")]             // n = 1
    [InlineData("1x1", "1x1")]
    [InlineData("5x7@t", "7x4")]           // transposed views, never copied
    [InlineData("5x7", "7x4@t")]
    [InlineData("5x7@t", "7x4@t")]
    [InlineData("3x5x7@t", "3x7x4@t")]
    [InlineData("2x3x5x7@t", "7x4")]
    [InlineData("5x7@n", "7x4@n")]         // row-sliced: leading dimension > columns
    [InlineData("5x7@n0", "7x4@n0")]       // offset only
    [InlineData("3x5x7@p", "7x4")]         // permuted: neither last stride is 1 → copied
    [InlineData("5x7@e0", "7x4")]          // broadcast rows (stride 0)
    [InlineData("5x7", "7x4@e1")]          // broadcast columns
    [InlineData("3x5x7@e0", "3x7x4")]      // broadcast batch entry (stride 0 batch)
    [InlineData("7@n", "7x4")]
    public void Matmul(string a, string b)
    {
        OpCheck.Check("matmul", [a, b], x => x[0].matmul(x[1]), x => x[0].matmul(x[1]), Gemm, Gemm);
        OpCheck.Check("matmul(a, b!)", [a, In.Parse(b).NoGrad()], x => torch.matmul(x[0], x[1]), x => ts.matmul(x[0], x[1]), Gemm, Gemm);
    }

    [Fact]
    public void MatmulOperator()
    {
        OpCheck.Check("a % b", ["5x7", "7x4"], x => x[0] % x[1], x => x[0].matmul(x[1]), Gemm, Gemm);
    }

    [Theory]
    [InlineData("3x5x7", true)]
    [InlineData("3x5x7", false)]
    [InlineData("7", true)]
    [InlineData("1x7", true)]
    [InlineData("5x7@t", true)]
    public void Linear(string input, bool bias)
    {
        In[] inputs = bias ? [input, "4x7", "4"] : [input, "4x7"];
        OpCheck.Check($"linear(bias={bias})", inputs,
            x => torch.nn.functional.linear(x[0], x[1], bias ? x[2] : null),
            x => F.linear(x[0], x[1], bias ? x[2] : null), Gemm, Gemm);
    }

    // ---- softmax / log_softmax ---------------------------------------------------------------------------------

    public static TheoryData<string, int> SoftmaxCases()
    {
        var data = new TheoryData<string, int>();
        foreach (int d in new[] { 0, 1, 2, -1 }) data.Add("3x5x7", d);
        data.Add("33", 0);
        data.Add("7x1", 1);
        data.Add("1x7", 0);
        data.Add("5x7@t", 1);
        data.Add("5x7@t", 0);
        data.Add("3x5x7@p", 1);
        data.Add("4x6@e0", 0);
        return data;
    }

    static readonly Tolerance Soft = T(1e-6, 1e-5);

    [Theory, MemberData(nameof(SoftmaxCases))]
    public void Softmax(string shape, int dim)
    {
        OpCheck.Check($"softmax({dim})", [shape], x => x[0].softmax(dim), x => x[0].softmax(dim), Soft, Soft, Values.Normal(0, 2));
        OpCheck.Check($"log_softmax({dim})", [shape], x => x[0].log_softmax(dim), x => x[0].log_softmax(dim), Soft, Soft, Values.Normal(0, 2));
        OpCheck.Check($"F.softmax({dim})", [shape], x => torch.nn.functional.softmax(x[0], dim), x => F.softmax(x[0], dim), Soft, Soft);
        OpCheck.Check($"F.log_softmax({dim})", [shape], x => torch.nn.functional.log_softmax(x[0], dim), x => F.log_softmax(x[0], dim), Soft, Soft);
    }

    /// <summary>Rows with large values (|x| up to ~300: exp overflows without the max shift).</summary>
    [Theory]
    [InlineData("4x9", 1)]
    [InlineData("4x9", 0)]
    public void SoftmaxLargeValues(string shape, int dim)
    {
        OpCheck.Check("softmax(large)", [shape], x => x[0].softmax(dim), x => x[0].softmax(dim), Soft, Soft, Values.Normal(0, 100));
        // log_softmax of large inputs: values are O(100), so the absolute error scales with them.
        OpCheck.Check("log_softmax(large)", [shape], x => x[0].log_softmax(dim), x => x[0].log_softmax(dim), T(1e-4, 1e-5), Soft, Values.Normal(0, 100));
    }

    /// <summary>−∞ entries (masked attention): probability 0, log-probability −∞, finite gradients.</summary>
    [Theory]
    [InlineData("4x9", 1)]
    [InlineData("9x4", 0)]
    public void SoftmaxWithNegativeInfinity(string shape, int dim)
    {
        var values = Values.With(Values.Normal(), float.NegativeInfinity, every: 5, start: 2);
        OpCheck.Check("softmax(-inf)", [shape], x => x[0].softmax(dim), x => x[0].softmax(dim), Soft, Soft, values);
        OpCheck.Check("log_softmax(-inf)", [shape], x => x[0].log_softmax(dim), x => x[0].log_softmax(dim), Soft, Soft, values);
    }

    // ---- layer_norm ---------------------------------------------------------------------------------------------

    static readonly Tolerance Norm = T(1e-5, 1e-4);

    [Theory]
    [InlineData("3x5x7", "7", true, true)]
    [InlineData("3x5x7", "7", false, false)]
    [InlineData("3x5x7", "5x7", true, true)]
    [InlineData("3x5x7", "5x7", false, false)]
    [InlineData("3x5x7", "7", true, false)]   // weight only
    [InlineData("3x5x7", "7", false, true)]   // bias only
    [InlineData("33", "33", true, true)]
    [InlineData("6x13", "13", true, true)]
    [InlineData("5x7@t", "7", true, true)]
    [InlineData("3x5x7@p", "5x7", true, true)]
    [InlineData("4x6@e0", "6", true, true)]
    public void LayerNorm(string x, string normalized, bool weight, bool bias)
    {
        var ns = In.Parse(normalized).Shape;
        var nsl = Array.ConvertAll(ns, v => (long)v);
        var inputs = new List<In> { x };
        if (weight) inputs.Add(new In { Shape = ns, Values = Values.Uniform(0.5f, 1.5f) });
        if (bias) inputs.Add(normalized);
        OpCheck.Check($"layer_norm({normalized}, w={weight}, b={bias})", inputs.ToArray(),
            t => torch.nn.functional.layer_norm(t[0], ns, weight ? t[1] : null, bias ? t[weight ? 2 : 1] : null),
            t => F.layer_norm(t[0], nsl, weight ? t[1] : null, bias ? t[weight ? 2 : 1] : null, 1e-5),
            Norm, T(1e-4, 1e-4), Values.Normal(0.5f, 2f));
    }

    /// <summary>c = 1: the variance is 0, so y = bias and the gradient to x is 0 (times rstd = 1/√eps).</summary>
    [Fact]
    public void LayerNormOverOneElement()
    {
        OpCheck.Check("layer_norm(c=1)", ["4x1", "1", "1"],
            t => torch.nn.functional.layer_norm(t[0], [1], t[1], t[2]),
            t => F.layer_norm(t[0], [1L], t[1], t[2], 1e-5), Norm, T(1e-4, 1e-4));
    }

    [Fact]
    public void LayerNormCustomEps()
    {
        OpCheck.Check("layer_norm(eps=0.1)", ["3x8", "8", "8"],
            t => torch.nn.functional.layer_norm(t[0], [8], t[1], t[2], eps: 0.1f),
            t => F.layer_norm(t[0], [8L], t[1], t[2], 0.1), Norm, T(1e-4, 1e-4), Values.Uniform(-0.3f, 0.3f));
    }
}
