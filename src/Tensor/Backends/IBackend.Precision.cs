namespace FsrNative;

/// <summary>Mixed precision: bfloat16 rounding and the autocast GEMM (op layer: src/Autograd/Ops/Precision.cs,
/// src/Autograd/Autocast.cs; design: docs/engine.md "Mixed precision").</summary>
public partial interface IBackend
{
    /// <summary>y = x rounded to the nearest bfloat16 (ties to even; NaN stays NaN, ±∞ and ±0 stay), stored in the
    /// tensor's own type (Float32, or Float64 on the CPU backend). x and y contiguous with the same number of elements;
    /// y may be x (in place).</summary>
    void Bf16Round(Tensor x, Tensor y);

    /// <summary>
    /// The autocast GEMM: <see cref="Matmul"/> with both operands rounded to bfloat16 and products accumulated in
    /// float32 — C = alpha·bf16(op(A))·bf16(op(B)) + beta·C, the numbers a bf16×bf16→fp32 tensor-core GEMM gives
    /// (apart from the order of accumulation). A and B are not modified. The single dispatch point for a hardware
    /// BF16 GEMM: both backends currently round the operands into temporaries (<see cref="Bf16GemmOperands"/>) and
    /// run their float32 GEMM.
    /// </summary>
    void MatmulBf16(in MatmulArgs args);
}
