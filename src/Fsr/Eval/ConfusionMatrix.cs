using System.Globalization;
using System.Text;

namespace FsrNative.Eval;

/// <summary>
/// The K×K confusion matrix of spec §8.4, accumulated over a whole split: entry (t, p) counts the pixels whose
/// ground truth is t and whose prediction is p. Pixels whose ground truth is outside [0, K) — the 255 ignore band,
/// or any other value — are skipped; a prediction outside [0, K) on a counted pixel is an error (a prediction map
/// must assign every pixel a label). Not thread-safe: give each thread its own matrix and <see cref="Add(ConfusionMatrix)"/>
/// them.
/// </summary>
public sealed class ConfusionMatrix
{
    readonly long[] _counts;

    /// <param name="numLabels">K: the number of labels including the background (21 for VOC, 81 for COCO).</param>
    public ConfusionMatrix(int numLabels)
    {
        if (numLabels < 1 || numLabels > 255)
            throw new ArgumentOutOfRangeException(nameof(numLabels), numLabels, "confusion matrix: K must be in 1..255");
        NumLabels = numLabels;
        _counts = new long[numLabels * numLabels];
    }

    public int NumLabels { get; }

    /// <summary>Pixels with ground truth <paramref name="truth"/> predicted as <paramref name="predicted"/>.</summary>
    public long this[int truth, int predicted]
    {
        get
        {
            if ((uint)truth >= (uint)NumLabels || (uint)predicted >= (uint)NumLabels)
                throw new ArgumentOutOfRangeException(nameof(truth), $"confusion matrix: ({truth}, {predicted}) is outside 0..{NumLabels - 1}");
            return _counts[truth * NumLabels + predicted];
        }
    }

    /// <summary>Pixels counted so far (those with a ground truth in [0, K)).</summary>
    public long Total { get; private set; }

    /// <summary>Pixels skipped so far because their ground truth was outside [0, K) (the ignore band).</summary>
    public long Ignored { get; private set; }

    /// <summary>Adds one label map pair (same length, row-major, one byte per pixel).</summary>
    public void Add(ReadOnlySpan<byte> truth, ReadOnlySpan<byte> predicted)
    {
        CheckLengths(truth.Length, predicted.Length);
        int k = NumLabels;
        long counted = 0;
        for (int i = 0; i < truth.Length; i++)
        {
            int t = truth[i];
            if (t >= k) continue;
            int p = predicted[i];
            if (p >= k) BadPrediction(i, p);
            _counts[t * k + p]++;
            counted++;
        }
        Total += counted;
        Ignored += truth.Length - counted;
    }

    /// <summary>Adds one label map pair given as ints (negative ground truth is skipped like 255).</summary>
    public void Add(ReadOnlySpan<int> truth, ReadOnlySpan<int> predicted)
    {
        CheckLengths(truth.Length, predicted.Length);
        int k = NumLabels;
        long counted = 0;
        for (int i = 0; i < truth.Length; i++)
        {
            int t = truth[i];
            if ((uint)t >= (uint)k) continue;
            int p = predicted[i];
            if ((uint)p >= (uint)k) BadPrediction(i, p);
            _counts[t * k + p]++;
            counted++;
        }
        Total += counted;
        Ignored += truth.Length - counted;
    }

    /// <summary>Adds Int32 tensors of the same shape (any device; they are copied to the host).</summary>
    public void Add(Tensor truth, Tensor predicted)
    {
        if (truth.DType != DType.Int32 || predicted.DType != DType.Int32)
            throw new ArgumentException($"confusion matrix: expected Int32 label tensors, got {truth.DType} and {predicted.DType}");
        if (!truth.shape.AsSpan().SequenceEqual(predicted.shape))
            throw new ArgumentException($"confusion matrix: ground truth {Shape.Format(truth.shape)} and prediction {Shape.Format(predicted.shape)} differ in shape");
        Add(truth.ToIntArray(), predicted.ToIntArray());
    }

