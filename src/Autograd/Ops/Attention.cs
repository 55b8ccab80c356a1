using FsrNative.Kernels;
using static FsrNative.OpSupport;

namespace FsrNative;

/// <summary>
/// Fused scaled-dot-product attention, softmax(q·kᵀ·scale + mask)·v, with optional dropout on the probabilities, as
/// one primitive: the forward keeps only the output and the per-row log-sum-exp (no N×N matrix), the backward
/// recomputes the probabilities block by block. Masks:
/// <list type="bullet">
/// <item><c>attn_mask</c>: additive, floating point, broadcastable to (…, Nq, Nk); −∞ removes a key (PyTorch's float
/// mask). It takes no gradient: a mask that requires one is refused.</item>
/// <item><c>keep_mask</c>: the engine's form of PyTorch's boolean mask (the engine has no Bool type): non-zero = the
/// query may attend to the key, zero = masked; Float32, Float64 or Int32, broadcastable to (…, Nq, Nk), e.g.
/// (B, 1, 1, Nk) per (batch, key) or (B, 1, Nq, Nk) per (batch, query, key).</item>
/// <item><c>is_causal</c>: key j is masked for query i when j &gt; i (PyTorch's top-left aligned lower triangle).</item>
/// </list>
/// A query whose keys are all masked gets output 0 and passes no gradient to anything (no NaN), on every backend.
/// Inside <c>torch.autocast()</c> (decided at forward time) q, k and v are rounded to bfloat16 before the kernels, and
/// the backward rounds the output gradient: both products (q·kᵀ and p·v, and their backward products) read bf16
/// operands with float32 accumulation — except p itself, which stays float32 (a fused bf16 kernel would round it too).
/// </summary>
public static partial class TensorOps
{
    internal static (Tensor output, Tensor? weights) Attention(Tensor query, Tensor key, Tensor value, Tensor? attnMask, double dropoutP,
        bool isCausal, double? scale, Tensor? keepMask, Generator? generator, bool weights)
    {
        const string name = "scaled_dot_product_attention";
        foreach (var (t, what) in new[] { (query, "query"), (key, "key"), (value, "value") })
        {
            Float(t, $"{name} ({what})");
            SameDevice(query, t, name);
            SameDType(query, t, name);
            if (t.dim() < 2) throw new ArgumentException($"{name}: {what} must have at least 2 dimensions (…, N, E), got {Shape.Format(t.ShapeSpan)}");
        }
        if (key.dim() != query.dim() || value.dim() != query.dim())
            throw new ArgumentException($"{name}: query {Shape.Format(query.ShapeSpan)}, key {Shape.Format(key.ShapeSpan)} and value {Shape.Format(value.ShapeSpan)} must have the same rank");
        var lead = query.ShapeArray[..^2];
        if (!key.ShapeSpan[..^2].SequenceEqual(lead) || !value.ShapeSpan[..^2].SequenceEqual(lead))
            throw new ArgumentException($"{name}: query {Shape.Format(query.ShapeSpan)}, key {Shape.Format(key.ShapeSpan)} and value {Shape.Format(value.ShapeSpan)} must have the same leading (batch, head) dimensions");
        int nq = query.size(-2), nk = key.size(-2), d = query.size(-1), dv = value.size(-1);
        if (key.size(-1) != d)
            throw new ArgumentException($"{name}: query features {d} differ from key features {key.size(-1)} (query {Shape.Format(query.ShapeSpan)}, key {Shape.Format(key.ShapeSpan)})");
        if (value.size(-2) != nk)
            throw new ArgumentException($"{name}: key has {nk} tokens but value has {value.size(-2)} (key {Shape.Format(key.ShapeSpan)}, value {Shape.Format(value.ShapeSpan)})");
        if (!(dropoutP >= 0 && dropoutP <= 1))
            throw new ArgumentOutOfRangeException(nameof(dropoutP), $"{name}: dropout_p must be in [0, 1], got {dropoutP}");
        var full = lead.Concat(new[] { nq, nk }).ToArray();

        bool bf16 = Autocast.Applies(query);
        var mask = CombinedMask(query, attnMask, isCausal, keepMask, full, name);
        var temporaries = new List<Tensor>();
        if (mask is not null && !ReferenceEquals(mask, attnMask)) temporaries.Add(mask);
        try
        {
            var q = bf16 ? Own(Bf16Copy(query), query, temporaries) : LastDimContiguous(query, temporaries);
            var k = bf16 ? Own(Bf16Copy(key), key, temporaries) : LastDimContiguous(key, temporaries);
            var v = bf16 ? Own(Bf16Copy(value), value, temporaries) : LastDimContiguous(value, temporaries);
            var geometry = Geometry(ref q, ref k, ref v, ref mask, lead, nq, nk, d, dv, temporaries);
            geometry.Scale = (float)(scale ?? 1.0 / Math.Sqrt(d));
            geometry.KeepProb = 1f;
            geometry.DropScale = 1f;
            if (dropoutP > 0)
            {
                var gen = generator ?? Generator.Default;
                geometry.Seed = gen.Seed;
                geometry.Stream = gen.NextStream();
                geometry.KeepProb = (float)(1 - dropoutP);
                geometry.DropScale = dropoutP < 1 ? (float)(1 / (1 - dropoutP)) : 0f;
            }
            var args = new AttentionArgs(q, k, v, mask, geometry);
            var backend = query.Backend;
            var output = Tensor.Empty(lead.Concat(new[] { nq, dv }).ToArray(), query.device, query.DType);
            var lse = Tensor.Empty([geometry.B * geometry.H * nq], query.device, query.DType);
            backend.Attention(args, output, lse);
            Tensor? probs = null;
            if (weights)
            {
                probs = Tensor.Empty(full, query.device, query.DType);
                backend.AttentionProbs(args, lse, probs);
            }
            if (!Tape.Needed(query, key, value))
            {
                lse.Dispose();
                return (output, probs);
            }
            temporaries.Clear();   // the backward reads them: they live as long as the graph (its dispose scope)
            // When the kernels read the caller's attn_mask itself, it is an input too (never differentiated), so that an
            // in-place change before the backward is caught; keep masks and combined masks are our own copies.
            var inputs = new List<Tensor> { query, key, value };
            if (attnMask is not null && ReferenceEquals(mask, attnMask)) inputs.Add(attnMask);
            var recorded = Tape.Record(output, name, inputs.ToArray(), g =>
            {
                var gc = bf16 ? Bf16Copy(g) : g.ContiguousOrSelf();
                var gq = Tensor.Empty(query.ShapeArray, query.device, query.DType);
                var gk = Tensor.Empty(key.ShapeArray, query.device, query.DType);
                var gv = Tensor.Empty(value.ShapeArray, query.device, query.DType);
                backend.AttentionBackward(args, output, lse, gc, gq, gk, gv);
                if (!ReferenceEquals(gc, g)) gc.Dispose();
                var grads = new Tensor?[inputs.Count];
                grads[0] = Keep(gq, query.requires_grad);
                grads[1] = Keep(gk, key.requires_grad);
                grads[2] = Keep(gv, value.requires_grad);
                return grads;
            });
            return (recorded, probs);
        }
        finally
        {
            foreach (var t in temporaries) t.Dispose();
        }
    }

