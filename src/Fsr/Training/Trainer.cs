using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using FsrNative.Data;
using FsrNative.Data.Loading;
using FsrNative.Nn;
using FsrNative.Optim;
using FsrNative.Weights;

namespace FsrNative.Fsr.Training;

/// <summary>Options of a <see cref="Trainer"/> beyond the configuration.</summary>
public sealed record TrainerOptions
{
    /// <summary>Validation every eval.interval steps and at the end (null: none).</summary>
    public ITrainingEvaluator? Evaluator { get; init; }
    /// <summary>The progress display (null: as run.progress says, on <see cref="Output"/>).</summary>
    public ITrainingProgress? Progress { get; init; }
    public TextWriter Output { get; init; } = Console.Out;
    /// <summary>Continue from the run folder's newest good checkpoint, or from <see cref="ResumeCheckpoint"/> when set.</summary>
    public bool Resume { get; init; }
    public string? ResumeCheckpoint { get; init; }
    /// <summary>Stop after the current step, save a checkpoint and return <see cref="TrainingStatus.Interrupted"/>.</summary>
    public CancellationToken Cancel { get; init; }
    /// <summary>Stop (as interrupted, with a checkpoint) once this many steps are done; null: run to max_iters. For tests and time-boxed runs.</summary>
    public long? StopAfterStep { get; init; }
}

public enum TrainingStatus { Completed, Interrupted, Diverged }

/// <summary>How a run ended: the steps done, the newest checkpoint, and the divergence when there was one.</summary>
public sealed record TrainingOutcome(TrainingStatus Status, long Step, string? LastCheckpoint, TrainingDivergedException? Divergence);

/// <summary>
/// The training loop of fsr-spec §4 around an <see cref="IFsrTrainingStep"/>. Per optimiser step (0-based iteration n):
/// the schedule's values for n; each group's lr set; zero_grad; for each of optim.grad_accumulation micro-batches a
/// batch of two views from the loader, <see cref="IFsrTrainingStep.Step"/>, backward of total/micro-batches; the global
/// gradient norm (clipped when optim.clip_grad is set); a NaN/∞ check of every term, the total and the norm;
/// AdamW step; <see cref="IFsrTrainingStep.AfterOptimizerStep"/> (teacher EMA); a metrics line; checkpoints every
/// run.checkpoint_interval steps and at the end (keeping run.keep_checkpoints); validation every eval.interval steps
/// and at the end. A checkpoint holds the step's modules and generators, the optimiser, the trainer's generator and
/// the loader's position, so a resumed run continues bit-identically. A non-finite term stops the run before the
/// optimiser applies it; the last good checkpoint stays the newest.
/// <para>Sync points (issue 7: no hidden synchronisation): one device→host read per optimiser step — every gradient's
/// norm and every micro-batch's loss terms, scalars and total together (<see cref="GradClip.clip_grad_norm_(IEnumerable{Tensor}, double, Tensor?, out float[], double, bool)"/>
/// with the step's <see cref="StepValues"/>); the loader's batches are uploaded, never read back. Elsewhere: the
/// checkpoint writes and validation (every run.checkpoint_interval / eval.interval steps), and steps that report host
/// values (stand-ins) read their own.</para>
/// </summary>
public sealed class Trainer : IDisposable
{
    public const string OptimizerKey = "adamw", GeneratorKey = "trainer", LoaderKey = "loader";

    readonly FsrConfig _c;
    readonly RunFolder _run;
    readonly IFsrTrainingStep _step;
    readonly TrainerOptions _o;
    readonly List<Tensor> _trainable;
    DataLoader? _loader;

    public Trainer(FsrConfig config, RunFolder run, IFsrTrainingStep step, Device device, TrainerOptions? options = null)
    {
        _c = config; _run = run; _step = step; Device = device; _o = options ?? new TrainerOptions();
        Schedule = new TrainingSchedule(config);
        Optimizer = FsrParamGroups.CreateOptimizer(step.Parameters, Schedule, config.Optim);
        _trainable = Optimizer.param_groups.SelectMany(g => g.Parameters).Where(p => p.requires_grad).ToList();
        Generator = new Generator(config.Run.Seed);
        Checkpoints = new CheckpointManager(run.CheckpointsPath, config.Run.KeepCheckpoints);
    }

    public Device Device { get; }
    public TrainingSchedule Schedule { get; }
    public AdamW Optimizer { get; }
    /// <summary>The generator handed to the step in <see cref="StepContext.Generator"/> (seeded with run.seed, checkpointed).</summary>
    public Generator Generator { get; }
    public CheckpointManager Checkpoints { get; }
    /// <summary>Optimiser steps done.</summary>
    public long StepsDone { get; private set; }

