using static FsrNative.OpSupport;

namespace FsrNative;

/// <summary>
/// Losses and the normalisations they use. Which are kernels and which are compositions:
/// <list type="bullet">
/// <item><c>cross_entropy</c>: fused kernel (speed and memory: over (B, K, H, W) logits it reads them once forward and
/// once backward and keeps only one log-sum-exp per pixel, where log_softmax + nll would write and re-read a full
/// log-probability tensor).</item>
/// <item><c>binary_cross_entropy_with_logits</c>: fused elementwise kernel (stability: max(x,0) − x·y + log1p(e^−|x|)
/// never overflows, and the gradient σ(x) − y is right at x = 0, where a composition through relu/abs kinks is not).</item>
/// <item><c>multilabel_soft_margin_loss</c>: composed (the mean over classes of the BCE-with-logits kernel).</item>
/// <item><c>normalize</c>: composed forward, with a backward rule of its own written with public ops (stability: the
/// autograd of ‖x‖ = √Σx² divides 0 by 0 on all-zero rows; PyTorch's norm backward gives 0 there, and so does this).</item>
/// <item><c>cosine_similarity_matrix</c>: composed (normalize, then a batched GEMM against the transposed view).</item>
/// </list>
/// </summary>
public static partial class torch
{
    public static partial class nn
    {
        public static partial class functional
        {
            /// <summary>
            /// Cross-entropy between logits (B, K), (B, K, d1, …) or (K) and Int32 class targets (B), (B, d1, …) or (),
            /// as torch.nn.functional.cross_entropy with class-index targets: positions whose target equals
            /// <paramref name="ignore_index"/> (PyTorch's default −100; FSR passes 255) contribute nothing, and
            /// <paramref name="reduction"/> "mean" divides by the number of the other positions ("sum", "none" as in
            /// PyTorch; "none" gives 0 at ignored positions). A target outside [0, K) that is not ignore_index throws.
            /// <para>Extension: <paramref name="mask"/> (the target's shape; non-zero = selected; Float or Int32) restricts
            /// the loss to the selected positions as if the others were ignored — the bg/fg balanced loss uses it. The mean
            /// is then over selected, non-ignored positions, and an EMPTY selection gives 0 with zero gradients (not NaN).
            /// Without a mask, an all-ignored batch gives NaN for "mean", as in PyTorch.</para>
            /// </summary>
            public static Tensor cross_entropy(Tensor input, Tensor target, int ignore_index = -100, string reduction = "mean", Tensor? mask = null)
            {
                const string name = "cross_entropy";
                Float(input, name);
                SameDevice(input, target, name);
                if (target.DType != DType.Int32)
                    throw new ArgumentException($"{name}: target must hold Int32 class indices, got {target.DType} (class-probability targets are not supported)");
                CheckReduction(reduction, name);
                int rank = input.dim();
                bool shapesMatch = rank == 1 ? target.dim() == 0
                    : rank >= 2 && target.dim() == rank - 1 && target.size(0) == input.size(0) && target.ShapeSpan[1..].SequenceEqual(input.ShapeSpan[2..]);
                if (!shapesMatch)
                    throw new ArgumentException($"{name}: target {Shape.Format(target.ShapeSpan)} does not match input {Shape.Format(input.ShapeSpan)} (expected (N, K, d1, …) with (N, d1, …), or (K) with ())");
                int k = rank == 1 ? input.size(0) : input.size(1);
                if (k == 0) throw new ArgumentException($"{name}: input {Shape.Format(input.ShapeSpan)} has no classes");
                var (outer, _, inner) = rank == 1 ? (1, k, 1) : Around(input.ShapeSpan, 1);

                Tensor? mc = null;
                if (mask is not null)
                {
                    SameDevice(input, mask, name);
                    if (!Shape.SameShape(mask.ShapeSpan, target.ShapeSpan))
                        throw new ArgumentException($"{name}: mask {Shape.Format(mask.ShapeSpan)} must have the target's shape {Shape.Format(target.ShapeSpan)}");
                    using (no_grad())
                        mc = mask.DType == input.DType ? mask.detach().ContiguousOrSelf() : mask.to(input.DType);
                }
                var xc = input.ContiguousOrSelf();
                var tc = target.ContiguousOrSelf();
                var loss = Tensor.Empty(target.ShapeArray, input.device, input.DType);
                var lse = Tensor.Empty(target.ShapeArray, input.device, input.DType);
                using var valid = Tensor.Empty(target.ShapeArray, input.device, input.DType);
                input.Backend.CrossEntropy(xc, tc, mc, loss, lse, valid, outer, k, inner, ignore_index);

                Tensor output;
                Tensor? denominator = null;
                using (no_grad())
                {
                    if (reduction == "none") output = loss;
                    else
                    {
                        using var total = loss.sum();
                        loss.Dispose();
                        if (reduction == "sum") output = total.clone();
                        else
                        {
                            var count = valid.sum();
                            // With a selection, an empty one gives 0/1 = 0; without, 0/0 = NaN as in PyTorch.
                            denominator = mc is null ? count : count.clamp(min: 1f);
                            if (mc is not null) count.Dispose();
                            output = total.div(denominator);
                        }
                    }
                }
                if (!Tape.Needed(input))
                {
                    lse.Dispose();
                    denominator?.Dispose();
                    return output;
                }
                return Tape.Record(output, name, input, g =>
                {
                    var scale = reduction == "mean" ? g.div(denominator!) : g.ContiguousOrSelf();
                    var gx = Tensor.Empty(input.ShapeArray, input.device, input.DType);
                    input.Backend.CrossEntropyBackward(xc, tc, mc, lse, scale, gx, outer, k, inner, ignore_index);
                    return gx;
                });
            }

