using System.Globalization;

namespace FsrNative.Fsr.Training;

/// <summary>One variant of an ablation study: a name (its run folder's suffix) and the settings it changes.</summary>
public sealed record AblationVariant(string Name, IReadOnlyList<ConfigOverride> Overrides);

/// <summary>
/// The paper's ablations (fsr-spec §11) as sets of configuration variants, each trained as its own run:
/// <list type="bullet">
/// <item><c>masking</c> (Table 3): strategy random / uncertain × mask ratio 0.1 … 0.5;</item>
/// <item><c>components</c> (Table 4, the MCA rows): baseline (no FSR terms, no masking), unc.FSR only, cer.FSR only, both;</item>
/// <item><c>augmentation</c> (Table 5): default, + Gaussian blur (p 0.1), + solarisation (p 0.2).</item>
/// </list>
/// Not expressible as settings, so not listed: the "edge"/"CAM (strict)" selections and the GAP/GMP aggregation
/// rows (they need other model code) and AutoAugment.
/// </summary>
public static class AblationStudies
{
    public static IReadOnlyList<string> Names { get; } = ["masking", "components", "augmentation"];

    static ConfigOverride Set(string path, string value, string study) => new(path, value, $"ablation {study}");

    public static IReadOnlyList<AblationVariant> Variants(string study) => study switch
    {
        "masking" => (from strategy in new[] { "random", "uncertain" }
                      from ratio in new[] { 0.1, 0.2, 0.3, 0.4, 0.5 }
                      let r = ratio.ToString("0.0", CultureInfo.InvariantCulture)
                      select new AblationVariant($"{strategy}-{r}", [Set("mask.strategy", strategy, study), Set("mask.ratio", r, study)])).ToList(),
        "components" =>
        [
            new("baseline", [Set("fsr.w_class", "0", study), Set("fsr.w_patch", "0", study), Set("mask.enabled", "false", study)]),
            new("unc-fsr", [Set("fsr.w_class", "0", study)]),
            new("cer-fsr", [Set("fsr.w_patch", "0", study)]),
            new("unc-cer-fsr", []),
        ],
        "augmentation" =>
        [
            new("default", []),
            new("gauss", [Set("data.blur_p", "0.1", study)]),
            new("solar", [Set("data.solarize_p", "0.2", study)]),
        ],
        _ => throw new ConfigException([$"--study \"{study}\": unknown ablation (known: {string.Join(", ", Names)})"]),
    };
}
