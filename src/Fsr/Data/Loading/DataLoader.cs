using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using FsrNative.Data.Transforms;

namespace FsrNative.Data.Loading;

/// <summary>Options of the <see cref="DataLoader"/>.</summary>
public sealed record LoaderOptions
{
    public int BatchSize { get; init; } = 8;
    /// <summary>A new Philox-keyed permutation of the samples every epoch (false: list order).</summary>
    public bool Shuffle { get; init; } = true;
    /// <summary>Drop the last incomplete batch of each epoch.</summary>
    public bool DropLast { get; init; } = true;
    /// <summary>The data seed: the shuffle and every augmentation are pure functions of it and (epoch, sample, view).</summary>
    public ulong Seed { get; init; }
    public int Workers { get; init; } = Math.Max(1, Environment.ProcessorCount - 1);
    /// <summary>Batches prepared ahead (the bound of the prefetch queue).</summary>
    public int Prefetch { get; init; } = 4;
    /// <summary>Where the batch tensors are created.</summary>
    public Device Device { get; init; } = Device.CPU;
    /// <summary>Load masks and return them as Int32 tensors (255 = ignore).</summary>
    public bool WithMasks { get; init; }
    /// <summary>Epochs to run before the loader ends (null: restart forever, as training does).</summary>
    public int? Epochs { get; init; }
    /// <summary>Throw on a bad sample (default), or replace it deterministically by the next good sample of the
    /// epoch's order and report it in <see cref="DataLoader.BadSamples"/>.</summary>
    public OnBadSample OnBadSample { get; init; } = OnBadSample.Throw;
}

/// <summary>Where a loader stands: the epoch and the number of batches of it already delivered. Saved with a
/// checkpoint; a loader created with it delivers exactly the batches that would have followed.</summary>
public readonly record struct LoaderState(long Epoch, int Position)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Epoch} {Position}");

    public static LoaderState Parse(string text)
    {
        var p = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (p.Length != 2 || !long.TryParse(p[0], NumberStyles.None, CultureInfo.InvariantCulture, out long e) ||
            !int.TryParse(p[1], NumberStyles.None, CultureInfo.InvariantCulture, out int pos))
            throw new FormatException($"loader state '{text}' is not 'EPOCH POSITION'");
        return new LoaderState(e, pos);
    }
}

/// <summary>A failure while preparing a batch, raised on the consumer's thread; names the sample.</summary>
public sealed class DataLoaderException(string sampleId, int sampleIndex, long epoch, Exception inner)
    : Exception($"data loader: sample '{sampleId}' (index {sampleIndex}, epoch {epoch}): {inner.Message}", inner)
{
    public string SampleId { get; } = sampleId;
    public int SampleIndex { get; } = sampleIndex;
    public long Epoch { get; } = epoch;
}

/// <summary>
/// One batch: per view a Float32 (B, 3, H, W) image tensor, the (B, C) multi-hot labels, per view an Int32 mask
/// tensor (B, H, W) when masks were asked for, and which samples it holds. Disposing it frees the tensors.
/// </summary>
public sealed class Batch : IDisposable
{
    public required Tensor[] Views { get; init; }
    public required Tensor Labels { get; init; }
    public Tensor[]? Masks { get; init; }
    public required string[] Ids { get; init; }
    public required int[] Indices { get; init; }
    public required long Epoch { get; init; }
    /// <summary>The batch's number within its epoch.</summary>
    public required int Position { get; init; }
    /// <summary>The random choices of each view of each sample (null entries for evaluation).</summary>
    public required AugmentParams?[][] Params { get; init; }

    /// <summary>The first view (the only one for evaluation).</summary>
    public Tensor Images => Views[0];
    public int Count => Ids.Length;

    public void Dispose()
    {
        foreach (var t in Views) t.Dispose();
        Labels.Dispose();
        if (Masks is not null) foreach (var t in Masks) t.Dispose();
    }
}

