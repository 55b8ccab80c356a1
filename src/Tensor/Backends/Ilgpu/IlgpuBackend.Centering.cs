using FsrNative.Kernels.Gpu;
using ILGPU;

namespace FsrNative;

public sealed partial class IlgpuBackend
{
    public void DinoCrossEntropy(Tensor student, Tensor teacher, Tensor center, Tensor loss, Tensor lseS, Tensor lseT, int rows, int d, float invTs, float invTt)
    {
        const string name = "dino_cross_entropy";
        CheckDino(student, teacher, center, loss, lseS, lseT, rows, d, name);
        lock (_gate)
        {
            _acc.Bind();
            var sv = Contig(student, name); var tv = Contig(teacher, name); var cv = Contig(center, name);
            var lv = Contig(loss, name); var lsv = Contig(lseS, name); var ltv = Contig(lseT, name);
            if (rows == 0) return;
            _k.DinoForwardRows(RowConfig(rows, d), sv, tv, cv, lv, lsv, ltv, rows, d, invTs, invTt);
        }
    }

    public void DinoCrossEntropyBackward(Tensor student, Tensor teacher, Tensor center, Tensor loss, Tensor lseS, Tensor lseT, Tensor g,
        Tensor? gStudent, Tensor? gTeacher, int rows, int d, float invTs, float invTt)
    {
        const string name = "dino_cross_entropy_backward";
        CheckDino(student, teacher, center, loss, lseS, lseT, rows, d, name);
        CheckCount(g, rows, name, "output gradient");
        if (gStudent is not null) CheckCount(gStudent, (long)rows * d, name, "student gradient");
        if (gTeacher is not null) CheckCount(gTeacher, (long)rows * d, name, "teacher gradient");
        lock (_gate)
        {
            _acc.Bind();
            var sv = Contig(student, name); var tv = Contig(teacher, name); var cv = Contig(center, name);
            var lv = Contig(loss, name); var lsv = Contig(lseS, name); var ltv = Contig(lseT, name); var gv = Contig(g, name);
            ArrayView<float> gsv = gStudent is null ? Placeholder : Contig(gStudent, name);
            ArrayView<float> gtv = gTeacher is null ? Placeholder : Contig(gTeacher, name);
            int n = rows * d;
            if (n == 0 || (gStudent is null && gTeacher is null)) return;
            var args = new DinoBackwardArgs { D = d, InvTs = invTs, InvTt = invTt, WantS = gStudent is null ? 0 : 1, WantT = gTeacher is null ? 0 : 1 };
            _k.DinoBackward(Grid(n), n, Grid(n), sv, tv, cv, lv, lsv, ltv, gv, gsv, gtv, args);
        }
    }

    static void CheckDino(Tensor student, Tensor teacher, Tensor center, Tensor loss, Tensor lseS, Tensor lseT, int rows, int d, string name)
    {
        CheckCount(student, (long)rows * d, name, "student");
        CheckCount(teacher, (long)rows * d, name, "teacher");
        CheckCount(center, d, name, "center");
        CheckCount(loss, rows, name, "loss");
        CheckCount(lseS, rows, name, "student log-sum-exp");
        CheckCount(lseT, rows, name, "teacher log-sum-exp");
    }
}
