using static FsrNative.OpSupport;

namespace FsrNative;

/// <summary>Softmax, log-softmax and layer norm: one forward kernel each, the backward from saved outputs/statistics.</summary>
public static partial class TensorOps
{
    extension(Tensor x)
    {
        public Tensor softmax(int dim) => Softmax(x, dim, log: false);
        public Tensor log_softmax(int dim) => Softmax(x, dim, log: true);
    }

    static Tensor Softmax(Tensor x, int dim, bool log)
    {
        string name = log ? "log_softmax" : "softmax";
        Float(x, name);
        int d = Shape.Axis(dim, x.dim(), name);
        var xc = x.ContiguousOrSelf();
        var (outer, l, inner) = Around(xc.ShapeSpan, d);
        var y = Tensor.Empty(x.ShapeArray, x.device, x.DType);
        x.Backend.Softmax(xc, y, outer, l, inner, log);
        if (!ReferenceEquals(xc, x)) xc.Dispose();
        return Tape.Record(y, name, x, g =>
        {
            var gc = g.ContiguousOrSelf();
            var gx = Tensor.Empty(x.ShapeArray, x.device, x.DType);
            x.Backend.SoftmaxBackward(y, gc, gx, outer, l, inner, log);
            return gx;
        });
    }
}

public static partial class torch
{
    public static partial class nn
    {
        public static partial class functional
        {
            public static Tensor softmax(Tensor x, int dim) => x.softmax(dim);
            public static Tensor log_softmax(Tensor x, int dim) => x.log_softmax(dim);
            public static Tensor relu(Tensor x) => x.relu();
            public static Tensor gelu(Tensor x, string approximate = "none") => x.gelu(approximate);
            public static Tensor sigmoid(Tensor x) => x.sigmoid();
            public static Tensor tanh(Tensor x) => x.tanh();

            /// <summary>
            /// Layer normalisation over the trailing <paramref name="normalizedShape"/> dimensions, with biased variance
            /// and optional elementwise affine (weight, bias of that shape), as torch.nn.functional.layer_norm.
            /// </summary>
            public static Tensor layer_norm(Tensor x, int[] normalizedShape, Tensor? weight = null, Tensor? bias = null, float eps = 1e-5f)
            {
                const string name = "layer_norm";
                Float(x, name);
                int k = normalizedShape.Length;
                if (k == 0 || k > x.dim() || !x.ShapeSpan[^k..].SequenceEqual(normalizedShape))
                    throw new ArgumentException($"layer_norm: normalized_shape {Shape.Format(normalizedShape)} does not match the trailing dimensions of {Shape.Format(x.ShapeSpan)}");
                foreach (var p in new[] { weight, bias })
                    if (p is not null && !Shape.SameShape(p.ShapeSpan, normalizedShape))
                        throw new ArgumentException($"layer_norm: weight/bias shape {Shape.Format(p.ShapeSpan)} must equal normalized_shape {Shape.Format(normalizedShape)}");
                if (weight is not null) { SameDevice(x, weight, name); SameDType(x, weight, name); }
                if (bias is not null) { SameDevice(x, bias, name); SameDType(x, bias, name); }
                int c = Shape.NumEl(normalizedShape);
                int rows = c == 0 ? 0 : x.NumEl / c;
                var xc = x.ContiguousOrSelf();
                var wc = weight?.ContiguousOrSelf();
                var bc = bias?.ContiguousOrSelf();
                var y = Tensor.Empty(x.ShapeArray, x.device, x.DType);
                var mean = Tensor.Empty([rows], x.device, x.DType);
                var rstd = Tensor.Empty([rows], x.device, x.DType);
                x.Backend.LayerNorm(xc, wc, bc, y, mean, rstd, rows, c, eps);
                var inputs = new List<Tensor> { x };
                if (weight is not null) inputs.Add(weight);
                if (bias is not null) inputs.Add(bias);
                if (!Tape.Needed(inputs.ToArray()))
                {
                    mean.Dispose();
                    rstd.Dispose();
                    return y;
                }
                return Tape.Record(y, name, inputs.ToArray(), g =>
                {
                    var gc = g.ContiguousOrSelf();
                    var gx = Tensor.Empty(x.ShapeArray, x.device, x.DType);
                    var gw = weight is not null && weight.requires_grad ? Tensor.Empty(normalizedShape, x.device, x.DType) : null;
                    var gb = bias is not null && bias.requires_grad ? Tensor.Empty(normalizedShape, x.device, x.DType) : null;
                    x.Backend.LayerNormBackward(xc, wc, mean, rstd, gc, gx, gw, gb, rows, c);
                    var result = new List<Tensor?> { gx };
                    if (weight is not null) result.Add(gw);
                    if (bias is not null) result.Add(gb);
                    return result.ToArray();
                });
            }
        }
    }
}
