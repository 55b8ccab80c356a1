using System.CommandLine;
using System.Text.Json.Nodes;
using FsrNative.Fsr.Training;

namespace FsrNative.Fsr.Cli;

/// <summary>
/// <c>fsr ablate --study masking|components|augmentation</c>: trains one run per variant of the study
/// (<see cref="AblationStudies"/>) on top of the given configuration, named <c>&lt;study&gt;-&lt;variant&gt;</c>, and
/// writes <c>&lt;out&gt;/&lt;study&gt;-summary.json</c> with each variant's outcome and last validation scores.
/// <c>--list</c> prints the variants and their settings without training.
/// </summary>
public static class AblateCommand
{
    public static Command Create()
    {
        var shared = new ConfigOptions();
        var study = new Option<string>("--study") { Description = "which ablation: masking (Table 3: strategy × ratio), components (Table 4: baseline / unc.FSR / cer.FSR / both), augmentation (Table 5: default / blur / solarisation)", Required = true, HelpName = "masking|components|augmentation" };
        var list = new Option<bool>("--list") { Description = "print the variants and the settings each one changes, then stop" };
        var cmd = new Command("ablate", "train the variants of one of the paper's ablation studies (fsr-spec §11), one run each");
        cmd.Options.Add(study);
        cmd.Options.Add(list);
        shared.AddTo(cmd);
        cmd.SetAction(r => Cli.Guarded("ablate", () =>
        {
            string name = r.GetValue(study)!;
            var variants = AblationStudies.Variants(name);
            var baseOverrides = shared.Overrides(r);
            // Every variant's configuration is checked before any training starts.
            var configs = variants.Select(v => (v, config: ConfigLoader.Load(r.GetValue(shared.Preset), r.GetValue(shared.Config),
                [.. baseOverrides.Where(o => o.Path != "run.name"), .. v.Overrides, new ConfigOverride("run.name", $"{name}-{v.Name}", "ablate")]))).ToList();
            if (r.GetValue(list))
            {
                foreach (var (v, c) in configs)
                    Console.WriteLine($"{c.Run.Name,-24} {(v.Overrides.Count == 0 ? "(the configuration as given)" : string.Join(" ", v.Overrides.Select(o => $"{o.Path}={o.Text}")))}");
                return TrainCommand.Done;
            }
            return Run(name, configs.Select(x => x.config).ToList(), TrainingComponents.StepFactory, TrainingComponents.EvaluatorFactory, Console.Out, Console.Error);
        }));
        return cmd;
    }

    /// <summary>Trains every variant in turn (stopping at the first that fails to start) and writes the summary.</summary>
    public static int Run(string study, IReadOnlyList<FsrConfig> variants,
        Func<FsrConfig, Device, IFsrTrainingStep>? stepFactory, Func<FsrConfig, Device, ITrainingEvaluator>? evaluatorFactory,
        TextWriter output, TextWriter error)
    {
        if (stepFactory is null)
        {
            output.WriteLine($"ablation {study}: {variants.Count} variants ({string.Join(", ", variants.Select(v => v.Run.Name))})");
            error.WriteLine(TrainingComponents.MissingStep("ablate"));
            return TrainCommand.MissingStep;
        }
        var summary = new JsonObject { ["study"] = study };
        var runs = new JsonArray();
        summary["runs"] = runs;
        int worst = TrainCommand.Done;
        foreach (var config in variants)
        {
            output.WriteLine($"== ablation {study}: {config.Run.Name}");
            int code = TrainCommand.Run(config, null, null, false, stepFactory, evaluatorFactory, output, error);
            var entry = new JsonObject { ["name"] = config.Run.Name, ["exit_code"] = code };
            string folder = Path.Combine(Path.GetFullPath(config.Run.Out), config.Run.Name!);
            string metrics = Path.Combine(folder, RunFolder.MetricsFile);
            if (File.Exists(metrics))
                entry["last_eval"] = MetricsLog.Read(metrics).LastOrDefault(l => (string?)l["event"] == "eval")?["scores"]?.DeepClone();
            entry["run"] = folder;
            runs.Add(entry);
            worst = Math.Max(worst, code);
            if (code == TrainCommand.Interrupted) break;
        }
        string path = Path.Combine(Path.GetFullPath(variants[0].Run.Out), $"{study}-summary.json");
        File.WriteAllText(path, summary.ToJsonString(new() { WriteIndented = true }) + "\n");
        output.WriteLine($"summary: {path}");
        return worst;
    }
}
