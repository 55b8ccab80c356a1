namespace FsrNative;

/// <summary>
/// The policy of the CPU caching allocator (<see cref="CpuAllocator"/> holds the process's one instance; tests make
/// their own). Released arrays are cached and handed out again, because fresh 100–200 MB arrays cost tens of
/// milliseconds of page faults per call. What keeps the cache from doubling the process's memory:
/// <list type="bullet">
/// <item>Best fit: a request takes the smallest cached array of its size bucket or of a larger one up to
/// <see cref="MaxReuseFactor"/> × its bucket, not only an array of exactly its bucket (a storage's array may be longer
/// than the storage: every reader goes through <see cref="Storage.Length"/> and the tensor's shape, never the array's
/// length).</item>
/// <item>A budget tied to the observed peak: before a request goes to the system, cached arrays are dropped, least
/// recently released first, until bytes in use + cached + the request fit in <see cref="BudgetFactor"/> × the largest
/// in-use bytes seen so far (PyTorch's CUDA allocator frees its cache and retries when the device is full; a CPU
/// process has no such wall, so the wall is drawn at the peak it has needed).</item>
/// <item>Dropped arrays are garbage on the pinned object heap, which the GC only sweeps in full collections; after
/// <see cref="CollectAfterEvictedBytes"/> bytes were dropped the pool asks for one (<see cref="Collect"/>), so the
/// memory really goes back to the system instead of waiting for the GC's own schedule.</item>
/// </list>
/// Sizes are rounded up to buckets (powers of two up to 4096 elements, multiples of 4096 up to 1 M, then 1/16 steps of
/// the power of two: at most ~6% waste on large arrays). Counters are in bytes of array capacity. Thread-safe.
/// </summary>
public sealed class CpuMemoryPool
{
    /// <summary>One cached array and the tick of its release (for least-recently-released eviction).</summary>
    readonly record struct Entry(float[] Array, long Released);

    // Non-empty buckets only, by capacity; each bucket's list is in release order (last = most recent).
    readonly SortedList<int, List<Entry>> _cache = new();
    readonly Lock _gate = new();
    readonly Func<int, float[]> _allocate;
    long _bytesInUse, _peakBytes, _peakEver, _bytesCached, _hits, _misses, _evictions, _evictedBytes, _tick;
    long _evictedSinceCollect;
    int _collections;

    /// <param name="allocate">Makes a fresh array of the given capacity (default: uninitialised, pinned).</param>
    public CpuMemoryPool(Func<int, float[]>? allocate = null)
    {
        _allocate = allocate ?? (n => GC.AllocateUninitializedArray<float>(n, pinned: true));
    }

    /// <summary>Hard cap on cached bytes: a released array that would exceed it is dropped.</summary>
    public long CacheLimitBytes { get; set; } = 4L << 30;

    /// <summary>In use + cached bytes may reach this multiple of the largest in-use bytes seen (the budget) before
    /// cached arrays are dropped to make room for a fresh one. Measured on the FSR profiling configurations
    /// (docs/training.md §Profiling): hundreds of arrays per iteration are dropped and allocated again at no measurable
    /// CPU cost; 1.5 lets the cache grow further; 1.25 with a collection every 128 MiB dropped left (c) at 1.9 GiB RSS
    /// and (d) at 5.4 GiB; 1.05 with a collection every 32 MiB (<see cref="CollectAfterEvictedBytes"/>) brought
    /// (b) / (c) / (d) to 552 / 1,697 / 4,814 MiB at the same CPU seconds per iteration (2.77 vs 2.82; 10.4 vs 9.9; 76.1
    /// vs 72.8–80.2 s, all within the load's noise).</summary>
    public double BudgetFactor { get; set; } = 1.05;

    /// <summary>The budget never drops below this many bytes (small processes keep their cache). At 64 MiB the main job
    /// (synthetic preset, 62 MiB peak in use) dropped and re-allocated a quarter of its arrays every iteration: 4× the
    /// page faults and about 25 % more CPU for the whole run than without a budget; 256 MiB leaves it a cache while
    /// staying below the budget of the reference configurations (b) (375 MiB), (c) and (d).</summary>
    public long MinBudgetBytes { get; set; } = 256L << 20;

    /// <summary>A request may take a cached array up to this multiple of its bucket size (2 saved little more RSS than
    /// 1.25 on the FSR configurations but raised the in-use peak by 7–9%).</summary>
    public double MaxReuseFactor { get; set; } = 1.25;

    /// <summary>After this many bytes were dropped from the cache, <see cref="Collect"/> runs once (dropped pinned arrays
    /// are only swept by a full collection, so until then they still count in the RSS; 32 MiB rather than 128 MiB took
    /// (c) from 1,872 to 1,697 MiB at budget 1.05: 77 collections in 3 iterations of 10 s each).</summary>
    public long CollectAfterEvictedBytes { get; set; } = 32L << 20;

