using System.Diagnostics;

namespace FsrNative.Fsr.Training;

/// <summary>
/// Where an iteration's time goes, by phase (for <c>fsr train --profile-steps</c> and the step's optional profiling):
/// wall-clock seconds and process CPU seconds (all threads — the engine's kernels run on a thread pool, so one thread's
/// CPU time would miss most of the work; on a machine shared with other jobs the CPU time is the steadier figure).
/// Phases are timed on the host; GPU work is only counted where a phase ends by reading a result back. With
/// <see cref="TrackMemory"/> each phase also records the peak of <see cref="MemoryDevice"/>'s allocator bytes in use
/// while it ran (the allocator's peak counter is reset at every phase start, so only use it while profiling).
/// </summary>
public sealed class PhaseTimes
{
    /// <summary>The phases of one FSR iteration in the order they run (fsr-spec §4).</summary>
    public static IReadOnlyList<string> Order { get; } =
        ["cam", "mask", "student_forward", "teacher_forward", "classification", "pseudo_labels", "seg_losses", "ptc", "fsr_losses", "total", "backward", "optimizer", "ema"];

    readonly Dictionary<string, (double wall, double cpu, long count)> _sums = new();
    readonly Dictionary<string, long> _peaks = new();

    /// <summary>Record each phase's peak tensor memory (resets <see cref="MemoryDevice"/>'s peak counter per phase).</summary>
    public bool TrackMemory { get; init; }

    /// <summary>Whose allocator <see cref="TrackMemory"/> reads (the step's device).</summary>
    public Device MemoryDevice { get; init; } = Device.CPU;

    /// <summary>The largest allocator bytes in use seen during each phase (with <see cref="TrackMemory"/>).</summary>
    public IReadOnlyDictionary<string, long> PeakBytes => _peaks;

    /// <summary>Starts timing <paramref name="phase"/>; disposing the result adds the elapsed times.</summary>
    public Measurement Measure(string phase) => new(this, phase);

    /// <summary>Adds one measurement.</summary>
    public void Add(string phase, double wallSeconds, double cpuSeconds)
    {
        var (w, c, n) = _sums.GetValueOrDefault(phase);
        _sums[phase] = (w + wallSeconds, c + cpuSeconds, n + 1);
    }

    /// <summary>Totals per phase, known phases in <see cref="Order"/> first.</summary>
    public IReadOnlyList<(string phase, double wall, double cpu, long count)> Totals()
        => _sums.OrderBy(kv => Order.Contains(kv.Key) ? Order.ToList().IndexOf(kv.Key) : int.MaxValue).ThenBy(kv => kv.Key)
            .Select(kv => (kv.Key, kv.Value.wall, kv.Value.cpu, kv.Value.count)).ToList();

    public void Clear() { _sums.Clear(); _peaks.Clear(); }

    /// <summary>Process CPU time (user + system, all threads) in seconds.</summary>
    public static double ProcessCpuSeconds() => Environment.CpuUsage.TotalTime.TotalSeconds;

    /// <summary>One running measurement (a struct: no allocation per phase).</summary>
    public readonly struct Measurement : IDisposable
    {
        readonly PhaseTimes? _owner;
        readonly string _phase;
        readonly long _start;
        readonly double _cpu;

        internal Measurement(PhaseTimes owner, string phase)
        {
            _owner = owner; _phase = phase; _start = Stopwatch.GetTimestamp(); _cpu = ProcessCpuSeconds();
            if (owner.TrackMemory) owner.MemoryDevice.Backend.ResetPeakMemoryStats();
        }

        public void Dispose()
        {
            if (_owner is null) return;
            _owner.Add(_phase, Stopwatch.GetElapsedTime(_start).TotalSeconds, ProcessCpuSeconds() - _cpu);
            if (_owner.TrackMemory)
                _owner._peaks[_phase] = Math.Max(_owner._peaks.GetValueOrDefault(_phase), _owner.MemoryDevice.Backend.MemoryStats.PeakBytes);
        }
    }
}
