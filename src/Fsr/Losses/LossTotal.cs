namespace FsrNative.Fsr.Losses;

/// <summary>The loss terms of one iteration (0-D tensors); a term whose weight is 0 may be left null (not computed).</summary>
public sealed record LossTerms
{
    public required Tensor TopCls { get; init; }
    public required Tensor AuxCls { get; init; }
    public Tensor? FsrClass { get; init; }
    public Tensor? FsrPatch { get; init; }
    public Tensor? Aff { get; init; }
    public Tensor? Seg { get; init; }
    public Tensor? Reg { get; init; }
}

/// <summary>
/// The total loss (fsr-spec §4 step 8, §6.6): L = w_cls·(top + aux) + w_class·L_fsr_cls + w_patch·L_fsr_pat + w_aff·L_aff
/// + w_seg·L_seg + w_reg·L_reg, summed in this order (the reference's). Terms with weight 0 are skipped rather than
/// multiplied by 0, so a NaN in an inactive term cannot poison the total (fsr-spec §12).
/// </summary>
public static class LossTotal
{
    public static Tensor Compute(LossTerms terms, LossWeights weights)
    {
        // The reference's cls_loss = top + aux, then the weighted terms in its order.
        var total = weights.Cls == 0 ? null : Scaled(terms.TopCls.add(terms.AuxCls), weights.Cls, "Cls");
        total = Add(total, terms.FsrClass, weights.FsrClass, "FsrClass");
        total = Add(total, terms.FsrPatch, weights.FsrPatch, "FsrPatch");
        total = Add(total, terms.Aff, weights.Aff, "Aff");
        total = Add(total, terms.Seg, weights.Seg, "Seg");
        total = Add(total, terms.Reg, weights.Reg, "Reg");
        return total ?? throw new ArgumentException("LossTotal: every weight is 0, there is no loss");
    }

    static Tensor? Scaled(Tensor? term, double weight, string name)
    {
        if (weight == 0) return null;
        if (term is null) throw new ArgumentException($"LossTotal: term {name} has weight {weight} but was not computed (null)");
        if (term.NumEl != 1) throw new ArgumentException($"LossTotal: term {name} must be a scalar, got shape ({string.Join(", ", term.shape)})");
        return weight == 1 ? term : term.mul((float)weight);
    }

    static Tensor? Add(Tensor? total, Tensor? term, double weight, string name)
    {
        var scaled = Scaled(term, weight, name);
        if (scaled is null) return total;
        return total is null ? scaled : total.add(scaled);
    }
}
