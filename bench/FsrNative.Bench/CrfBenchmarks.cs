using BenchmarkDotNet.Attributes;
using FsrNative.Crf;
// FsrNative.Tensor and FsrNative.torch win inside namespace FsrNative; TorchSharp's go by these names.
using TorchTensor = TorchSharp.torch.Tensor;
using ts = TorchSharp.torch;
using TF = TorchSharp.torch.nn.functional;
using Ours = FsrNative.torch;

namespace FsrNative.Bench;

/// <summary>Inputs shared by the CRF family's benchmarks: a synthetic picture (a disc and a bar on a gradient, pixel
/// noise) in 0..255 and noisy class probabilities whose argmax is right on most pixels.</summary>
internal static class CrfBench
{
    /// <summary>(3, h, w) in 0..255.</summary>
    public static float[] Image(int h, int w, int seed)
    {
        var rng = new Random(seed);
        var img = new float[3 * h * w];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int region = Region(x, y, h, w);
                float[] rgb = region == 1 ? [210, 60, 50] : region == 2 ? [40, 90, 200] : [60 + 150f * x / w, 160 - 100f * y / h, 100];
                for (int c = 0; c < 3; c++)
                    img[c * h * w + y * w + x] = Math.Clamp(rgb[c] + 24f * (float)(rng.NextDouble() - 0.5), 0f, 255f);
            }
        return img;
    }

    /// <summary>(k, h, w) softmax probabilities: the region's class (0, 1, 2) gets a logit bonus, every logit noise.</summary>
    public static float[] Probabilities(int k, int h, int w, int seed)
    {
        var rng = new Random(seed);
        var p = new float[k * h * w];
        var logits = new double[k];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int label = Math.Min(Region(x, y, h, w), k - 1);
                double max = double.MinValue, sum = 0;
                for (int c = 0; c < k; c++)
                {
                    logits[c] = (c == label ? 2.0 : 0.0) + 1.5 * rng.NextDouble();
                    max = Math.Max(max, logits[c]);
                }
                for (int c = 0; c < k; c++) sum += Math.Exp(logits[c] - max);
                for (int c = 0; c < k; c++) p[c * h * w + y * w + x] = (float)(Math.Exp(logits[c] - max) / sum);
            }
        return p;
    }

    static int Region(int x, int y, int h, int w)
    {
        float dx = x - w / 3f, dy = y - h / 2f;
        if (dx * dx + dy * dy < h * h / 9f) return 1;
        return x > 2 * w / 3 && y > h / 4 && y < 3 * h / 4 ? 2 : 0;
    }
}

/// <summary>
/// Dense CRF post-processing (spec §8.2: pydensecrf's parameters, Gaussian σ 1 w 1, bilateral σ_xy 121 σ_rgb 5 w 4,
/// 10 mean-field iterations) of one 500×375 image (a VOC image's size) with 21 labels, through the public op:
/// <see cref="DenseCrf.Labels"/> (both lattices built, 10 iterations, argmax). There is no libtorch equivalent (an exact
/// dense CRF is O(N²) = 3.5·10¹⁰ pairs per label); the yardstick is the reference tool (Krähenbühl's C++ through
/// pydensecrf), which takes roughly 0.3–1 s per such image on one core. <c>Iterations = 0</c> times the fixed part
/// (lattice builds, normalisation, the unary's log and first softmax).
/// </summary>
public class DenseCrfBenchmarks
{
    [Params(0, 10)]
    public int Iterations { get; set; } = 10;

    const int H = 375, W = 500, K = 21;
    Tensor? _image, _probs;
    DenseCrfParams _params = DenseCrfParams.Default;

    [GlobalSetup]
    public void Setup()
    {
        _image = Ours.tensor(CrfBench.Image(H, W, 1), [3, H, W]);
        _probs = Ours.tensor(CrfBench.Probabilities(K, H, W, 2), [K, H, W]);
        _params = DenseCrfParams.Default with { Iterations = Iterations };
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _image?.Dispose();
        _probs?.Dispose();
    }

    [Benchmark(Description = "FsrNative dense CRF 500×375, 21 labels")]
    public void FsrNative()
    {
        using var scope = Ours.NewDisposeScope();
        DenseCrf.Labels(_image!, _probs!, _params);
    }
}

/// <summary>
/// The dense-energy regulariser (spec §6.4) at FSR's shape for one image: probabilities (1, 21, 224, 224) at the loss's
/// resolution, σ_xy 50, σ_rgb 15, forward (the 5-D lattice built, 21 channels filtered, gate, sum) and backward (the
/// saved gated filter times the incoming gradient). No libtorch equivalent; reported for the training-step budget.
/// </summary>
public class DenseEnergyBenchmarks
{
    const int B = 1, K = 21, S = 224;
    Tensor? _images, _logits, _labels;

