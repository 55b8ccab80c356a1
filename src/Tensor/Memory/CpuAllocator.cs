namespace FsrNative;

/// <summary>
/// The CPU caching allocator. Fresh 100–200 MB arrays cost tens of milliseconds of page faults on every call
/// (this is where libtorch loses time on memory-bound ops), so released arrays are kept in size buckets and
/// handed out again. Buckets are powers of two above 4096 elements, rounded up to a multiple of 4096 in between,
/// so waste is at most half an array. Arrays are pinned (allocated on the pinned object heap) so kernels can take
/// their address without <c>fixed</c> cost, and uninitialised: callers that need zeros must fill.
/// </summary>
public static class CpuAllocator
{
    static readonly Dictionary<int, Stack<float[]>> Pool = new();
    static readonly Lock Gate = new();
    static long _bytesInUse, _peakBytes, _bytesCached, _hits, _misses;

    /// <summary>Arrays above this many cached bytes are dropped instead of pooled.</summary>
    public static long CacheLimitBytes { get; set; } = 4L << 30;

    internal static float[] Rent(int length)
    {
        int capacity = BucketSize(length);
        float[]? array = null;
        lock (Gate)
        {
            if (Pool.TryGetValue(capacity, out var stack) && stack.Count > 0)
            {
                array = stack.Pop();
                _bytesCached -= 4L * capacity;
                _hits++;
            }
            else _misses++;
            _bytesInUse += 4L * capacity;
            if (_bytesInUse > _peakBytes) _peakBytes = _bytesInUse;
        }
        return array ?? GC.AllocateUninitializedArray<float>(capacity, pinned: true);
    }

    internal static void Return(float[] array)
    {
        lock (Gate)
        {
            _bytesInUse -= 4L * array.Length;
            if (_bytesCached + 4L * array.Length > CacheLimitBytes) return;
            if (!Pool.TryGetValue(array.Length, out var stack)) Pool[array.Length] = stack = new Stack<float[]>();
            stack.Push(array);
            _bytesCached += 4L * array.Length;
        }
    }

    static int BucketSize(int length)
    {
        if (length <= 64) return 64;
        if (length <= 4096) return (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)length);
        // Between 4 K and 1 M elements: multiples of 4096; above: 1/8 steps of the power of two.
        if (length <= 1 << 20) return (length + 4095) & ~4095;
        int pow = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)length);
        int step = pow / 16;
        long rounded = ((long)length + step - 1) / step * step;
        return (int)Math.Min(rounded, int.MaxValue - 64);
    }

    /// <summary>Drops every cached array (memory in use is untouched).</summary>
    public static void EmptyCache()
    {
        lock (Gate) { Pool.Clear(); _bytesCached = 0; }
    }

    public static MemoryStats Stats
    {
        get { lock (Gate) return new MemoryStats(_bytesInUse, _peakBytes, _bytesCached, _hits, _misses); }
    }

    public static void ResetPeak()
    {
        lock (Gate) _peakBytes = _bytesInUse;
    }
}

/// <summary>Counters of a caching allocator: bytes handed out and not yet returned, their peak, bytes held in the
/// cache, and how many requests the cache served (hits) or passed to the system (misses).</summary>
public readonly record struct MemoryStats(long BytesInUse, long PeakBytes, long BytesCached, long CacheHits, long CacheMisses)
{
    public override string ToString() =>
        $"in use {BytesInUse / 1048576.0:F1} MiB, peak {PeakBytes / 1048576.0:F1} MiB, cached {BytesCached / 1048576.0:F1} MiB, hits {CacheHits}, misses {CacheMisses}";
}
