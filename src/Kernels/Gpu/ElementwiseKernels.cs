// Elementwise kernels: unary, unary backward, binary and where. Implicitly grouped, one work item per output element,
// grid-stride (launch extent = step ≤ n; thread t does elements t, t+step, …; the loop bound is the bounds check). Outputs are contiguous. Each op has a
// contiguous fast path and a strided version whose inputs carry a StridedLayout (any strides, 0 = broadcast).
// The math is ScalarMath's, shared with the CPU backend.
using ILGPU;

namespace FsrNative.Kernels.Gpu;

public static class ElementwiseKernels
{
    /// <summary>y[i] = f(x[i]) for contiguous x and y.</summary>
    [GpuKernel]
    public static void UnaryContiguous(Index1D index, int n, int step, ArrayView<float> x, ArrayView<float> y, UnaryOp op, float a, float b)
    {
        for (int i = index; i < n; i += step)
        {
            y[i] = ScalarMath.Unary(op, x[i], a, b);
        }
    }

    /// <summary>y[i] = f(x[lx(i)]): x of any layout (whole buffer plus layout), y contiguous.</summary>
    [GpuKernel]
    public static void UnaryStrided(Index1D index, int n, int step, ArrayView<float> x, StridedLayout lx, ArrayView<float> y, UnaryOp op, float a, float b)
    {
        for (int i = index; i < n; i += step)
        {
            y[i] = ScalarMath.Unary(op, x[lx.OffsetOf(i)], a, b);
        }
    }

    /// <summary>gx[i] = gy[i] · f′(x[i]) given y = f(x); all contiguous.</summary>
    [GpuKernel]
    public static void UnaryBackward(Index1D index, int n, int step, ArrayView<float> x, ArrayView<float> y, ArrayView<float> gy,
        ArrayView<float> gx, UnaryOp op, float a, float b)
    {
        for (int i = index; i < n; i += step)
        {
            gx[i] = gy[i] * ScalarMath.UnaryGrad(op, x[i], y[i], a, b);
        }
    }

    /// <summary>y[i] = a[i] ∘ b[i], all contiguous.</summary>
    [GpuKernel]
    public static void BinaryContiguous(Index1D index, int n, int step, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, BinaryOp op)
    {
        for (int i = index; i < n; i += step)
        {
            y[i] = ScalarMath.Binary(op, a[i], b[i]);
        }
    }

    /// <summary>y[i] = a[la(i)] ∘ b[lb(i)]: inputs of any layout (broadcast by stride 0), y contiguous.</summary>
    [GpuKernel]
    public static void BinaryStrided(Index1D index, int n, int step, ArrayView<float> a, StridedLayout la, ArrayView<float> b, StridedLayout lb,
        ArrayView<float> y, BinaryOp op)
    {
        for (int i = index; i < n; i += step)
        {
            y[i] = ScalarMath.Binary(op, a[la.OffsetOf(i)], b[lb.OffsetOf(i)]);
        }
    }

    /// <summary>y[i] = cond[i] ≠ 0 ? a[i] : b[i], all contiguous.</summary>
    [GpuKernel]
    public static void WhereContiguous(Index1D index, int n, int step, ArrayView<float> cond, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y)
    {
        for (int i = index; i < n; i += step)
        {
            y[i] = cond[i] != 0f ? a[i] : b[i];
        }
    }

    /// <summary>y[i] = cond[lc(i)] ≠ 0 ? a[la(i)] : b[lb(i)]: inputs of any layout, y contiguous.</summary>
    [GpuKernel]
    public static void WhereStrided(Index1D index, int n, int step, ArrayView<float> cond, StridedLayout lc, ArrayView<float> a, StridedLayout la,
        ArrayView<float> b, StridedLayout lb, ArrayView<float> y)
    {
        for (int i = index; i < n; i += step)
        {
            y[i] = cond[lc.OffsetOf(i)] != 0f ? a[la.OffsetOf(i)] : b[lb.OffsetOf(i)];
        }
    }
}
