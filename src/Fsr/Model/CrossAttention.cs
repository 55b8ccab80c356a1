using FsrNative.Nn;

namespace FsrNative.Model;

/// <summary>
/// The reference's <c>CrossAttention</c> (fsr-spec §3.1, aggregation module): over rows z = [q; P] of one LayerNorm,
/// the first row is the only query (Q = Wq z₀) and the remaining rows are keys and values (K = Wk z₁…, V = Wv z₁…),
/// softmax(Q Kᵀ / √head_dim) per head, heads concatenated, output projection. Keys <c>q</c>, <c>k</c>, <c>v</c>,
/// <c>proj</c> (all dim → dim). The attention is the engine's fused <c>scaled_dot_product_attention</c>; an optional
/// keep mask (N, T) — non-zero = the key may be attended — restricts the keys (the paper's masked variant, §10 item 2).
/// </summary>
public sealed class CrossAttention : Module
{
    public CrossAttention(int dim, int numHeads, bool qkvBias = true, Device? device = null, Generator? generator = null)
    {
        if (numHeads <= 0 || dim % numHeads != 0) throw new ArgumentException($"CrossAttention: dim {dim} must be divisible by num_heads {numHeads}");
        num_heads = numHeads;
        head_dim = dim / numHeads;
        scale = 1f / MathF.Sqrt(head_dim);
        q = register_module("q", new Linear(dim, dim, qkvBias, device, generator));
        k = register_module("k", new Linear(dim, dim, qkvBias, device, generator));
        v = register_module("v", new Linear(dim, dim, qkvBias, device, generator));
        proj = register_module("proj", new Linear(dim, dim, true, device, generator));
    }

    public readonly Linear q, k, v, proj;
    public int num_heads { get; }
    public int head_dim { get; }
    public float scale { get; }

    /// <summary>
    /// <paramref name="x"/> (N, 1 + T, D): row 0 the query token, rows 1…T the keys/values. <paramref name="keepMask"/>
    /// null or (N, T), non-zero where a key may be attended (a query whose keys are all masked gets 0). Returns the
    /// updated query (N, 1, D) before the residual.
    /// </summary>
    public Tensor forward(Tensor x, Tensor? keepMask = null)
    {
        if (x.dim() != 3 || x.size(1) < 2) throw new ArgumentException($"CrossAttention: expected (N, 1 + T, D) rows with T ≥ 1, got {Shape.Format(x.shape)}");
        int n = x.size(0), t = x.size(1) - 1, c = x.size(2);
        if (c != num_heads * head_dim) throw new ArgumentException($"CrossAttention: rows have {c} features, the layer {num_heads * head_dim}");
        var queries = q.forward(x.narrow(1, 0, 1)).reshape(n, 1, num_heads, head_dim).permute(0, 2, 1, 3);
        var tokens = x.narrow(1, 1, t);
        var keys = k.forward(tokens).reshape(n, t, num_heads, head_dim).permute(0, 2, 1, 3);
        var values = v.forward(tokens).reshape(n, t, num_heads, head_dim).permute(0, 2, 1, 3);
        Tensor? keep = null;
        if (keepMask is not null)
        {
            if (keepMask.dim() != 2 || keepMask.size(0) != n || keepMask.size(1) != t)
                throw new ArgumentException($"CrossAttention: keep mask {Shape.Format(keepMask.shape)} must be (N, T) = ({n}, {t})");
            keep = keepMask.reshape(n, 1, 1, t);
        }
        var y = torch.nn.functional.scaled_dot_product_attention(queries, keys, values, scale: scale, keep_mask: keep);
        return proj.forward(y.transpose(1, 2).reshape(n, 1, c));
    }
}