/// <summary>
/// Loads batches with background worker threads and a bounded prefetch queue. The content of batch g (epoch
/// g / batchesPerEpoch, position g % batchesPerEpoch) is a pure function of the seed and g — the epoch
/// permutation is Philox-keyed and each sample's views are keyed by (seed, epoch, sample, view) — and batches are
/// delivered in order, so the sequence does not depend on thread timing and can be resumed from a
/// <see cref="LoaderState"/>. Workers produce host arrays; tensors are created on the consumer's thread (inside
/// its dispose scope) by <see cref="Next"/>. A worker's exception is raised by <see cref="Next"/> when its batch
/// is due, naming the sample. <see cref="Dispose"/> stops the workers.
/// </summary>
public sealed class DataLoader : IDisposable, IEnumerable<Batch>
{
    readonly SegmentationDataset _ds;
    readonly ISampleTransform _transform;
    readonly LoaderOptions _o;
    readonly long _start, _end;   // global batch numbers [start, end); end = long.MaxValue when endless
    readonly CancellationTokenSource _cts = new();
    readonly SemaphoreSlim _capacity;
    readonly Thread[] _workers;
    readonly Dictionary<long, Prepared> _ready = new();
    readonly ConcurrentDictionary<long, int[]> _perms = new();
    readonly ConcurrentDictionary<string, BadSample> _bad = new();
    long _nextClaim, _nextConsume;
    int _finished;
    bool _disposed;

    public DataLoader(SegmentationDataset dataset, ISampleTransform transform, LoaderOptions? options = null, LoaderState? resumeFrom = null)
    {
        _ds = dataset; _transform = transform; _o = options ?? new LoaderOptions();
        if (_o.BatchSize < 1) throw new ArgumentException($"data loader: batch size {_o.BatchSize} must be ≥ 1");
        if (_o.Workers < 1 || _o.Prefetch < 1) throw new ArgumentException($"data loader: workers ({_o.Workers}) and prefetch ({_o.Prefetch}) must be ≥ 1");
        int n = dataset.Count;
        BatchesPerEpoch = _o.DropLast ? n / _o.BatchSize : (n + _o.BatchSize - 1) / _o.BatchSize;
        if (BatchesPerEpoch == 0)
            throw new ArgumentException($"data loader: {n} samples of '{dataset.Split}' make no {(_o.DropLast ? "complete " : "")}batch of {_o.BatchSize}");
        dataset.AllLabels();   // derive or read the image-level labels now, on the caller's thread (errors surface here)
        var state = resumeFrom ?? new LoaderState(0, 0);
        if (state.Epoch < 0 || state.Position < 0 || state.Position > BatchesPerEpoch)
            throw new ArgumentException($"data loader: cannot resume from epoch {state.Epoch}, position {state.Position} ({BatchesPerEpoch} batches per epoch)");
        _start = state.Epoch * BatchesPerEpoch + state.Position;
        _end = _o.Epochs is int e ? Math.Max(_start, (long)e * BatchesPerEpoch) : long.MaxValue;
        _nextClaim = _nextConsume = _start;
        _capacity = new SemaphoreSlim(_o.Prefetch, _o.Prefetch);
        _workers = new Thread[_o.Workers];
        for (int i = 0; i < _workers.Length; i++)
        {
            _workers[i] = new Thread(Work) { IsBackground = true, Name = $"fsr-loader-{i}" };
            _workers[i].Start();
        }
    }

    public int BatchesPerEpoch { get; }
    public SegmentationDataset Dataset => _ds;

    /// <summary>The position of the next batch <see cref="Next"/> will return.</summary>
    public LoaderState State => new(_nextConsume / BatchesPerEpoch, (int)(_nextConsume % BatchesPerEpoch));

    /// <summary>Samples replaced so far (with <see cref="OnBadSample.Skip"/>).</summary>
    public IReadOnlyList<BadSample> BadSamples => _bad.Values.OrderBy(b => b.Id, StringComparer.Ordinal).ToArray();

