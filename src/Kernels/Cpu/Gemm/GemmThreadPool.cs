using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Runtime.Intrinsics.X86;

namespace FsrNative.Kernels.Cpu;

/// <summary>
/// A team of persistent worker threads for the GEMM: the caller runs part 0 of a job itself and up to
/// <see cref="ThreadCount"/> − 1 workers run the others. Workers spin for a short while after each job (so back-to-back
/// GEMMs hand off in well under a microsecond) and then sleep on an event. Parallel.For costs tens of microseconds per
/// call on this kind of machine, which is too much for medium matrices.
/// One job at a time: a call that finds the team busy (another thread inside a GEMM) runs its job on its own thread.
/// <see cref="Shared"/> is the team the GEMM uses; tests make their own.
/// </summary>
internal sealed unsafe class GemmThreadPool : IDisposable
{
    /// <summary>Threads a GEMM may use: <c>FSRNATIVE_GEMM_THREADS</c> if set, else Environment.ProcessorCount.</summary>
    public static readonly int DefaultThreadCount = ReadThreadCount();

    /// <summary>The team every GEMM call uses.</summary>
    public static readonly GemmThreadPool Shared = new(DefaultThreadCount);

    /// <summary>How long an idle worker spins before it sleeps.</summary>
    private static readonly long SpinTicks = Stopwatch.Frequency / 20000; // 50 µs

    public int ThreadCount { get; }

    private readonly object _gate = new();
    private Worker[]? _workers;
    private bool _disposed;

    // The current job, published by the increment of _generation.
    private delegate*<void*, int, int, void> _fn;
    private void* _ctx;
    private int _parts;
    private int _pending;
    private volatile int _generation;
    private volatile bool _stop;
    private Exception? _failure;

    public GemmThreadPool(int threadCount) => ThreadCount = Math.Max(1, threadCount);

    private static int ReadThreadCount()
    {
        string? s = Environment.GetEnvironmentVariable("FSRNATIVE_GEMM_THREADS");
        if (s != null && int.TryParse(s, out int n) && n >= 1) return Math.Min(n, 256);
        return Math.Max(1, Environment.ProcessorCount);
    }

    /// <summary>
    /// Runs fn(ctx, part, parts) for part = 0 … parts−1, part 0 on the calling thread, and returns when all are done.
    /// parts is clamped to <see cref="ThreadCount"/>; if the team is busy, fn(ctx, 0, 1) runs alone, so fn must split
    /// its work by the parts it is given. An exception from any part is rethrown here after all parts have finished.
    /// </summary>
    public void Run(int parts, delegate*<void*, int, int, void> fn, void* ctx)
    {
        parts = Math.Min(parts, ThreadCount);
        if (parts <= 1 || !Monitor.TryEnter(_gate))
        {
            fn(ctx, 0, 1);
            return;
        }
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var workers = _workers ??= StartWorkers();
            _fn = fn;
            _ctx = ctx;
            _parts = parts;
            _failure = null;
            Volatile.Write(ref _pending, parts - 1);
            Interlocked.Increment(ref _generation); // publishes the job (full fence)
            for (int w = 0; w < parts - 1; w++) workers[w].WakeIfSleeping();

            Exception? own = null;
            try { fn(ctx, 0, parts); }
            catch (Exception e) { own = e; }

            WaitForWorkers();
            _fn = null;
            _ctx = null;
            if (own != null) ExceptionDispatchInfo.Capture(own).Throw();
            if (_failure != null) ExceptionDispatchInfo.Capture(_failure).Throw();
        }
        finally
        {
            Monitor.Exit(_gate);
        }
    }

    /// <summary>Stops the workers (they finish the loop they are in and exit).</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _stop = true;
            Interlocked.Increment(ref _generation);
            if (_workers != null) foreach (var w in _workers) w.WakeIfSleeping();
        }
    }

    private void WaitForWorkers()
    {
        int spins = 0;
        while (Volatile.Read(ref _pending) != 0)
        {
            if (++spins < 4000)
            {
                if (X86Base.IsSupported) X86Base.Pause(); else Thread.SpinWait(1);
            }
            else
            {
                Thread.Yield(); // a worker was descheduled (another process is busy): give it the core
            }
        }
    }

    private Worker[] StartWorkers()
    {
        var workers = new Worker[ThreadCount - 1];
        for (int i = 0; i < workers.Length; i++) workers[i] = new Worker(this, i + 1);
        return workers;
    }

    private sealed class Worker
    {
        private readonly GemmThreadPool _team;
        private readonly int _part;
        private readonly ManualResetEventSlim _wake = new(false, 0);
        private readonly int _startGeneration;
        private int _sleeping;

        public Worker(GemmThreadPool team, int part)
        {
            _team = team;
            _part = part;
            // Read here, on the caller's thread, before it publishes the job that made it start the workers: read in
            // Loop, a thread that starts late would take that job's generation as already seen and never run it.
            _startGeneration = team._generation;
            var thread = new Thread(Loop, 1 << 20) { IsBackground = true, Name = $"FsrNative GEMM worker {part}" };
            thread.Start();
        }

        public void WakeIfSleeping()
        {
            if (Volatile.Read(ref _sleeping) != 0) _wake.Set();
        }

        private void Loop()
        {
            var team = _team;
            int seen = _startGeneration;
            while (true)
            {
                // Spin for a while: the next GEMM usually follows quickly.
                long until = Stopwatch.GetTimestamp() + SpinTicks;
                int i = 0;
                while (team._generation == seen)
                {
                    if (X86Base.IsSupported) X86Base.Pause(); else Thread.SpinWait(1);
                    if ((++i & 63) == 0 && Stopwatch.GetTimestamp() > until) break;
                }
                if (team._generation == seen)
                {
                    // Sleep. Dekker-style: announce, re-check, wait; the caller bumps the generation, then checks _sleeping.
                    _wake.Reset();
                    Interlocked.Exchange(ref _sleeping, 1);
                    if (team._generation == seen) _wake.Wait();
                    Interlocked.Exchange(ref _sleeping, 0);
                    continue;
                }
                seen = team._generation;
                if (team._stop) return;
                if (_part < team._parts)
                {
                    try { team._fn(team._ctx, _part, team._parts); }
                    catch (Exception e) { team._failure = e; }
                    Interlocked.Decrement(ref team._pending);
                }
            }
        }
    }
}