            /// <summary>
            /// Binary cross-entropy on logits, as torch.nn.functional.binary_cross_entropy_with_logits: elementwise
            /// max(x, 0) − x·y + log1p(e^−|x|) (stable for any x), times <paramref name="weight"/> (broadcast) when given,
            /// then reduced ("mean", "sum", "none"). input and target have the same shape; gradients flow to both.
            /// </summary>
            public static Tensor binary_cross_entropy_with_logits(Tensor input, Tensor target, Tensor? weight = null, string reduction = "mean")
            {
                const string name = "binary_cross_entropy_with_logits";
                Float(input, name); Float(target, name);
                SameDevice(input, target, name); SameDType(input, target, name);
                CheckReduction(reduction, name);
                if (!Shape.SameShape(input.ShapeSpan, target.ShapeSpan))
                    throw new ArgumentException($"{name}: target size {Shape.Format(target.ShapeSpan)} must be the same as input size {Shape.Format(input.ShapeSpan)}");
                var xc = input.ContiguousOrSelf();
                var yc = target.ContiguousOrSelf();
                var loss = Tensor.Empty(input.ShapeArray, input.device, input.DType);
                input.Backend.BceWithLogits(xc, yc, loss);
                var elementwise = Tape.Record(loss, name, [input, target], g =>
                {
                    var gc = g.ContiguousOrSelf();
                    Tensor? gx = null, gy = null;
                    if (input.requires_grad)
                    {
                        gx = Tensor.Empty(input.ShapeArray, input.device, input.DType);
                        input.Backend.BceWithLogitsBackward(xc, yc, gc, gx);
                    }
                    if (target.requires_grad) gy = gc.mul(xc).neg();   // ∂/∂y = −x
                    return [gx, gy];
                });
                if (weight is not null)
                {
                    SameDevice(input, weight, name); SameDType(input, weight, name);
                    elementwise = elementwise.mul(weight);
                    if (!Shape.SameShape(elementwise.ShapeSpan, input.ShapeSpan))
                        throw new ArgumentException($"{name}: weight {Shape.Format(weight.ShapeSpan)} must broadcast to the input's shape {Shape.Format(input.ShapeSpan)}");
                }
                return Reduce(elementwise, reduction);
            }

            /// <summary>
            /// torch.nn.functional.multilabel_soft_margin_loss for input and target (N, C) (or (C)):
            /// −mean_c [y·log σ(x) + (1 − y)·log σ(−x)] (× weight (C) when given) per sample, then reduced over samples.
            /// Composed: the per-class terms are binary_cross_entropy_with_logits.
            /// </summary>
            public static Tensor multilabel_soft_margin_loss(Tensor input, Tensor target, Tensor? weight = null, string reduction = "mean")
            {
                const string name = "multilabel_soft_margin_loss";
                CheckReduction(reduction, name);
                if (input.dim() < 1 || input.dim() > 2)
                    throw new ArgumentException($"{name}: expected a (N, C) or (C) input, got {Shape.Format(input.ShapeSpan)}");
                var perClass = binary_cross_entropy_with_logits(input, target, weight, "none");
                var perSample = perClass.mean(-1);
                return Reduce(perSample, reduction);
            }

