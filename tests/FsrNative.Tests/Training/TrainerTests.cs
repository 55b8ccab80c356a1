using System.Text.Json.Nodes;
using FsrNative.Fsr.Cli;
using FsrNative.Fsr.Training;
using FsrNative.Tests.Infrastructure;
using FsrNative.Weights;

namespace FsrNative.Tests.Training;

/// <summary>The trainer's loop with the stand-in step: run folder, metrics, checkpoints, resume, NaN guard, accumulation.</summary>
[Trait(Categories.Trait, TrainingCategory.Name)]
public class TrainerTests
{
    sealed record Finished(TrainingOutcome Outcome, RunFolder Run, Dictionary<string, float[]> Weights, List<JsonObject> Metrics, StandInStep Step);

    static Dictionary<string, float[]> Snapshot(StandInStep step)
    {
        var all = new Dictionary<string, float[]>();
        foreach (var (m, module) in step.Modules)
            foreach (var (k, t) in module.state_dict()) all[$"{m}.{k}"] = t.ToArray();
        return all;
    }

    static Finished Train(FsrConfig config, RunFolder? run = null, TrainerOptions? options = null, StandInStep? step = null, ITrainingEvaluator? evaluator = null)
    {
        run ??= RunFolder.Create(config);
        step ??= new StandInStep(config);
        using var trainer = new Trainer(config, run, step, Device.CPU, (options ?? new TrainerOptions()) with { Output = TextWriter.Null, Evaluator = evaluator });
        var outcome = trainer.Run();
        return new Finished(outcome, run, Snapshot(step), MetricsLog.Read(run.MetricsPath), step);
    }

    static List<JsonObject> Steps(List<JsonObject> metrics) => metrics.Where(l => (string?)l["event"] == "step").ToList();

    sealed class CountingEvaluator : ITrainingEvaluator
    {
        public List<(long step, bool final)> Calls { get; } = new();
        public IReadOnlyDictionary<string, double> Evaluate(EvaluationContext c)
        {
            Calls.Add((c.Step, c.Final));
            var w = c.TrainingStep.Modules["student"].state_dict()["head.weight"].ToArray();
            return new Dictionary<string, double> { ["student.head_norm"] = Math.Sqrt(w.Sum(x => (double)x * x)) };
        }
    }

    [Fact]
    public void A_run_writes_config_metrics_checkpoints_eval_and_log()
    {
        var config = TrainingFixture.Config(TrainingFixture.NewOutFolder(), steps: 8);
        var eval = new CountingEvaluator();
        var f = Train(config, evaluator: eval);
        using var _ = f.Step;
        Assert.Equal(TrainingStatus.Completed, f.Outcome.Status);
        Assert.Equal(8, f.Outcome.Step);

        // config.json: the resolved configuration, which loads back to itself.
        Assert.Equal(ConfigLoader.Serialize(config), ConfigLoader.Serialize(ConfigLoader.Load(null, f.Run.ConfigPath)));
        Assert.Equal("run", Path.GetFileName(f.Run.Path));

        // metrics.jsonl: start, one line per step with every term, lr per group, it/s; checkpoints; evals; end.
        var steps = Steps(f.Metrics);
        Assert.Equal(Enumerable.Range(1, 8).Select(i => (long)i), steps.Select(l => l["step"]!.GetValue<long>()));
        var schedule = new TrainingSchedule(config);
        foreach (var l in steps)
        {
            long it = l["iteration"]!.GetValue<long>();
            Assert.True(l["loss"]!["cls"] is not null && l["loss"]!["fsr"] is not null);
            Assert.Equal(schedule.GroupLr(it), l["lr"]!.AsArray().Select(x => x!.GetValue<double>()));
            Assert.Equal(schedule.MomentumAt(it), l["momentum"]!.GetValue<double>());
            Assert.True(l["it_per_s"]!.GetValue<double>() > 0);
            Assert.True(double.IsFinite(l["grad_norm"]!.GetValue<double>()));
            Assert.Equal(1.0 * (l["iteration"]!.GetValue<long>() + 1), l["scalars"]!["calls"]!.GetValue<double>());
        }
        Assert.Equal("start", (string?)f.Metrics[0]["event"]);
        Assert.Equal(4, f.Metrics[0]["param_groups"]!.AsArray().Count);
        Assert.Equal("end", (string?)f.Metrics[^1]["event"]);
        Assert.Equal("cpu", (string?)f.Metrics[^1]["peak_tensor_device"]);
        Assert.True(f.Metrics[^1]["peak_tensor_bytes"]!.GetValue<long>() > 0);
        Assert.True(f.Metrics[^1].ContainsKey("peak_rss_bytes"));
        Assert.Equal([3L, 6L, 8L], f.Metrics.Where(l => (string?)l["event"] == "checkpoint").Select(l => l["step"]!.GetValue<long>()));

        // checkpoints: every 3 steps and at the end, the newest 3 kept.
        var manager = new CheckpointManager(f.Run.CheckpointsPath, 3);
        Assert.Equal([3L, 6L, 8L], manager.List().Select(x => x.step));
        Assert.Equal(f.Outcome.LastCheckpoint, manager.PathFor(8));

        // eval every 4 steps and at the end, in metrics and eval/.
        Assert.Equal([(4L, false), (8L, true)], eval.Calls);
        Assert.True(File.Exists(f.Run.EvalFileFor(8)));
        Assert.Equal(2, f.Metrics.Count(l => (string?)l["event"] == "eval"));

        // train.log: plain progress lines (step 1, every 2nd step, the last).
        var log = File.ReadAllLines(f.Run.LogPath);
        Assert.Contains(log, l => l.StartsWith("step 1/8 |", StringComparison.Ordinal) && l.Contains(" cls ") && l.Contains(" fsr ") && l.Contains("it/s"));
        Assert.Contains(log, l => l.StartsWith("step 8/8 |", StringComparison.Ordinal));
    }

