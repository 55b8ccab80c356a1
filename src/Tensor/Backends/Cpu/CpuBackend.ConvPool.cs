using FsrNative.Kernels;
using FsrNative.Kernels.Cpu;
using RefCP = FsrNative.Kernels.Cpu.Reference.ReferenceConvPool<double>;

namespace FsrNative;

/// <summary>Convolution and pooling on the CPU: Float32 through the SIMD kernels (CpuConv2d: im2col + packed SGEMM,
/// with scratch rented from the caching allocator; CpuPool2d), Float64 through the reference kernels.</summary>
public sealed unsafe partial class CpuBackend
{
    static void CheckCount(Tensor t, long expected, string op, string what)
    {
        if (t.NumEl != expected)
            throw new ArgumentException($"{op}: {what} {t.Describe()} has {t.NumEl} elements, expected {expected}");
    }

    static void CheckConv(Tensor x, Tensor w, Tensor y, in Conv2dGeometry g, string op, string xName, string yName)
    {
        CheckCount(x, (long)g.N * g.C * g.H * g.W, op, xName);
        CheckCount(w, (long)g.O * g.C * g.KH * g.KW, op, "weight");
        CheckCount(y, (long)g.N * g.O * g.OH * g.OW, op, yName);
    }

    /// <summary>Runs <paramref name="body"/> with a scratch buffer of <paramref name="length"/> floats from the caching
    /// allocator (null when length is 0), returned afterwards.</summary>
    static void WithScratch(long length, string op, Action<IntPtr, long> body)
    {
        if (length == 0) { body(IntPtr.Zero, 0); return; }
        if (length > int.MaxValue - 64) throw new NotSupportedException($"{op}: {length} floats of im2col scratch exceed one array");
        var array = CpuAllocator.Rent((int)length);
        try
        {
            fixed (float* p = array) body((IntPtr)p, length);
        }
        finally
        {
            CpuAllocator.Return(array);
        }
    }

    static float* Ptr(Tensor t) { fixed (float* p = Data(t)) return p + t.Offset; }   // arrays are pinned (POH)

    public void Conv2d(Tensor x, Tensor w, Tensor? bias, Tensor y, in Conv2dGeometry g)
    {
        const string n = "conv2d";
        CheckConv(x, w, y, g, n, "input", "output");
        if (bias is not null) CheckCount(bias, g.O, n, "bias");
        if (IsDouble(x))
        {
            RefCP.Conv2d(ContigD(x, n), ContigD(w, n), bias is null ? default : ContigD(bias, n), ContigD(y, n), g);
            return;
        }
        Contig(x, n); Contig(w, n); Contig(y, n);
        if (bias is not null) Contig(bias, n);
        var geometry = g;
        WithScratch(CpuConv2d.ScratchLength(g), n, (s, len) =>
            CpuConv2d.Forward(Ptr(x), Ptr(w), bias is null ? null : Ptr(bias), Ptr(y), geometry, (float*)s, len));
    }

    public void Conv2dBackwardInput(Tensor gy, Tensor w, Tensor gx, in Conv2dGeometry g)
    {
        const string n = "conv2d_backward_input";
        CheckConv(gx, w, gy, g, n, "input gradient", "output gradient");
        if (IsDouble(gy)) { RefCP.Conv2dBackwardInput(ContigD(gy, n), ContigD(w, n), ContigD(gx, n), g); return; }
        Contig(gy, n); Contig(w, n); Contig(gx, n);
        var geometry = g;
        WithScratch(CpuConv2d.ScratchLength(g), n, (s, len) => CpuConv2d.BackwardInput(Ptr(gy), Ptr(w), Ptr(gx), geometry, (float*)s, len));
    }

    public void Conv2dBackwardWeight(Tensor x, Tensor gy, Tensor gw, in Conv2dGeometry g)
    {
        const string n = "conv2d_backward_weight";
        CheckConv(x, gw, gy, g, n, "input", "output gradient");
        if (IsDouble(x)) { RefCP.Conv2dBackwardWeight(ContigD(x, n), ContigD(gy, n), ContigD(gw, n), g); return; }
        Contig(x, n); Contig(gy, n); Contig(gw, n);
        var geometry = g;
        WithScratch(CpuConv2d.ScratchLength(g), n, (s, len) => CpuConv2d.BackwardWeight(Ptr(x), Ptr(gy), Ptr(gw), geometry, (float*)s, len));
    }

    static void CheckPool(Tensor x, Tensor y, in Pool2dGeometry g, string op, string xName, string yName)
    {
        CheckCount(x, (long)g.Planes * g.H * g.W, op, xName);
        CheckCount(y, (long)g.Planes * g.OH * g.OW, op, yName);
    }

    public void MaxPool2d(Tensor x, Tensor y, Tensor indices, in Pool2dGeometry g)
    {
        const string n = "max_pool2d";
        CheckPool(x, y, g, n, "input", "output");
        CheckCount(indices, y.NumEl, n, "indices");
        if (IsDouble(x)) { RefCP.MaxPool2d(ContigD(x, n), ContigD(y, n), ContigInt(indices, n), g); return; }
        Contig(x, n); Contig(y, n); ContigInt(indices, n);
        CpuPool2d.MaxForward(Ptr(x), Ptr(y), (int*)Ptr(indices), g);
    }

    public void MaxPool2dBackward(Tensor gy, Tensor indices, Tensor gx, in Pool2dGeometry g)
    {
        const string n = "max_pool2d_backward";
        CheckPool(gx, gy, g, n, "input gradient", "output gradient");
        CheckCount(indices, gy.NumEl, n, "indices");
        if (IsDouble(gy)) { RefCP.MaxPool2dBackward(ContigD(gy, n), ContigInt(indices, n), ContigD(gx, n), g); return; }
        Contig(gy, n); Contig(gx, n); ContigInt(indices, n);
        CpuPool2d.MaxBackward(Ptr(gy), (int*)Ptr(indices), Ptr(gx), g);
    }

    public void AvgPool2d(Tensor x, Tensor y, in Pool2dGeometry g)
    {
        string n = g.Adaptive != 0 ? "adaptive_avg_pool2d" : "avg_pool2d";
        CheckPool(x, y, g, n, "input", "output");
        if (IsDouble(x)) { RefCP.AvgPool2d(ContigD(x, n), ContigD(y, n), g); return; }
        Contig(x, n); Contig(y, n);
        CpuPool2d.AvgForward(Ptr(x), Ptr(y), g);
    }

    public void AvgPool2dBackward(Tensor gy, Tensor gx, in Pool2dGeometry g)
    {
        string n = g.Adaptive != 0 ? "adaptive_avg_pool2d_backward" : "avg_pool2d_backward";
        CheckPool(gx, gy, g, n, "input gradient", "output gradient");
        if (IsDouble(gy)) { RefCP.AvgPool2dBackward(ContigD(gy, n), ContigD(gx, n), g); return; }
        Contig(gy, n); Contig(gx, n);
        CpuPool2d.AvgBackward(Ptr(gy), Ptr(gx), g);
    }
}
