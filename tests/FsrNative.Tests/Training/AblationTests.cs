using System.Text.Json.Nodes;
using FsrNative.Fsr.Cli;
using FsrNative.Fsr.Training;

namespace FsrNative.Tests.Training;

/// <summary>
/// <c>fsr ablate</c>: the seeds option, the mean ± std table (the paper's Table 4 layout) and the summary file, with the
/// trainer's stand-in step and an evaluator whose scores depend on the variant and the seed, so every aggregate can
/// be checked by hand.
/// </summary>
[Trait("Category", TrainingCategory.Name)]
public class AblationTests
{
    [Fact]
    public void MeanAndSampleStandardDeviation()
    {
        var (m, s) = AblationTable.MeanStd([0.2, 0.4, 0.6]);
        Assert.Equal(0.4, m, 12);
        Assert.Equal(0.2, s, 12);                       // √(((−0.2)² + 0 + 0.2²) / 2)
        Assert.Equal((0.5, 0.0), AblationTable.MeanStd([0.5]));
        Assert.True(double.IsNaN(AblationTable.MeanStd([]).Mean));
    }

    [Fact]
    public void Aggregate_groups_by_variant_in_order_and_skips_runs_without_scores()
    {
        var rows = AblationTable.Aggregate(
        [
            new("baseline", 0, 0, new Dictionary<string, double> { ["student.cam_miou"] = 0.30 }),
            new("both", 0, 0, new Dictionary<string, double> { ["student.cam_miou"] = 0.40 }),
            new("baseline", 1, 0, new Dictionary<string, double> { ["student.cam_miou"] = 0.34 }),
            new("both", 1, 4, null),
        ]);
        Assert.Equal(["baseline", "both"], rows.Select(r => r.Variant));
        Assert.Equal(2, rows[0].Runs);
        Assert.Equal(0.32, rows[0].Scores["student.cam_miou"].Mean, 12);
        Assert.Equal(Math.Sqrt(0.0008), rows[0].Scores["student.cam_miou"].Std, 12);
        Assert.Equal(1, rows[1].Runs);
        string table = AblationTable.Format("components", rows, [0, 1]);
        Assert.Contains("32.00 ± 2.83", table);
        Assert.Contains("40.00 ± 0.00", table);
        Assert.Contains("—", table);                    // a metric no run reported
    }

    [Theory]
    [InlineData("0,x", "\"x\" is not a whole number")]
    [InlineData("1,2,1", "seed 1 is listed twice")]
    [InlineData("-1", "\"-1\" is not a whole number")]
    public void Seeds_option_names_the_bad_value(string text, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => AblateCommand.ParseSeeds(text));
        Assert.Contains("--seeds", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Seeds_option_parses_a_list()
    {
        Assert.Equal(new ulong?[] { 0, 1, 2 }, AblateCommand.ParseSeeds("0, 1,2"));
        Assert.Null(AblateCommand.ParseSeeds(null));
    }

    [Fact]
    public void Variants_option_selects_in_study_order_and_names_unknown_ones()
    {
        var all = AblationStudies.Variants("components");
        Assert.Equal(["baseline", "unc-cer-fsr"], AblateCommand.SelectVariants("components", all, "unc-cer-fsr,baseline").Select(v => v.Name));
        Assert.Same(all, AblateCommand.SelectVariants("components", all, null));
        var e = Assert.Throws<ConfigException>(() => AblateCommand.SelectVariants("components", all, "baseline,fsr"));
        Assert.Contains("--variants = \"baseline,fsr\": unknown variant(s) fsr (study components has baseline, unc-fsr, cer-fsr, unc-cer-fsr)", e.Message);
    }

    /// <summary>Scores = variant offset + seed / 100, so each variant's mean and std over seeds 0, 1, 2 are known.</summary>
    sealed class VariantSeedEvaluator : ITrainingEvaluator
    {
        public IReadOnlyDictionary<string, double> Evaluate(EvaluationContext c)
        {
            double offset = c.Config.Fsr.WClass == 0 ? 0.1 : 0.2;
            return new Dictionary<string, double> { ["student.cam_miou"] = offset + c.Config.Run.Seed / 100.0, ["student.seg_miou"] = offset };
        }
    }

    [Fact]
    public void Ablate_runs_every_variant_for_every_seed_and_prints_mean_and_std()
    {
        string outFolder = TrainingFixture.NewOutFolder();
        var runs = new List<(string, FsrConfig)>();
        foreach (ulong seed in new ulong[] { 0, 1, 2 })
            foreach (var (variant, wClass) in new[] { ("no-class", "0"), ("class", "0.1") })
                runs.Add((variant, TrainingFixture.Config(outFolder, steps: 2, ("fsr.w_class", wClass), ("run.seed", seed.ToString()),
                    ("run.name", $"components-{variant}-s{seed}"))));
        var output = new StringWriter();
        int code = AblateCommand.Run("components", runs, (c, _) => new StandInStep(c), (_, _) => new VariantSeedEvaluator(), output, TextWriter.Null);
        Assert.Equal(TrainCommand.Done, code);
        string text = output.ToString();
        Assert.Contains("mean ± std over seeds 0, 1, 2", text);
        Assert.Contains("11.00 ± 1.00", text);          // no-class: 0.10, 0.11, 0.12
        Assert.Contains("21.00 ± 1.00", text);          // class: 0.20, 0.21, 0.22
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(outFolder, "components-summary.json")))!;
        Assert.Equal(6, summary["runs"]!.AsArray().Count);
        var variants = summary["variants"]!.AsArray();
        Assert.Equal(["no-class", "class"], variants.Select(v => (string)v!["variant"]!));
        Assert.Equal(0.21, variants[1]!["scores"]!["student.cam_miou"]!["mean"]!.GetValue<double>(), 12);
        Assert.Equal(3, variants[1]!["runs"]!.GetValue<int>());
        foreach (var run in summary["runs"]!.AsArray())
            Assert.True(Directory.Exists((string)run!["run"]!), $"run folder {(string)run!["run"]!}");
    }
}
