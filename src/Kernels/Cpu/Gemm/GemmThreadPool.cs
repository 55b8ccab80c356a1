using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Runtime.Intrinsics.X86;

namespace FsrNative.Kernels.Cpu;

/// <summary>
/// A team of persistent worker threads for the GEMM: the caller runs part 0 of a job itself and
/// <see cref="ThreadCount"/> − 1 workers run the others. Workers spin for a short while after each job (so back-to-back
/// GEMMs hand off in well under a microsecond) and then sleep on an event. Parallel.For costs tens of microseconds per
/// call on this kind of machine, which is too much for medium matrices.
/// One job at a time: a call that finds the team busy (another thread inside a GEMM) runs its job on its own thread.
/// </summary>
internal static unsafe class GemmThreadPool
{
    /// <summary>How many threads a job may use: <c>FSRNATIVE_GEMM_THREADS</c> if set, else Environment.ProcessorCount.</summary>
    public static readonly int ThreadCount = ReadThreadCount();

    /// <summary>How long an idle worker spins before it sleeps.</summary>
    private static readonly long SpinTicks = Stopwatch.Frequency / 20000; // 50 µs

    private static readonly object Gate = new();
    private static Worker[]? _workers;

    // The current job, published by a write to _generation.
    private static delegate*<void*, int, int, void> _fn;
    private static void* _ctx;
    private static int _parts;
    private static int _pending;
    private static volatile int _generation;
    private static Exception? _failure;

    private static int ReadThreadCount()
    {
        string? s = Environment.GetEnvironmentVariable("FSRNATIVE_GEMM_THREADS");
        if (s != null && int.TryParse(s, out int n) && n >= 1) return Math.Min(n, 256);
        return Math.Max(1, Environment.ProcessorCount);
    }

    /// <summary>
    /// Runs fn(ctx, part, parts) for part = 0 … parts−1, part 0 on the calling thread, and returns when all are done.
    /// parts is clamped to <see cref="ThreadCount"/>; if the team is busy, fn(ctx, 0, 1) runs alone, so fn must split
    /// its work by the parts it is given.
    /// </summary>
    public static void Run(int parts, delegate*<void*, int, int, void> fn, void* ctx)
    {
        parts = Math.Min(parts, ThreadCount);
        if (parts <= 1 || !Monitor.TryEnter(Gate))
        {
            fn(ctx, 0, 1);
            return;
        }
        try
        {
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
            Monitor.Exit(Gate);
        }
    }

    private static void WaitForWorkers()
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

    private static Worker[] StartWorkers()
    {
        var workers = new Worker[ThreadCount - 1];
        for (int i = 0; i < workers.Length; i++) workers[i] = new Worker(i + 1);
        return workers;
    }

    private sealed class Worker
    {
        private readonly int _part;
        private readonly ManualResetEventSlim _wake = new(false, 0);
        private int _sleeping;

        public Worker(int part)
        {
            _part = part;
            var thread = new Thread(Loop, 1 << 20) { IsBackground = true, Name = $"FsrNative GEMM worker {part}" };
            thread.Start();
        }

        public void WakeIfSleeping()
        {
            if (Volatile.Read(ref _sleeping) != 0) _wake.Set();
        }

        private void Loop()
        {
            int seen = _generation;
            while (true)
            {
                // Spin for a while: the next GEMM usually follows quickly.
                long until = Stopwatch.GetTimestamp() + SpinTicks;
                int i = 0;
                while (_generation == seen)
                {
                    if (X86Base.IsSupported) X86Base.Pause(); else Thread.SpinWait(1);
                    if ((++i & 63) == 0 && Stopwatch.GetTimestamp() > until) break;
                }
                if (_generation == seen)
                {
                    // Sleep. Dekker-style: announce, re-check, wait; the caller bumps the generation, then checks _sleeping.
                    _wake.Reset();
                    Interlocked.Exchange(ref _sleeping, 1);
                    if (_generation == seen) _wake.Wait();
                    Interlocked.Exchange(ref _sleeping, 0);
                    continue;
                }
                seen = _generation;
                if (_part < _parts)
                {
                    try { _fn(_ctx, _part, _parts); }
                    catch (Exception e) { _failure = e; }
                    Interlocked.Decrement(ref _pending);
                }
            }
        }
    }
}
