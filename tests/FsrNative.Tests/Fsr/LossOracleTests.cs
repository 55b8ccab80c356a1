using FsrNative.Crf;
using FsrNative.Fsr.Losses;
using FsrNative.Fsr.PseudoLabels;
using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Fsr;

using TT = TorchSharp.torch.Tensor;
using ts = TorchSharp.torch;
using TF = TorchSharp.torch.nn.functional;

/// <summary>
/// The FSR losses (fsr-spec §6) as compositions: forward and every input gradient against the reference's own formulas
/// written with libtorch ops (the authors' <c>get_masked_ptc_loss</c>, <c>get_seg_loss</c>, <c>FSRLoss</c>, the
/// dense-energy chain), on small random inputs. The single ops have their own oracles; these check the compositions
/// (masks, counts, slicing of views and tokens, centres, scaling of the custom dense-energy gradient).
/// </summary>
[Trait(Categories.Trait, Categories.Oracle)]
public class LossOracleTests
{
    static LossOracleTests() => FsrNative.Kernels.Cpu.CpuKernelSettings.ParallelMinWork = 1 << 14;

    static readonly Tolerance Fwd = new(1e-5, 1e-4);
    static readonly Tolerance Bwd = new(1e-5, 1e-4);

    /// <summary>Labels in {0, 1, …, classes − 1, 255} with every kind present.</summary>
    static int[] Labels(int n, int classes, ulong seed)
    {
        var v = TestRandom.Integers(seed, n, 0, classes + 1);
        for (int i = 0; i < n; i++) if (v[i] == classes) v[i] = 255;
        v[0] = 0; v[1] = 1; v[2] = 255;
        return v;
    }

    [Fact]
    public void Classification_sum_of_two_mlsm()
    {
        var y = new In { Shape = [3, 5], Grad = false, Values = Values.Mask(0.4) };
        OpCheck.Check("ClassificationLoss", ["3x5", "3x5", y],
            x => ClassificationLoss.Compute(x[0], x[1], x[2]).Total,
            x => TF.multilabel_soft_margin_loss(x[0], x[2]) + TF.multilabel_soft_margin_loss(x[1], x[2]),
            Fwd, Bwd, Values.Normal(0, 2));
    }

    [Fact]
    public void Patch_token_contrast()
    {
        // Pair mask values 0 (negative), 1 (positive), 255 (excluded).
        ValueMaker pairs = (s, n) => Array.ConvertAll(TestRandom.Integers(s, n, 0, 3), v => v == 2 ? 255f : v);
        var mask = new In { Shape = [2, 12, 12], Grad = false, Values = pairs };
        OpCheck.Check("PatchTokenContrast.Loss", ["2x8x3x4", mask],
            x => PatchTokenContrast.Loss(x[0], x[1]),
            x =>
            {
                var f = x[0].reshape(2, 8, 12);
                var n = TF.normalize(f, p: 2, dim: 1, eps: 1e-8);
                var cos = ts.matmul(n.transpose(1, 2), n).abs();
                var pos = x[1].eq(1).to_type(ts.ScalarType.Float32);
                var neg = x[1].eq(0).to_type(ts.ScalarType.Float32);
                return 0.5 * (1 - (pos * cos).sum() / (pos.sum() + 1)) + 0.5 * (neg * cos).sum() / (neg.sum() + 1);
            }, Fwd, Bwd, Values.Normal());
    }

    [Fact]
    public void Balanced_segmentation_loss()
    {
        var labels = In.IndexOf(Labels(2 * 6 * 7, 5, 11), 2, 6, 7);
        OpCheck.Check("SegmentationLoss.Balanced", ["2x5x6x7", labels],
            x => SegmentationLoss.Balanced(x[0], x[1]),
            x =>
            {
                var bg = x[1].masked_fill(x[1].ne(0), 255);
                var fg = x[1].masked_fill(x[1].eq(0), 255);
                return (TF.cross_entropy(x[0], bg, ignore_index: 255) + TF.cross_entropy(x[0], fg, ignore_index: 255)) * 0.5;
            }, Fwd, Bwd, Values.Normal(0, 2));
    }

    /// <summary>No background pixel: the reference's CE is NaN there (fsr-spec §12); ours counts that half as 0.</summary>
    [Fact]
    public void Balanced_segmentation_loss_without_background_is_finite()
    {
        using var scope = torch.NewDisposeScope();
        var logits = torch.randn([1, 3, 4, 4], requires_grad: true);
        var labels = torch.full_int([1, 4, 4], 2);
        var loss = SegmentationLoss.Balanced(logits, labels);
        using var ce = torch.nn.functional.cross_entropy(logits.detach(), labels, ignore_index: 255);
        Assert.Equal(0.5f * ce.item(), loss.item(), 6);
        loss.backward();
        Assert.All(logits.grad!.ToArray(), v => Assert.True(float.IsFinite(v)));
    }

