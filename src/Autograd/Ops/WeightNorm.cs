using static FsrNative.OpSupport;

namespace FsrNative;

/// <summary>
/// Weight normalisation, w = g·v/‖v‖ with the norm over every axis but one, as one op with its own backward rule.
/// Forward and backward are compositions of existing primitives (squares, axis sums, elementwise): the weight is small
/// (DINO's last layer is 4096×256), so a dedicated kernel would save little; recording one node keeps the tape short
/// and the gradient exactly PyTorch's formula.
/// </summary>
public static partial class torch
{
    public static partial class nn
    {
        public static partial class functional
        {
            /// <summary>
            /// w = v·(g/‖v‖) where ‖v‖ is the L2 norm over all axes except <paramref name="dim"/> (torch._weight_norm and
            /// torch.nn.utils.weight_norm semantics; dim = −1 means the norm of the whole tensor). g has v.size(dim)
            /// elements, e.g. (out) or (out, 1) for a Linear weight v (out, in) and dim = 0; w has v's shape. No epsilon
            /// (a zero slice gives NaN/inf, as in PyTorch). Backward, with s = Σ gw·v over the normed axes:
            /// ∂g = s/‖v‖, ∂v = (g/‖v‖)·(gw − v·s/‖v‖²).
            /// </summary>
            public static Tensor weight_norm(Tensor v, Tensor g, int dim = 0)
            {
                const string name = "weight_norm";
                Float(v, name); Float(g, name);
                SameDevice(v, g, name); SameDType(v, g, name);
                if (v.dim() == 0) throw new ArgumentException($"{name}: v must have at least one dimension");
                int rank = v.dim();
                int axis = dim == -1 ? -1 : Shape.Axis(dim, rank, name);
                int[] normed = Enumerable.Range(0, rank).Where(i => i != axis).ToArray();
                var gShape = new int[rank];
                for (int i = 0; i < rank; i++) gShape[i] = i == axis ? v.size(i) : 1;
                if (g.NumEl != Shape.NumEl(gShape))
                    throw new ArgumentException($"{name}: g {Shape.Format(g.ShapeSpan)} must have {Shape.NumEl(gShape)} elements (v.size({dim}) of v {Shape.Format(v.ShapeSpan)})");
                var vd = v.detach();
                Tensor gb, norm, w;
                using (no_grad())
                {
                    gb = g.detach().reshape(gShape);
                    using var sq = vd.square();
                    using var s = normed.Length == 0 ? sq.clone() : sq.sum(normed, keepdim: true);
                    norm = s.sqrt();
                    using var scale = gb.div(norm);
                    w = vd.mul(scale);
                }
                if (!Tape.Needed(v, g)) { norm.Dispose(); return w; }
                var gOriginalShape = g.ShapeArray;
                return Tape.Record(w, name, [v, g], gw =>
                {
                    var dot = gw.mul(vd);
                    var s = normed.Length == 0 ? dot : dot.sum(normed, keepdim: true);
                    Tensor? gv = null, gg = null;
                    if (g.requires_grad) gg = s.div(norm).reshape(gOriginalShape);
                    if (v.requires_grad) gv = gb.div(norm).mul(gw.sub(vd.mul(s.div(norm.square()))));
                    return [gv, gg];
                });
            }
        }
    }
}
