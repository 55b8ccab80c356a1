namespace FsrNative;

/// <summary>Losses family: fused cross-entropy over a class axis and binary cross-entropy with logits.</summary>
public partial interface IBackend
{
    /// <summary>
    /// Cross-entropy of contiguous logits (outer, k, inner) against Int32 targets (outer·inner). A position is valid when
    /// its target is not <paramref name="ignoreIndex"/> and, when <paramref name="mask"/> (outer·inner, same float type)
    /// is given, its mask value is non-zero. Writes per position loss (0 where not valid), lse = log Σ exp(x) and valid
    /// (1/0). A target neither in [0, k) nor the ignore index throws IndexOutOfRangeException naming cross_entropy
    /// (at the next sync point on the GPU).
    /// </summary>
    void CrossEntropy(Tensor logits, Tensor target, Tensor? mask, Tensor loss, Tensor lse, Tensor valid, int outer, int k, int inner, int ignoreIndex);

    /// <summary>gx = valid·g·(softmax − one_hot(target)); <paramref name="g"/> holds one value per position or a single
    /// value for all positions.</summary>
    void CrossEntropyBackward(Tensor logits, Tensor target, Tensor? mask, Tensor lse, Tensor g, Tensor gx, int outer, int k, int inner, int ignoreIndex);

    /// <summary>loss = max(x, 0) − x·y + log1p(e^−|x|) elementwise; all contiguous, same shape.</summary>
    void BceWithLogits(Tensor x, Tensor y, Tensor loss);

    /// <summary>gx = g·(σ(x) − y) elementwise; all contiguous, same shape.</summary>
    void BceWithLogitsBackward(Tensor x, Tensor y, Tensor g, Tensor gx);
}
