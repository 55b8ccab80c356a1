using FsrNative.Fsr.PseudoLabels;

namespace FsrNative.Fsr.Losses;

/// <summary>
/// Classification loss (fsr-spec §6.1, §4 step 3): multi-label soft margin on the main (final-token GMP) and the
/// auxiliary (block-aux GMP) classifier logits of view 1, weight 1 each:
/// MLSM(z, y) = mean over B and C of −(y·log σ(z) + (1 − y)·log σ(−z)).
/// </summary>
public static class ClassificationLoss
{
    /// <summary>MLSM of logits (B, C) against the class vectors (B, C) (Float32 multi-hot or Int32). A 0-D tensor.</summary>
    public static Tensor Mlsm(Tensor logits, Tensor classLabels)
    {
        if (logits.dim() != 2 || classLabels.dim() != 2 || logits.size(0) != classLabels.size(0) || logits.size(1) != classLabels.size(1))
            throw new ArgumentException($"ClassificationLoss: logits ({string.Join(", ", logits.shape)}) and class labels ({string.Join(", ", classLabels.shape)}) must both be (B, C)");
        // The target stays alive with the graph (the BCE backward reads it): left to the caller's dispose scope.
        var y = CamLabels.AsFloat(classLabels);
        return torch.nn.functional.multilabel_soft_margin_loss(logits, y);
    }

    /// <summary>The two terms and their sum (the reference's <c>top_cls_loss</c>, <c>aux_cls_loss</c>, <c>cls_loss</c>).</summary>
    public static ClassificationTerms Compute(Tensor topLogits, Tensor auxLogits, Tensor classLabels)
    {
        var top = Mlsm(topLogits, classLabels);
        var aux = Mlsm(auxLogits, classLabels);
        return new ClassificationTerms(top, aux, top.add(aux));
    }
}

/// <summary>MLSM of the main classifier, of the auxiliary classifier, and their sum (all 0-D).</summary>
public sealed record ClassificationTerms(Tensor Top, Tensor Aux, Tensor Total);
