using FsrNative.Kernels;
using FsrNative.Kernels.Gpu;

namespace FsrNative;

public sealed partial class IlgpuBackend
{
    public void Resample(Tensor x, Tensor y, int planes, ResampleMode mode, ResampleAxis h, ResampleAxis w)
    {
        const string name = "interpolate";
        CheckCount(x, (long)planes * h.In * w.In, name, "input");
        CheckCount(y, (long)planes * h.Out * w.Out, name, "output");
        lock (_gate)
        {
            _acc.Bind();
            var xv = Contig(x, name); var yv = Contig(y, name);
            int n = y.NumEl;
            if (n == 0) return;
            _k.ResampleForward(Grid(n), n, Grid(n), xv, yv, h, w, mode);
        }
    }

    public void ResampleBackward(Tensor gy, Tensor gx, int planes, ResampleMode mode, ResampleAxis h, ResampleAxis w)
    {
        const string name = "interpolate_backward";
        CheckCount(gy, (long)planes * h.Out * w.Out, name, "output gradient");
        CheckCount(gx, (long)planes * h.In * w.In, name, "input gradient");
        lock (_gate)
        {
            _acc.Bind();
            var gyv = Contig(gy, name); var gxv = Contig(gx, name);
            int n = gx.NumEl;
            if (n == 0) return;
            _k.ResampleBackward(Grid(n), n, Grid(n), gyv, gxv, h, w, mode);
        }
    }

    public void Flip(Tensor src, Tensor dst, int outer, int n, int inner)
    {
        const string name = "flip";
        SameShape(src, dst, name);
        CheckCount(src, (long)outer * n * inner, name, "input");
        lock (_gate)
        {
            _acc.Bind();
            var sv = Contig(src, name); var dv = Contig(dst, name);   // 4-byte words: Float32 or Int32 bits
            int total = src.NumEl;
            if (total == 0) return;
            _k.Flip(Grid(total), total, Grid(total), sv, dv, n, inner);
        }
    }
}
