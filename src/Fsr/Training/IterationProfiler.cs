using System.Diagnostics;
using System.Globalization;
using FsrNative.Data.Loading;
using FsrNative.Data.Transforms;
using FsrNative.Optim;

namespace FsrNative.Fsr.Training;

/// <summary>
/// Where one FSR iteration's time goes (<c>fsr train --profile-steps N</c>): the real <see cref="FsrTrainingStep"/>,
/// backward, AdamW step and EMA of a configuration, on random views and labels (as the reference timings of
/// reference-cpu-timings.md), at the first iteration where every loss term is on and the mask is chosen from the CAM
/// (step &gt; seg_start, aff_start and random_iters). One warm-up iteration, then <c>steps</c> timed ones; per phase the
/// wall and process-CPU seconds per iteration and their share, the load average before and after (the machine may be
/// shared: CPU seconds are the steadier figure), and peak memory. No data is read and no run folder is written.
/// </summary>
public static class IterationProfiler
{
    public sealed record Result(PhaseTimes Phases, double WallPerIteration, double CpuPerIteration, long Iteration, string LoadBefore, string LoadAfter, PeakMemory Peak);

    /// <summary>The first iteration with every term on and the uncertain mask (clamped to the run's length).</summary>
    public static long ProfileIteration(FsrConfig c)
    {
        long it = Math.Max(Math.Max(c.Losses.SegStart ?? 0, c.Losses.AffStart), c.Mask.RandomIters ?? 0);
        return Math.Min(it, Math.Max(0, c.Optim.MaxIters - 1));
    }

