using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Gradcheck;

/// <summary>
/// scaled_dot_product_attention, dropout and drop_path against central differences in float64 (the reference kernels):
/// q, k and v gradients with and without masks, with fully masked rows (whose gradients must be exactly 0), with
/// dropout on the probabilities (a fresh generator with the same seed per evaluation, so every evaluation drops the
/// same elements), through views, and Nq ≠ Nk, Dv ≠ D.
/// </summary>
[Trait(Categories.Trait, Categories.Gradcheck)]
public class AttentionGradcheckTests
{
    static Tensor Sdpa(Tensor[] x, Tensor? add = null, Tensor? keep = null, bool causal = false, double p = 0, double? scale = null)
        => torch.nn.functional.scaled_dot_product_attention(x[0], x[1], x[2], add, p, causal, scale, keep, p > 0 ? new Generator(5) : null);

    [Theory]
    [InlineData("1x2x5x4", "1x2x5x4", "1x2x5x4")]
    [InlineData("2x1x3x4", "2x1x6x4", "2x1x6x3")]     // Nq ≠ Nk, Dv ≠ D
    [InlineData("1x1x1x3", "1x1x7x3", "1x1x7x2")]     // one query
    [InlineData("4x3", "5x3", "5x2")]                 // no batch dimensions
    [InlineData("1x2x5x4@n", "1x2x5x4@e1", "1x2x5x4@t")]
    public void Plain(string q, string k, string v)
    {
        GC.Check("sdpa", [q, k, v], x => Sdpa(x));
        GC.Check("sdpa scale 0.7", [q, k, v], x => Sdpa(x, scale: 0.7));
    }

    [Fact]
    public void Masks()
    {
        var add = In.Parse("1x1x4x6!").With(Values.With(Values.Normal(), float.NegativeInfinity, 5, 1));
        GC.Check("sdpa additive", ["1x2x4x3", "1x2x6x3", "1x2x6x3", add], x => Sdpa(x, add: x[3]));
        // keep mask with row 2 of each batch fully masked: its gradient contributions are exactly 0.
        var keep = In.Parse("2x1x4x6!").With(Values.Fixed(
            1, 0, 1, 1, 0, 1,  0, 1, 1, 1, 1, 1,  0, 0, 0, 0, 0, 0,  1, 1, 0, 0, 0, 1,
            1, 1, 1, 1, 1, 1,  0, 0, 0, 0, 0, 1,  0, 0, 0, 0, 0, 0,  1, 0, 1, 0, 1, 0));
        GC.Check("sdpa keep (fully masked rows)", ["2x2x4x3", "2x2x6x3", "2x2x6x3", keep], x => Sdpa(x, keep: x[3]));
        GC.Check("sdpa causal", ["1x2x5x3", "1x2x5x3", "1x2x5x3"], x => Sdpa(x, causal: true));
    }

    [Theory]
    [InlineData(0.3)]
    [InlineData(0.8)]
    public void DropoutOnProbabilities(double p)
    {
        GC.Check($"sdpa dropout {p}", ["1x2x5x3", "1x2x7x3", "1x2x7x4"], x => Sdpa(x, p: p));
    }

    [Fact]
    public void DropoutAndDropPath()
    {
        GC.Check("dropout", ["4x5"], x => torch.nn.functional.dropout(x[0], 0.4, generator: new Generator(9)));
        GC.Check("dropout of view", ["5x4@t"], x => torch.nn.functional.dropout(x[0], 0.4, generator: new Generator(9)));
        GC.Check("drop_path", ["6x2x3"], x => torch.nn.functional.drop_path(x[0], 0.5, training: true, generator: new Generator(3)));
    }
}
