namespace FsrNative.Kernels;

/// <summary>
/// Everything a scaled-dot-product attention kernel needs besides its buffers, passed by value to the CPU kernels,
/// the reference kernels and the ILGPU kernels alike (blittable: ints, floats, ulongs).
/// <para>Shapes: queries (B, H, Nq, D), keys (B, H, Nk, D), values (B, H, Nk, Dv); output (B, H, Nq, Dv). B and H are
/// two batch levels with independent strides, so a (batch, heads) view of a fused qkv projection is read in place;
/// the op layer folds any leading dimensions into these two. Within a row the last dimension is contiguous; rows,
/// heads and batches may have any stride (element strides into each operand's storage, offset included).</para>
/// <para>Mask: additive, read at <c>MaskOffset + b·MaskStrideB + h·MaskStrideH + i·MaskStrideRow + j·MaskStrideCol</c>
/// (stride 0 along broadcast dimensions). −∞ removes a key. A row whose every score is −∞ (all keys masked, or Nk = 0)
/// is defined as output 0, log-sum-exp −∞ and zero gradients.</para>
/// <para>Dropout on the probabilities: element (b, h, i, j) is kept when
/// <c>Philox.Uniform(Seed, Stream, ((b·H + h)·Nq + i)·Nk + j) &lt; KeepProb</c> and then scaled by
/// <see cref="DropScale"/>; every backend evaluates the same formula, so they drop the same elements, and the
/// backward recomputes the mask instead of storing it.</para>
/// </summary>
public struct AttentionGeometry
{
    public int B, H, Nq, Nk, D, Dv;
    public int QOffset, QStrideB, QStrideH, QStrideRow;
    public int KOffset, KStrideB, KStrideH, KStrideRow;
    public int VOffset, VStrideB, VStrideH, VStrideRow;
    /// <summary>1 when an additive mask is read, else 0 (the mask buffer is then a placeholder).</summary>
    public int HasMask;
    public int MaskOffset, MaskStrideB, MaskStrideH, MaskStrideRow, MaskStrideCol;
    /// <summary>Multiplies q·k before the mask is added (1/√D by default).</summary>
    public float Scale;
    /// <summary>1 − dropout probability; 1 means no dropout.</summary>
    public float KeepProb;
    /// <summary>Factor of kept probabilities: 1/KeepProb (0 when KeepProb is 0: everything dropped).</summary>
    public float DropScale;
    public ulong Seed, Stream;

    public readonly bool Dropout => KeepProb < 1f;

    public readonly int QRow(int b, int h, int i) => QOffset + b * QStrideB + h * QStrideH + i * QStrideRow;
    public readonly int KRow(int b, int h, int j) => KOffset + b * KStrideB + h * KStrideH + j * KStrideRow;
    public readonly int VRow(int b, int h, int j) => VOffset + b * VStrideB + h * VStrideH + j * VStrideRow;
    public readonly int MaskRow(int b, int h, int i) => MaskOffset + b * MaskStrideB + h * MaskStrideH + i * MaskStrideRow;

    /// <summary>The Philox element index of probability (b, h, i, j), with bh = b·H + h.</summary>
    public readonly long DropIndex(int bh, int i, int j) => ((long)bh * Nq + i) * Nk + j;

    /// <summary>The multiplier of probability (bh, i, j) after dropout: <see cref="DropScale"/> or 0 (1 without dropout).</summary>
    public readonly float DropFactor(int bh, int i, int j)
        => KeepProb >= 1f ? 1f : Random.Philox.Uniform(Seed, Stream, DropIndex(bh, i, j)) < KeepProb ? DropScale : 0f;
}
