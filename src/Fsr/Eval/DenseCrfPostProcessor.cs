using FsrNative.Crf;
using FsrNative.Data;

namespace FsrNative.Eval;

/// <summary>
/// The dense CRF of fsr-spec §8.2 as evaluation's <see cref="LabelPostProcessor"/>: the engine's
/// <see cref="DenseCrf"/> (mean-field over the permutohedral lattice, CPU or GPU — the probabilities' device) on the
/// original 8-bit image and P = softmax(final logits), then the argmax of the marginals.
/// </summary>
public static class DenseCrfPostProcessor
{
    /// <summary>
    /// A post-processor with <paramref name="parameters"/> (default: spec §8.2, <see cref="DenseCrfParams.Default"/>).
    /// Plug it in as <c>EvaluationOptions.ForReportedNumbers with { PostProcessor = DenseCrfPostProcessor.Create(),
    /// PostProcessorName = "CRF" }</c>: the evaluator then scores "Pred." and "Pred. + CRF".
    /// </summary>
    public static LabelPostProcessor Create(DenseCrfParams? parameters = null)
    {
        var p = parameters ?? DenseCrfParams.Default;
        return (image, probabilities) => Labels(image, probabilities, p);
    }

    /// <summary>CRF labels (H·W bytes, row-major) of one image and its probabilities (K, H, W).</summary>
    public static byte[] Labels(RgbImage image, Tensor probabilities, DenseCrfParams parameters)
    {
        if (probabilities.dim() != 3 || probabilities.size(1) != image.Height || probabilities.size(2) != image.Width)
            throw new ArgumentException($"dense CRF: probabilities {Shape.Format(probabilities.shape)} must be (K, {image.Height}, {image.Width}) for the {image.Width}x{image.Height} image");
        if (probabilities.size(0) > 256) throw new ArgumentException($"dense CRF: {probabilities.size(0)} labels do not fit a byte label map");
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        int n = image.Width * image.Height;
        var planes = new float[3 * n];
        var px = image.Pixels;
        for (int i = 0; i < n; i++)
        {
            planes[i] = px[3 * i];
            planes[n + i] = px[3 * i + 1];
            planes[2 * n + i] = px[3 * i + 2];
        }
        var rgb = torch.tensor(planes, 3, image.Height, image.Width).to(probabilities.device);
        var probs = probabilities.DType == DType.Float32 ? probabilities.contiguous() : probabilities.to(DType.Float32);
        var labels = DenseCrf.Labels(rgb, probs, parameters).ToIntArray();
        var result = new byte[n];
        for (int i = 0; i < n; i++) result[i] = (byte)labels[i];
        return result;
    }
}
