using FsrNative.Kernels;
using FsrNative.Tests.Infrastructure;
using static FsrNative.Tests.Parity.ParityHarness;

namespace FsrNative.Tests.Parity;

/// <summary>Unary, binary and where kernels (contiguous and strided paths, broadcast strides), forward and backward.</summary>
[Trait(Categories.Trait, Categories.Parity)]
public sealed class ElementwiseParityTests
{
    public static TheoryData<string> UnaryApiOps() =>
    [
        "neg", "abs", "exp", "log", "sqrt", "rsqrt", "square", "pow", "relu", "gelu", "gelu_tanh", "sigmoid", "tanh",
        "clamp", "clamp_min", "add", "sub", "mul", "div", "rsub", "rdiv",
    ];

    static Tensor ApplyUnary(string op, Tensor x) => op switch
    {
        "neg" => x.neg(), "abs" => x.abs(), "exp" => x.exp(), "log" => x.log(), "sqrt" => x.sqrt(), "rsqrt" => x.rsqrt(),
        "square" => x.square(), "pow" => x.pow(2.5f), "relu" => x.relu(), "gelu" => x.gelu(), "gelu_tanh" => x.gelu("tanh"),
        "sigmoid" => x.sigmoid(), "tanh" => x.tanh(), "clamp" => x.clamp(-0.5f, 0.7f), "clamp_min" => x.clamp(min: 0.1f),
        "add" => x.add(0.3f), "sub" => x.sub(1.25f), "mul" => x.mul(-1.7f), "div" => x.div(3f), "rsub" => x.rsub(0.25f),
        "rdiv" => x.rdiv(1.3f),
        _ => throw new ArgumentException(op),
    };

    static bool PositiveOnly(string op) => op is "log" or "sqrt" or "rsqrt" or "pow" or "rdiv";

    /// <summary>Through the op API on a transposed view (the strided kernel) and backward (the fused gx kernel).</summary>
    [Theory]
    [MemberData(nameof(UnaryApiOps))]
    public void UnaryOnTransposedView(string op)
    {
        float lo = PositiveOnly(op) ? 0.2f : -2f;
        Check($"{op}(x.t())", xs => ApplyUnary(op, xs[0].t()), Elementwise, new In([5, 7], lo, 2f));
    }

    [Fact]
    public void UnaryOnBroadcastAndNarrowedViews()
    {
        Check("exp(expand)", xs => xs[0].expand(4, 3, 5).exp(), Elementwise, new In([3, 1]));
        Check("tanh(narrow)", xs => xs[0].narrow(1, 2, 3).tanh(), Elementwise, new In([4, 6]));
        Check("sigmoid(contiguous)", xs => xs[0].sigmoid(), Elementwise, new In([2, 1, 9]));
        Check("relu(scalar)", xs => xs[0].relu(), Elementwise, new In([]));
    }

    static readonly (UnaryOp op, float a, float b, bool positive)[] AllUnary =
    [
        (UnaryOp.Identity, 0, 0, false), (UnaryOp.Neg, 0, 0, false), (UnaryOp.Abs, 0, 0, false), (UnaryOp.Exp, 0, 0, false),
        (UnaryOp.Log, 0, 0, true), (UnaryOp.Sqrt, 0, 0, true), (UnaryOp.Rsqrt, 0, 0, true), (UnaryOp.Square, 0, 0, false),
        (UnaryOp.PowScalar, 2.5f, 0, true), (UnaryOp.Relu, 0, 0, false), (UnaryOp.GeluErf, 0, 0, false),
        (UnaryOp.GeluTanh, 0, 0, false), (UnaryOp.Sigmoid, 0, 0, false), (UnaryOp.Tanh, 0, 0, false),
        (UnaryOp.Clamp, -0.5f, 0.7f, false), (UnaryOp.AddScalar, 0.3f, 0, false), (UnaryOp.MulScalar, -1.7f, 0, false),
        (UnaryOp.RDivScalar, 1.3f, 0, true), (UnaryOp.DivScalar, 3f, 0, false), (UnaryOp.RSubScalar, 0.25f, 0, false),
        (UnaryOp.Affine, 1.5f, -0.5f, false), (UnaryOp.RPowScalar, 1.7f, 0, false),
    ];

