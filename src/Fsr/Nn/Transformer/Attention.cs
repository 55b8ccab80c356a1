namespace FsrNative.Nn;

/// <summary>
/// timm's multi-head self-attention over (B, N, C) tokens: one <c>qkv</c> Linear (C → 3C, rows ordered q, k, v and
/// heads within each), scaled dot-product attention per head (scale = head_dim^−½), heads concatenated, then the
/// <c>proj</c> Linear. The attention itself is the engine's fused <c>F.scaled_dot_product_attention</c> (no N×N
/// score matrix kept for the backward; dropout on the probabilities from the Philox generator).
/// </summary>
public sealed class Attention : Module<Tensor, Tensor>
{
    public Attention(int dim, int numHeads = 8, bool qkvBias = false, float attnDrop = 0f, float projDrop = 0f,
        Device? device = null, Generator? generator = null)
    {
        if (numHeads <= 0 || dim % numHeads != 0) throw new ArgumentException($"Attention: dim {dim} must be divisible by num_heads {numHeads}");
        num_heads = numHeads;
        head_dim = dim / numHeads;
        scale = 1f / MathF.Sqrt(head_dim);
        attn_drop_p = attnDrop;
        _generator = generator;
        qkv = register_module("qkv", new Linear(dim, dim * 3, qkvBias, device, generator));
        proj = register_module("proj", new Linear(dim, dim, true, device, generator));
        proj_drop = register_module("proj_drop", new Dropout(projDrop, generator));
    }

    readonly Generator? _generator;
    public readonly Linear qkv, proj;
    public readonly Dropout proj_drop;
    public int num_heads { get; }
    public int head_dim { get; }
    public float scale { get; }
    public float attn_drop_p { get; }

    public override Tensor forward(Tensor x)
    {
        if (x.dim() != 3) throw new ArgumentException($"Attention: expected (B, N, C) tokens, got {Shape.Format(x.shape)}");
        int b = x.size(0), n = x.size(1), c = x.size(2);
        // (B, N, 3, H, hd) → (3, B, H, N, hd): q, k, v are strided views, read by the GEMM without copies.
        var qkvOut = qkv.forward(x).reshape(b, n, 3, num_heads, head_dim).permute(2, 0, 3, 1, 4);
        var q = qkvOut.select(0, 0);
        var k = qkvOut.select(0, 1);
        var v = qkvOut.select(0, 2);
        var y = torch.nn.functional.scaled_dot_product_attention(q, k, v, dropout_p: training ? attn_drop_p : 0.0,
            scale: scale, generator: _generator).transpose(1, 2).reshape(b, n, c);
        return proj_drop.forward(proj.forward(y));
    }
}