    /// <summary>Adds <paramref name="pixels"/> pixels of ground truth <paramref name="truth"/> predicted as
    /// <paramref name="predicted"/> (counts known without label maps, e.g. a constant prediction).</summary>
    public void AddCount(int truth, int predicted, long pixels)
    {
        if ((uint)truth >= (uint)NumLabels || (uint)predicted >= (uint)NumLabels)
            throw new ArgumentOutOfRangeException(nameof(truth), $"confusion matrix: ({truth}, {predicted}) is outside 0..{NumLabels - 1}");
        if (pixels < 0) throw new ArgumentOutOfRangeException(nameof(pixels), pixels, "confusion matrix: a pixel count must be ≥ 0");
        _counts[truth * NumLabels + predicted] += pixels;
        Total += pixels;
    }

    /// <summary>Adds another matrix's counts (e.g. one accumulated by another thread).</summary>
    public void Add(ConfusionMatrix other)
    {
        if (other.NumLabels != NumLabels)
            throw new ArgumentException($"confusion matrix: cannot add a {other.NumLabels}-label matrix to a {NumLabels}-label one");
        for (int i = 0; i < _counts.Length; i++) _counts[i] += other._counts[i];
        Total += other.Total;
        Ignored += other.Ignored;
    }

    public void Clear()
    {
        Array.Clear(_counts);
        Total = Ignored = 0;
    }

    public ConfusionMatrix Clone()
    {
        var c = new ConfusionMatrix(NumLabels);
        c.Add(this);
        return c;
    }

    /// <summary>
    /// The scores of spec §8.4: IoU_c = TP_c / (TP_c + FP_c + FN_c) for every label; mIoU = the mean over the labels
    /// that occur in the ground truth (a label absent from the ground truth keeps its IoU in the table — 0 if it was
    /// predicted, NaN if neither predicted nor present — but does not enter the mean); pixel accuracy = Σ TP / Σ pixels.
    /// </summary>
    /// <param name="classNames">K names (background first) for printing; default "0".."K-1".</param>
    public SegmentationScores Scores(IReadOnlyList<string>? classNames = null)
    {
        int k = NumLabels;
        if (classNames is not null && classNames.Count != k)
            throw new ArgumentException($"confusion matrix: {classNames.Count} class names for {k} labels");
        var truthPixels = new long[k];
        var predictedPixels = new long[k];
        var tp = new long[k];
        for (int t = 0; t < k; t++)
            for (int p = 0; p < k; p++)
            {
                long n = _counts[t * k + p];
                truthPixels[t] += n;
                predictedPixels[p] += n;
                if (t == p) tp[t] = n;
            }
        var iou = new double[k];
        var acc = new double[k];
        var present = new bool[k];
        double iouSum = 0, accSum = 0, fw = 0;
        int presentCount = 0;
        long correct = 0;
        for (int c = 0; c < k; c++)
        {
            long union = truthPixels[c] + predictedPixels[c] - tp[c];
            iou[c] = union == 0 ? double.NaN : (double)tp[c] / union;
            acc[c] = truthPixels[c] == 0 ? double.NaN : (double)tp[c] / truthPixels[c];
            present[c] = truthPixels[c] > 0;
            correct += tp[c];
            if (!present[c]) continue;
            presentCount++;
            iouSum += iou[c];
            accSum += acc[c];
            fw += (double)truthPixels[c] / Total * iou[c];
        }
        return new SegmentationScores
        {
            ClassNames = classNames?.ToArray() ?? Enumerable.Range(0, k).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray(),
            IoU = iou,
            Accuracy = acc,
            Present = present,
            TruthPixels = truthPixels,
            PredictedPixels = predictedPixels,
            Pixels = Total,
            IgnoredPixels = Ignored,
            MeanIoU = presentCount == 0 ? double.NaN : iouSum / presentCount,
            MeanAccuracy = presentCount == 0 ? double.NaN : accSum / presentCount,
            PixelAccuracy = Total == 0 ? double.NaN : (double)correct / Total,
            FrequencyWeightedIoU = Total == 0 ? double.NaN : fw,
        };
    }

