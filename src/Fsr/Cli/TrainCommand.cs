using System.CommandLine;
using System.Globalization;
using FsrNative.Fsr.Training;

namespace FsrNative.Fsr.Cli;

/// <summary>
/// <c>fsr train</c>: resolves the configuration (preset &lt; --config &lt; options), creates the run folder (or reopens one
/// with --resume) and runs the <see cref="Trainer"/> around the FSR step of <see cref="TrainingComponents"/>.
/// Exit codes: 0 done, 2 bad configuration or data, 3 FSR step not wired, 4 diverged (NaN/∞), 130 interrupted (Ctrl+C).
/// </summary>
public static class TrainCommand
{
    public const int Done = 0, BadInput = 2, MissingStep = 3, Diverged = 4, Interrupted = 130;

    /// <summary>The <c>train</c> verb. Its output goes to <paramref name="output"/> and <paramref name="error"/>
    /// (default: the console) so that a test can run the verb exactly as the command line does and read what it printed.</summary>
    public static Command Create(TextWriter? output = null, TextWriter? error = null)
    {
        var shared = new ConfigOptions();
        var resume = new Option<string?>("--resume") { Description = "continue a run: latest (the newest run under --out with a checkpoint), a run folder, or a checkpoint file; settings come from its config.json, options given here override them", HelpName = "latest|PATH" };
        var dryRun = new Option<bool>("--dry-run") { Description = "print the resolved configuration and the schedule at its turning points, then stop (no run folder)" };
        var profile = new Option<int?>("--profile-steps") { Description = "time N iterations of the FSR step on random views (after one warm-up) and print where the time goes per phase (wall and CPU seconds, load average, peak memory), then stop (no run folder)", HelpName = "N" };
        var cmd = new Command("train", "train FSR (fsr-spec §4): writes runs/<name>/ with config.json, metrics.jsonl, checkpoints/, eval/, train.log");
        shared.AddTo(cmd);
        cmd.Options.Add(resume);
        cmd.Options.Add(dryRun);
        cmd.Options.Add(profile);
        cmd.SetAction(r => Cli.Guarded("train", () =>
        {
            var overrides = shared.Overrides(r);
            FsrConfig config;
            RunFolder? run = null;
            string? checkpoint = null;
            if (r.GetValue(resume) is string from)
            {
                if (r.GetValue(shared.Preset) is not null || r.GetValue(shared.Config) is not null)
                    throw new ConfigException([$"--resume {from}: the run's own config.json is used; --preset and --config cannot be combined with --resume (use options or --set to change settings)"]);
                string outRoot = overrides.LastOrDefault(o => o.Path == "run.out")?.Text ?? "runs";
                (run, checkpoint) = RunFolder.ForResume(from, outRoot);
                config = ConfigLoader.Load(null, run.ConfigPath, overrides);
            }
            else config = shared.Load(r);
            if (r.GetValue(profile) is int n)
            {
                IterationProfiler.Run(config, Device.Parse(config.Run.Device), n, output ?? Console.Out);
                return Done;
            }
            return Run(config, run, checkpoint, r.GetValue(dryRun), TrainingComponents.StepFactory, TrainingComponents.EvaluatorFactory,
                output ?? Console.Out, error ?? Console.Error);
        }));
        return cmd;
    }

    /// <summary>
    /// Runs training for a resolved configuration: a new run folder when <paramref name="resumeRun"/> is null, else
    /// that run continued from <paramref name="resumeCheckpoint"/> (or its newest good checkpoint).
    /// </summary>
    public static int Run(FsrConfig config, RunFolder? resumeRun, string? resumeCheckpoint, bool dryRun,
        Func<FsrConfig, Device, IFsrTrainingStep>? stepFactory, Func<FsrConfig, Device, ITrainingEvaluator>? evaluatorFactory,
        TextWriter output, TextWriter error, CancellationToken cancel = default)
    {
        if (dryRun)
        {
            output.WriteLine(ConfigLoader.Serialize(config));
            output.Write(ScheduleSummary(config));
            return Done;
        }
        if (stepFactory is null)
        {
            output.WriteLine($"configuration: preset {config.Preset}, {config.Optim.MaxIters} steps of {config.Data.BatchSize} images ({config.Data.Dataset}, {config.Data.InputSize} px), device {config.Run.Device}");
            error.WriteLine(TrainingComponents.MissingStep("train"));
            return MissingStep;
        }
        var device = Device.Parse(config.Run.Device);
        RunFolder run;
        if (resumeRun is null) run = RunFolder.Create(config);
        else
        {
            run = resumeRun;
            ConfigLoader.Save(config, run.ConfigPath);   // options given with --resume are part of the run from now on
        }
        output.WriteLine($"run folder {run.Path}");
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cts.Cancel(); };
        Console.CancelKeyPress += onCancel;
        try
        {
            using var step = stepFactory(config, device);
            using var trainer = new Trainer(config, run, step, device, new TrainerOptions
            {
                Evaluator = evaluatorFactory?.Invoke(config, device), Output = output,
                Resume = resumeRun is not null, ResumeCheckpoint = resumeCheckpoint, Cancel = cts.Token,
            });
            var outcome = trainer.Run();
            switch (outcome.Status)
            {
                case TrainingStatus.Diverged:
                    error.WriteLine($"fsr train: {outcome.Divergence!.Message}");
                    return Diverged;
                case TrainingStatus.Interrupted:
                    return Interrupted;
                default:
                    return Done;
            }
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <summary>The schedule at its turning points (start, end of warm-up, end of the random-mask phase, stage switches, end).</summary>
    public static string ScheduleSummary(FsrConfig c)
    {
        var s = new TrainingSchedule(c);
        long max = c.Optim.MaxIters;
        var points = new SortedSet<long> { 0, max - 1 };
        void Add(long? it) { if (it is long v && v >= 0 && v < max) points.Add(v); }
        Add(c.Optim.WarmupIters); Add(c.Mask.RandomIters); Add(c.Losses.SegStart); Add(c.Losses.AffStart); Add(c.Fsr.TeacherTempWarmupIters); Add(c.Fsr.FsrIters);
        var sb = new System.Text.StringBuilder();
        sb.AppendLine("schedule (iteration is 0-based; step = iteration + 1):");
        sb.AppendLine("  iteration  lr(enc)     lr(heads)   momentum  τ_teacher  w_cls w_fsr_c w_fsr_p w_aff w_seg w_reg  mask");
        foreach (var it in points)
        {
            var v = s.At(it);
            var w = v.Weights;
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"  {it,9}  {v.GroupLr[0],-10:E3}  {v.GroupLr[3],-10:E3}  {v.Momentum,-8:F6}  {v.TeacherTemperature,-9:F5}  {w.Cls,5:G3} {w.FsrClass,7:G3} {w.FsrPatch,7:G3} {w.Aff,5:G3} {w.Seg,5:G3} {w.Reg,5:G3}  {v.MaskStrategy.ToString().ToLowerInvariant()}"));
        }
        return sb.ToString();
    }
}
