using ILGPU;

namespace FsrNative;

public sealed partial class IlgpuBackend
{
    public void CrossEntropy(Tensor logits, Tensor target, Tensor? mask, Tensor loss, Tensor lse, Tensor valid, int outer, int k, int inner, int ignoreIndex)
    {
        const string name = "cross_entropy";
        target.RequireDType(DType.Int32, name);
        long positions = (long)outer * inner;
        CheckCount(logits, positions * k, name, "logits");
        CheckCount(target, positions, name, "target");
        if (mask is not null) CheckCount(mask, positions, name, "mask");
        CheckCount(loss, positions, name, "loss");
        CheckCount(lse, positions, name, "lse");
        CheckCount(valid, positions, name, "valid");
        lock (_gate)
        {
            _acc.Bind();
            var xv = Contig(logits, name); var tv = ContigInt(target, name);
            ArrayView<float> mv = mask is null ? Placeholder : Contig(mask, name);
            var lv = Contig(loss, name); var lsv = Contig(lse, name); var vv = Contig(valid, name);
            int n = (int)positions;
            if (n == 0) return;
            _k.CrossEntropyForward(Grid(n), n, Grid(n), xv, tv, mv, lv, lsv, vv, k, inner, ignoreIndex, mask is null ? 0 : 1, _errors.View);
            _errorsPending = true;
        }
    }

    public void CrossEntropyBackward(Tensor logits, Tensor target, Tensor? mask, Tensor lse, Tensor g, Tensor gx, int outer, int k, int inner, int ignoreIndex)
    {
        const string name = "cross_entropy_backward";
        long positions = (long)outer * inner;
        CheckCount(logits, positions * k, name, "logits");
        CheckCount(target, positions, name, "target");
        if (mask is not null) CheckCount(mask, positions, name, "mask");
        CheckCount(lse, positions, name, "lse");
        if (g.NumEl != 1) CheckCount(g, positions, name, "output gradient");
        SameShape(logits, gx, name);
        lock (_gate)
        {
            _acc.Bind();
            var xv = Contig(logits, name); var tv = ContigInt(target, name);
            ArrayView<float> mv = mask is null ? Placeholder : Contig(mask, name);
            var lsv = Contig(lse, name); var gv = Contig(g, name); var gxv = Contig(gx, name);
            int n = logits.NumEl;
            if (n == 0) return;
            _k.CrossEntropyBackward(Grid(n), n, Grid(n), xv, tv, mv, lsv, gv, gxv, k, inner, ignoreIndex, mask is null ? 0 : 1, g.NumEl == 1 ? 1 : 0);
        }
    }

    public void BceWithLogits(Tensor x, Tensor y, Tensor loss)
    {
        const string name = "binary_cross_entropy_with_logits";
        SameShape(x, y, name); SameShape(x, loss, name);
        lock (_gate)
        {
            _acc.Bind();
            var xv = Contig(x, name); var yv = Contig(y, name); var lv = Contig(loss, name);
            int n = x.NumEl;
            if (n == 0) return;
            _k.BceWithLogits(Grid(n), n, Grid(n), xv, yv, lv);
        }
    }

    public void BceWithLogitsBackward(Tensor x, Tensor y, Tensor g, Tensor gx)
    {
        const string name = "binary_cross_entropy_with_logits_backward";
        SameShape(x, y, name); SameShape(x, g, name); SameShape(x, gx, name);
        lock (_gate)
        {
            _acc.Bind();
            var xv = Contig(x, name); var yv = Contig(y, name); var gv = Contig(g, name); var gxv = Contig(gx, name);
            int n = x.NumEl;
            if (n == 0) return;
            _k.BceWithLogitsBackward(Grid(n), n, Grid(n), xv, yv, gv, gxv);
        }
    }
}
