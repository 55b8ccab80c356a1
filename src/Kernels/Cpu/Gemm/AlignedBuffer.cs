using System.Runtime.InteropServices;

namespace FsrNative.Kernels.Cpu;

/// <summary>
/// A 64-byte aligned native float buffer that only grows. The GEMM keeps one per thread (packed A and B blocks, scratch)
/// and reuses it across calls; the finalizer frees it when its thread is gone.
/// </summary>
internal sealed unsafe class AlignedBuffer
{
    public float* Pointer { get; private set; }
    public long Capacity { get; private set; }

    public AlignedBuffer(long floats) => Grow(floats);

    /// <summary>Returns a pointer to at least <paramref name="floats"/> floats; contents are not preserved when it grows.</summary>
    public float* Get(long floats)
    {
        if (floats > Capacity) Grow(floats);
        return Pointer;
    }

    private void Grow(long floats)
    {
        if (Pointer != null) NativeMemory.AlignedFree(Pointer);
        Pointer = null;
        Capacity = 0;
        long n = Math.Max(floats, 16);
        Pointer = (float*)NativeMemory.AlignedAlloc((nuint)(n * sizeof(float)), 64);
        Capacity = n;
    }

    ~AlignedBuffer()
    {
        if (Pointer != null) NativeMemory.AlignedFree(Pointer);
    }
}
