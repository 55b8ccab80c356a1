using ILGPU;
using ILGPU.Runtime;

namespace FsrNative;

/// <summary>Storage in the memory of an ILGPU accelerator: a dense float buffer from the backend's caching allocator.</summary>
public sealed class IlgpuStorage : Storage
{
    internal IlgpuAllocator Allocator { get; }

    internal IlgpuStorage(Device device, int length, MemoryBuffer1D<float, Stride1D.Dense> buffer, IlgpuAllocator allocator)
        : base(device, length)
    {
        Buffer = buffer;
        Allocator = allocator;
    }

    /// <summary>The buffer (possibly longer than <see cref="Storage.Length"/>: it comes from a size-bucketed pool).</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> Buffer { get; }

    /// <summary>The whole buffer as a kernel argument.</summary>
    public ArrayView<float> View => Buffer.View;

    protected override void Free() => Allocator.Return(Buffer);
}
