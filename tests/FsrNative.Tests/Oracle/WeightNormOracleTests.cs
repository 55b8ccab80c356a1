using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Oracle;

using TT = TorchSharp.torch.Tensor;

/// <summary>weight_norm (torch._weight_norm semantics) against v·(g/‖v‖) composed of libtorch ops, gradients to v and g.</summary>
[Trait(Categories.Trait, Categories.Oracle)]
public class WeightNormOracleTests
{
    static Tolerance T(double atol, double rtol) => new(atol, rtol);
    static readonly Tolerance Tol = T(1e-5, 1e-4);

    static TT Theirs(TT v, TT g, int dim)
    {
        int rank = (int)v.dim();
        var others = Enumerable.Range(0, rank).Where(i => i != dim).Select(i => (long)i).ToArray();
        var norm = v.pow(2).sum(others, keepdim: true).sqrt();
        var shape = Enumerable.Range(0, rank).Select(i => i == dim ? v.shape[i] : 1L).ToArray();
        return v * (g.reshape(shape) / norm);
    }

    [Theory]
    [InlineData("6x5", "6", 0)]
    [InlineData("6x5", "6x1", 0)]          // the (out, 1) g of torch.nn.utils.weight_norm
    [InlineData("4x3x2", "4x1x1", 0)]      // conv-like weight
    [InlineData("3x4", "4", 1)]
    [InlineData("64x16", "64", 0)]
    [InlineData("5x6@t", "5", 0)]
    public void WeightNorm(string v, string g, int dim)
    {
        var gs = new In { Shape = In.Parse(g).Shape, Values = Values.Uniform(0.5f, 2f) };
        OpCheck.Check($"weight_norm(dim={dim})", [v, gs], x => torch.nn.functional.weight_norm(x[0], x[1], dim),
            x => Theirs(x[0], x[1], dim), Tol, Tol, Values.Normal());
        OpCheck.Check($"weight_norm(dim={dim}, g frozen)", [v, gs.NoGrad()], x => torch.nn.functional.weight_norm(x[0], x[1], dim),
            x => Theirs(x[0], x[1], dim), Tol, Tol, Values.Normal());
    }

    [Fact]
    public void WeightNormOverTheWholeTensor()
    {
        OpCheck.Check("weight_norm(dim=-1)", ["4x3", new In { Shape = [1], Values = Values.Uniform(0.5f, 2f) }],
            x => torch.nn.functional.weight_norm(x[0], x[1], -1),
            x => x[0] * (x[1] / x[0].pow(2).sum().sqrt()), Tol, Tol, Values.Normal());
    }
}