    /// <summary>The sample indices of epoch <paramref name="epoch"/> in order (a Philox-keyed permutation when shuffling).</summary>
    public int[] EpochOrder(long epoch) => _perms.GetOrAdd(epoch, e =>
    {
        if (!_o.Shuffle) return Enumerable.Range(0, _ds.Count).ToArray();
        return new RandomKey(_o.Seed, e, 0, 0, RandomPurpose.Shuffle).Open().Permutation(_ds.Count);
    });

    sealed class Prepared
    {
        public float[][]? Views;      // per view: B×3×H×W (pooled)
        public int[][]? Masks;        // per view: B×H×W (pooled)
        public int H, W, MaskH, MaskW, Count;
        public float[]? Labels;
        public string[] Ids = [];
        public int[] Indices = [];
        public AugmentParams?[][] Params = [];
        public Exception? Error;

        public void Release()
        {
            if (Views is not null) foreach (var v in Views) ArrayPool<float>.Shared.Return(v);
            if (Masks is not null) foreach (var m in Masks) ArrayPool<int>.Shared.Return(m);
            Views = null; Masks = null;
        }
    }

    void Work()
    {
        var ct = _cts.Token;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                _capacity.Wait(ct);
                long g = Interlocked.Increment(ref _nextClaim) - 1;
                if (g >= _end) { _capacity.Release(); break; }
                var p = Produce(g, ct);
                lock (_ready)
                {
                    if (_disposed) { p.Release(); break; }
                    _ready[g] = p;
                    Monitor.PulseAll(_ready);
                }
            }
        }
        catch (OperationCanceledException) { }
        finally
        {
            Interlocked.Increment(ref _finished);
            lock (_ready) Monitor.PulseAll(_ready);
        }
    }

    Prepared Produce(long g, CancellationToken ct)
    {
        long epoch = g / BatchesPerEpoch;
        int pos = (int)(g % BatchesPerEpoch);
        var order = EpochOrder(epoch);
        int first = pos * _o.BatchSize, count = Math.Min(_o.BatchSize, order.Length - first);
        var p = new Prepared { Count = count, Ids = new string[count], Indices = new int[count], Params = new AugmentParams?[count][] };
        int C = _ds.Classes.NumClasses, views = _transform.ViewCount;
        p.Labels = new float[count * C];
        int current = order[first];
        try
        {
            for (int k = 0; k < count; k++)
            {
                ct.ThrowIfCancellationRequested();
                current = order[first + k];
                var (sample, vd) = LoadWithSubstitutes(order, first + k, epoch);
                current = sample.Index;
                if (k == 0)
                {
                    p.H = vd[0].Height; p.W = vd[0].Width; p.MaskH = vd[0].MaskHeight; p.MaskW = vd[0].MaskWidth;
                    p.Views = new float[views][];
                    for (int v = 0; v < views; v++) p.Views[v] = ArrayPool<float>.Shared.Rent(count * 3 * p.H * p.W);
                    if (_o.WithMasks)
                    {
                        p.Masks = new int[views][];
                        for (int v = 0; v < views; v++) p.Masks[v] = ArrayPool<int>.Shared.Rent(count * p.MaskH * p.MaskW);
                    }
                }
                int plane = 3 * p.H * p.W, mplane = p.MaskH * p.MaskW;
                for (int v = 0; v < views; v++)
                {
                    var d = vd[v];
                    if (d.Height != p.H || d.Width != p.W || d.MaskHeight != p.MaskH || d.MaskWidth != p.MaskW)
                        throw new DataException(DataProblem.SizeMismatch, _ds.ImagePath(sample.Index),
                            $"gives a {d.Height}x{d.Width} view but the batch's first sample gave {p.H}x{p.W}: batch such samples one at a time or resize them");
                    d.Image.CopyTo(p.Views![v].AsSpan(k * plane, plane));
                    if (_o.WithMasks)
                    {
                        var dst = p.Masks![v].AsSpan(k * mplane, mplane);
                        for (int i = 0; i < mplane; i++) dst[i] = d.Mask![i];
                    }
                }
                sample.Labels.CopyTo(p.Labels.AsSpan(k * C, C));
                p.Ids[k] = sample.Id; p.Indices[k] = sample.Index;
                p.Params[k] = vd.Select(x => x.Params).ToArray();
            }
        }
        catch (OperationCanceledException) { p.Release(); throw; }
        catch (Exception e)
        {
            p.Release();
            p.Error = new DataLoaderException(_ds.Ids[current], current, epoch, e);
        }
        return p;
    }

    (Sample, ViewData[]) LoadWithSubstitutes(int[] order, int slot, long epoch)
    {
        for (int t = 0; t < order.Length; t++)
        {
            int idx = order[(slot + t) % order.Length];
            try
            {
                var s = _ds.Load(idx, _o.WithMasks);
                return (s, _transform.Apply(s, _o.Seed, epoch));
            }
            catch (DataException e) when (_o.OnBadSample == OnBadSample.Skip)
            {
                var bad = BadSample.From(_ds.Ids[idx], e);
                if (_bad.TryAdd(bad.Id, bad)) _ds.Report(bad);
            }
        }
        throw new DataException(DataProblem.Undecodable, _ds.Root, $"every sample of '{_ds.Split}' failed to load");
    }

    /// <summary>Whether another batch will come (false only after the last epoch of a finite loader).</summary>
    public bool HasNext => _nextConsume < _end;

    /// <summary>The next batch, in order; blocks until it is ready. Throws <see cref="DataLoaderException"/> for a
    /// failed batch, <see cref="InvalidOperationException"/> after the last epoch of a finite loader.</summary>
    public Batch Next(CancellationToken cancel = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        long g = _nextConsume;
        if (g >= _end) throw new InvalidOperationException($"data loader: all {(_end - _start)} batches have been delivered");
        Prepared p;
        lock (_ready)
        {
            while (!_ready.TryGetValue(g, out p!))
            {
                cancel.ThrowIfCancellationRequested();
                if (Volatile.Read(ref _finished) == _workers.Length)
                    throw new InvalidOperationException("data loader: the workers stopped before delivering the next batch");
                Monitor.Wait(_ready, 50);
            }
            _ready.Remove(g);
        }
        _nextConsume = g + 1;
        _capacity.Release();
        if (p.Error is not null) throw p.Error;
        try { return ToBatch(p, g); }
        finally { p.Release(); }
    }

    Batch ToBatch(Prepared p, long g)
    {
        int b = p.Count, views = _transform.ViewCount, C = _ds.Classes.NumClasses;
        var dev = _o.Device;
        var imgs = new Tensor[views];
        for (int v = 0; v < views; v++)
            imgs[v] = torch.tensor(p.Views![v].AsSpan(0, b * 3 * p.H * p.W), [b, 3, p.H, p.W], dev);
        Tensor[]? masks = null;
        if (p.Masks is not null)
        {
            masks = new Tensor[views];
            for (int v = 0; v < views; v++)
                masks[v] = torch.tensor((ReadOnlySpan<int>)p.Masks[v].AsSpan(0, b * p.MaskH * p.MaskW), [b, p.MaskH, p.MaskW], dev);
        }
        return new Batch
        {
            Views = imgs, Labels = torch.tensor(p.Labels!, [b, C], dev), Masks = masks, Ids = p.Ids, Indices = p.Indices,
            Epoch = g / BatchesPerEpoch, Position = (int)(g % BatchesPerEpoch), Params = p.Params,
        };
    }

    public IEnumerator<Batch> GetEnumerator()
    {
        while (HasNext) yield return Next();
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Stops the workers (they finish the sample at hand) and frees prepared batches.</summary>
    public void Dispose()
    {
        lock (_ready)
        {
            if (_disposed) return;
            _disposed = true;
            Monitor.PulseAll(_ready);
        }
        _cts.Cancel();
        foreach (var t in _workers) t.Join();
        lock (_ready)
        {
            foreach (var p in _ready.Values) p.Release();
            _ready.Clear();
        }
        _capacity.Dispose();
        _cts.Dispose();
    }
}