    [Fact]
    public void Resume_continues_bit_identically_from_the_newest_or_a_chosen_checkpoint()
    {
        var full = Train(TrainingFixture.Config(TrainingFixture.NewOutFolder(), steps: 8));
        full.Step.Dispose();

        // Stopped after step 5 (a checkpoint is written at the stop), continued from the newest checkpoint.
        var config = TrainingFixture.Config(TrainingFixture.NewOutFolder(), steps: 8);
        var first = Train(config, options: new TrainerOptions { StopAfterStep = 5 });
        first.Step.Dispose();
        Assert.Equal(TrainingStatus.Interrupted, first.Outcome.Status);
        Assert.Equal(5, first.Outcome.Step);
        var resumed = Train(config, run: RunFolder.Open(first.Run.Path), options: new TrainerOptions { Resume = true });
        resumed.Step.Dispose();
        Assert.Equal(TrainingStatus.Completed, resumed.Outcome.Status);
        AssertSameRun(full, resumed);
        Assert.Contains(resumed.Metrics, l => (string?)l["event"] == "resume" && l["step"]!.GetValue<long>() == 5);

        // From the older checkpoint of step 3: the metrics lines of steps 4 and 5 are replaced.
        var config2 = TrainingFixture.Config(TrainingFixture.NewOutFolder(), steps: 8);
        var second = Train(config2, options: new TrainerOptions { StopAfterStep = 5 });
        second.Step.Dispose();
        string ckpt3b = new CheckpointManager(second.Run.CheckpointsPath).PathFor(3);
        var again = Train(config2, run: RunFolder.Open(second.Run.Path), options: new TrainerOptions { ResumeCheckpoint = ckpt3b });
        again.Step.Dispose();
        AssertSameRun(full, again);
    }

    static void AssertSameRun(Finished expected, Finished actual)
    {
        var e = Steps(expected.Metrics);
        var a = Steps(actual.Metrics);
        Assert.Equal(e.Count, a.Count);
        for (int i = 0; i < e.Count; i++)
        {
            Assert.Equal(e[i]["step"]!.GetValue<long>(), a[i]["step"]!.GetValue<long>());
            Assert.Equal(e[i]["total"]!.GetValue<double>(), a[i]["total"]!.GetValue<double>());
            Assert.Equal(e[i]["loss"]!.ToJsonString(), a[i]["loss"]!.ToJsonString());
            Assert.Equal(e[i]["grad_norm"]!.GetValue<double>(), a[i]["grad_norm"]!.GetValue<double>());
        }
        Assert.Equal(expected.Weights.Keys, actual.Weights.Keys);
        foreach (var (k, w) in expected.Weights) Assert.True(w.AsSpan().SequenceEqual(actual.Weights[k]), $"{k} differs after resuming");
    }

