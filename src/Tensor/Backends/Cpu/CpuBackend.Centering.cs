using FsrNative.Kernels.Cpu;
using RefC = FsrNative.Kernels.Cpu.Reference.ReferenceCentering<double>;

namespace FsrNative;

public sealed unsafe partial class CpuBackend
{
    public void DinoCrossEntropy(Tensor student, Tensor teacher, Tensor center, Tensor loss, Tensor lseS, Tensor lseT, int rows, int d, float invTs, float invTt)
    {
        const string n = "dino_cross_entropy";
        if (IsDouble(student))
        {
            RefC.Forward(ContigD(student, n), ContigD(teacher, n), ContigD(center, n), ContigD(loss, n), ContigD(lseS, n), ContigD(lseT, n),
                rows, d, invTs, invTt);
            return;
        }
        CpuDino.Forward(Contig(student, n), Contig(teacher, n), Contig(center, n), Contig(loss, n), Contig(lseS, n), Contig(lseT, n),
            rows, d, invTs, invTt);
    }

    public void DinoCrossEntropyBackward(Tensor student, Tensor teacher, Tensor center, Tensor loss, Tensor lseS, Tensor lseT, Tensor g,
        Tensor? gStudent, Tensor? gTeacher, int rows, int d, float invTs, float invTt)
    {
        const string n = "dino_cross_entropy_backward";
        if (IsDouble(student))
        {
            RefC.Backward(ContigD(student, n), ContigD(teacher, n), ContigD(center, n), ContigD(loss, n), ContigD(lseS, n), ContigD(lseT, n),
                ContigD(g, n), gStudent is null ? default : ContigD(gStudent, n), gTeacher is null ? default : ContigD(gTeacher, n),
                rows, d, invTs, invTt);
            return;
        }
        CpuDino.Backward(Contig(student, n), Contig(teacher, n), Contig(center, n), Contig(loss, n), Contig(lseS, n), Contig(lseT, n),
            Contig(g, n), gStudent is null ? default : Contig(gStudent, n), gTeacher is null ? default : Contig(gTeacher, n),
            rows, d, invTs, invTt);
    }
}
