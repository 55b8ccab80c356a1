namespace FsrNative;

/// <summary>
/// A flat run of 4-byte words on one device, shared by every tensor that views it. Reference counted: each tensor
/// handle holds one reference, and the last release hands the memory back to its device's caching allocator.
/// </summary>
public abstract class Storage
{
    int _refs = 1;

    protected Storage(Device device, int length)
    {
        Device = device;
        Length = length;
    }

    public Device Device { get; }

    /// <summary>Capacity in elements (4-byte words).</summary>
    public int Length { get; }

    public bool IsReleased => Volatile.Read(ref _refs) <= 0;

    /// <summary>How many handles share this storage.</summary>
    internal int RefCount => Volatile.Read(ref _refs);

    /// <summary>Bumped by every in-place op; autograd compares it with the value recorded at forward time and
    /// refuses to run a backward whose saved tensors were modified since.</summary>
    public int Version { get; private set; }
    internal void BumpVersion() => Version++;

    internal void AddRef()
    {
        if (Interlocked.Increment(ref _refs) <= 1)
            throw new ObjectDisposedException(nameof(Storage), "storage was already released; a disposed tensor cannot be viewed");
    }

    internal void Release()
    {
        int left = Interlocked.Decrement(ref _refs);
        if (left == 0) Free();
        else if (left < 0) throw new InvalidOperationException("storage released more often than referenced");
    }

    /// <summary>Gives the memory back (to a pool or the system). Called once, by the last <see cref="Release"/>.</summary>
    protected abstract void Free();
}

/// <summary>Storage in managed memory: a pinned float array from the <see cref="CpuAllocator"/>.</summary>
public sealed class CpuStorage : Storage
{
    internal CpuStorage(float[] data, int length) : base(Device.CPU, length) { Data = data; }

    /// <summary>The array (possibly longer than <see cref="Storage.Length"/>: it comes from a size-bucketed pool).</summary>
    public float[] Data { get; }

    public Span<float> Span => Data.AsSpan(0, Length);
    public Span<int> IntSpan => System.Runtime.InteropServices.MemoryMarshal.Cast<float, int>(Span);

    protected override void Free() => CpuAllocator.Return(Data);
}
