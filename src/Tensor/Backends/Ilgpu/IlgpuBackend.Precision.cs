namespace FsrNative;

public sealed partial class IlgpuBackend
{
    public void Bf16Round(Tensor x, Tensor y)
    {
        const string name = "round_to_bfloat16";
        CheckCount(y, x.NumEl, name, "output");
        lock (_gate)
        {
            _acc.Bind();
            var xv = Contig(x, name); var yv = Contig(y, name);
            int n = x.NumEl;
            if (n == 0) return;
            _k.Bf16Round(Grid(n), n, Grid(n), xv, yv);
        }
    }

    /// <summary>
    /// THE dispatch point of the bf16 GEMM on ILGPU devices (CUDA and the CPU accelerator). Today: the emulation —
    /// operands rounded by the Bf16Round kernel into temporaries, then the float32 GEMM kernel (<see cref="Matmul"/>),
    /// queued on the same stream (no synchronisation). Once the hand-written PTX BF16 tensor-core GEMM lands
    /// (kernels-ptx/), a CUDA device on a validated architecture calls it from here instead, on the unrounded float32
    /// operands (it converts on load with cvt.rn.bf16x2.f32, the same rounding).
    /// </summary>
    public void MatmulBf16(in MatmulArgs args)
    {
        var rounded = Bf16GemmOperands.Round(this, args, out var a, out var b);
        try { Matmul(rounded); }
        finally { a.Dispose(); b.Dispose(); }
    }
}
