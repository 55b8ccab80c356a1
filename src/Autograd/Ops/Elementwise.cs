using FsrNative.Kernels;
using static FsrNative.OpSupport;

namespace FsrNative;

/// <summary>
/// Elementwise ops, forward and backward side by side. Unary functions run one kernel forward and one fused
/// kernel backward (gx = gy·f′(x)); binary functions broadcast like NumPy and sum their gradients back to each
/// input's shape.
/// </summary>
public static partial class TensorOps
{
    // ---- unary ------------------------------------------------------------------------------------------------

    internal static Tensor Unary(Tensor x, UnaryOp op, string name, float a = 0f, float b = 0f)
    {
        Float(x, name);
        var y = Empty(x.ShapeSpan, x.device, x.DType);
        x.Backend.Unary(op, x, y, a, b);
        return Tape.Record(y, name, x, g => UnaryBackward(op, x, y, g, a, b));
    }

    static Tensor UnaryBackward(UnaryOp op, Tensor x, Tensor y, Tensor g, float a, float b)
    {
        var xc = x.ContiguousOrSelf();
        var gc = g.ContiguousOrSelf();
        var gx = Empty(x.ShapeSpan, x.device, x.DType);
        x.Backend.UnaryBackward(op, xc, y, gc, gx, a, b);
        return gx;
    }

    extension(Tensor x)
    {
        public Tensor neg() => Unary(x, UnaryOp.Neg, "neg");
        public Tensor abs() => Unary(x, UnaryOp.Abs, "abs");
        public Tensor exp() => Unary(x, UnaryOp.Exp, "exp");
        public Tensor log() => Unary(x, UnaryOp.Log, "log");
        public Tensor sqrt() => Unary(x, UnaryOp.Sqrt, "sqrt");
        public Tensor rsqrt() => Unary(x, UnaryOp.Rsqrt, "rsqrt");
        public Tensor square() => Unary(x, UnaryOp.Square, "square");
        public Tensor pow(float exponent) => Unary(x, UnaryOp.PowScalar, "pow", exponent);
        public Tensor relu() => Unary(x, UnaryOp.Relu, "relu");
        /// <summary>GELU; <paramref name="approximate"/> "none" (exact erf, the default) or "tanh".</summary>
        public Tensor gelu(string approximate = "none") => approximate switch
        {
            "none" => Unary(x, UnaryOp.GeluErf, "gelu"),
            "tanh" => Unary(x, UnaryOp.GeluTanh, "gelu"),
            _ => throw new ArgumentException($"gelu: approximate must be 'none' or 'tanh', got '{approximate}'"),
        };
        public Tensor sigmoid() => Unary(x, UnaryOp.Sigmoid, "sigmoid");
        public Tensor tanh() => Unary(x, UnaryOp.Tanh, "tanh");

        /// <summary>Clamps to [min, max]; either bound may be null (open). The gradient passes where min ≤ x ≤ max.</summary>
        public Tensor clamp(float? min = null, float? max = null)
        {
            if (min is null && max is null) throw new ArgumentException("clamp: at least one of min and max must be given");
            return Unary(x, UnaryOp.Clamp, "clamp", min ?? float.NegativeInfinity, max ?? float.PositiveInfinity);
        }

        public Tensor add(float s) => Unary(x, UnaryOp.AddScalar, "add", s);
        public Tensor sub(float s) => Unary(x, UnaryOp.AddScalar, "sub", -s);
        public Tensor mul(float s) => Unary(x, UnaryOp.MulScalar, "mul", s);
        public Tensor div(float s) => Unary(x, UnaryOp.DivScalar, "div", s);
        /// <summary>s − x.</summary>
        public Tensor rsub(float s) => Unary(x, UnaryOp.RSubScalar, "rsub", s);
        /// <summary>s / x.</summary>
        public Tensor rdiv(float s) => Unary(x, UnaryOp.RDivScalar, "rdiv", s);

