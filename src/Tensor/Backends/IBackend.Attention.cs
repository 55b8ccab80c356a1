using FsrNative.Kernels;

namespace FsrNative;

/// <summary>Fused scaled-dot-product attention and Philox dropout (op layer: src/Autograd/Ops/Attention.cs, Dropout.cs).</summary>
public partial interface IBackend
{
    /// <summary>
    /// Attention forward without the N×N score matrix in memory: <paramref name="output"/> (B, H, Nq, Dv) and the
    /// per-row log-sum-exp of the scaled, masked scores <paramref name="logSumExp"/> (B·H·Nq; −∞ on fully masked rows),
    /// both contiguous. Shapes, strides, mask and dropout: <see cref="AttentionGeometry"/>.
    /// </summary>
    void Attention(in AttentionArgs args, Tensor output, Tensor logSumExp);

    /// <summary>Gradients of the attention inputs from the saved output and log-sum-exp; the backward recomputes the
    /// probabilities block by block (and the dropout mask from its seed). gradOutput, gradQ (B, H, Nq, D), gradK
    /// (B, H, Nk, D) and gradV (B, H, Nk, Dv) are contiguous; every element of the three gradients is written.</summary>
    void AttentionBackward(in AttentionArgs args, Tensor output, Tensor logSumExp, Tensor gradOutput, Tensor gradQ, Tensor gradK, Tensor gradV);

    /// <summary>The attention probabilities before dropout, exp(s − lse), into contiguous (B, H, Nq, Nk) (materialised:
    /// for visualisation).</summary>
    void AttentionProbs(in AttentionArgs args, Tensor logSumExp, Tensor probs);

    /// <summary>y_i = x_i · (U(seed, stream, i) &lt; keep ? scale : 0) over contiguous x and y of the same shape, U the
    /// Philox uniform of element i: identical masks on every backend.</summary>
    void Dropout(Tensor x, Tensor y, float keep, float scale, ulong seed, ulong stream);
}

/// <summary>The operands of an attention primitive: q, k, v (and the additive mask, or null) as views whose storages
/// the <see cref="AttentionGeometry"/>'s offsets and strides index.</summary>
public readonly record struct AttentionArgs(Tensor Q, Tensor K, Tensor V, Tensor? Mask, AttentionGeometry Geometry);
