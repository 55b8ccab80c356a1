using static FsrNative.OpSupport;

namespace FsrNative;

/// <summary>
/// matmul with PyTorch's semantics (1-D operands, broadcast batch dimensions) on top of one batched GEMM
/// primitive. Transposed operands are never copied: a view whose last two strides are (1, ld) is passed as a
/// transposed GEMM operand. The backward is two more matmuls on transposed views:
/// dA = dC · op(B)ᵀ and dB = op(A)ᵀ · dC, summed over broadcast batch dimensions. Inside <c>torch.autocast()</c>
/// the forward and both backward products run on the backend's bf16 GEMM (<see cref="IBackend.MatmulBf16"/>:
/// operands rounded to bfloat16, float32 accumulation and result), decided at forward time.
/// </summary>
public static partial class TensorOps
{
    extension(Tensor a)
    {
        public Tensor matmul(Tensor b)
        {
            const string name = "matmul";
            SameDevice(a, b, name);
            Float(a, name);
            Float(b, name);
            SameDType(a, b, name);
            if (a.dim() == 0 || b.dim() == 0) throw new ArgumentException($"matmul: both arguments need at least one dimension, got {Shape.Format(a.ShapeSpan)} and {Shape.Format(b.ShapeSpan)}");
            if (a.dim() == 1 && b.dim() == 1) return a.unsqueeze(0).matmul(b.unsqueeze(1)).reshape([]);
            if (a.dim() == 1) return a.unsqueeze(0).matmul(b).squeeze(-2);
            if (b.dim() == 1) return a.matmul(b.unsqueeze(1)).squeeze(-1);
            return Matmul2D(a, b, Autocast.Applies(a));
        }

        public static Tensor operator %(Tensor x, Tensor y) => x.matmul(y);
    }

    /// <summary>One GEMM operand: the strides of its last two dims decide whether it is read as is or transposed;
    /// any other layout is copied (counted: this is the only copy matmul ever makes).</summary>
    static bool GemmLayout(int rows, int cols, int rowStride, int colStride, out bool trans, out int ld)
    {
        if (colStride == 1 || cols == 1) { trans = false; ld = rows == 1 ? Math.Max(cols, 1) : rowStride; return true; }
        if (rowStride == 1 || rows == 1) { trans = true; ld = cols == 1 ? Math.Max(rows, 1) : colStride; return true; }
        trans = false; ld = 0;
        return false;
    }

    /// <summary>The product of operands with at least two dimensions; <paramref name="bf16"/>: on the bf16 GEMM, forward
    /// and backward (autocast, fixed when the op runs).</summary>
    static Tensor Matmul2D(Tensor a, Tensor b, bool bf16)
    {
        int m = a.size(-2), k = a.size(-1), n = b.size(-1);
        if (b.size(-2) != k)
            throw new ArgumentException($"matmul: shapes {Shape.Format(a.ShapeSpan)} and {Shape.Format(b.ShapeSpan)} cannot be multiplied ({m}×{k} and {b.size(-2)}×{n})");
        var batchA = a.ShapeArray[..^2];
        var batchB = b.ShapeArray[..^2];
        var batch = Shape.Broadcast(batchA, batchB, "matmul");
        var outShape = batch.Concat(new[] { m, n }).ToArray();
        var c = Tensor.Empty(outShape, a.device, a.DType);
        if (c.NumEl > 0) Gemm(a, b, c, batch, m, n, k, bf16: bf16);
        return Tape.Record(c, "matmul", [a, b], g =>
        {
            Tensor? ga = null, gb = null;
            if (a.requires_grad) ga = SumTo(Matmul2D(g, b.transpose(-1, -2), bf16), a.ShapeSpan);
            if (b.requires_grad) gb = SumTo(Matmul2D(a.transpose(-1, -2), g, bf16), b.ShapeSpan);
            return [ga, gb];
        });
    }

    /// <summary>Writes c = a·b for (batch…, m, k)·(batch…, k, n) operands broadcast to <paramref name="batch"/>; with
    /// <paramref name="bf16"/> on the backend's bf16 GEMM (operands rounded to bfloat16, float32 accumulation).</summary>
    internal static void Gemm(Tensor a, Tensor b, Tensor c, int[] batch, int m, int n, int k, float beta = 0f, bool bf16 = false)
    {
        Tensor? aCopy = null, bCopy = null;
        try
        {
            if (!GemmLayout(m, k, a.stride(-2), a.stride(-1), out bool transA, out int lda))
            {
                aCopy = a.ContiguousOrSelf();
                a = aCopy;
                GemmLayout(m, k, a.stride(-2), a.stride(-1), out transA, out lda);
            }
            if (!GemmLayout(k, n, b.stride(-2), b.stride(-1), out bool transB, out int ldb))
            {
                bCopy = b.ContiguousOrSelf();
                b = bCopy;
                GemmLayout(k, n, b.stride(-2), b.stride(-1), out transB, out ldb);
            }
            var stridesA = BatchStrides(a, batch);
            var stridesB = BatchStrides(b, batch);
            // Fold the batch into M when B is shared by every batch entry and A's rows continue evenly across
            // batch entries (x·Wᵀ for x of shape (B, N, in)): one large GEMM instead of many small ones.
            if (batch.Length > 0 && !transA && stridesB.All(s => s == 0) && FoldsIntoRows(batch, stridesA, m, lda))
            {
                int rows = Shape.NumEl(batch) * m;
                Run(a.Backend, new MatmulArgs(a, b, c, [], [], [], rows, n, k, false, lda, transB, ldb, 1f, beta), bf16);
                return;
            }
            Run(a.Backend, new MatmulArgs(a, b, c, batch, stridesA, stridesB, m, n, k, transA, lda, transB, ldb, 1f, beta), bf16);
        }
        finally
        {
            aCopy?.Dispose();
            bCopy?.Dispose();
        }
    }

    static void Run(IBackend backend, in MatmulArgs args, bool bf16)
    {
        if (bf16) backend.MatmulBf16(args);
        else backend.Matmul(args);
    }

    static int[] BatchStrides(Tensor t, int[] batch)
    {
        var shape = t.ShapeArray[..^2];
        var strides = t.StrideArray[..^2];
        return Shape.BroadcastStrides(shape, strides, batch);
    }

    /// <summary>True when row r of batch entry (b…) sits at (flat b)·m·lda + r·lda for every batch entry.</summary>
    static bool FoldsIntoRows(int[] batch, int[] strides, int m, int lda)
    {
        long expected = (long)m * lda;
        for (int i = batch.Length - 1; i >= 0; i--)
        {
            if (batch[i] == 1) continue;
            if (strides[i] != expected) return false;
            expected *= batch[i];
        }
        return true;
    }
}

public static partial class torch
{
    public static Tensor matmul(Tensor a, Tensor b) => a.matmul(b);

    public static partial class nn
    {
        public static partial class functional
        {
            /// <summary>y = x·Wᵀ + b with W of shape (out, in), as torch.nn.functional.linear.</summary>
            public static Tensor linear(Tensor input, Tensor weight, Tensor? bias = null)
            {
                if (weight.dim() != 2) throw new ArgumentException($"linear: weight must be 2-D (out, in), got {Shape.Format(weight.ShapeSpan)}");
                if (input.size(-1) != weight.size(1))
                    throw new ArgumentException($"linear: input features {input.size(-1)} do not match weight {Shape.Format(weight.ShapeSpan)}");
                var y = input.matmul(weight.t());
                return bias is null ? y : y.add(bias);
            }
        }
    }
}
