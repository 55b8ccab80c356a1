using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using FsrNative.Fsr.Training;

namespace FsrNative.Fsr.Cli;

/// <summary>
/// <c>fsr ablate --study masking|components|augmentation [--seeds 0,1,2]</c>: trains one run per variant of the study
/// (<see cref="AblationStudies"/>) and seed on top of the given configuration, named <c>&lt;study&gt;-&lt;variant&gt;</c>
/// (with <c>-s&lt;seed&gt;</c> when there are several seeds), prints the table of <see cref="AblationTable"/> (mean ± std
/// over the seeds, like the paper's Table 4) and writes <c>&lt;out&gt;/&lt;study&gt;-summary.json</c> with each run's
/// outcome and last validation scores and each variant's aggregate. Seeds run in the outer loop, so an interrupted
/// study has every variant at the first seeds. <c>--list</c> prints the runs and their settings without training.
/// </summary>
public static class AblateCommand
{
    public static Command Create()
    {
        var shared = new ConfigOptions();
        var study = new Option<string>("--study") { Description = "which ablation: masking (Table 3: strategy × ratio), components (Table 4: baseline / unc.FSR / cer.FSR / both), augmentation (Table 5: default / blur / solarisation)", Required = true, HelpName = "masking|components|augmentation" };
        var list = new Option<bool>("--list") { Description = "print the variants and the settings each one changes, then stop" };
        var seedsOption = new Option<string?>("--seeds") { Description = "comma-separated training seeds (run.seed), each variant trained once per seed; the table shows mean ± std (default: the single --seed / run.seed)", HelpName = "N,N,..." };
        var cmd = new Command("ablate", "train the variants of one of the paper's ablation studies (fsr-spec §11), one run each");
        cmd.Options.Add(study);
        cmd.Options.Add(list);
        var variantsOption = new Option<string?>("--variants") { Description = "comma-separated variant names to run (see --list; default: all of the study's variants)", HelpName = "NAME,NAME,..." };
        cmd.Options.Add(seedsOption);
        cmd.Options.Add(variantsOption);
        shared.AddTo(cmd);
        cmd.SetAction(r => Cli.Guarded("ablate", () =>
        {
            string name = r.GetValue(study)!;
            var variants = SelectVariants(name, AblationStudies.Variants(name), r.GetValue(variantsOption));
            var baseOverrides = shared.Overrides(r);
            var seeds = ParseSeeds(r.GetValue(seedsOption));
            // Every run's configuration is checked before any training starts.
            var runs = new List<(AblationVariant variant, FsrConfig config)>();
            foreach (var seed in seeds ?? new ulong?[] { null })
                foreach (var v in variants)
                {
                    string runName = seeds is { Count: > 1 } ? $"{name}-{v.Name}-s{seed}" : $"{name}-{v.Name}";
                    var overrides = baseOverrides.Where(o => o.Path != "run.name" && (seed is null || o.Path != "run.seed")).ToList();
                    overrides.AddRange(v.Overrides);
                    if (seed is not null) overrides.Add(new ConfigOverride("run.seed", seed.Value.ToString(CultureInfo.InvariantCulture), "--seeds"));
                    overrides.Add(new ConfigOverride("run.name", runName, "ablate"));
                    runs.Add((v, ConfigLoader.Load(r.GetValue(shared.Preset), r.GetValue(shared.Config), overrides)));
                }
            if (r.GetValue(list))
            {
                foreach (var (v, c) in runs)
                    Console.WriteLine($"{c.Run.Name,-28} seed {c.Run.Seed,-4} {(v.Overrides.Count == 0 ? "(the configuration as given)" : string.Join(" ", v.Overrides.Select(o => $"{o.Path}={o.Text}")))}");
                return TrainCommand.Done;
            }
            return Run(name, runs.Select(x => (x.variant.Name, x.config)).ToList(), TrainingComponents.StepFactory, TrainingComponents.EvaluatorFactory, Console.Out, Console.Error);
        }));
        return cmd;
    }