    IReadOnlyDictionary<string, Generator> AllGenerators()
    {
        var all = new Dictionary<string, Generator> { [GeneratorKey] = Generator };
        foreach (var (k, g) in _step.Generators) all[$"step.{k}"] = g;
        return all;
    }

    /// <summary>Runs (or continues) the training to optim.max_iters; see the class summary.</summary>
    public TrainingOutcome Run(SegmentationDataset? trainSet = null)
    {
        var output = _o.Output;
        using var log = new StreamWriter(new FileStream(_run.LogPath, FileMode.Append, FileAccess.Write, FileShare.Read)) { AutoFlush = true };
        LoaderState? loaderState = null;
        string? resumedFrom = null;
        if (_o.Resume || _o.ResumeCheckpoint is not null)
        {
            using var scope = torch.NewDisposeScope();
            TrainingState state;
            if (_o.ResumeCheckpoint is not null)
            {
                state = Checkpoint.Load(_o.ResumeCheckpoint);
                resumedFrom = Path.GetFullPath(_o.ResumeCheckpoint);
            }
            else
            {
                state = Checkpoints.LoadLatest(out var skipped, fallBack: true)
                    ?? throw new ConfigException([$"--resume {_run.Path}: the run folder has no usable checkpoint in {_run.CheckpointsPath}"]);
                foreach (var bad in skipped) output.WriteLine($"skipping {bad.Message}");
                resumedFrom = Checkpoints.PathFor(state.Step);
            }
            state.Restore(models: _step.Modules, optimizers: new Dictionary<string, Optimizer> { [OptimizerKey] = Optimizer }, generators: AllGenerators());
            loaderState = state.Data.TryGetValue(LoaderKey, out var ls) ? LoaderState.Parse(ls)
                : throw new CheckpointCorruptException(resumedFrom, $"it has no '{LoaderKey}' position");
            StepsDone = state.Step;
        }

        int dropped = resumedFrom is null ? 0 : MetricsLog.TruncateAfter(_run.MetricsPath, StepsDone);
        using var metrics = new MetricsLog(_run.MetricsPath);
        trainSet ??= TrainingData.Open(_c, _c.Data.TrainSplit, output);
        _loader = TrainingData.TrainLoader(_c, trainSet, Device, loaderState);

        if (resumedFrom is not null)
            metrics.Write(new JsonObject { ["event"] = "resume", ["step"] = StepsDone, ["checkpoint"] = resumedFrom, ["dropped_lines"] = dropped });
        else
            metrics.Write(StartEvent());

        var progress = _o.Progress ?? ITrainingProgress.For(_c.Run.Progress, _c.Run.LogInterval, output);
        return progress.Run(sink => Loop(sink, metrics, log, resumedFrom));
    }

    JsonObject StartEvent()
    {
        var groups = new JsonArray();
        for (int g = 0; g < Optimizer.param_groups.Count; g++)
        {
            var pg = Optimizer.param_groups[g];
            groups.Add(new JsonObject
            {
                ["name"] = pg.name, ["tensors"] = pg.Parameters.Count, ["elements"] = pg.Parameters.Sum(p => (long)p.numel()),
                ["lr"] = Schedule.BaseLr[g], ["weight_decay"] = Schedule.WeightDecay[g],
            });
        }
        return new JsonObject
        {
            ["event"] = "start", ["step"] = 0, ["max_iters"] = _c.Optim.MaxIters, ["device"] = Device.ToString(), ["run"] = _run.Path,
            ["batch_size"] = _c.Data.BatchSize, ["grad_accumulation"] = _c.Optim.GradAccumulation, ["param_groups"] = groups,
            ["time"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture),
        };
    }