    [Fact]
    public void Nan_guard_stops_before_the_update_names_the_term_and_step_and_keeps_the_last_good_checkpoint()
    {
        var config = TrainingFixture.Config(TrainingFixture.NewOutFolder(), steps: 8);
        var run = RunFolder.Create(config);
        var step = new StandInStep(config) { NanAtStep = 5 };
        var f = Train(config, run, step: step);
        using var _ = f.Step;
        Assert.Equal(TrainingStatus.Diverged, f.Outcome.Status);
        Assert.Equal(4, f.Outcome.Step);
        var d = f.Outcome.Divergence!;
        Assert.Equal("loss term 'fsr'", d.Term);
        Assert.Equal(5, d.Step);
        Assert.True(double.IsNaN(d.Value));
        var manager = new CheckpointManager(run.CheckpointsPath);
        Assert.Equal([3L], manager.List().Select(x => x.step));
        Assert.Equal(manager.PathFor(3), d.LastGoodCheckpoint);
        Assert.Contains("step 5", d.Message);
        Assert.Contains("fsr", d.Message);
        Assert.Contains(manager.PathFor(3), d.Message);
        var diverged = f.Metrics.Single(l => (string?)l["event"] == "diverged");
        Assert.Equal("NaN", diverged["value"]!.ToJsonString().Trim('"'));
        Assert.Equal(4, Steps(f.Metrics).Count);
        Assert.All(f.Weights, kv => Assert.All(kv.Value, x => Assert.True(float.IsFinite(x), $"{kv.Key} holds a non-finite value")));
    }

    [Fact]
    public void Gradient_accumulation_of_two_half_batches_matches_one_full_batch()
    {
        // The stand-in's centre moves after every micro-batch, so its "fsr" term is weighted 0 here: what is compared
        // is the summed gradient of the batch-mean classification loss.
        var cfgOne = TrainingFixture.Config(TrainingFixture.NewOutFolder(), steps: 4, ("data.batch_size", "4"), ("fsr.w_class", "0"));
        var a = Train(cfgOne, step: new StandInStep(cfgOne) { NoiseScale = 0 });
        a.Step.Dispose();
        var cfgTwo = TrainingFixture.Config(TrainingFixture.NewOutFolder(), steps: 4, ("data.batch_size", "2"), ("optim.grad_accumulation", "2"), ("fsr.w_class", "0"));
        var b = Train(cfgTwo, step: new StandInStep(cfgTwo) { NoiseScale = 0 });
        b.Step.Dispose();
        Assert.Equal(8, b.Step.Calls);   // two micro-batches per step
        var sa = Steps(a.Metrics);
        var sb = Steps(b.Metrics);
        for (int i = 0; i < 4; i++)
            Assert.Equal(sa[i]["total"]!.GetValue<double>(), sb[i]["total"]!.GetValue<double>(), 5);
        foreach (var (k, w) in a.Weights.Where(kv => !kv.Key.StartsWith("fsr_loss.", StringComparison.Ordinal)))
            for (int i = 0; i < w.Length; i++) Assert.True(Math.Abs(w[i] - b.Weights[k][i]) <= 1e-5 + 1e-5 * Math.Abs(w[i]), $"{k}[{i}]: {w[i]} vs {b.Weights[k][i]}");
    }

    [Fact]
    public void Train_verb_runs_the_given_step_and_says_when_there_is_none()
    {
        var config = TrainingFixture.Config(TrainingFixture.NewOutFolder(), steps: 3);
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.Equal(TrainCommand.MissingStep, TrainCommand.Run(config, null, null, false, null, null, output, error));
        Assert.Contains("not wired in yet", error.ToString());
        Assert.False(Directory.Exists(Path.Combine(config.Run.Out, "run")));

        Assert.Equal(TrainCommand.Done, TrainCommand.Run(config, null, null, true, null, null, output, error));
        Assert.Contains("schedule (iteration is 0-based", output.ToString());

        Assert.Equal(TrainCommand.Done, TrainCommand.Run(config, null, null, false, (c, _) => new StandInStep(c), null, output, error));
        var run = RunFolder.Open(Path.Combine(config.Run.Out, "run"));
        Assert.Equal(3, Steps(MetricsLog.Read(run.MetricsPath)).Count);
        // A second run of the same name is refused; --resume of a finished run just ends.
        Assert.Throws<ConfigException>(() => TrainCommand.Run(config, null, null, false, (c, _) => new StandInStep(c), null, output, error));
        var (again, _) = RunFolder.ForResume("latest", config.Run.Out);
        Assert.Equal(run.Path, again.Path);
        Assert.Equal(TrainCommand.Done, TrainCommand.Run(ConfigLoader.Load(null, again.ConfigPath), again, null, false, (c, _) => new StandInStep(c), null, output, error));
    }
}
