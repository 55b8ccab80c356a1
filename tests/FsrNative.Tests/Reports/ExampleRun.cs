using System.Globalization;
using FsrNative.Data;
using FsrNative.Data.Loading;
using FsrNative.Data.Transforms;
using FsrNative.Eval;
using FsrNative.Optim;
using FsrNative.Reports;
using F = FsrNative.torch.nn.functional;

namespace FsrNative.Tests.Reports;

/// <summary>
/// A small real run for the report: a per-pixel MLP on colour features (the pixel's colour and its square, and the
/// colour blurred over two neighbourhood sizes, at stride 4 like a decoder) trained with full masks (Adam) on a
/// synthetic dataset. It is a stand-in for the FSR model — it implements both model interfaces (its foreground
/// scores serve as CAMs) — so that the report shows real, imperfect predictions, a real loss curve and a real mIoU
/// curve.
/// </summary>
public sealed class ColourClassifier : ISegmentationModel, ICamModel, IDisposable
{
    const int Features = 12, Hidden = 32;
    readonly int _k;

    public ColourClassifier(int numLabels, ulong seed = 1)
    {
        _k = numLabels;
        var g = new Generator(seed);
        using var scope = torch.NewDisposeScope();   // frees the unscaled random draws; the parameters are detached from it
        Tensor Param(Tensor t) => t.requires_grad_().DetachFromDisposeScope();
        W1 = Param(torch.randn([Hidden, Features], g).mul(MathF.Sqrt(2f / Features)));
        B1 = Param(torch.zeros([Hidden]));
        W2 = Param(torch.randn([numLabels, Hidden], g).mul(MathF.Sqrt(1f / Hidden)));
        B2 = Param(torch.zeros([numLabels]));
    }

    public Tensor W1 { get; }
    public Tensor B1 { get; }
    public Tensor W2 { get; }
    public Tensor B2 { get; }
    public Tensor[] Parameters => [W1, B1, W2, B2];

    public Tensor Logits(Tensor images)
    {
        int n = images.size(0), h = Math.Max(1, images.size(2) / 4), w = Math.Max(1, images.size(3) / 4);
        Tensor Resize(Tensor x, int rh, int rw) => F.interpolate(x, size: [Math.Max(1, rh), Math.Max(1, rw)], mode: "bilinear", align_corners: false);
        var small = Resize(images, h, w);
        var blur = Resize(Resize(images, h / 4, w / 4), h, w);
        var wide = Resize(Resize(images, h / 8, w / 8), h, w);
        var f = torch.cat([small, small.square(), blur, wide], 1);                  // (N, 12, h, w)
        var rows = f.permute(0, 2, 3, 1).reshape(n * h * w, Features);
        var hidden = F.linear(rows, W1, B1).gelu();
        return F.linear(hidden, W2, B2).reshape(n, h, w, _k).permute(0, 3, 1, 2);
    }

    public Tensor Cams(Tensor images) => Logits(images).narrow(1, 1, _k - 1);

    public void Dispose()
    {
        foreach (var p in Parameters) { p.zero_grad(); p.Dispose(); }
    }
}

/// <summary>Trains <see cref="ColourClassifier"/>, logs losses and validation mIoU, and evaluates it.</summary>
public static class ExampleRun
{
    public sealed record Settings
    {
        public int Steps { get; init; } = 60;
        public int EvalEvery { get; init; } = 20;
        public int BatchSize { get; init; } = 8;
        public float LearningRate { get; init; } = 0.02f;
        public int ValLimit { get; init; } = 10;
        public int Examples { get; init; } = 2;
    }

    public static RunReport Run(string datasetDir, Settings s)
    {
        var train = VocDataset.Open(datasetDir, "train_aug");
        var val = VocDataset.Open(datasetDir, "val");
        int k = train.Classes.NumLabels;
        using var model = new ColourClassifier(k);
        using var adam = new AdamW(model.Parameters, lr: s.LearningRate, weight_decay: 0);
        var log = new MetricLog();
        var evalOptions = new EvaluationOptions { Limit = s.ValLimit, BatchSize = 4 };
        var started = DateTime.UtcNow;
        using (var loader = new DataLoader(train, new EvalTransform(), new LoaderOptions { BatchSize = s.BatchSize, Seed = 3, Workers = 1, WithMasks = true }))
        {
            for (int step = 1; step <= s.Steps; step++)
            {
                using var batch = loader.Next();
                using var scope = torch.NewDisposeScope();
                var logits = model.Logits(batch.Images);
                var up = F.interpolate(logits, size: [batch.Masks![0].size(1), batch.Masks[0].size(2)], mode: "bilinear", align_corners: false);
                var loss = F.cross_entropy(up, batch.Masks[0], ignore_index: 255);
                loss.backward();
                adam.step();
                adam.zero_grad();
                log.Add(step, "loss/cross-entropy", loss.item());
                if (step % s.EvalEvery == 0 || step == s.Steps)
                {
                    var r = Evaluator.Run(val, model, model, evalOptions);
                    log.Add(step, "miou/Pred.", r.Prediction!.MeanIoU);
                    log.Add(step, "miou/CAM @ 0.5", r.Cams[0].Scores.MeanIoU);
                }
            }
        }
        var final = Evaluator.Run(val, model, model, evalOptions with
        {
            Segmentation = SegInferenceOptions.Reported, Examples = s.Examples,
            CamThresholdSweep = [0.2f, 0.3f, 0.4f, 0.6f, 0.7f, 0.8f],
        });
        var inv = CultureInfo.InvariantCulture;
        return new RunReport
        {
            Title = "Example report — colour classifier on the synthetic dataset",
            Notes = "A stand-in for the FSR model: a per-pixel MLP on colour features at stride 4, trained with full masks. "
                + "Its foreground scores serve as CAMs. It sees colour, not shape, so it confuses classes and backgrounds "
                + "that share colours — which the metrics and panels below show.",
            Facts =
            [
                new("dataset", $"synthetic ({train.Count} training, {val.Count} validation images of {SizeOf(val)})"),
                new("model", "per-pixel MLP 12 → 32 → 7 on colour, colour² and two blurred colours, at stride 4"),
                new("training", string.Create(inv, $"{s.Steps} steps of batch {s.BatchSize}, full masks, cross-entropy, Adam, learning rate {s.LearningRate}")),
                new("segmentation inference", "scales 1, 1.25, 1.5 + flips (spec §8.1); no CRF"),
                new("CAM evaluation", "multi-scale CAM (1, 0.5, 1.5 + flips), min-max normalised, single threshold 0.5 (spec §8.3)"),
                new("run time", string.Create(inv, $"{(DateTime.UtcNow - started).TotalSeconds:F1} s on the CPU")),
            ],
            Evaluation = final,
            Log = log,
        };
    }

    static string SizeOf(SegmentationDataset ds)
    {
        var img = ds.Load(0).Image;
        return $"{img.Width}×{img.Height}";
    }
}
