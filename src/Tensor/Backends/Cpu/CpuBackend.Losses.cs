using FsrNative.Kernels.Cpu;
using RefL = FsrNative.Kernels.Cpu.Reference.ReferenceLosses<double>;

namespace FsrNative;

public sealed unsafe partial class CpuBackend
{
    public void CrossEntropy(Tensor logits, Tensor target, Tensor? mask, Tensor loss, Tensor lse, Tensor valid, int outer, int k, int inner, int ignoreIndex)
    {
        const string n = "cross_entropy";
        target.RequireDType(DType.Int32, n);
        int bad = IsDouble(logits)
            ? RefL.CrossEntropy(ContigD(logits, n), ContigInt(target, n), mask is null ? default : ContigD(mask, n),
                ContigD(loss, n), ContigD(lse, n), ContigD(valid, n), outer, k, inner, ignoreIndex)
            : CpuLosses.CrossEntropy(Contig(logits, n), ContigInt(target, n), mask is null ? default : Contig(mask, n),
                Contig(loss, n), Contig(lse, n), Contig(valid, n), outer, k, inner, ignoreIndex);
        if (bad >= 0)
            throw new IndexOutOfRangeException(
                $"{n}: target {ContigInt(target, n)[bad]} at position {bad} is out of range for {k} classes (and is not ignore_index {ignoreIndex})");
    }

    public void CrossEntropyBackward(Tensor logits, Tensor target, Tensor? mask, Tensor lse, Tensor g, Tensor gx, int outer, int k, int inner, int ignoreIndex)
    {
        const string n = "cross_entropy_backward";
        if (IsDouble(logits))
        {
            RefL.CrossEntropyBackward(ContigD(logits, n), ContigInt(target, n), mask is null ? default : ContigD(mask, n), ContigD(lse, n),
                ContigD(g, n), ContigD(gx, n), outer, k, inner, ignoreIndex);
            return;
        }
        CpuLosses.CrossEntropyBackward(Contig(logits, n), ContigInt(target, n), mask is null ? default : Contig(mask, n), Contig(lse, n),
            Contig(g, n), Contig(gx, n), outer, k, inner, ignoreIndex);
    }

    public void BceWithLogits(Tensor x, Tensor y, Tensor loss)
    {
        const string n = "binary_cross_entropy_with_logits";
        if (IsDouble(x)) { RefL.BceWithLogits(ContigD(x, n), ContigD(y, n), ContigD(loss, n)); return; }
        CpuLosses.BceWithLogits(Contig(x, n), Contig(y, n), Contig(loss, n));
    }

    public void BceWithLogitsBackward(Tensor x, Tensor y, Tensor g, Tensor gx)
    {
        const string n = "binary_cross_entropy_with_logits_backward";
        if (IsDouble(x)) { RefL.BceWithLogitsBackward(ContigD(x, n), ContigD(y, n), ContigD(g, n), ContigD(gx, n)); return; }
        CpuLosses.BceWithLogitsBackward(Contig(x, n), Contig(y, n), Contig(g, n), Contig(gx, n));
    }
}