    static Tensor? Keep(Tensor grad, bool needed)
    {
        if (needed) return grad;
        grad.Dispose();
        return null;
    }

    /// <summary>The view itself when its last dimension is contiguous, else a contiguous copy (added to temporaries).</summary>
    static Tensor LastDimContiguous(Tensor t, List<Tensor> temporaries)
    {
        if (t.stride(-1) == 1 || t.size(-1) <= 1) return t;
        var c = t.ContiguousOrSelf();
        temporaries.Add(c);
        return c;
    }

    /// <summary>
    /// The additive mask of (attn_mask, keep_mask, is_causal) at the smallest shape that broadcasts to
    /// <paramref name="full"/> (…, Nq, Nk), or null when there is none. keep_mask becomes 0 / −∞.
    /// </summary>
    static Tensor? CombinedMask(Tensor query, Tensor? attnMask, bool isCausal, Tensor? keepMask, int[] full, string name)
    {
        if (attnMask is not null)
        {
            if (isCausal) throw new ArgumentException($"{name}: attn_mask and is_causal cannot both be set (as in PyTorch); pass a keep_mask with is_causal instead");
            Float(attnMask, $"{name} (attn_mask)");
            SameDevice(query, attnMask, name);
            if (attnMask.DType != query.DType)
                throw new ArgumentException($"{name}: attn_mask is {attnMask.DType} but query is {query.DType}; an additive mask has the query's type (use keep_mask for a 0/1 mask)");
            if (GradMode.IsEnabled && attnMask.requires_grad)
                throw new NotSupportedException($"{name}: a gradient for attn_mask {Shape.Format(attnMask.ShapeSpan)} is not implemented; pass attn_mask.detach()");
            CheckBroadcast(attnMask, full, "attn_mask", name);
        }
        Tensor? keep = null;
        using (torch.no_grad())
        {
            if (keepMask is not null)
            {
                SameDevice(query, keepMask, name);
                CheckBroadcast(keepMask, full, "keep_mask", name);
                using var kf = keepMask.DType == query.DType ? null : keepMask.to(query.DType);
                using var zero = torch.scalar_tensor(0f, query.device, query.DType);
                using var minusInf = torch.scalar_tensor(float.NegativeInfinity, query.device, query.DType);
                keep = torch.where(kf ?? keepMask, zero, minusInf);
            }
            if (isCausal)
            {
                int nq = full[^2], nk = full[^1];
                var host = new float[nq * nk];
                for (int i = 0; i < nq; i++)
                    for (int j = i + 1; j < nk; j++) host[i * nk + j] = float.NegativeInfinity;
                var causal = torch.tensor(host, [nq, nk], query.device);
                if (query.DType != DType.Float32) { var c = causal.to(query.DType); causal.Dispose(); causal = c; }
                keep = keep is null ? causal : Sum(keep, causal);
            }
            if (attnMask is null) return keep;
            return keep is null ? attnMask : Sum(keep, attnMask);
        }
    }

