using System.Diagnostics;
using System.Globalization;
using System.Text;
using FsrNative.Data;
using FsrNative.Data.Loading;
using FsrNative.Data.Transforms;

namespace FsrNative.Eval;

/// <summary>Options of <see cref="Evaluator.Run"/>. The defaults are the in-training validation of spec §8.3 on the
/// images' own size; <see cref="ForReportedNumbers"/> and <see cref="ForValidation"/> give the spec's two settings.</summary>
public sealed record EvaluationOptions
{
    /// <summary>Resize every image (bilinear) to this square size before the model (§8.3: 448); null keeps the
    /// original size (§8.1). Scores are always computed at the label (original) size.</summary>
    public int? InputSize { get; init; }
    public SegInferenceOptions Segmentation { get; init; } = SegInferenceOptions.Validation;
    public CamInferenceOptions Cam { get; init; } = CamInferenceOptions.Spec;
    /// <summary>The background threshold of single-threshold CAM labels (VOC 0.5, COCO 0.45).</summary>
    public float CamThreshold { get; init; } = 0.5f;
    /// <summary>More thresholds to score the CAMs at (a sweep: <see cref="CamEvaluation.Sweep"/>); the main one is
    /// always included.</summary>
    public IReadOnlyList<float>? CamThresholdSweep { get; init; }
    /// <summary>Images per model call. Images of different sizes need 1 (or <see cref="InputSize"/> and equal label sizes).</summary>
    public int BatchSize { get; init; } = 1;
    /// <summary>Loader threads decoding images.</summary>
    public int Workers { get; init; } = 1;
    public Device Device { get; init; } = Device.CPU;
    /// <summary>Evaluate only the first N images of the split (in list order).</summary>
    public int? Limit { get; init; }
    /// <summary>A post-processor of the fused logits (the dense CRF of §8.2); scored in addition to the raw prediction.</summary>
    public LabelPostProcessor? PostProcessor { get; init; }
    public string PostProcessorName { get; init; } = "CRF";
    /// <summary>Keep the first N images' inputs and outputs for panels (<see cref="EvaluationResult.Examples"/>).</summary>
    public int Examples { get; init; }
    /// <summary>Keep these images as examples too (by id).</summary>
    public IReadOnlyCollection<string>? ExampleIds { get; init; }
    /// <summary>Write every image's final prediction (post-processed when a post-processor ran) as a VOC-palette index
    /// PNG <c>&lt;id&gt;.png</c> into this folder — the format of VOC's evaluation server.</summary>
    public string? SavePredictionsTo { get; init; }
    /// <summary>Called after each batch with (images done, images in total).</summary>
    public Action<int, int>? Progress { get; init; }

    /// <summary>Spec §8.1: original size, scales 1/1.25/1.5 with flips (add a <see cref="PostProcessor"/> for the CRF).</summary>
    public static EvaluationOptions ForReportedNumbers => new() { Segmentation = SegInferenceOptions.Reported };
    /// <summary>Spec §8.3: images resized to <paramref name="inputSize"/>, single-pass decoder, multi-scale CAMs at threshold 0.5.</summary>
    public static EvaluationOptions ForValidation(int inputSize = 448, float camThreshold = 0.5f) =>
        new() { InputSize = inputSize, Segmentation = SegInferenceOptions.Validation, CamThreshold = camThreshold };
}

/// <summary>One image kept for display: the original image and label map, and what each model made of it.</summary>
public sealed record EvalExample
{
    public required string Id { get; init; }
    public required int Index { get; init; }
    /// <summary>The original 8-bit image (label size).</summary>
    public required RgbImage Image { get; init; }
    /// <summary>Ground truth, row-major bytes (0..K−1, 255 ignore).</summary>
    public required byte[] Truth { get; init; }
    /// <summary>Image-level labels (C values 0/1).</summary>
    public required float[] ImageLabels { get; init; }
    /// <summary>Decoder prediction (argmax of the fused logits), when a segmentation model was evaluated.</summary>
    public byte[]? Prediction { get; init; }
    /// <summary>The post-processed (CRF) prediction, when a post-processor ran.</summary>
    public byte[]? PostProcessed { get; init; }
    public IReadOnlyList<CamExample> Cams { get; init; } = [];
    public int Width => Image.Width;
    public int Height => Image.Height;
}

/// <summary>One CAM set on one example: the heat map v = max_c(y_c·cam_c) in [0, 1) and its single-threshold labels.</summary>
public sealed record CamExample(string Name, float Threshold, float[] Heat, byte[] Labels);

/// <summary>The scores of one CAM set: at the main threshold, and at every threshold of the sweep.</summary>
public sealed record CamEvaluation
{
    public required string Name { get; init; }
    public required float Threshold { get; init; }
    public required SegmentationScores Scores { get; init; }
    /// <summary>(threshold, scores) in increasing threshold order; includes the main threshold.</summary>
    public required IReadOnlyList<(float Threshold, SegmentationScores Scores)> Sweep { get; init; }
    /// <summary>The sweep's threshold with the highest mIoU (the lowest of ties).</summary>
    public (float Threshold, SegmentationScores Scores) Best =>
        Sweep.Aggregate((a, b) => b.Scores.MeanIoU > a.Scores.MeanIoU ? b : a);
}

