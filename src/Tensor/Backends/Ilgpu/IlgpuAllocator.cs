using ILGPU;
using ILGPU.Runtime;

namespace FsrNative;

/// <summary>
/// The caching allocator of one ILGPU accelerator (one per backend). Device allocations are slow (cuMemAlloc and
/// cuMemFree synchronise the device), so released buffers are kept in size buckets and handed out again, as PyTorch's
/// CUDA caching allocator does. Buckets: 64 words minimum, powers of two up to 4096 words, multiples of 4096 words up
/// to 1 M words, then 1/16 steps of the next power of two (at most ~6% waste on large tensors).
/// All work is queued on the accelerator's single default stream, so a buffer released while a queued kernel still
/// uses it can be handed to the next request at once: whatever that request queues runs after the earlier kernel.
/// When an allocation fails the cache is emptied (after a device sync) and the allocation retried once.
/// Counters are in bytes of bucket capacity and surface as <see cref="IBackend.MemoryStats"/>.
/// </summary>
internal sealed class IlgpuAllocator
{
    readonly Accelerator _accelerator;
    readonly Device _device;
    readonly Dictionary<long, Stack<MemoryBuffer1D<float, Stride1D.Dense>>> _pool = new();
    readonly Lock _gate = new();
    long _bytesInUse, _peakBytes, _bytesCached, _hits, _misses;

    internal IlgpuAllocator(Accelerator accelerator, Device device)
    {
        _accelerator = accelerator;
        _device = device;
    }

    /// <summary>Released buffers beyond this many cached bytes are freed instead of cached.</summary>
    internal long CacheLimitBytes { get; set; } = long.MaxValue;

    /// <summary>A buffer of at least <paramref name="length"/> words (its length is the bucket size). The caller must
    /// have the accelerator bound to the current thread.</summary>
    internal MemoryBuffer1D<float, Stride1D.Dense> Rent(int length)
    {
        long capacity = BucketSize(length);
        lock (_gate)
        {
            if (_pool.TryGetValue(capacity, out var stack) && stack.Count > 0)
            {
                var buffer = stack.Pop();
                _bytesCached -= 4 * capacity;
                _hits++;
                AddInUse(capacity);
                return buffer;
            }
            _misses++;
        }
        MemoryBuffer1D<float, Stride1D.Dense> fresh;
        try
        {
            fresh = _accelerator.Allocate1D<float>(capacity);
        }
        catch (Exception ex) when (ex is OutOfMemoryException or AcceleratorException)
        {
            EmptyCache();
            try
            {
                fresh = _accelerator.Allocate1D<float>(capacity);
            }
            catch (Exception again) when (again is OutOfMemoryException or AcceleratorException)
            {
                throw new OutOfMemoryException(
                    $"{_device}: cannot allocate {4 * capacity / 1048576.0:F1} MiB for {length} elements even after emptying the cache ({Stats}): {again.Message}", again);
            }
        }
        lock (_gate) AddInUse(capacity);
        return fresh;
    }

    void AddInUse(long capacity)
    {
        _bytesInUse += 4 * capacity;
        if (_bytesInUse > _peakBytes) _peakBytes = _bytesInUse;
    }

    /// <summary>Takes a buffer back (from any thread): cached, or freed when the cache is full.</summary>
    internal void Return(MemoryBuffer1D<float, Stride1D.Dense> buffer)
    {
        long capacity = buffer.Length;
        lock (_gate)
        {
            _bytesInUse -= 4 * capacity;
            if (_bytesCached + 4 * capacity <= CacheLimitBytes)
            {
                if (!_pool.TryGetValue(capacity, out var stack)) _pool[capacity] = stack = new();
                stack.Push(buffer);
                _bytesCached += 4 * capacity;
                return;
            }
        }
        using (_accelerator.BindScoped()) buffer.Dispose();
    }

    /// <summary>Frees every cached buffer (buffers in use are untouched). Synchronises the device first.</summary>
    internal void EmptyCache()
    {
        List<MemoryBuffer1D<float, Stride1D.Dense>> freed;
        lock (_gate)
        {
            freed = _pool.Values.SelectMany(s => s).ToList();
            _pool.Clear();
            _bytesCached = 0;
        }
        if (freed.Count == 0) return;
        using (_accelerator.BindScoped())
        {
            _accelerator.Synchronize();   // sync point: no queued kernel may still use a buffer we free
            foreach (var b in freed) b.Dispose();
        }
    }

    internal MemoryStats Stats
    {
        get { lock (_gate) return new MemoryStats(_bytesInUse, _peakBytes, _bytesCached, _hits, _misses); }
    }

    internal void ResetPeak()
    {
        lock (_gate) _peakBytes = _bytesInUse;
    }

    internal static long BucketSize(int length)
    {
        if (length <= 64) return 64;
        if (length <= 4096) return (long)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)length);
        if (length <= 1 << 20) return (length + 4095L) & ~4095L;
        long pow = (long)System.Numerics.BitOperations.RoundUpToPowerOf2((ulong)length);
        long step = pow / 16;
        return (length + step - 1) / step * step;
    }
}
