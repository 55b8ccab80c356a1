using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Oracle;

using TT = TorchSharp.torch.Tensor;
using ts = TorchSharp.torch;

/// <summary>View ops (values and gradients through the inverse view), copies, dtype conversion and in-place ops.</summary>
[Trait(Categories.Trait, Categories.Oracle)]
public class ViewInPlaceOracleTests
{
    static readonly Tolerance Exact = new(0, 0);
    /// <summary>Gradients summed over broadcast dims (expand).</summary>
    static readonly Tolerance Sum = new(1e-6, 1e-5);

    public sealed record View(string Shape, Func<Tensor, Tensor> Ours, Func<TT, TT> Theirs);

    public static readonly Dictionary<string, View> Views = new()
    {
        ["reshape"] = new("3x4x5", x => x.reshape(4, 15), x => x.reshape(4, 15)),
        ["reshape_infer"] = new("3x4x5", x => x.reshape(-1, 5), x => x.reshape(-1, 5)),
        ["reshape_0d"] = new("()", x => x.reshape(1, 1), x => x.reshape(1, 1)),
        ["reshape_to_0d"] = new("1x1", x => x.reshape([]), x => x.reshape([])),
        ["reshape_transposed_copies"] = new("5x7@t", x => x.reshape(35), x => x.reshape(35)),
        ["reshape_transposed_view"] = new("2x3x4@t", x => x.reshape(6, 4), x => x.reshape(6, 4)),
        ["reshape_narrowed"] = new("4x6@n", x => x.reshape(2, 2, 6), x => x.reshape(2, 2, 6)),
        ["view"] = new("3x4x5", x => x.view(12, 5), x => x.view(12, 5)),
        ["view_split_dim"] = new("6x5@n", x => x.view(2, 3, 5), x => x.view(2, 3, 5)),
        ["permute"] = new("3x4x5", x => x.permute(2, 0, 1), x => x.permute(2, 0, 1)),
        ["permute_neg"] = new("3x4x5", x => x.permute(-1, -3, -2), x => x.permute(-1, -3, -2)),
        ["transpose"] = new("3x4x5", x => x.transpose(0, 2), x => x.transpose(0, 2)),
        ["transpose_neg"] = new("3x4x5@n", x => x.transpose(-1, -2), x => x.transpose(-1, -2)),
        ["t"] = new("4x7", x => x.t(), x => x.t()),
        ["t_1d"] = new("7", x => x.t(), x => x.t()),
        ["narrow"] = new("7x13", x => x.narrow(1, 3, 5), x => x.narrow(1, 3, 5)),
        ["narrow_neg_start"] = new("7x13", x => x.narrow(0, -3, 2), x => x.narrow(0, 4, 2)),
        ["narrow_of_view"] = new("7x13@t", x => x.narrow(1, 2, 9), x => x.narrow(1, 2, 9)),
        ["select"] = new("3x4x5", x => x.select(1, 2), x => x.select(1, 2)),
        ["select_neg"] = new("3x4x5", x => x.select(-1, -1), x => x.select(-1, -1)),
        ["select_to_0d"] = new("7", x => x.select(0, 3), x => x.select(0, 3)),
        ["expand"] = new("3x1", x => x.expand(3, 5), x => x.expand(3, 5)),
        ["expand_keep"] = new("3x1", x => x.expand(2, -1, 4), x => x.expand(2, -1, 4)),
        ["expand_0d"] = new("()", x => x.expand(2, 3), x => x.expand(2, 3)),
        ["expand_middle"] = new("2x1x4", x => x.expand(2, 3, 4), x => x.expand(2, 3, 4)),
        ["broadcast_to"] = new("4", x => x.broadcast_to(3, 4), x => x.broadcast_to(3, 4)),
        ["squeeze_dim"] = new("3x1x5", x => x.squeeze(1), x => x.squeeze(1)),
        ["squeeze_dim_not_one"] = new("3x1x5", x => x.squeeze(0), x => x.squeeze(0)),
        ["squeeze_all"] = new("1x3x1x5x1", x => x.squeeze(), x => x.squeeze()),
        ["squeeze_0d"] = new("1x1", x => x.squeeze(), x => x.squeeze()),
        ["unsqueeze_0"] = new("3x5", x => x.unsqueeze(0), x => x.unsqueeze(0)),
        ["unsqueeze_mid"] = new("3x5", x => x.unsqueeze(1), x => x.unsqueeze(1)),
        ["unsqueeze_last"] = new("3x5", x => x.unsqueeze(-1), x => x.unsqueeze(-1)),
        ["unsqueeze_of_view"] = new("3x5@t", x => x.unsqueeze(1), x => x.unsqueeze(1)),
        ["unsqueeze_0d"] = new("()", x => x.unsqueeze(0), x => x.unsqueeze(0)),
        ["flatten"] = new("2x3x4", x => x.flatten(), x => x.flatten()),
        ["flatten_range"] = new("2x3x4x5", x => x.flatten(1, 2), x => x.flatten(1, 2)),
        ["flatten_tail"] = new("2x3x4", x => x.flatten(1), x => x.flatten(1)),
        ["flatten_0d"] = new("()", x => x.flatten(), x => x.flatten()),
        ["flatten_view"] = new("2x3x4@p", x => x.flatten(), x => x.flatten()),
        ["contiguous"] = new("5x7@t", x => x.contiguous(), x => x.contiguous()),
        ["contiguous_noop"] = new("5x7", x => x.contiguous(), x => x.contiguous()),
        ["clone"] = new("5x7@n", x => x.clone(), x => x.clone()),
        ["chain"] = new("2x3x4", x => x.permute(2, 0, 1).reshape(4, 6).narrow(1, 1, 4).t().unsqueeze(0).expand(3, 4, 4),
                                  x => x.permute(2, 0, 1).reshape(4, 6).narrow(1, 1, 4).t().unsqueeze(0).expand(3, 4, 4)),
    };

