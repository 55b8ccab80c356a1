using FsrNative.Data;

namespace FsrNative.Eval;

/// <summary>
/// A segmentation network as evaluation sees it: normalised images (N, 3, h, w) in, logits (N, K, h', w') out at
/// any resolution (a decoder at stride 16 gives h/16 × w/16; evaluation resizes bilinearly). The caller puts the
/// network in evaluation mode first; evaluation calls it under <c>torch.no_grad()</c> inside a dispose scope, so
/// the returned tensor may be a temporary.
/// </summary>
public interface ISegmentationModel
{
    Tensor Logits(Tensor images);
}

/// <summary>
/// A network that produces class activation maps: normalised images (N, 3, h, w) in, raw CAMs (N, C, h', w') out —
/// one map per foreground class, before ReLU and normalisation (evaluation does both, spec §3.5). A network with
/// several classifiers (FSR: the main and the block-10 auxiliary CAM) overrides <see cref="CamNames"/> and
/// <see cref="CamSets"/> so that one forward pass yields every set.
/// </summary>
public interface ICamModel
{
    /// <summary>The first (or only) CAM set.</summary>
    Tensor Cams(Tensor images);

    /// <summary>Names of the CAM sets <see cref="CamSets"/> returns, in order (e.g. "CAM", "aux CAM").</summary>
    IReadOnlyList<string> CamNames => ["CAM"];

    /// <summary>Every CAM set of one forward pass, each (N, C, h', w'), in the order of <see cref="CamNames"/>.</summary>
    Tensor[] CamSets(Tensor images) => [Cams(images)];
}

/// <summary>
/// A post-processor of the final segmentation (spec §8.2: the dense CRF): from the original 8-bit image (the label
/// size) and the class probabilities softmax(final logits) of that image, shape (K, H, W) on the model's device,
/// to a label map of H·W bytes (row-major, values 0..K−1). Called once per image, under no_grad, inside a dispose
/// scope. <see cref="DenseCrfPostProcessor"/> is the dense CRF of §8.2 in this form.
/// </summary>
public delegate byte[] LabelPostProcessor(RgbImage image, Tensor probabilities);

/// <summary>Adapters from delegates to the model interfaces (tests, tools, quick experiments).</summary>
public static class EvalModels
{
    public static ISegmentationModel Segmentation(Func<Tensor, Tensor> logits) => new SegFunc(logits);

    public static ICamModel Cam(Func<Tensor, Tensor> cams) => new CamFunc(cams, ["CAM"], x => [cams(x)]);

    /// <summary>A CAM model with several named sets from one call.</summary>
    public static ICamModel Cams(IReadOnlyList<string> names, Func<Tensor, Tensor[]> sets)
    {
        if (names.Count == 0) throw new ArgumentException("CAM model: at least one CAM set name");
        return new CamFunc(x => sets(x)[0], names.ToArray(), sets);
    }

    sealed class SegFunc(Func<Tensor, Tensor> f) : ISegmentationModel
    {
        public Tensor Logits(Tensor images) => f(images);
    }

    sealed class CamFunc(Func<Tensor, Tensor> first, IReadOnlyList<string> names, Func<Tensor, Tensor[]> sets) : ICamModel
    {
        public Tensor Cams(Tensor images) => first(images);
        public IReadOnlyList<string> CamNames => names;
        public Tensor[] CamSets(Tensor images)
        {
            var r = sets(images);
            if (r.Length != names.Count) throw new InvalidOperationException($"CAM model: returned {r.Length} CAM sets, named {names.Count}");
            return r;
        }
    }
}