    public static Result Run(FsrConfig c, Device device, int steps, TextWriter output)
    {
        if (steps < 1) throw new ConfigException([$"--profile-steps {steps}: must be ≥ 1"]);
        using var it = new Iterations(c, device);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"profiling {steps} iterations (+1 warm-up) at iteration {it.Iteration}: {c.Data.BatchSize} images × 2 views of {c.Data.InputSize} px, width {c.Model.EmbedDim}, depth {c.Model.Depth}, {it.Step.Student.num_parameters() / 1e6:F1} M parameters, mask {it.Values.MaskStrategy}, device {device}"));
        var phases = new PhaseTimes { TrackMemory = true, MemoryDevice = device };
        string loadBefore = LoadAverage();
        double wall = 0, cpu = 0;
        for (int i = 0; i <= steps; i++)
        {
            bool timed = i > 0;
            long start = Stopwatch.GetTimestamp();
            double cpu0 = PhaseTimes.ProcessCpuSeconds();
            it.Run(timed ? phases : null);
            if (timed)
            {
                wall += Stopwatch.GetElapsedTime(start).TotalSeconds;
                cpu += PhaseTimes.ProcessCpuSeconds() - cpu0;
            }
        }
        var result = new Result(phases, wall / steps, cpu / steps, it.Iteration, loadBefore, LoadAverage(),
            new PeakMemory(device, phases.PeakBytes.Values.DefaultIfEmpty(device.Backend.MemoryStats.PeakBytes).Max(), PeakMemory.ProcessPeakRssBytes()));
        Print(result, steps, output);
        output.WriteLine($"allocator ({device}): {device.Backend.MemoryStats}" + (device.IsCpu ? $", dropped {CpuAllocator.Pool.Evicted.Arrays} arrays ({CpuAllocator.Pool.Evicted.Bytes / 1048576.0:F0} MiB), {CpuAllocator.Pool.Evicted.Collections} collections" : ""));
        return result;
    }

    /// <summary>What <see cref="Time"/> measured: milliseconds per iteration, the device allocator's peak bytes in use
    /// over the whole run (model, warm-up and timed iterations), the process's peak RSS, the profiled iteration and the
    /// student's parameter count.</summary>
    public sealed record Timing(double MillisecondsPerIteration, long PeakTensorBytes, long? PeakRssBytes, long Iteration, long Parameters);

    /// <summary>
    /// The GPU runner's <c>fsr_step</c> benchmark (bench/gpu, docs/gpu.md): the iterations of <see cref="Run"/> without
    /// per-phase timing (which would reset the peak counter per phase), <paramref name="warmup"/> untimed, then
    /// <paramref name="steps"/> back to back with the device synchronised only before and after the timed loop — so the
    /// time includes all queued GPU work and the step keeps only its own sync points (docs/gpu.md, "Sync points").
    /// The peak counter is restarted before the model is built (as <c>torch.cuda.max_memory_allocated</c> of a fresh process).
    /// </summary>
    public static Timing Time(FsrConfig c, Device device, int warmup, int steps)
    {
        if (warmup < 0 || steps < 1) throw new ArgumentException($"IterationProfiler.Time: warmup {warmup} must be ≥ 0 and steps {steps} ≥ 1");
        device.Backend.ResetPeakMemoryStats();
        using var it = new Iterations(c, device);
        for (int i = 0; i < warmup; i++) it.Run(null);
        device.Backend.Synchronize();   // sync point: timing only
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < steps; i++) it.Run(null);
        device.Backend.Synchronize();   // sync point: timing only
        double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds / steps;
        return new Timing(ms, device.Backend.MemoryStats.PeakBytes, PeakMemory.ProcessPeakRssBytes(), it.Iteration, it.Step.Student.num_parameters());
    }

    /// <summary>The step, optimiser, schedule values and random batch of a profiling run; <see cref="Run"/> is one
    /// iteration as the trainer makes it (LRs, zero_grad, step, backward, AdamW, EMA) inside a dispose scope.</summary>
    sealed class Iterations : IDisposable
    {
        readonly FsrConfig _config;
        readonly Device _device;
        readonly AdamW _optimizer;
        readonly Generator _generator;
        readonly Batch _batch;

        public Iterations(FsrConfig c, Device device)
        {
            _config = c;
            _device = device;
            Step = new FsrTrainingStep(c, device);
            var schedule = new TrainingSchedule(c);
            _optimizer = FsrParamGroups.CreateOptimizer(Step.Parameters, schedule, c.Optim);
            Iteration = ProfileIteration(c);
            Values = schedule.At(Iteration);
            _generator = new Generator(c.Run.Seed);
            _batch = RandomBatch(c, device, _generator);
        }

        public FsrTrainingStep Step { get; }
        public long Iteration { get; }
        public ScheduleValues Values { get; }

        public void Run(PhaseTimes? phases)
        {
            Step.Timings = phases;
            var ctx = new StepContext { Schedule = Values, MicroBatch = 0, MicroBatches = 1, Generator = _generator, Config = _config, Device = _device };
            for (int k = 0; k < _optimizer.param_groups.Count; k++) _optimizer.param_groups[k].lr = Values.GroupLr[k];
            _optimizer.zero_grad();
            using var scope = torch.NewDisposeScope();
            var r = Step.Step(_batch, ctx);
            using (phases?.Measure("backward") ?? default) r.Loss.backward();
            using (phases?.Measure("optimizer") ?? default) _optimizer.step();
            Step.AfterOptimizerStep(ctx);
        }

        public void Dispose()
        {
            _batch.Dispose();
            _optimizer.Dispose();
            Step.Dispose();
        }
    }

    static void Print(Result r, int steps, TextWriter o)
    {
        o.WriteLine($"{"phase",-16} {"wall s/it",10} {"cpu s/it",10} {"cpu share",9} {"peak MiB",9}");
        foreach (var (phase, w, c, _) in r.Phases.Totals())
            o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{phase,-16} {w / steps,10:F4} {c / steps,10:F4} {c / steps / Math.Max(1e-12, r.CpuPerIteration),9:P1} {r.Phases.PeakBytes.GetValueOrDefault(phase) / 1048576.0,9:F0}"));
        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"iteration",-16} {r.WallPerIteration,10:F4} {r.CpuPerIteration,10:F4}"));
        o.WriteLine($"load average before: {r.LoadBefore}; after: {r.LoadAfter}; CPUs: {Environment.ProcessorCount}");
        o.WriteLine(r.Peak.ToString());
    }

    static string LoadAverage()
    {
        try { return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "n/a"; }
        catch (UnauthorizedAccessException) { return "n/a"; }
    }

    /// <summary>Normal-distributed views (as normalised images) and multi-hot labels with at least one class per image.</summary>
    static Batch RandomBatch(FsrConfig c, Device device, Generator g)
    {
        int b = c.Data.BatchSize, s = c.Data.InputSize, classes = c.Data.NumClasses - 1;
        using var scope = torch.NewDisposeScope();
        var labels = torch.rand([b, classes], g).gt(0.7f);
        labels.select(1, 0).fill_(1f);
        var v1 = torch.randn([b, 3, s, s], g).to(device);
        var v2 = torch.randn([b, 3, s, s], g).to(device);
        var y = labels.to(device);
        return new Batch
        {
            Views = [v1.DetachFromDisposeScope(), v2.DetachFromDisposeScope()], Labels = y.DetachFromDisposeScope(),
            Ids = Enumerable.Range(0, b).Select(i => $"random{i}").ToArray(), Indices = Enumerable.Range(0, b).ToArray(), Epoch = 0, Position = 0,
            Params = Enumerable.Range(0, b).Select(_ => new AugmentParams?[2]).ToArray(),
        };
    }
}