    public static TheoryData<string> ViewNames() => new(Views.Keys);

    /// <summary>The view's values, and the gradient of its input (g scattered back through the inverse view).</summary>
    [Theory, MemberData(nameof(ViewNames))]
    public void ViewOp(string name)
    {
        var v = Views[name];
        OpCheck.Check(name, [v.Shape], x => v.Ours(x[0]), x => v.Theirs(x[0]), Exact, Sum);
    }

    /// <summary>A view followed by an op that reads it with its strides: the op must honour the layout.</summary>
    [Theory, MemberData(nameof(ViewNames))]
    public void ViewThenExp(string name)
    {
        var v = Views[name];
        OpCheck.Check(name + "+exp", [v.Shape], x => v.Ours(x[0]).exp(), x => v.Theirs(x[0]).exp(), new(1e-6, 1e-5), new(1e-6, 1e-5));
    }

    [Fact]
    public void ExpandAs()
    {
        OpCheck.Check("expand_as", ["1x5", "4x5!"], x => x[0].expand_as(x[1]), x => x[0].expand_as(x[1]), Exact, Sum);
    }

    // ---- dtype -------------------------------------------------------------------------------------------------

    /// <summary>Float32 → Int32 truncates toward zero, like torch's .to(int32).</summary>
    [Theory]
    [InlineData("7x13")]
    [InlineData("5x7@t")]
    public void ToInt32Truncates(string shape)
    {
        OpCheck.Check("to(Int32)", [In.Parse(shape).NoGrad()], x => x[0].to(DType.Int32), x => x[0].to_type(ts.ScalarType.Int32),
            values: Values.Uniform(-50, 50));
    }

    [Fact]
    public void Int32ToFloat32()
    {
        OpCheck.Check("to(Float32)", [In.Index(1000, 7, 3)], x => x[0].to(DType.Float32), x => x[0].to_type(ts.ScalarType.Float32), Exact);
    }

    [Fact]
    public void Float32ToFloat64AndBack()
    {
        OpCheck.Check("to(Float64)", ["5x7@t!"], x => x[0].to(DType.Float64), x => x[0].to_type(ts.ScalarType.Float64), Exact);
        OpCheck.Check("to(Float64).exp().to(Float32)", ["5x7!"], x => x[0].to(DType.Float64).exp().to(DType.Float32),
            x => x[0].to_type(ts.ScalarType.Float64).exp().to_type(ts.ScalarType.Float32), Exact);
    }

    /// <summary>Float ↔ float conversions are differentiable in torch: the gradient is converted back.</summary>
    [Fact]
    public void FloatConversionsCarryGradients()
    {
        OpCheck.Check("to(Float64) grad", ["5x7"], x => x[0].to(DType.Float64).mul(x[0].to(DType.Float64)),
            x => x[0].to_type(ts.ScalarType.Float64).mul(x[0].to_type(ts.ScalarType.Float64)), new(1e-6, 1e-6), new(1e-6, 1e-6));
    }

    // ---- in-place ops: no grad, values compared (written through views where the destination is one) ---------------

    public sealed record InPlaceCase(string[] Shapes, Func<Tensor[], Tensor> Ours, Func<TT[], TT> Theirs);