        // ---- binary with broadcasting -----------------------------------------------------------------------
        public Tensor add(Tensor other) => Binary(x, other, BinaryOp.Add, "add");
        /// <summary>x + alpha·other.</summary>
        public Tensor add(Tensor other, float alpha) => alpha == 1f ? x.add(other) : x.add(other.mul(alpha));
        public Tensor sub(Tensor other) => Binary(x, other, BinaryOp.Sub, "sub");
        public Tensor mul(Tensor other) => Binary(x, other, BinaryOp.Mul, "mul");
        public Tensor div(Tensor other) => Binary(x, other, BinaryOp.Div, "div");
        public Tensor maximum(Tensor other) => Binary(x, other, BinaryOp.Maximum, "maximum");
        public Tensor minimum(Tensor other) => Binary(x, other, BinaryOp.Minimum, "minimum");
        public Tensor pow(Tensor exponent) => Binary(x, exponent, BinaryOp.Pow, "pow");

        // Comparisons: float masks (1 where true), not differentiable.
        public Tensor eq(Tensor other) => Binary(x, other, BinaryOp.Eq, "eq");
        public Tensor ne(Tensor other) => Binary(x, other, BinaryOp.Ne, "ne");
        public Tensor lt(Tensor other) => Binary(x, other, BinaryOp.Lt, "lt");
        public Tensor le(Tensor other) => Binary(x, other, BinaryOp.Le, "le");
        public Tensor gt(Tensor other) => Binary(x, other, BinaryOp.Gt, "gt");
        public Tensor ge(Tensor other) => Binary(x, other, BinaryOp.Ge, "ge");
        public Tensor eq(float s) { using var t = torch.scalar_tensor(s, x.device, x.DType); return x.eq(t); }
        public Tensor ne(float s) { using var t = torch.scalar_tensor(s, x.device, x.DType); return x.ne(t); }
        public Tensor lt(float s) { using var t = torch.scalar_tensor(s, x.device, x.DType); return x.lt(t); }
        public Tensor le(float s) { using var t = torch.scalar_tensor(s, x.device, x.DType); return x.le(t); }
        public Tensor gt(float s) { using var t = torch.scalar_tensor(s, x.device, x.DType); return x.gt(t); }
        public Tensor ge(float s) { using var t = torch.scalar_tensor(s, x.device, x.DType); return x.ge(t); }

        /// <summary>Where <paramref name="mask"/> is non-zero, <paramref name="value"/>; elsewhere x. Gradient flows where the mask is 0.</summary>
        public Tensor masked_fill(Tensor mask, float value)
        {
            using var v = torch.scalar_tensor(value, x.device, x.DType);
            return torch.where(mask, v, x);
        }

        public static Tensor operator +(Tensor a, Tensor b) => a.add(b);
        public static Tensor operator -(Tensor a, Tensor b) => a.sub(b);
        public static Tensor operator *(Tensor a, Tensor b) => a.mul(b);
        public static Tensor operator /(Tensor a, Tensor b) => a.div(b);
        public static Tensor operator +(Tensor a, float s) => a.add(s);
        public static Tensor operator -(Tensor a, float s) => a.sub(s);
        public static Tensor operator *(Tensor a, float s) => a.mul(s);
        public static Tensor operator /(Tensor a, float s) => a.div(s);
        public static Tensor operator +(float s, Tensor a) => a.add(s);
        public static Tensor operator -(float s, Tensor a) => a.rsub(s);
        public static Tensor operator *(float s, Tensor a) => a.mul(s);
        public static Tensor operator /(float s, Tensor a) => a.rdiv(s);
        public static Tensor operator -(Tensor a) => a.neg();
    }

    static bool IsComparison(BinaryOp op) => op >= BinaryOp.Eq;

    internal static Tensor Binary(Tensor a, Tensor b, BinaryOp op, string name)
    {
        SameDevice(a, b, name);
        Float(a, name);
        Float(b, name);
        SameDType(a, b, name);
        var shape = Shape.Broadcast(a.ShapeSpan, b.ShapeSpan, name);
        var y = Empty(shape, a.device, a.DType);
        using (var av = Shape.SameShape(a.ShapeSpan, shape) ? null : Broadcasted(a, shape))
        using (var bv = Shape.SameShape(b.ShapeSpan, shape) ? null : Broadcasted(b, shape))
            a.Backend.Binary(op, av ?? a, bv ?? b, y);
        if (IsComparison(op)) return y;
        return Tape.Record(y, name, [a, b], g => BinaryBackward(op, a, b, y, g));
    }

