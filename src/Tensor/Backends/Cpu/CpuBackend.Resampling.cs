using FsrNative.Kernels;
using FsrNative.Kernels.Cpu;
using RefR = FsrNative.Kernels.Cpu.Reference.ReferenceResampling<double>;

namespace FsrNative;

public sealed unsafe partial class CpuBackend
{
    public void Resample(Tensor x, Tensor y, int planes, ResampleMode mode, ResampleAxis h, ResampleAxis w)
    {
        const string n = "interpolate";
        if (IsDouble(x)) { RefR.Forward(ContigD(x, n), ContigD(y, n), planes, mode, h, w); return; }
        CpuResample.Forward(Contig(x, n), Contig(y, n), planes, mode, h, w);
    }

    public void ResampleBackward(Tensor gy, Tensor gx, int planes, ResampleMode mode, ResampleAxis h, ResampleAxis w)
    {
        const string n = "interpolate_backward";
        if (IsDouble(gy)) { RefR.Backward(ContigD(gy, n), ContigD(gx, n), planes, mode, h, w); return; }
        CpuResample.Backward(Contig(gy, n), Contig(gx, n), planes, mode, h, w);
    }

    public void Flip(Tensor src, Tensor dst, int outer, int n, int inner)
    {
        const string name = "flip";
        SameShape(src, dst, name);
        if (src.DType != dst.DType) throw new ArgumentException($"{name}: element types {src.DType} and {dst.DType} differ");
        if (IsDouble(src)) { RefR.Flip(ContigD(src, name), ContigD(dst, name), outer, n, inner); return; }
        CpuResample.Flip(Contig(src, name), Contig(dst, name), outer, n, inner);   // 4-byte words: Float32 or Int32 bits
    }
}
