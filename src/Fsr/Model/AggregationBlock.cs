using FsrNative.Nn;

namespace FsrNative.Model;

/// <summary>
/// The reference's <c>CABlock</c> (fsr-spec §3.1): q ← q + CrossAttn(LN1([q; P])), q ← q + MLP(LN2(q)), one
/// LayerNorm over all 1 + T rows, no drop-path, no LayerScale (both were removed from the code in Dec 2023). Keys
/// <c>norm1</c>, <c>attn.{q,k,v,proj}</c>, <c>norm2</c>, <c>mlp.fc1</c>, <c>mlp.fc2</c>.
/// </summary>
public sealed class AggregationBlock : Module
{
    public AggregationBlock(int dim, int numHeads, float mlpRatio = 4f, bool qkvBias = true, float normEps = 1e-6f,
        Device? device = null, Generator? generator = null)
    {
        norm1 = register_module("norm1", new LayerNorm(dim, normEps, device: device));
        attn = register_module("attn", new CrossAttention(dim, numHeads, qkvBias, device, generator));
        norm2 = register_module("norm2", new LayerNorm(dim, normEps, device: device));
        mlp = register_module("mlp", new Mlp(dim, (int)(dim * mlpRatio), device: device, generator: generator));
    }

    public readonly LayerNorm norm1, norm2;
    public readonly CrossAttention attn;
    public readonly Mlp mlp;

    /// <summary>
    /// <paramref name="query"/> (N, 1, D), <paramref name="patches"/> (N, T, D), <paramref name="keepMask"/> null or
    /// (N, T) (see <see cref="CrossAttention.forward"/>). Returns the refined query (N, 1, D).
    /// </summary>
    public Tensor forward(Tensor query, Tensor patches, Tensor? keepMask = null)
    {
        if (query.dim() != 3 || query.size(1) != 1) throw new ArgumentException($"AggregationBlock: query must be (N, 1, D), got {Shape.Format(query.shape)}");
        if (patches.dim() != 3 || patches.size(0) != query.size(0) || patches.size(2) != query.size(2))
            throw new ArgumentException($"AggregationBlock: patches {Shape.Format(patches.shape)} do not fit the query {Shape.Format(query.shape)}");
        var rows = torch.cat([query, patches], 1);
        query = query.add(attn.forward(norm1.forward(rows), keepMask));
        return query.add(mlp.forward(norm2.forward(query)));
    }
}