    /// <summary>Every <see cref="UnaryOp"/> (some are not reachable from the op API) through IBackend directly:
    /// forward on a strided view and on a contiguous tensor, and the backward kernel.</summary>
    [Fact]
    public void EveryUnaryOpDirect()
    {
        Assert.Equal(Enum.GetValues<UnaryOp>().Length, AllUnary.Length);
        foreach (var (op, a, b, positive) in AllUnary)
        {
            var xData = TestRandom.Uniform(StableSeed(op.ToString()), 24, positive ? 0.2f : -2f, 2f);
            var gyData = TestRandom.Uniform(StableSeed(op + "gy"), 24, -1f, 1f);
            float[] Run(Device d, out float[] strided, out float[] gx)
            {
                using var scope = torch.NewDisposeScope();
                var be = d.Backend;
                var x = On(d, xData, 4, 6);
                var xt = x.t();                                   // (6, 4) strided view
                var ys = torch.empty([6, 4], d);
                be.Unary(op, xt, ys, a, b);
                strided = ys.ToArray();
                var y = torch.empty([4, 6], d);
                be.Unary(op, x, y, a, b);
                var gy = On(d, gyData, 4, 6);
                var g = torch.empty([4, 6], d);
                be.UnaryBackward(op, x, y, gy, g, a, b);
                gx = g.ToArray();
                return y.ToArray();
            }
            var yc = Run(Device.CPU, out var sc, out var gc);
            var ye = Run(Emu, out var se, out var ge);
            Close.AssertClose(yc, ye, Elementwise, $"{op} forward", [4, 6]);
            Close.AssertClose(sc, se, Elementwise, $"{op} forward (strided input)", [6, 4]);
            Close.AssertClose(gc, ge, Elementwise, $"{op} backward", [4, 6]);
        }
    }

    public static TheoryData<string> BinaryApiOps() => ["add", "sub", "mul", "div", "maximum", "minimum", "pow"];

    static Tensor ApplyBinary(string op, Tensor a, Tensor b) => op switch
    {
        "add" => a.add(b), "sub" => a.sub(b), "mul" => a.mul(b), "div" => a.div(b),
        "maximum" => a.maximum(b), "minimum" => a.minimum(b), "pow" => a.pow(b),
        _ => throw new ArgumentException(op),
    };

    /// <summary>Broadcasting (3,1,5) with (4,5): both inputs strided (stride 0 on broadcast dims); gradients summed back.</summary>
    [Theory]
    [MemberData(nameof(BinaryApiOps))]
    public void BinaryWithBroadcast(string op)
    {
        float lo = op is "pow" or "div" ? 0.3f : -2f;
        Check($"{op} broadcast", xs => ApplyBinary(op, xs[0], xs[1]), Sums, new In([3, 1, 5], lo, 2f), new In([4, 5], lo, 2f));
    }

    [Theory]
    [MemberData(nameof(BinaryApiOps))]
    public void BinaryContiguousAndTransposed(string op)
    {
        float lo = op is "pow" or "div" ? 0.3f : -2f;
        Check($"{op} contiguous", xs => ApplyBinary(op, xs[0], xs[1]), Elementwise, new In([2, 3, 7], lo, 2f), new In([2, 3, 7], lo, 2f));
        Check($"{op} transposed", xs => ApplyBinary(op, xs[0].t(), xs[1]), Elementwise, new In([6, 5], lo, 2f), new In([5, 6], lo, 2f));
    }