    TrainingOutcome Loop(IProgressSink sink, MetricsLog metrics, StreamWriter log, string? resumedFrom)
    {
        long max = _c.Optim.MaxIters;
        long stopAt = Math.Min(max, _o.StopAfterStep ?? max);
        int n = _c.Optim.GradAccumulation;
        string? lastCheckpoint = resumedFrom;
        long lastSaved = resumedFrom is null ? -1 : StepsDone;
        var clock = Stopwatch.StartNew();
        var window = new Queue<double>();
        window.Enqueue(0);
        void Say(string line) { sink.Message(line); log.WriteLine(line); }
        Say(resumedFrom is null
            ? $"run {_run.Path}: training {max} steps on {Device}"
            : $"run {_run.Path}: resumed at step {StepsDone} of {max} from {resumedFrom}");

        string Save()
        {
            var state = TrainingState.Capture(StepsDone, models: _step.Modules,
                optimizers: new Dictionary<string, Optimizer> { [OptimizerKey] = Optimizer }, generators: AllGenerators(),
                data: new Dictionary<string, string> { [LoaderKey] = _loader!.State.ToString() });
            string path = Checkpoints.Save(state);
            lastSaved = StepsDone;
            metrics.Write(new JsonObject { ["event"] = "checkpoint", ["step"] = StepsDone, ["path"] = path });
            Say($"step {StepsDone}: checkpoint {path}");
            return path;
        }

        while (StepsDone < max)
        {
            if (_o.Cancel.IsCancellationRequested || StepsDone >= stopAt)
            {
                if (lastSaved != StepsDone) lastCheckpoint = Save();
                metrics.Write(new JsonObject { ["event"] = "interrupted", ["step"] = StepsDone });
                Say($"stopped at step {StepsDone}; continue with --resume {_run.Path}");
                return new TrainingOutcome(TrainingStatus.Interrupted, StepsDone, lastCheckpoint, null);
            }

            long it = StepsDone;
            var values = Schedule.At(it);
            for (int g = 0; g < Optimizer.param_groups.Count; g++) Optimizer.param_groups[g].lr = values.GroupLr[g];
            Optimizer.zero_grad();
            var terms = new Dictionary<string, double>();
            var scalars = new Dictionary<string, double>();
            double total = 0;
            StepContext ctx = null!;
            long epoch = 0;
            void Accumulate(IReadOnlyDictionary<string, double> microTerms, IReadOnlyDictionary<string, double>? microScalars, double t)
            {
                foreach (var (k, v) in microTerms) terms[k] = terms.GetValueOrDefault(k) + v / n;
                foreach (var (k, v) in microScalars ?? new Dictionary<string, double>()) scalars[k] = scalars.GetValueOrDefault(k) + v / n;
                total += t / n;
            }
            var pending = new List<(StepValues layout, Tensor packed)>();   // per micro-batch: [values…, total] on the device
            try
            {
                for (int micro = 0; micro < n; micro++)
                {
                    using var scope = torch.NewDisposeScope();
                    using var batch = _loader!.Next();
                    epoch = batch.Epoch;
                    ctx = new StepContext { Schedule = values, MicroBatch = micro, MicroBatches = n, Generator = Generator, Config = _c, Device = Device };
                    var r = _step.Step(batch, ctx);
                    if (r.Values is { } sv)
                        using (torch.no_grad())
                            pending.Add((sv, torch.cat([sv.Packed, r.Loss.detach().reshape([1])]).DetachFromDisposeScope()));
                    else
                    {
                        // A step that reports host values (stand-ins in tests) made its own reads; the total is one more.
                        foreach (var (k, v) in r.Terms) Guard($"loss term '{k}'", v, values.Step, lastCheckpoint);
                        double t = r.Loss.item();   // sync point: host-valued steps only
                        Guard("the total loss", t, values.Step, lastCheckpoint);
                        Accumulate(r.Terms, r.Scalars, t);
                    }
                    (n == 1 ? r.Loss : r.Loss.mul(1f / n)).backward();
                }
                // The one device→host read of the step: every gradient's norm and every micro-batch's loss values together.
                using var packedAll = pending.Count == 0 ? null : Packed(pending);
                double gradNorm = GradClip.clip_grad_norm_(_trainable, _c.Optim.ClipGrad ?? double.PositiveInfinity, packedAll, out var read);
                foreach (var (_, packed) in pending) packed.Dispose();
                int at = 0;
                foreach (var (layout, _) in pending)
                {
                    var (microTerms, microScalars) = layout.Split(read, at);
                    at += layout.TermNames.Count + layout.ScalarNames.Count;
                    double t = read[at++];
                    foreach (var (k, v) in microTerms) Guard($"loss term '{k}'", v, values.Step, lastCheckpoint);
                    Guard("the total loss", t, values.Step, lastCheckpoint);
                    Accumulate(microTerms, microScalars, t);
                }
                Guard("the gradient norm", gradNorm, values.Step, lastCheckpoint);
                Optimizer.step();
                _step.AfterOptimizerStep(ctx);
                StepsDone = it + 1;

                double now = clock.Elapsed.TotalSeconds;
                window.Enqueue(now);
                while (window.Count > 21) window.Dequeue();
                double itPerSec = (window.Count - 1) / Math.Max(1e-9, now - window.Peek());
                var eta = itPerSec > 0 ? TimeSpan.FromSeconds((max - StepsDone) / itPerSec) : (TimeSpan?)null;
                metrics.Write(StepLine(values, epoch, total, terms, scalars, gradNorm, itPerSec, now));
                var update = new ProgressUpdate(StepsDone, max, epoch, itPerSec, eta, total, terms, values.GroupLr, values.Momentum);
                sink.Step(update);
                if (StepsDone == 1 || StepsDone % _c.Run.LogInterval == 0 || StepsDone == max) log.WriteLine(ProgressFormat.Line(update));
            }
            catch (TrainingDivergedException e)
            {
                metrics.Write(new JsonObject
                {
                    ["event"] = "diverged", ["step"] = StepsDone, ["failed_step"] = e.Step, ["term"] = e.Term, ["value"] = MetricsLog.Number(e.Value),
                    ["last_good_checkpoint"] = e.LastGoodCheckpoint,
                });
                Say(e.Message);
                return new TrainingOutcome(TrainingStatus.Diverged, StepsDone, lastCheckpoint, e);
            }

            bool last = StepsDone == max;
            long ci = _c.Run.CheckpointInterval;
            if (last || (ci > 0 && StepsDone % ci == 0)) lastCheckpoint = Save();
            long ei = _c.Eval.Interval ?? 0;
            if (_o.Evaluator is not null && (last || (ei > 0 && StepsDone % ei == 0))) Evaluate(last, metrics, Say);
        }
        var peak = PeakMemory.Measure(Device);
        var end = new JsonObject { ["event"] = "end", ["step"] = StepsDone, ["elapsed_s"] = clock.Elapsed.TotalSeconds };
        peak.AddTo(end);
        metrics.Write(end);
        Say(peak.ToString());
        Say($"done: {StepsDone} steps in {clock.Elapsed.TotalMinutes:F1} min; checkpoint {lastCheckpoint}");
        return new TrainingOutcome(TrainingStatus.Completed, StepsDone, lastCheckpoint, null);
    }

