// Data movement on 4-byte words: fill, strided copy and Float32 <-> Int32 casts. Implicitly grouped, one work item
// per element, grid-stride (launch extent = step ≤ n; thread t does elements t, t+step, …; the loop bound is the
// bounds check). Words are moved as floats: a float load/store copies the 32 bits unchanged (NaN payloads included),
// so Int32 tensors share these kernels. Contiguous -> contiguous copies need no kernel (the backend uses a memcpy).
using ILGPU;

namespace FsrNative.Kernels.Gpu;

public static class CopyKernels
{
    /// <summary>y[i] = value for a contiguous y.</summary>
    [GpuKernel]
    public static void FillContiguous(Index1D index, int n, int step, ArrayView<float> y, float value)
    {
        for (int i = index; i < n; i += step)
        {
            y[i] = value;
        }
    }

    /// <summary>y[ly(i)] = value for y of any layout (whole buffer plus layout).</summary>
    [GpuKernel]
    public static void FillStrided(Index1D index, int n, int step, ArrayView<float> y, StridedLayout ly, float value)
    {
        for (int i = index; i < n; i += step)
        {
            y[ly.OffsetOf(i)] = value;
        }
    }

    /// <summary>dst[ld(i)] = src[ls(i)]: both of any layout, same logical shape.</summary>
    [GpuKernel]
    public static void CopyStrided(Index1D index, int n, int step, ArrayView<float> src, StridedLayout ls, ArrayView<float> dst, StridedLayout ld)
    {
        for (int i = index; i < n; i += step)
        {
            dst[ld.OffsetOf(i)] = src[ls.OffsetOf(i)];
        }
    }

    /// <summary>dst[i] = (float)src[ls(i)]: Int32 source of any layout, contiguous Float32 destination.</summary>
    [GpuKernel]
    public static void CastInt32ToFloat(Index1D index, int n, int step, ArrayView<int> src, StridedLayout ls, ArrayView<float> dst)
    {
        for (int i = index; i < n; i += step)
        {
            dst[i] = src[ls.OffsetOf(i)];
        }
    }

    /// <summary>dst[i] = (int)src[ls(i)], truncating toward zero. NaN and values outside [−2³¹, 2³¹) are reported
    /// through <paramref name="errors"/> (see <see cref="KernelErrors"/>) and written as 0.</summary>
    [GpuKernel]
    public static void CastFloatToInt32(Index1D index, int n, int step, ArrayView<float> src, StridedLayout ls, ArrayView<int> dst, ArrayView<int> errors)
    {
        for (int i = index; i < n; i += step)
        {
            float v = src[ls.OffsetOf(i)];
            if (!(v >= -2147483648f && v < 2147483648f))   // also true for NaN
            {
                KernelErrors.Report(errors, KernelErrors.CastToInt32, i, (int)Interop.FloatAsInt(v), 0);
                dst[i] = 0;
                continue;
            }
            dst[i] = (int)v;
        }
    }
}