    /// <summary>Ties decide max/min gradients (split in half); integer-valued data makes them frequent.</summary>
    [Fact]
    public void MaximumMinimumWithTies()
    {
        Check("maximum ties", xs => xs[0].maximum(xs[1]), Exact, new In([4, 6], -2, 3, Integers: true), new In([4, 6], -2, 3, Integers: true));
        Check("minimum ties", xs => xs[0].minimum(xs[1].t()), Exact, new In([3, 5], -2, 3, Integers: true), new In([5, 3], -2, 3, Integers: true));
    }

    [Fact]
    public void Comparisons()
    {
        var ints = new In([3, 1, 4], -2, 3, Grad: false, Integers: true);
        var other = new In([5, 4], -2, 3, Grad: false, Integers: true);
        Check("eq", xs => xs[0].eq(xs[1]), Exact, ints, other);
        Check("ne", xs => xs[0].ne(xs[1]), Exact, ints, other);
        Check("lt", xs => xs[0].lt(xs[1]), Exact, ints, other);
        Check("le", xs => xs[0].le(xs[1]), Exact, ints, other);
        Check("gt", xs => xs[0].gt(xs[1]), Exact, ints, other);
        Check("ge", xs => xs[0].ge(0.5f), Exact, ints);
    }

    /// <summary>Every <see cref="BinaryOp"/> through IBackend directly, including NaN operands, broadcast on both sides.</summary>
    [Fact]
    public void EveryBinaryOpDirectWithNaN()
    {
        var aData = TestRandom.Uniform(11, 15, 0.2f, 2f);
        aData[3] = float.NaN;
        var bData = TestRandom.Uniform(12, 20, 0.2f, 2f);
        bData[7] = float.NaN;
        bData[1] = aData[1];
        foreach (var op in Enum.GetValues<BinaryOp>())
        {
            float[] Run(Device d)
            {
                using var scope = torch.NewDisposeScope();
                var a = On(d, aData, 3, 1, 5).expand(3, 4, 5);
                var b = On(d, bData, 4, 5).expand(3, 4, 5);
                var y = torch.empty([3, 4, 5], d);
                d.Backend.Binary(op, a, b, y);
                return y.ToArray();
            }
            var expected = Run(Device.CPU);
            Assert.True(expected.Count(float.IsNaN) <= 7, $"{op}: NaN only where an operand is NaN");
            Close.AssertClose(expected, Run(Emu), Elementwise, $"{op} with NaN", [3, 4, 5], equalNan: true);
        }
    }

    [Fact]
    public void WhereAndMaskedFill()
    {
        Check("where broadcast", xs => torch.where(xs[0].gt(0f), xs[1], xs[2]), Exact,
            new In([4, 1], Grad: false), new In([1, 5]), new In([4, 5]));
        Check("where contiguous", xs => torch.where(xs[0].gt(0f), xs[1], xs[2]), Exact,
            new In([3, 6], Grad: false), new In([3, 6]), new In([3, 6]));
        Check("masked_fill", xs => xs[1].masked_fill(xs[0].lt(0f), -7f), Exact, new In([2, 5], Grad: false), new In([3, 2, 5]));
    }

    /// <summary>In-place ops on contiguous tensors and on strided views (computed through a temporary, copied back).</summary>
    [Fact]
    public void InPlaceOps()
    {
        Check("add_ on view", xs =>
        {
            var t = xs[0].detach().clone();
            using (torch.no_grad()) t.t().add_(xs[1]).mul_(2f);
            return t;
        }, Elementwise, new In([4, 3], Grad: false), new In([3, 4], Grad: false));
        Check("clamp_ div_ sub_", xs =>
        {
            var t = xs[0].detach().clone();
            using (torch.no_grad()) t.clamp_(-0.5f, 0.5f).div_(xs[1]).sub_(xs[1]);
            return t;
        }, Elementwise, new In([2, 5], Grad: false), new In([5], 0.5f, 2f, Grad: false));
    }
}