    /// <summary>The micro-batches' packed values end to end (one tensor for the single read).</summary>
    static Tensor Packed(List<(StepValues layout, Tensor packed)> pending)
    {
        using var noGrad = torch.no_grad();
        return torch.cat(pending.Select(p => p.packed).ToList());
    }

    static void Guard(string what, double value, long step, string? lastGood)
    {
        if (!double.IsFinite(value)) throw new TrainingDivergedException(what, value, step, lastGood);
    }

    JsonObject StepLine(ScheduleValues v, long epoch, double total, Dictionary<string, double> terms, Dictionary<string, double> scalars,
        double gradNorm, double itPerSec, double elapsed)
    {
        var loss = new JsonObject();
        foreach (var (k, x) in terms) loss[k] = x;
        var w = v.Weights;
        var line = new JsonObject
        {
            ["event"] = "step", ["step"] = StepsDone, ["iteration"] = v.Iteration, ["epoch"] = epoch, ["total"] = total, ["loss"] = loss,
            ["weights"] = new JsonObject { ["cls"] = w.Cls, ["fsr_class"] = w.FsrClass, ["fsr_patch"] = w.FsrPatch, ["aff"] = w.Aff, ["seg"] = w.Seg, ["reg"] = w.Reg },
            ["lr"] = new JsonArray(v.GroupLr.Select(x => (JsonNode)x).ToArray()),
            ["momentum"] = v.Momentum, ["teacher_temp"] = v.TeacherTemperature,
            ["mask_strategy"] = v.MaskStrategy.ToString().ToLowerInvariant(),
            ["grad_norm"] = gradNorm, ["it_per_s"] = itPerSec, ["elapsed_s"] = elapsed,
        };
        if (scalars.Count > 0)
        {
            var s = new JsonObject();
            foreach (var (k, x) in scalars) s[k] = MetricsLog.Number(x);
            line["scalars"] = s;
        }
        return line;
    }

    void Evaluate(bool final, MetricsLog metrics, Action<string> say)
    {
        var clock = Stopwatch.StartNew();
        var scores = _o.Evaluator!.Evaluate(new EvaluationContext(StepsDone, final, _step, _c, _run, Device, _o.Output));
        var obj = new JsonObject();
        foreach (var (k, v) in scores) obj[k] = MetricsLog.Number(v);
        Directory.CreateDirectory(_run.EvalPath);
        File.WriteAllText(_run.EvalFileFor(StepsDone), new JsonObject { ["step"] = StepsDone, ["final"] = final, ["scores"] = obj.DeepClone() }.ToJsonString(new() { WriteIndented = true }) + "\n");
        metrics.Write(new JsonObject { ["event"] = "eval", ["step"] = StepsDone, ["final"] = final, ["scores"] = obj, ["elapsed_s"] = clock.Elapsed.TotalSeconds });
        say($"step {StepsDone}: eval " + string.Join(", ", scores.Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key} {kv.Value:F4}"))));
    }

    public void Dispose()
    {
        _loader?.Dispose();
        _loader = null;
        Optimizer.Dispose();
    }
}