    [Theory]
    [InlineData(ClassTokenPairing.OneWay)]
    [InlineData(ClassTokenPairing.Symmetric)]
    public void Fsr_losses_and_centres(ClassTokenPairing pairing)
    {
        const int b = 2, n = 6, d = 16;
        const float ts_ = 0.1f, tt = 0.05f, m = 0.9f;
        var classCentre = TestRandom.Normal(5, d, 0, 0.5f);
        var patchCentre = TestRandom.Normal(6, d, 0, 0.5f);
        var mask = new In { Shape = [b, 2, 3], Grad = false, Values = Values.Mask(0.5) };
        OpCheck.CheckMany($"FeatureSelfReinforcementLoss({pairing})", [$"{2 * b}x{n + 1}x{d}!", $"{2 * b}x{n + 1}x{d}", mask],
            x =>
            {
                using var fsr = new FeatureSelfReinforcementLoss(d, new FsrLossOptions { ClassTokenPairing = pairing, StudentTemperature = ts_, CenterMomentum = m });
                fsr.load_state_dict(new Dictionary<string, Tensor>
                {
                    ["class_center"] = torch.tensor(classCentre, 1, d),
                    ["patch_center"] = torch.tensor(patchCentre, 1, 1, d),
                });
                var t = fsr.Forward(x[0], x[1], x[2], tt);
                return [t.ClassToken, t.Patch, fsr.ClassCenter.clone(), fsr.PatchCenter.clone()];
            },
            x =>
            {
                var cc = Torch.FromArray(classCentre, 1, d);
                var pc = Torch.FromArray(patchCentre, 1, 1, d);
                TT Ce(TT teacher, TT student, TT c) => (-(TF.softmax((teacher - c) / tt, -1) * TF.log_softmax(student / ts_, -1))).sum(-1);
                var tClass = x[0].select(1, 0);
                var sClass = x[1].select(1, 0);
                var cls = Ce(tClass.narrow(0, 0, b), sClass.narrow(0, b, b), cc).mean();
                var centreRows = tClass.narrow(0, 0, b);
                if (pairing == ClassTokenPairing.Symmetric)
                {
                    cls = 0.5 * (cls + Ce(tClass.narrow(0, b, b), sClass.narrow(0, 0, b), cc).mean());
                    centreRows = tClass;
                }
                var tPatch = x[0].narrow(0, b, b).narrow(1, 1, n);
                var sPatch = x[1].narrow(0, b, b).narrow(1, 1, n);
                var mk = x[2].reshape(b, n);
                var perToken = Ce(tPatch, sPatch, pc);
                var pat = ((perToken * mk).sum(-1) / mk.sum(-1).clamp_min(1)).mean();
                var classAfter = cc * m + centreRows.mean([0], keepdim: true) * (1 - m);
                var patchAfter = pc * m + tPatch.mean([1], keepdim: true).sum([0], keepdim: true) / b * (1 - m);
                return [cls, pat, classAfter, patchAfter];
            }, Fwd, Bwd, Values.Normal(0, 2));
    }

    /// <summary>
    /// The dense-energy chain from the normalised view and the logits: de-normalisation, softmax, bilinear ×0.5 and the
    /// loss with the reference's gradient −2·w·(R ⊙ G)/B (G constant). libtorch has no permutohedral filter, so the
    /// oracle takes R ⊙ G from our filter on its own forward values and builds the rest with libtorch ops: this checks
    /// the value, the ×2 of the custom gradient and its path back through the downscale and the softmax. Weight 1 (not
    /// 1e-7) so the values are of order 1.
    /// </summary>
    [Fact]
    public void Dense_energy_chain()
    {
        const int b = 2, k = 4, h = 8, w = 10;
        var options = new DenseEnergyOptions { Weight = 1f, SigmaXy = 6f };
        var labels = In.IndexOf(Labels(b * h * w, k, 21), b, h, w);
        var images = new In { Shape = [b, 3, h, w], Grad = false, Values = Values.Uniform(-2f, 2f) };
        OpCheck.Check("DenseEnergyRegularizer.Loss", [images, $"{b}x{k}x{h}x{w}", labels],
            x => DenseEnergyRegularizer.Loss(x[0], x[1], x[2], options),
            x =>
            {
                double[] half = [0.5, 0.5];
                var probs = TF.interpolate(TF.softmax(x[1], 1), scale_factor: half, mode: ts.InterpolationMode.Bilinear, align_corners: false, recompute_scale_factor: true);
                var gated = GatedFilter(Torch.ToArray(x[0]), Torch.ToArray(x[1]), Array.ConvertAll(Torch.ToDoubleArray(x[2]), v => (int)v), options, b, k, h, w);
                var weighted = (probs * gated).sum();
                return -options.Weight / b * (2 * weighted - weighted.detach());
            }, Fwd, Bwd, Values.Normal(0, 2));
    }

    /// <summary>R ⊙ G at half resolution from our filter, as a libtorch constant.</summary>
    static TT GatedFilter(float[] view, float[] logits, int[] labels, DenseEnergyOptions o, int b, int k, int h, int w)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        double[] half = [0.5];
        var pixels = torch.nn.functional.interpolate(ImageDenormalization.ToPixels(torch.tensor(view, b, 3, h, w)), scale_factor: half, mode: "nearest", recompute_scale_factor: true);
        var probs = torch.nn.functional.interpolate(torch.tensor(logits, b, k, h, w).softmax(1), scale_factor: half, mode: "bilinear", align_corners: false, recompute_scale_factor: true);
        var small = torch.nn.functional.interpolate(torch.tensor((ReadOnlySpan<int>)labels, [b, 1, h, w]).to(DType.Float32), scale_factor: half, mode: "nearest", recompute_scale_factor: true);
        var r = Bilateral.Filter(pixels, probs, o.SigmaXy * o.Scale, o.SigmaRgb);
        var gate = torch.where(small.eq(255f), torch.scalar_tensor(1f), probs.amax([1], keepdim: true).rsub(1f).clamp(min: 0f));
        var rg = r.mul(gate);
        return Torch.FromArray(rg.ToArray(), Array.ConvertAll(rg.shape, v => (long)v));
    }
}
