namespace FsrNative;

/// <summary>
/// The emulated BF16 GEMM's operands: each of A and B rounded to bfloat16 into a temporary that keeps the operand's
/// layout, so that the <see cref="MatmulArgs"/> (leading dimensions, transposition, batch strides) apply unchanged.
/// The temporary covers the operand's footprint — every storage element from its offset to the last one the GEMM
/// reads — and is rounded as one contiguous run (elements between rows that the GEMM skips are rounded too and never
/// read). For the usual operands (contiguous activations, a transposed weight, attention heads) that is the operand
/// itself; for a strided slice it can be larger.
/// </summary>
public static class Bf16GemmOperands
{
    /// <summary>Args whose A and B are bfloat16-rounded copies; the caller disposes <paramref name="roundedA"/> and
    /// <paramref name="roundedB"/> once the GEMM has been queued (the backends' streams keep the order).</summary>
    public static MatmulArgs Round(IBackend backend, in MatmulArgs args, out Tensor roundedA, out Tensor roundedB)
    {
        long lastA = LastElement(args.BatchShape, args.BatchStridesA, args.TransA, args.M, args.K, args.Lda);
        long lastB = LastElement(args.BatchShape, args.BatchStridesB, args.TransB, args.K, args.N, args.Ldb);
        roundedA = RoundedFootprint(backend, args.A, lastA);
        try
        {
            roundedB = RoundedFootprint(backend, args.B, lastB);
        }
        catch
        {
            roundedA.Dispose();
            throw;
        }
        return args with { A = roundedA, B = roundedB };
    }

    /// <summary>The largest element offset (relative to the operand's offset) that op(X) of (rows, cols) reads.</summary>
    static long LastElement(int[] batch, int[] batchStrides, bool trans, int rows, int cols, int ld)
    {
        if (rows == 0 || cols == 0 || Shape.NumEl(batch) == 0) return -1;
        long last = trans ? (long)(cols - 1) * ld + (rows - 1) : (long)(rows - 1) * ld + (cols - 1);
        for (int i = 0; i < batch.Length; i++) last += (long)(batch[i] - 1) * Math.Max(0, batchStrides[i]);
        return last;
    }

    static Tensor RoundedFootprint(IBackend backend, Tensor operand, long last)
    {
        int length = checked((int)(last + 1));
        var rounded = Tensor.Empty([length], backend.Device, operand.DType);
        if (length == 0) return rounded;
        using var footprint = operand.AsStridedRaw([length], [1], operand.Offset);
        backend.Bf16Round(footprint, rounded);
        return rounded;
    }
}
