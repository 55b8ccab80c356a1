using FsrNative.Kernels.Cpu;
using RefP = FsrNative.Kernels.Cpu.Reference.ReferencePrecision<double>;

namespace FsrNative;

public sealed unsafe partial class CpuBackend
{
    public void Bf16Round(Tensor x, Tensor y)
    {
        const string n = "round_to_bfloat16";
        if (x.NumEl != y.NumEl) throw new ArgumentException($"{n}: output {y.Describe()} has {y.NumEl} elements, input {x.Describe()} {x.NumEl}");
        if (x.DType != y.DType) throw new ArgumentException($"{n}: input is {x.DType} but output is {y.DType}");
        if (IsDouble(x)) { RefP.RoundToBFloat16(ContigD(x, n), ContigD(y, n)); return; }
        CpuBf16.Round(Contig(x, n), Contig(y, n));
    }

    /// <summary>Emulated: bfloat16-rounded copies of the operands, then the float32 GEMM (Sgemm), whose float32
    /// accumulation of the exactly representable bf16×bf16 products is what a tensor-core BF16 GEMM computes.</summary>
    public void MatmulBf16(in MatmulArgs args)
    {
        var rounded = Bf16GemmOperands.Round(this, args, out var a, out var b);
        try { Matmul(rounded); }
        finally { a.Dispose(); b.Dispose(); }
    }
}