    [GlobalSetup]
    public void Setup()
    {
        _images = Ours.tensor(CrfBench.Image(S, S, 3), [B, 3, S, S]);
        var p = CrfBench.Probabilities(K, S, S, 4);
        _logits = Ours.tensor(Array.ConvertAll(p, v => MathF.Log(v)), [B, K, S, S], requires_grad: true);
        var labels = new int[B * S * S];
        for (int i = 0; i < labels.Length; i++) labels[i] = i % 11 == 0 ? 255 : i % K;
        _labels = Ours.tensor((ReadOnlySpan<int>)labels, [B, S, S]);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var t in new[] { _images, _logits, _labels }) t?.Dispose();
    }

    [Benchmark(Description = "FsrNative dense-energy loss fwd+bwd 1×21×224²")]
    public void FsrNative()
    {
        using var scope = Ours.NewDisposeScope();
        var loss = DenseEnergy.Loss(_images!, _logits!.softmax(1), _labels!);
        loss.backward();
        _logits!.zero_grad();
    }
}

/// <summary>
/// PAR (spec §3.6) at FSR's shape: one 224×224 image (the 448 crop halved) with k = 3 planes (background and two present
/// classes), 48 neighbours (dilations 1, 2, 4, 8, 12, 24), 10 iterations. Baseline: ToCo's PAR.forward composed of
/// libtorch ops (replicate pad + dilated one-hot conv2d per dilation, std, softmax, then 10 × gather-multiply-sum), 2
/// threads. Ours: <see cref="Par.Refine"/> (fused affinity kernel, then 10 propagation passes).
/// </summary>
public class ParBenchmarks
{
    [Params("1x3x224x224,k3")]
    public string Case { get; set; } = "1x3x224x224,k3";

    static readonly long[] Dilations = [1, 2, 4, 8, 12, 24];
    Tensor? _image, _probs;
    TorchTensor? _timage, _tprobs, _kernel;

    [GlobalSetup]
    public void Setup()
    {
        ts.set_num_threads(2);
        var parts = Case.Split(',');
        var s = parts[0].Split('x').Select(int.Parse).ToArray();
        int b = s[0], c = s[1], h = s[2], w = s[3], k = int.Parse(parts[1][1..]);
        var img = new float[b * c * h * w];
        var prob = new float[b * k * h * w];
        for (int i = 0; i < b; i++)
        {
            CrfBench.Image(h, w, 5 + i).Select(v => v / 255f).ToArray().CopyTo(img, i * c * h * w);
            CrfBench.Probabilities(k, h, w, 6 + i).CopyTo(prob, i * k * h * w);
        }
        _image = Ours.tensor(img, [b, c, h, w]);
        _probs = Ours.tensor(prob, [b, k, h, w]);
        _timage = ts.tensor(img, [b, c, h, w]);
        _tprobs = ts.tensor(prob, [b, k, h, w]);
        _kernel = ts.zeros(8, 1, 3, 3);
        int[][] at = [[0, 0], [0, 1], [0, 2], [1, 0], [1, 2], [2, 0], [2, 1], [2, 2]];
        for (int i = 0; i < 8; i++) _kernel[i, 0, at[i][0], at[i][1]] = ts.tensor(1f);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _image?.Dispose();
        _probs?.Dispose();
        foreach (var t in new[] { _timage, _tprobs, _kernel }) t?.Dispose();
    }

    [Benchmark(Baseline = true, Description = "libtorch (ToCo PAR composed)")]
    public void Torch()
    {
        using var scope = ts.NewDisposeScope();
        using var noGrad = ts.no_grad();
        TorchPar(_timage!, _tprobs!, 10);
    }

    [Benchmark(Description = "FsrNative")]
    public void FsrNative()
    {
        using var scope = Ours.NewDisposeScope();
        using var noGrad = Ours.no_grad();
        Par.Refine(_image!, _probs!, 10);
    }

    /// <summary>ToCo's PAR.forward, term by term, as the oracle test composes it.</summary>
    TorchTensor TorchPar(TorchTensor imgs, TorchTensor masks, int iterations)
    {
        TorchTensor Neighbours(TorchTensor x)
        {
            long b = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
            var parts = new List<TorchTensor>();
            foreach (long d in Dilations)
            {
                var pad = TF.pad(x, [d, d, d, d], TorchSharp.PaddingModes.Replicate);
                pad = pad.reshape(b * c, -1, pad.shape[2], pad.shape[3]);
                parts.Add(TF.conv2d(pad, _kernel!, dilation: [d, d]).view(b, c, -1, h, w));
            }
            return ts.cat(parts, 2);
        }
        var diag = Math.Sqrt(2);
        var unit = ts.tensor(new float[] { (float)diag, 1, (float)diag, 1, 1, (float)diag, 1, (float)diag });
        var pos = ts.cat(Dilations.Select(d => unit * d).ToList(), 0).reshape(1, 1, -1, 1, 1);
        long bb = imgs.shape[0], hh = imgs.shape[2], ww = imgs.shape[3];
        var n = Neighbours(imgs);
        var rep = imgs.unsqueeze(2).repeat(1, 1, n.shape[2], 1, 1);
        var posRep = pos.repeat(bb, 1, 1, hh, ww);
        var abs = (n - rep).abs();
        var std = n.std([2L], true, true);
        var posStd = posRep.std([2L], true, true);
        var aff = -(abs / (std + 1e-8) / 0.3).pow(2);
        aff = aff.mean([1L], true);
        var posAff = -(posRep / (posStd + 1e-8) / 0.3).pow(2);
        aff = TF.softmax(aff, 2) + 0.01 * TF.softmax(posAff, 2);
        for (int i = 0; i < iterations; i++) masks = (Neighbours(masks) * aff).sum(2);
        return masks;
    }
}
