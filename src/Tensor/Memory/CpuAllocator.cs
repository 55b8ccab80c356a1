namespace FsrNative;

/// <summary>
/// The CPU caching allocator: the process's one <see cref="CpuMemoryPool"/> (best-fit reuse of cached arrays, a cache
/// budget tied to the peak in-use bytes, dropped arrays handed back to the system). Arrays are pinned (allocated on the
/// pinned object heap) so kernels can take their address without <c>fixed</c> cost, and uninitialised: callers that
/// need zeros must fill. An array may be longer than the storage it backs.
/// </summary>
public static class CpuAllocator
{
    /// <summary>The pool behind every CPU storage (its policy knobs are settable).</summary>
    public static CpuMemoryPool Pool { get; } = new();

    /// <summary>Arrays above this many cached bytes are dropped instead of pooled.</summary>
    public static long CacheLimitBytes
    {
        get => Pool.CacheLimitBytes;
        set => Pool.CacheLimitBytes = value;
    }

    internal static float[] Rent(int length) => Pool.Rent(length);

    internal static void Return(float[] array) => Pool.Return(array);

    /// <summary>Drops every cached array (memory in use is untouched).</summary>
    public static void EmptyCache() => Pool.EmptyCache();

    public static MemoryStats Stats => Pool.Stats;

    public static void ResetPeak() => Pool.ResetPeak();
}

/// <summary>Counters of a caching allocator: bytes handed out and not yet returned, their peak, bytes held in the
/// cache, and how many requests the cache served (hits) or passed to the system (misses).</summary>
public readonly record struct MemoryStats(long BytesInUse, long PeakBytes, long BytesCached, long CacheHits, long CacheMisses)
{
    public override string ToString() =>
        $"in use {BytesInUse / 1048576.0:F1} MiB, peak {PeakBytes / 1048576.0:F1} MiB, cached {BytesCached / 1048576.0:F1} MiB, hits {CacheHits}, misses {CacheMisses}";
}