    public static readonly Dictionary<string, InPlaceCase> InPlace = new()
    {
        ["add_"] = new(["4x6", "4x6"], x => x[0].clone().add_(x[1]), x => x[0].clone().add_(x[1])),
        ["add_ broadcast"] = new(["4x6", "6"], x => x[0].clone().add_(x[1]), x => x[0].clone().add_(x[1])),
        ["add_ alpha"] = new(["4x6", "1x6"], x => x[0].clone().add_(x[1], -0.5f), x => x[0].clone().add_(x[1], -0.5f)),
        ["add_ scalar"] = new(["4x6"], x => x[0].clone().add_(1.5f), x => x[0].clone().add_(1.5f)),
        ["sub_"] = new(["4x6", "4x1"], x => x[0].clone().sub_(x[1]), x => x[0].clone().sub_(x[1])),
        ["mul_"] = new(["4x6", "4x6"], x => x[0].clone().mul_(x[1]), x => x[0].clone().mul_(x[1])),
        ["mul_ broadcast"] = new(["2x3x4", "3x1"], x => x[0].clone().mul_(x[1]), x => x[0].clone().mul_(x[1])),
        ["mul_ scalar"] = new(["4x6"], x => x[0].clone().mul_(-2f), x => x[0].clone().mul_(-2f)),
        ["div_"] = new(["4x6", "6"], x => x[0].clone().div_(x[1].abs().add(0.5f)), x => x[0].clone().div_(x[1].abs().add(0.5f))),
        ["div_ scalar"] = new(["4x6"], x => x[0].clone().div_(3f), x => x[0].clone().div_(3f)),
        ["clamp_"] = new(["4x6"], x => x[0].clone().clamp_(-0.5f, 0.5f), x => x[0].clone().clamp_(-0.5f, 0.5f)),
        ["clamp_ min"] = new(["4x6"], x => x[0].clone().clamp_(min: 0f), x => x[0].clone().clamp_(min: 0f)),
        ["clamp_ max"] = new(["4x6"], x => x[0].clone().clamp_(max: 0f), x => x[0].clone().clamp_(max: 0f)),
        ["copy_"] = new(["4x6", "4x6"], x => x[0].clone().copy_(x[1]), x => x[0].clone().copy_(x[1])),
        ["copy_ broadcast row"] = new(["4x6", "6"], x => x[0].clone().copy_(x[1]), x => x[0].clone().copy_(x[1])),
        ["copy_ broadcast col"] = new(["4x6", "4x1"], x => x[0].clone().copy_(x[1]), x => x[0].clone().copy_(x[1])),
        ["copy_ 0d"] = new(["4x6", "()"], x => x[0].clone().copy_(x[1]), x => x[0].clone().copy_(x[1])),
        ["copy_ from view"] = new(["4x6", "6x4@t"], x => x[0].clone().copy_(x[1].t()), x => x[0].clone().copy_(x[1].t())),
        ["fill_"] = new(["4x6"], x => x[0].clone().fill_(2.5f), x => x[0].clone().fill_(2.5f)),
        ["zero_"] = new(["4x6"], x => x[0].clone().zero_(), x => x[0].clone().zero_()),
        // Destinations that are views: the write must land in the base's memory at the view's positions.
        ["add_ into transposed view"] = new(["4x6", "6x4"], x => { var b = x[0].clone(); b.t().add_(x[1]); return b; },
                                                          x => { var b = x[0].clone(); b.t().add_(x[1]); return b; }),
        ["mul_ into narrowed view"] = new(["4x6", "4x3"], x => { var b = x[0].clone(); b.narrow(1, 2, 3).mul_(x[1]); return b; },
                                                        x => { var b = x[0].clone(); b.narrow(1, 2, 3).mul_(x[1]); return b; }),
        ["clamp_ into column"] = new(["4x6"], x => { var b = x[0].clone(); b.select(1, 3).clamp_(-0.1f, 0.1f); return b; },
                                             x => { var b = x[0].clone(); b.select(1, 3).clamp_(-0.1f, 0.1f); return b; }),
        ["copy_ into transposed view"] = new(["4x6", "4"], x => { var b = x[0].clone(); b.t().copy_(x[1]); return b; },
                                                          x => { var b = x[0].clone(); b.t().copy_(x[1]); return b; }),
        ["fill_ into narrowed view"] = new(["4x6"], x => { var b = x[0].clone(); b.narrow(0, 1, 2).fill_(-3f); return b; },
                                                   x => { var b = x[0].clone(); b.narrow(0, 1, 2).fill_(-3f); return b; }),
    };

    public static TheoryData<string> InPlaceNames() => new(InPlace.Keys);

    [Theory, MemberData(nameof(InPlaceNames))]
    public void InPlaceOp(string name)
    {
        var c = InPlace[name];
        OpCheck.Check(name, c.Shapes.Select(s => In.Parse(s).NoGrad()).ToArray(), c.Ours, c.Theirs, new(1e-7, 1e-6));
    }
}