    static Tensor Sum(Tensor owned, Tensor other)
    {
        var s = owned.add(other);
        owned.Dispose();
        return s;
    }

    static void CheckBroadcast(Tensor mask, int[] full, string what, string name)
    {
        bool ok = mask.dim() <= full.Length;
        for (int i = 1; ok && i <= mask.dim(); i++)
            ok = mask.size(-i) == 1 || mask.size(-i) == full[^i];
        if (!ok) throw new ArgumentException($"{name}: {what} {Shape.Format(mask.ShapeSpan)} does not broadcast to the scores' shape {Shape.Format(full)}");
    }

    /// <summary>
    /// Folds the leading dimensions of q, k, v and the mask (broadcast to the scores' shape) into the kernels' two
    /// batch levels (B, H). When the operands' strides do not merge into two levels, q, k, v and then the mask are
    /// made contiguous (those copies go to temporaries) — never for the usual (batch, heads) views.
    /// </summary>
    static AttentionGeometry Geometry(ref Tensor q, ref Tensor k, ref Tensor v, ref Tensor? mask, int[] lead, int nq, int nk, int d, int dv,
        List<Tensor> temporaries)
    {
        var full = lead.Concat(new[] { nq, nk }).ToArray();
        for (int attempt = 0; ; attempt++)
        {
            int[]? maskStrides = mask is null ? null : Shape.BroadcastStrides(mask.ShapeSpan, mask.StrideSpan, full);
            var strides = new List<int[]> { q.StrideArray[..^2], k.StrideArray[..^2], v.StrideArray[..^2] };
            if (maskStrides is not null) strides.Add(maskStrides[..^2]);
            var (shape, cs) = Shape.Coalesce(lead, strides.ToArray());
            if (shape.Length <= 2)
            {
                bool two = shape.Length == 2;
                int B = two ? shape[0] : 1, H = two ? shape[1] : shape[0];
                int Sb(int op) => two ? cs[op][0] : 0;
                int Sh(int op) => two ? cs[op][1] : cs[op][0];
                var g = new AttentionGeometry
                {
                    B = Shape.NumEl(lead) == 0 ? 0 : B, H = H, Nq = nq, Nk = nk, D = d, Dv = dv,
                    QOffset = q.Offset, QStrideB = Sb(0), QStrideH = Sh(0), QStrideRow = q.stride(-2),
                    KOffset = k.Offset, KStrideB = Sb(1), KStrideH = Sh(1), KStrideRow = k.stride(-2),
                    VOffset = v.Offset, VStrideB = Sb(2), VStrideH = Sh(2), VStrideRow = v.stride(-2),
                };
                if (mask is not null)
                {
                    g.HasMask = 1;
                    g.MaskOffset = mask.Offset;
                    g.MaskStrideB = Sb(3); g.MaskStrideH = Sh(3);
                    g.MaskStrideRow = maskStrides![^2]; g.MaskStrideCol = maskStrides[^1];
                }
                return g;
            }
            if (attempt == 0)
            {
                q = Own(q.ContiguousOrSelf(), q, temporaries);
                k = Own(k.ContiguousOrSelf(), k, temporaries);
                v = Own(v.ContiguousOrSelf(), v, temporaries);
            }
            else if (attempt == 1 && mask is not null)
            {
                using var expanded = mask.expand(full);
                mask = Own(expanded.ContiguousOrSelf(), mask, temporaries);
            }
            else throw new InvalidOperationException($"scaled_dot_product_attention: leading dimensions {Shape.Format(lead)} did not fold into two batch levels");
        }
    }