    static Tensor?[] BinaryBackward(BinaryOp op, Tensor a, Tensor b, Tensor y, Tensor g)
    {
        bool ga = a.requires_grad, gb = b.requires_grad;
        switch (op)
        {
            case BinaryOp.Add:
                return [ga ? SumTo(g, a.ShapeSpan) : null, gb ? SumTo(g, b.ShapeSpan) : null];
            case BinaryOp.Sub:
                return [ga ? SumTo(g, a.ShapeSpan) : null, gb ? SumTo(g.neg(), b.ShapeSpan) : null];
            case BinaryOp.Mul:
                return [ga ? SumTo(g.mul(b), a.ShapeSpan) : null, gb ? SumTo(g.mul(a), b.ShapeSpan) : null];
            case BinaryOp.Div:
                return [ga ? SumTo(g.div(b), a.ShapeSpan) : null,
                        gb ? SumTo(g.neg().mul(a).div(b.mul(b)), b.ShapeSpan) : null];
            case BinaryOp.Maximum:
            case BinaryOp.Minimum:
                {
                    // Ties split the gradient in half, as PyTorch does.
                    var wins = op == BinaryOp.Maximum ? a.gt(b) : a.lt(b);
                    var share = wins.add(a.eq(b).mul(0.5f));
                    return [ga ? SumTo(g.mul(share), a.ShapeSpan) : null,
                            gb ? SumTo(g.mul(share.rsub(1f)), b.ShapeSpan) : null];
                }
            case BinaryOp.Pow:
                {
                    // d/da a^b = b·a^(b−1) (0 where b == 0); d/db a^b = a^b·log a (0 where a == 0 and b ≥ 0).
                    Tensor? gradA = null, gradB = null;
                    if (ga)
                    {
                        var d = b.mul(a.pow(b.sub(1f)));
                        d = torch.where(b.eq(0f), torch.zeros_like(d), d);
                        gradA = SumTo(g.mul(d), a.ShapeSpan);
                    }
                    if (gb)
                    {
                        var d = y.mul(a.log());
                        var zeroBase = a.eq(0f).mul(b.ge(0f));
                        d = torch.where(zeroBase, torch.zeros_like(d), d);
                        gradB = SumTo(g.mul(d), b.ShapeSpan);
                    }
                    return [gradA, gradB];
                }
            default:
                throw new NotSupportedException($"backward of {op} is not defined");
        }
    }
}

public static partial class torch
{
    /// <summary>cond ≠ 0 ? a : b, broadcasting all three. Gradients flow to a where cond holds, to b elsewhere.</summary>
    public static Tensor where(Tensor cond, Tensor a, Tensor b)
    {
        OpSupport.SameDevice(cond, a, "where");
        OpSupport.SameDevice(a, b, "where");
        OpSupport.Float(cond, "where");
        OpSupport.Float(a, "where");
        OpSupport.Float(b, "where");
        OpSupport.SameDType(a, b, "where");
        var shape = Shape.Broadcast(Shape.Broadcast(cond.ShapeSpan, a.ShapeSpan, "where"), b.ShapeSpan, "where");
        var y = OpSupport.Empty(shape, a.device, a.DType);
        using (var cv = OpSupport.Broadcasted(cond, shape))
        using (var av = OpSupport.Broadcasted(a, shape))
        using (var bv = OpSupport.Broadcasted(b, shape))
            a.Backend.Where(cv, av, bv, y);
        return Tape.Record(y, "where", [a, b], g =>
        {
            Tensor? ga = null, gb = null;
            using var zero = zeros_like(g);
            if (a.requires_grad) ga = OpSupport.SumTo(where(cond, g, zero), a.ShapeSpan);
            if (b.requires_grad) gb = OpSupport.SumTo(where(cond, zero, g), b.ShapeSpan);
            return [ga, gb];
        });
    }

    public static Tensor maximum(Tensor a, Tensor b) => a.maximum(b);
    public static Tensor minimum(Tensor a, Tensor b) => a.minimum(b);
}
