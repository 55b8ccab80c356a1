namespace FsrNative.Nn;

/// <summary>
/// timm's pre-norm transformer block: x ← x + DropPath(LS(Attn(LN(x)))), x ← x + DropPath(LS(MLP(LN(x)))).
/// Keys <c>norm1</c>, <c>attn.qkv</c>, <c>attn.proj</c>, <c>norm2</c>, <c>mlp.fc1</c>, <c>mlp.fc2</c>
/// (+ <c>ls1.gamma</c>, <c>ls2.gamma</c> when LayerScale is on).
/// </summary>
public sealed class Block : Module<Tensor, Tensor>
{
    public Block(int dim, int numHeads, float mlpRatio = 4f, bool qkvBias = false, float projDrop = 0f, float attnDrop = 0f,
        float? initValues = null, float dropPath = 0f, float normEps = 1e-6f, Device? device = null, Generator? generator = null)
    {
        norm1 = register_module("norm1", new LayerNorm(dim, normEps, device: device));
        attn = register_module("attn", new Attention(dim, numHeads, qkvBias, attnDrop, projDrop, device, generator));
        ls1 = initValues is float v1 ? register_module("ls1", new LayerScale(dim, v1, device)) : null;
        drop_path1 = register_module("drop_path1", new DropPath(dropPath, generator: generator));
        norm2 = register_module("norm2", new LayerNorm(dim, normEps, device: device));
        mlp = register_module("mlp", new Mlp(dim, (int)(dim * mlpRatio), drop: projDrop, device: device, generator: generator));
        ls2 = initValues is float v2 ? register_module("ls2", new LayerScale(dim, v2, device)) : null;
        drop_path2 = register_module("drop_path2", new DropPath(dropPath, generator: generator));
    }

    public readonly LayerNorm norm1, norm2;
    public readonly Attention attn;
    public readonly Mlp mlp;
    public readonly LayerScale? ls1, ls2;
    public readonly DropPath drop_path1, drop_path2;

    public override Tensor forward(Tensor x)
    {
        var a = attn.forward(norm1.forward(x));
        if (ls1 is not null) a = ls1.forward(a);
        x = x.add(drop_path1.forward(a));
        var m = mlp.forward(norm2.forward(x));
        if (ls2 is not null) m = ls2.forward(m);
        return x.add(drop_path2.forward(m));
    }
}