    /// <summary>The counts as text, one ground-truth row per line.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        for (int t = 0; t < NumLabels; t++)
        {
            for (int p = 0; p < NumLabels; p++) sb.Append(p == 0 ? "" : " ").Append(_counts[t * NumLabels + p].ToString(CultureInfo.InvariantCulture));
            sb.Append('\n');
        }
        return sb.ToString();
    }

    static void CheckLengths(int a, int b)
    {
        if (a != b) throw new ArgumentException($"confusion matrix: ground truth has {a} pixels, prediction {b}");
    }

    void BadPrediction(int i, int p) =>
        throw new ArgumentException($"confusion matrix: pixel {i} is predicted as {p}, outside the labels 0..{NumLabels - 1} (predictions may not be ignore values)");
}

/// <summary>
/// Segmentation scores from a <see cref="ConfusionMatrix"/> (spec §8.4). Per-label arrays have K entries, background
/// first. IoU and accuracy are NaN where undefined (0/0); <see cref="Present"/> marks the labels that occur in the
/// ground truth — only those enter <see cref="MeanIoU"/> and <see cref="MeanAccuracy"/>.
/// </summary>
public sealed record SegmentationScores
{
    public required IReadOnlyList<string> ClassNames { get; init; }
    /// <summary>TP / (TP + FP + FN) per label (NaN when the label is neither present nor predicted).</summary>
    public required double[] IoU { get; init; }
    /// <summary>TP / ground-truth pixels per label (recall; NaN when absent from the ground truth).</summary>
    public required double[] Accuracy { get; init; }
    /// <summary>Whether the label occurs in the ground truth of the split.</summary>
    public required bool[] Present { get; init; }
    public required long[] TruthPixels { get; init; }
    public required long[] PredictedPixels { get; init; }
    /// <summary>Pixels scored (ground truth in [0, K)).</summary>
    public required long Pixels { get; init; }
    /// <summary>Pixels skipped (ground truth 255 or otherwise outside [0, K)).</summary>
    public required long IgnoredPixels { get; init; }
    /// <summary>Mean IoU over the labels present in the ground truth: the reported "mIoU".</summary>
    public required double MeanIoU { get; init; }
    public required double MeanAccuracy { get; init; }
    public required double PixelAccuracy { get; init; }
    public required double FrequencyWeightedIoU { get; init; }

    public int NumLabels => IoU.Length;

    /// <summary>A plain-text table: one line per label (IoU in percent, "absent" for labels not in the ground truth), then the means.</summary>
    public string Format()
    {
        var inv = CultureInfo.InvariantCulture;
        int w = Math.Max(12, ClassNames.Max(n => n.Length) + 2);
        var sb = new StringBuilder();
        sb.Append("label".PadRight(w)).Append("    IoU   truth px    pred px\n");
        for (int c = 0; c < NumLabels; c++)
        {
            string iou = double.IsNaN(IoU[c]) ? "     -" : (100 * IoU[c]).ToString("F2", inv).PadLeft(6);
            sb.Append(ClassNames[c].PadRight(w)).Append(' ').Append(iou)
              .Append(TruthPixels[c].ToString(inv).PadLeft(11)).Append(PredictedPixels[c].ToString(inv).PadLeft(11))
              .Append(Present[c] ? "" : "  (absent: not in the mean)").Append('\n');
        }
        sb.Append(inv, $"mIoU {100 * MeanIoU:F2}  pixel accuracy {100 * PixelAccuracy:F2}  mean accuracy {100 * MeanAccuracy:F2}  ({Pixels} pixels, {IgnoredPixels} ignored)\n");
        return sb.ToString();
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"mIoU {100 * MeanIoU:F2}, pixel accuracy {100 * PixelAccuracy:F2}");
}
