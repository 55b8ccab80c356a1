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
    /// THE dispatch point of the bf16 GEMM on ILGPU devices (CUDA and the CPU accelerator). Where the hand-written PTX
    /// tensor-core GEMM is selected (a CUDA device on a validated architecture, or FSR_GPU_KERNELS=ptx) and covers the
    /// call, it runs on the unrounded float32 operands (it converts on load with cvt.rn.bf16x2.f32, the same
    /// round-to-nearest-even as Bf16Round). Otherwise the emulation: operands rounded by the Bf16Round kernel into
    /// temporaries, then the float32 GEMM kernel (<see cref="Matmul"/>), queued on the same stream (no synchronisation).
    /// </summary>
    public void MatmulBf16(in MatmulArgs args)
    {
        if (TryPtxGemmBf16(args)) return;
        var rounded = Bf16GemmOperands.Round(this, args, out var a, out var b);
        try { Matmul(rounded); }
        finally { a.Dispose(); b.Dispose(); }
    }
}