    static Tensor Own(Tensor copy, Tensor original, List<Tensor> temporaries)
    {
        if (!ReferenceEquals(copy, original)) temporaries.Add(copy);
        return copy;
    }
}

public static partial class torch
{
    public static partial class nn
    {
        public static partial class functional
        {
            /// <summary>
            /// softmax(query·keyᵀ·scale + mask)·value over (…, Nq, E) queries, (…, Nk, E) keys and (…, Nk, Ev) values with
            /// the same leading dimensions, as torch.nn.functional.scaled_dot_product_attention (scale defaults to
            /// 1/√E). Masks (see <see cref="TensorOps"/>' attention notes): <paramref name="attn_mask"/> additive;
            /// <paramref name="keep_mask"/> non-zero = attend (PyTorch's boolean mask); <paramref name="is_causal"/>.
            /// Fully masked queries give 0. <paramref name="dropout_p"/> drops probabilities with Philox draws from
            /// <paramref name="generator"/> (the default generator when null), the same elements on every backend.
            /// Gradients for query, key and value; none for attn_mask.
            /// </summary>
            public static Tensor scaled_dot_product_attention(Tensor query, Tensor key, Tensor value, Tensor? attn_mask = null,
                double dropout_p = 0.0, bool is_causal = false, double? scale = null, Tensor? keep_mask = null, Generator? generator = null)
                => TensorOps.Attention(query, key, value, attn_mask, dropout_p, is_causal, scale, keep_mask, generator, weights: false).output;

            /// <summary>
            /// <see cref="scaled_dot_product_attention"/>, also returning the attention probabilities (…, Nq, Nk) — the
            /// softmax before dropout, materialised for visualisation and not differentiable (detached).
            /// </summary>
            public static (Tensor output, Tensor weights) scaled_dot_product_attention_with_weights(Tensor query, Tensor key, Tensor value,
                Tensor? attn_mask = null, double dropout_p = 0.0, bool is_causal = false, double? scale = null, Tensor? keep_mask = null,
                Generator? generator = null)
            {
                var (output, weights) = TensorOps.Attention(query, key, value, attn_mask, dropout_p, is_causal, scale, keep_mask, generator, weights: true);
                return (output, weights!);
            }
        }
    }
}