    /// <summary>What returns dropped arrays' memory to the system (default: a blocking full GC). Null: nothing.</summary>
    public Action? Collect { get; set; } = () => GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: false);

    /// <summary>An array of at least <paramref name="length"/> elements (uninitialised: callers that need zeros fill).</summary>
    public float[] Rent(int length)
    {
        if (length < 0) throw new ArgumentOutOfRangeException(nameof(length), length, "CpuMemoryPool.Rent: negative length");
        int capacity = BucketSize(length);
        bool collect = false;
        lock (_gate)
        {
            var reused = TakeBestFit(capacity, (long)(MaxReuseFactor * capacity));
            if (reused is not null)
            {
                _hits++;
                AddInUse(reused.Length);
                return reused;
            }
            long budget = Math.Max(MinBudgetBytes, (long)(BudgetFactor * Math.Max(_peakEver, _bytesInUse + 4L * capacity)));
            while (_bytesCached > 0 && _bytesInUse + _bytesCached + 4L * capacity > budget) EvictOldest();
            _misses++;
            if (_evictedSinceCollect >= CollectAfterEvictedBytes && Collect is not null)
            {
                _evictedSinceCollect = 0;
                _collections++;
                collect = true;
            }
            AddInUse(capacity);
        }
        if (collect) Collect!();
        return _allocate(capacity);
    }

    /// <summary>Takes an array back (from any thread) into the cache, or drops it when the cache is full.</summary>
    public void Return(float[] array)
    {
        lock (_gate)
        {
            _bytesInUse -= 4L * array.Length;
            if (_bytesCached + 4L * array.Length > CacheLimitBytes) { Dropped(array.Length); return; }
            if (!_cache.TryGetValue(array.Length, out var bucket)) _cache[array.Length] = bucket = new List<Entry>();
            bucket.Add(new Entry(array, ++_tick));
            _bytesCached += 4L * array.Length;
        }
    }

    /// <summary>Drops every cached array (memory in use is untouched) and runs <see cref="Collect"/> when something was dropped.</summary>
    public void EmptyCache()
    {
        bool any;
        lock (_gate)
        {
            any = _bytesCached > 0;
            foreach (var bucket in _cache.Values)
                foreach (var e in bucket) Dropped(e.Array.Length);
            _cache.Clear();
            _bytesCached = 0;
            _evictedSinceCollect = 0;
        }
        if (any) Collect?.Invoke();
    }

    public MemoryStats Stats
    {
        get { lock (_gate) return new MemoryStats(_bytesInUse, _peakBytes, _bytesCached, _hits, _misses); }
    }

    /// <summary>Arrays dropped from the cache (by the budget, the cache limit or <see cref="EmptyCache"/>), their bytes,
    /// and how many times <see cref="Collect"/> was asked to give memory back.</summary>
    public (long Arrays, long Bytes, int Collections) Evicted
    {
        get { lock (_gate) return (_evictions, _evictedBytes, _collections); }
    }

    /// <summary>The largest in-use bytes since the pool was made (what the budget follows; <see cref="ResetPeak"/>
    /// does not touch it).</summary>
    public long PeakEverBytes
    {
        get { lock (_gate) return _peakEver; }
    }

    /// <summary>Restarts <see cref="MemoryStats.PeakBytes"/> from the bytes in use now.</summary>
    public void ResetPeak()
    {
        lock (_gate) _peakBytes = _bytesInUse;
    }

    void AddInUse(int capacity)
    {
        _bytesInUse += 4L * capacity;
        if (_bytesInUse > _peakBytes) _peakBytes = _bytesInUse;
        if (_bytesInUse > _peakEver) _peakEver = _bytesInUse;
    }

    /// <summary>The most recently released array of the smallest cached bucket in [capacity, largest].</summary>
    float[]? TakeBestFit(int capacity, long largest)
    {
        var keys = _cache.Keys;
        int i = LowerBound(keys, capacity);
        if (i == keys.Count) return null;
        int size = keys[i];
        if (size > largest) return null;
        var bucket = _cache.Values[i];
        var array = bucket[^1].Array;
        bucket.RemoveAt(bucket.Count - 1);
        if (bucket.Count == 0) _cache.RemoveAt(i);
        _bytesCached -= 4L * size;
        return array;
    }

    static int LowerBound(IList<int> keys, int value)
    {
        int lo = 0, hi = keys.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (keys[mid] < value) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    /// <summary>Drops the least recently released cached array (each bucket's first entry is its oldest).</summary>
    void EvictOldest()
    {
        int oldest = 0;
        for (int i = 1; i < _cache.Count; i++)
            if (_cache.Values[i][0].Released < _cache.Values[oldest][0].Released) oldest = i;
        var bucket = _cache.Values[oldest];
        int size = bucket[0].Array.Length;
        bucket.RemoveAt(0);
        if (bucket.Count == 0) _cache.RemoveAt(oldest);
        _bytesCached -= 4L * size;
        Dropped(size);
    }

    void Dropped(int capacity)
    {
        _evictions++;
        _evictedBytes += 4L * capacity;
        _evictedSinceCollect += 4L * capacity;
    }

    /// <summary>The capacity a request of <paramref name="length"/> elements gets.</summary>
    public static int BucketSize(int length)
    {
        if (length <= 64) return 64;
        if (length <= 4096) return (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)length);
        // Between 4 K and 1 M elements: multiples of 4096; above: 1/16 steps of the power of two.
        if (length <= 1 << 20) return (length + 4095) & ~4095;
        long pow = (long)System.Numerics.BitOperations.RoundUpToPowerOf2((ulong)length);
        long step = pow / 16;
        long rounded = (length + step - 1) / step * step;
        return (int)Math.Min(rounded, int.MaxValue - 64);
    }
}
