using static FsrNative.OpSupport;

namespace FsrNative;

/// <summary>
/// Rounding to bfloat16 (stored in the tensor's own float type): the op behind autocast, and public as
/// <c>round_to_bfloat16</c>, PyTorch's <c>x.to(torch.bfloat16).to(torch.float32)</c>. Its backward is libtorch's for that
/// pair of casts: the gradient is rounded to bfloat16 too (the bf16 tensor's gradient is bf16), then passed through.
/// </summary>
public static partial class TensorOps
{
    extension(Tensor x)
    {
        /// <summary>Each element rounded to the nearest bfloat16 (ties to even; NaN, ±∞, ±0 kept), as x.to(bfloat16).to(x.dtype).</summary>
        public Tensor round_to_bfloat16()
        {
            Float(x, "round_to_bfloat16");
            var y = Bf16Copy(x);
            return Tape.Record(y, "round_to_bfloat16", [x], g => [Bf16Copy(g)]);
        }
    }

    /// <summary>A contiguous bfloat16-rounded copy of <paramref name="t"/>, not recorded on the tape (the autocast ops'
    /// operands and incoming gradients).</summary>
    internal static Tensor Bf16Copy(Tensor t)
    {
        var c = t.ContiguousOrSelf();
        var r = Tensor.Empty(t.ShapeArray, t.device, t.DType);
        t.Backend.Bf16Round(c, r);
        if (!ReferenceEquals(c, t)) c.Dispose();
        return r;
    }
}

public static partial class torch
{
    /// <summary>Each element rounded to the nearest bfloat16, as input.to(torch.bfloat16).to(input.dtype).</summary>
    public static Tensor round_to_bfloat16(Tensor input) => input.round_to_bfloat16();
}