/// <summary>What <see cref="Evaluator.Run"/> measured.</summary>
public sealed record EvaluationResult
{
    public required ClassSet Classes { get; init; }
    public required string Split { get; init; }
    public required int Images { get; init; }
    /// <summary>Decoder prediction ("Pred."), when a segmentation model was given.</summary>
    public SegmentationScores? Prediction { get; init; }
    /// <summary>Post-processed prediction ("Pred. + CRF"), when a post-processor was given.</summary>
    public SegmentationScores? PostProcessed { get; init; }
    public string? PostProcessorName { get; init; }
    /// <summary>One entry per CAM set ("Pseu."), when a CAM model was given.</summary>
    public IReadOnlyList<CamEvaluation> Cams { get; init; } = [];
    public IReadOnlyList<EvalExample> Examples { get; init; } = [];
    public TimeSpan Elapsed { get; init; }

    /// <summary>Every score set with a display name, in report order.</summary>
    public IEnumerable<(string Name, SegmentationScores Scores)> ScoreSets()
    {
        if (Prediction is not null) yield return ("Pred.", Prediction);
        if (PostProcessed is not null) yield return ($"Pred. + {PostProcessorName}", PostProcessed);
        foreach (var c in Cams) yield return (string.Create(CultureInfo.InvariantCulture, $"{c.Name} @ {c.Threshold:0.##}"), c.Scores);
    }

    /// <summary>One line per score set: name, mIoU, pixel accuracy.</summary>
    public string Summary()
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{Split}: {Images} images, {Elapsed.TotalSeconds:F1} s\n");
        foreach (var (name, s) in ScoreSets())
            sb.Append(CultureInfo.InvariantCulture, $"  {name,-22} mIoU {100 * s.MeanIoU,6:F2}   pixel acc. {100 * s.PixelAccuracy,6:F2}\n");
        return sb.ToString();
    }
}

