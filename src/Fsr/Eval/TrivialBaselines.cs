using System.Globalization;

namespace FsrNative.Eval;

/// <summary>One trivial baseline: a prediction of <see cref="Label"/> at every pixel, and its scores on the split.</summary>
public sealed record TrivialBaseline(string Name, int Label, SegmentationScores Scores);

/// <summary>
/// What a model must beat to have learned anything: predicting one label everywhere, scored like any prediction
/// (spec §8.4) on the same split. Only the split's ground-truth pixel counts matter, so any score set of an
/// evaluation of that split gives them (<see cref="SegmentationScores.TruthPixels"/>). With VOC-like data the
/// all-background prediction scores about (background share)/(present labels), e.g. 3–4 % mIoU on VOC val.
/// </summary>
public static class TrivialBaselines
{
    /// <summary>The scores of predicting <paramref name="label"/> at every scored pixel of the split whose ground truth
    /// <paramref name="split"/> counts.</summary>
    public static SegmentationScores Constant(SegmentationScores split, int label)
    {
        int k = split.NumLabels;
        if ((uint)label >= (uint)k) throw new ArgumentOutOfRangeException(nameof(label), label, $"trivial baseline: label must be in 0..{k - 1}");
        var m = new ConfusionMatrix(k);
        for (int t = 0; t < k; t++) m.AddCount(t, label, split.TruthPixels[t]);
        return m.Scores(split.ClassNames);
    }

    /// <summary>All background (label 0).</summary>
    public static TrivialBaseline AllBackground(SegmentationScores split) => new("all background", 0, Constant(split, 0));

    /// <summary>The best single foreground class predicted everywhere (ties: the lowest label).</summary>
    public static TrivialBaseline BestOneClass(SegmentationScores split)
    {
        if (split.NumLabels < 2) throw new ArgumentException("trivial baseline: the split has no foreground class");
        TrivialBaseline? best = null;
        for (int c = 1; c < split.NumLabels; c++)
        {
            var s = Constant(split, c);
            if (best is null || s.MeanIoU > best.Scores.MeanIoU) best = new TrivialBaseline($"all '{split.ClassNames[c]}'", c, s);
        }
        return best!;
    }

    /// <summary>One line: both baselines' mIoU in percent.</summary>
    public static string Describe(TrivialBaseline background, TrivialBaseline oneClass) => string.Create(CultureInfo.InvariantCulture,
        $"trivial baselines: {background.Name} mIoU {100 * background.Scores.MeanIoU:F2}, {oneClass.Name} (best single class) mIoU {100 * oneClass.Scores.MeanIoU:F2}");
}