    /// <summary>The study's variants named in <c>--variants</c> (in the study's order), or all of them when not given.</summary>
    public static IReadOnlyList<AblationVariant> SelectVariants(string study, IReadOnlyList<AblationVariant> all, string? text)
    {
        if (text is null) return all;
        var names = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var unknown = names.Where(n => all.All(v => v.Name != n)).ToList();
        if (unknown.Count > 0 || names.Length == 0)
            throw new ConfigException([$"--variants = \"{text}\": {(names.Length == 0 ? "no variant named" : $"unknown variant(s) {string.Join(", ", unknown)}")} (study {study} has {string.Join(", ", all.Select(v => v.Name))})"]);
        return all.Where(v => names.Contains(v.Name)).ToList();
    }

    /// <summary>The <c>--seeds</c> list: distinct whole numbers separated by commas; null when not given.</summary>
    public static IReadOnlyList<ulong?>? ParseSeeds(string? text)
    {
        if (text is null) return null;
        var seeds = new List<ulong?>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!ulong.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var seed))
                throw new ConfigException([$"--seeds = \"{text}\": \"{part}\" is not a whole number ≥ 0 (expected e.g. 0,1,2)"]);
            if (seeds.Contains(seed))
                throw new ConfigException([$"--seeds = \"{text}\": seed {seed} is listed twice"]);
            seeds.Add(seed);
        }
        return seeds;
    }

    /// <summary>Trains every run in turn (stopping at an interruption), prints the table of mean ± std per variant and
    /// writes the summary.</summary>
    public static int Run(string study, IReadOnlyList<(string Variant, FsrConfig Config)> runs,
        Func<FsrConfig, Device, IFsrTrainingStep>? stepFactory, Func<FsrConfig, Device, ITrainingEvaluator>? evaluatorFactory,
        TextWriter output, TextWriter error)
    {
        if (stepFactory is null)
        {
            output.WriteLine($"ablation {study}: {runs.Count} runs ({string.Join(", ", runs.Select(v => v.Config.Run.Name))})");
            error.WriteLine(TrainingComponents.MissingStep("ablate"));
            return TrainCommand.MissingStep;
        }
        var summary = new JsonObject { ["study"] = study };
        var entries = new JsonArray();
        summary["runs"] = entries;
        var results = new List<AblationRun>();
        int worst = TrainCommand.Done;
        foreach (var (variant, config) in runs)
        {
            output.WriteLine($"== ablation {study}: {config.Run.Name} (seed {config.Run.Seed})");
            int code = TrainCommand.Run(config, null, null, false, stepFactory, evaluatorFactory, output, error);
            var entry = new JsonObject { ["name"] = config.Run.Name, ["variant"] = variant, ["seed"] = config.Run.Seed, ["exit_code"] = code };
            string folder = Path.Combine(Path.GetFullPath(config.Run.Out), config.Run.Name!);
            string metrics = Path.Combine(folder, RunFolder.MetricsFile);
            Dictionary<string, double>? scores = null;
            if (File.Exists(metrics) && MetricsLog.Read(metrics).LastOrDefault(l => (string?)l["event"] == "eval")?["scores"] is JsonObject last)
            {
                entry["last_eval"] = last.DeepClone();
                scores = last.Where(kv => kv.Value is JsonValue).ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<double>());
            }
            entry["run"] = folder;
            entries.Add(entry);
            results.Add(new AblationRun(variant, config.Run.Seed, code, scores));
            worst = Math.Max(worst, code);
            if (code == TrainCommand.Interrupted) break;
        }
        var rows = AblationTable.Aggregate(results);
        var aggregate = new JsonArray();
        foreach (var row in rows)
        {
            var stats = new JsonObject();
            foreach (var (key, (mean, std)) in row.Scores) stats[key] = new JsonObject { ["mean"] = mean, ["std"] = std };
            aggregate.Add(new JsonObject { ["variant"] = row.Variant, ["runs"] = row.Runs, ["scores"] = stats });
        }
        summary["variants"] = aggregate;
        var seeds = results.Select(r => r.Seed).Distinct().ToList();
        output.Write(AblationTable.Format(study, rows, seeds));
        string path = Path.Combine(Path.GetFullPath(runs[0].Config.Run.Out), $"{study}-summary.json");
        File.WriteAllText(path, summary.ToJsonString(new() { WriteIndented = true }) + "\n");
        output.WriteLine($"summary: {path}");
        return worst;
    }
}