/// <summary>
/// Runs segmentation and/or CAM evaluation over a dataset split in list order (spec §8): images through the
/// <see cref="EvalTransform"/> (optionally resized), masks at their own size, one confusion matrix per score set.
/// Every batch runs under no_grad in its own dispose scope.
/// </summary>
public static class Evaluator
{
    public static EvaluationResult Run(SegmentationDataset dataset, ISegmentationModel? segmentation, ICamModel? cams, EvaluationOptions? options = null)
    {
        var o = options ?? new EvaluationOptions();
        if (segmentation is null && cams is null) throw new ArgumentException("evaluation: give a segmentation model, a CAM model or both");
        if (o.PostProcessor is not null && segmentation is null) throw new ArgumentException("evaluation: a post-processor needs a segmentation model");
        if (o.BatchSize < 1) throw new ArgumentException($"evaluation: batch size {o.BatchSize} must be ≥ 1");
        var sw = Stopwatch.StartNew();
        var classes = dataset.Classes;
        int k = classes.NumLabels;
        int total = Math.Min(dataset.Count, o.Limit ?? int.MaxValue);
        if (total <= 0) throw new ArgumentException($"evaluation: split '{dataset.Split}' has no image to evaluate");

        var thresholds = (o.CamThresholdSweep ?? []).Append(o.CamThreshold).Distinct().Order().ToArray();
        int mainThreshold = Array.IndexOf(thresholds, o.CamThreshold);
        var predMatrix = segmentation is null ? null : new ConfusionMatrix(k);
        var postMatrix = o.PostProcessor is null ? null : new ConfusionMatrix(k);
        ConfusionMatrix[][]? camMatrices = null;   // [set][threshold]
        IReadOnlyList<string> camNames = cams?.CamNames ?? [];
        if (cams is not null)
            camMatrices = camNames.Select(_ => thresholds.Select(_ => new ConfusionMatrix(k)).ToArray()).ToArray();
        var examples = new List<EvalExample>();
        var exampleIds = o.ExampleIds is null ? null : new HashSet<string>(o.ExampleIds, StringComparer.Ordinal);

        var transform = new EvalTransform(o.InputSize, o.InputSize);
        using var loader = new DataLoader(dataset, transform, new LoaderOptions
        {
            BatchSize = o.BatchSize, Shuffle = false, DropLast = false, Epochs = 1, WithMasks = true,
            Workers = Math.Max(1, o.Workers), Prefetch = 2, Device = o.Device,
        });
        int done = 0;
        while (loader.HasNext && done < total)
        {
            using var batch = loader.Next();
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            int b = Math.Min(batch.Count, total - done);
            var maskTensor = batch.Masks![0];
            int mh = maskTensor.size(1), mw = maskTensor.size(2), plane = mh * mw;
            var maskInts = maskTensor.ToIntArray();
            var truth = new byte[b][];
            for (int i = 0; i < b; i++) truth[i] = ToBytes(maskInts.AsSpan(i * plane, plane));
            var images = batch.Images;
            var labels = batch.Labels;
            if (b < batch.Count) { images = images.narrow(0, 0, b); labels = labels.narrow(0, 0, b); }

            var keep = new bool[b];
            for (int i = 0; i < b; i++) keep[i] = done + i < o.Examples || exampleIds?.Contains(batch.Ids[i]) == true;
            var rgb = new RgbImage?[b];
            RgbImage Original(int i) => rgb[i] ??= dataset.Load(batch.Indices[i]).Image;

            byte[][]? pred = null, post = null;
            if (segmentation is not null)
            {
                var logits = SegmentationInference.Logits(segmentation, images, mh, mw, o.Segmentation);
                var argmax = logits.argmax(1).ToIntArray();
                pred = new byte[b][];
                for (int i = 0; i < b; i++)
                {
                    pred[i] = ToBytes(argmax.AsSpan(i * plane, plane));
                    predMatrix!.Add(truth[i], pred[i]);
                }
                if (o.PostProcessor is not null)
                {
                    post = new byte[b][];
                    var probs = logits.softmax(1);
                    for (int i = 0; i < b; i++)
                    {
                        using var inner = torch.NewDisposeScope();
                        var image = Original(i);
                        var refined = o.PostProcessor(image, probs.select(0, i));
                        if (refined.Length != plane)
                            throw new InvalidOperationException($"{o.PostProcessorName}: returned {refined.Length} labels for {batch.Ids[i]} ({mw}x{mh} = {plane} pixels)");
                        post[i] = refined;
                        postMatrix!.Add(truth[i], refined);
                    }
                }
            }

            if (o.SavePredictionsTo is not null && pred is not null)
            {
                Directory.CreateDirectory(o.SavePredictionsTo);
                for (int i = 0; i < b; i++)
                    File.WriteAllBytes(Path.Combine(o.SavePredictionsTo, batch.Ids[i] + ".png"), IndexPng.Encode(post?[i] ?? pred[i], mw, mh, ClassSet.VocPalette));
            }

            List<CamExample>[]? camExamples = keep.Any(x => x) ? Enumerable.Range(0, b).Select(_ => new List<CamExample>()).ToArray() : null;
            if (cams is not null)
            {
                var sets = CamInference.MultiScale(cams, images, o.Cam);
                if (sets.Length != camNames.Count) throw new InvalidOperationException($"CAM model: {sets.Length} CAM sets for {camNames.Count} names");
                for (int s = 0; s < sets.Length; s++)
                {
                    var up = SegmentationInference.Resize(sets[s], mh, mw);
                    var maxima = CamInference.Maxima(up, labels);
                    for (int i = 0; i < b; i++)
                    {
                        for (int t = 0; t < thresholds.Length; t++)
                        {
                            var lbl = maxima.Labels(i, thresholds[t]);
                            camMatrices![s][t].Add(truth[i], lbl);
                            if (t == mainThreshold && keep[i]) camExamples![i].Add(new CamExample(camNames[s], thresholds[t], maxima.Heat(i), lbl));
                        }
                    }
                }
            }

            if (camExamples is not null)
            {
                var hostLabels = labels.ToArray();
                int c = classes.NumClasses;
                for (int i = 0; i < b; i++)
                {
                    if (!keep[i]) continue;
                    examples.Add(new EvalExample
                    {
                        Id = batch.Ids[i], Index = batch.Indices[i], Image = Original(i), Truth = truth[i],
                        ImageLabels = hostLabels.AsSpan(i * c, c).ToArray(), Prediction = pred?[i], PostProcessed = post?[i],
                        Cams = camExamples[i],
                    });
                }
            }
            done += b;
            o.Progress?.Invoke(done, total);
        }

        var names = classes.Names;
        return new EvaluationResult
        {
            Classes = classes,
            Split = dataset.Split,
            Images = done,
            Prediction = predMatrix?.Scores(names),
            PostProcessed = postMatrix?.Scores(names),
            PostProcessorName = o.PostProcessor is null ? null : o.PostProcessorName,
            Cams = camMatrices is null ? [] : camMatrices.Select((m, s) => new CamEvaluation
            {
                Name = camNames[s],
                Threshold = o.CamThreshold,
                Scores = m[mainThreshold].Scores(names),
                Sweep = m.Select((x, t) => (thresholds[t], x.Scores(names))).ToArray(),
            }).ToArray(),
            Examples = examples,
            Elapsed = sw.Elapsed,
        };
    }

    static byte[] ToBytes(ReadOnlySpan<int> values)
    {
        var r = new byte[values.Length];
        for (int i = 0; i < r.Length; i++)
        {
            int v = values[i];
            r[i] = (uint)v <= 255 ? (byte)v : throw new InvalidOperationException($"evaluation: label {v} does not fit a byte");
        }
        return r;
    }
}
