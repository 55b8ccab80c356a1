// Index-driven kernels on contiguous (outer, n|k, inner) blocks with Int32 indices. Implicitly grouped, grid-stride (launch extent = step ≤ the
// work count; thread t does work items t, t+step, …):
//  * IndexSelect, Gather, OneHot: one thread per output element.
//  * IndexAdd, ScatterAdd: one thread per (outer, inner) column looping over j = 0..k−1 in order. Every write of a
//    thread lands in its own column (o, ·, i), so there are no races and no atomics, and the additions happen in the
//    same order as on the CPU backend (deterministic).
// An index outside [0, n) is clamped (no out-of-bounds access) and reported through the error buffer; the host
// throws at the next sync point (see KernelErrors).
using ILGPU;

namespace FsrNative.Kernels.Gpu;

public static class IndexingKernels
{
    /// <summary>Checks v against [0, n): reports and clamps when outside.</summary>
    static int Checked(int v, int n, ArrayView<int> errors, int op, int position)
    {
        if ((uint)v < (uint)n) return v;
        KernelErrors.Report(errors, op, position, v, n);
        return v < 0 ? 0 : n - 1;
    }

    /// <summary>dst(o, j, i) = src(o, index[j], i); one thread per dst element (total = outer·k·inner).</summary>
    [GpuKernel]
    public static void IndexSelect(Index1D index, int total, int step, ArrayView<float> src, ArrayView<int> idx, ArrayView<float> dst,
        int n, int k, int inner, ArrayView<int> errors)
    {
        for (int p = index; p < total; p += step)
        {
            int i = p % inner, rest = p / inner;
            int j = rest % k, o = rest / k;
            int v = Checked(idx[j], n, errors, KernelErrors.IndexSelect, j);
            dst[p] = src[(o * n + v) * inner + i];
        }
    }

    /// <summary>dst(o, index[j], i) += src(o, j, i) for j = 0..k−1 in order; one thread per (o, i) column (columns = outer·inner).</summary>
    [GpuKernel]
    public static void IndexAdd(Index1D index, int columns, int step, ArrayView<float> dst, ArrayView<int> idx, ArrayView<float> src,
        int n, int k, int inner, ArrayView<int> errors)
    {
        for (int p = index; p < columns; p += step)
        {
            int o = p / inner, i = p - o * inner;
            for (int j = 0; j < k; j++)
            {
                int v = Checked(idx[j], n, errors, KernelErrors.IndexAdd, j);
                int d = (o * n + v) * inner + i;
                dst[d] = dst[d] + src[(o * k + j) * inner + i];
            }
        }
    }

    /// <summary>dst(o, j, i) = src(o, index(o, j, i), i); one thread per dst element (total = outer·k·inner).</summary>
    [GpuKernel]
    public static void Gather(Index1D index, int total, int step, ArrayView<float> src, ArrayView<int> idx, ArrayView<float> dst,
        int n, int k, int inner, ArrayView<int> errors)
    {
        for (int p = index; p < total; p += step)
        {
            int i = p % inner, o = p / inner / k;
            int v = Checked(idx[p], n, errors, KernelErrors.Gather, p);
            dst[p] = src[(o * n + v) * inner + i];
        }
    }

    /// <summary>dst(o, index(o, j, i), i) += src(o, j, i) for j = 0..k−1 in order; one thread per (o, i) column.</summary>
    [GpuKernel]
    public static void ScatterAdd(Index1D index, int columns, int step, ArrayView<float> dst, ArrayView<int> idx, ArrayView<float> src,
        int n, int k, int inner, ArrayView<int> errors)
    {
        for (int p = index; p < columns; p += step)
        {
            int o = p / inner, i = p - o * inner;
            for (int j = 0; j < k; j++)
            {
                int s = (o * k + j) * inner + i;
                int v = Checked(idx[s], n, errors, KernelErrors.ScatterAdd, s);
                int d = (o * n + v) * inner + i;
                dst[d] = dst[d] + src[s];
            }
        }
    }

    /// <summary>dst(p, c) = index[p] == c ? 1 : 0 for c &lt; classes; one thread per dst element (total = count·classes).
    /// An out-of-range index gives a row of zeros and is reported (by the c = 0 thread).</summary>
    [GpuKernel]
    public static void OneHot(Index1D index, int total, int step, ArrayView<int> idx, ArrayView<float> dst, int classes, ArrayView<int> errors)
    {
        for (int q = index; q < total; q += step)
        {
            int p = q / classes, c = q - p * classes;
            int v = idx[p];
            if (c == 0 && (uint)v >= (uint)classes) KernelErrors.Report(errors, KernelErrors.OneHot, p, v, classes);
            dst[q] = v == c ? 1f : 0f;
        }
    }

    /// <summary>Reports the indices outside [0, limit) (error code <paramref name="op"/>) without producing output; one thread
    /// per index. Used where the producing kernel has no thread per index (one_hot with 0 classes).</summary>
    [GpuKernel]
    public static void CheckRange(Index1D index, int count, int step, ArrayView<int> idx, int limit, int op, ArrayView<int> errors)
    {
        for (int p = index; p < count; p += step)
        {
            Checked(idx[p], limit, errors, op, p);
        }
    }
}