            /// <summary>
            /// x / max(‖x‖_p, eps) along <paramref name="dim"/>, as torch.nn.functional.normalize (p ≥ 1). The gradient is
            /// PyTorch's: where ‖x‖ &lt; eps the denominator is the constant eps, and all-zero slices get zero gradients.
            /// </summary>
            public static Tensor normalize(Tensor input, float p = 2f, int dim = 1, float eps = 1e-12f)
            {
                const string name = "normalize";
                Float(input, name);
                if (!(p >= 1f) || float.IsInfinity(p)) throw new NotSupportedException($"{name}: p = {p} is not supported (finite p ≥ 1)");
                int axis = Shape.Axis(dim, input.dim(), name);
                var x = input.detach();
                Tensor norm, denominator, y;
                using (no_grad())
                {
                    norm = PNorm(x, p, axis);
                    denominator = norm.clamp(min: eps);
                    y = x.div(denominator);
                }
                if (!Tape.Needed(input)) { norm.Dispose(); denominator.Dispose(); return y; }
                return Tape.Record(y, name, input, g =>
                {
                    // y = x/d, d = max(n, eps): gx = g/d − [n ≥ eps]·(Σ g·x)/d²·∂n/∂x, with ∂n/∂x = sign(x)·|x|^(p−1)/n^(p−1).
                    var dot = g.mul(x).sum(axis, keepdim: true);
                    var coefficient = dot.mul(norm.ge(eps)).div(denominator.square());
                    Tensor dn;
                    if (p == 2f) dn = x.div(denominator);
                    else
                    {
                        var sign = x.gt(0f).sub(x.lt(0f));
                        dn = p == 1f ? sign : sign.mul(x.abs().pow(p - 1f)).div(denominator.pow(p - 1f));
                    }
                    return g.div(denominator).sub(dn.mul(coefficient));
                });
            }

            /// <summary>
            /// Pairwise cosine similarities: normalize(a)·normalize(b)ᵀ over the last axis, for a (N, D) and b (M, D) →
            /// (N, M), or batched a (B, N, D), b (B, M, D) → (B, N, M). Each row is divided by max(‖row‖, eps), as in
            /// torch.nn.functional.cosine_similarity. Passing the same tensor twice normalises it once.
            /// </summary>
            public static Tensor cosine_similarity_matrix(Tensor a, Tensor b, float eps = 1e-8f)
            {
                const string name = "cosine_similarity_matrix";
                if (a.dim() < 2 || a.dim() != b.dim() || a.size(-1) != b.size(-1) || (a.dim() == 3 && a.size(0) != b.size(0)) || a.dim() > 3)
                    throw new ArgumentException($"{name}: expected (N, D) and (M, D), or (B, N, D) and (B, M, D); got {Shape.Format(a.ShapeSpan)} and {Shape.Format(b.ShapeSpan)}");
                var na = normalize(a, 2f, -1, eps);
                var nb = ReferenceEquals(a, b) ? na : normalize(b, 2f, -1, eps);
                return na.matmul(nb.transpose(-1, -2));
            }

            static Tensor PNorm(Tensor x, float p, int axis)
            {
                if (p == 2f) { using var sq = x.square(); using var s = sq.sum(axis, keepdim: true); return s.sqrt(); }
                using var ax = x.abs();
                if (p == 1f) return ax.sum(axis, keepdim: true);
                using var powered = ax.pow(p);
                using var total = powered.sum(axis, keepdim: true);
                return total.pow(1f / p);
            }

            static Tensor Reduce(Tensor t, string reduction) => reduction switch
            {
                "none" => t,
                "sum" => t.sum(),
                _ => t.mean(),
            };

            static void CheckReduction(string reduction, string op)
            {
                if (reduction is not ("mean" or "sum" or "none"))
                    throw new ArgumentException($"{op}: reduction must be 'mean', 'sum' or 'none', got '{reduction}'");
            }
        }
    }
}
