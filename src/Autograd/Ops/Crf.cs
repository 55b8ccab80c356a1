using FsrNative.Kernels;
using static FsrNative.OpSupport;

namespace FsrNative.Crf;

/// <summary>
/// The permutohedral lattice as an op: build it once over (N, d) features, then filter any number of value channels.
/// <see cref="Filter"/> is differentiable in the values: the filter is linear, and its transpose is the same filter with
/// the blur directions in reverse order, so the backward of a forward filter is a reverse filter of the gradient
/// (exactly, not approximately). There is no gradient with respect to the features.
/// <para>The filter approximates Σ_j exp(−½‖f_i − f_j‖²)·v_j (each point's own value included) the way Krähenbühl's
/// implementation does, bit for bit in float (tested on the reference's output in ../shared/golden): a kernel of
/// compact support (nothing beyond ≈2.5 feature units) whose weights are smaller than the Gaussian's, by a factor that
/// depends on d and on where points fall in their simplices (measured on images: ≈0.77–0.98 for d = 2 and ≈0.37–0.74 for
/// d = 5; see the oracle tests). Normalised filtering (dense CRF) is insensitive to the factor.</para>
/// </summary>
public static class Permutohedral
{
    /// <summary>Builds the lattice of (N, d) features (Float32, or Float64 on the CPU; 1 ≤ d ≤ 8) on their device.
    /// The caller owns it: dispose it (it holds device memory). Throws if the features require grad while grad mode is
    /// on (no gradient flows to them: detach first).</summary>
    public static PermutohedralLattice Build(Tensor features)
    {
        const string name = "permutohedral_lattice";
        Float(features, name);
        if (features.dim() != 2)
            throw new ArgumentException($"{name}: expected (points, dims) features, got shape {Shape.Format(features.ShapeSpan)}");
        if (GradMode.IsEnabled && features.requires_grad)
            throw new NotSupportedException($"{name}: no gradient flows to the features; detach them (or build under torch.no_grad())");
        var fc = features.ContiguousOrSelf();
        try
        {
            return features.Backend.BuildLattice(fc, features.size(0), features.size(1));
        }
        finally
        {
            if (!ReferenceEquals(fc, features)) fc.Dispose();
        }
    }

    /// <summary>
    /// Filters <paramref name="values"/> of shape (C, …) whose trailing dimensions hold the lattice's N points (or (N)):
    /// output = s ⊙ L(s ⊙ values) with the optional per-point <paramref name="scale"/> (N elements, not differentiated),
    /// L blurring in direction order 0…d, or d…0 when <paramref name="reverse"/> (the transpose). Differentiable in the
    /// values: the gradient is the same filter, reversed. The lattice must stay alive until backward has run.
    /// </summary>
    public static Tensor Filter(PermutohedralLattice lattice, Tensor values, bool reverse = false, Tensor? scale = null)
    {
        const string name = "lattice_filter";
        lattice.CheckAlive(name);
        Float(values, name);
        if (values.device != lattice.Device)
            throw new ArgumentException($"{name}: values are on {values.device}, the lattice on {lattice.Device}");
        if (values.DType != lattice.DType)
            throw new ArgumentException($"{name}: values are {values.DType}, the lattice was built from {lattice.DType} features");
        int n = lattice.Points;
        int trailing = 1;
        for (int i = 1; i < values.dim(); i++) trailing *= values.size(i);
        int channels = values.dim() == 1 ? 1 : values.dim() > 1 ? values.size(0) : -1;
        if (channels < 0 || (values.dim() == 1 ? values.NumEl : trailing) != n)
            throw new ArgumentException($"{name}: values of shape {Shape.Format(values.ShapeSpan)} are not (C, …) with the lattice's {n} points in the trailing dimensions");
        if (scale is not null)
        {
            if (scale.NumEl != n || scale.device != lattice.Device || scale.DType != lattice.DType)
                throw new ArgumentException($"{name}: scale {scale.Describe()} must hold {n} {lattice.DType} values on {lattice.Device}");
            if (GradMode.IsEnabled && scale.requires_grad)
                throw new NotSupportedException($"{name}: no gradient flows to the scale; detach it");
        }
        var vc = values.ContiguousOrSelf();
        var sc = scale?.ContiguousOrSelf();
        var y = Tensor.Empty(values.ShapeArray, values.device, values.DType);
        lattice.Backend().LatticeFilter(lattice, vc, y, channels, reverse, sc);
        if (!ReferenceEquals(vc, values)) vc.Dispose();
        if (sc is not null && !ReferenceEquals(sc, scale)) sc.Dispose();
        return Tape.Record(y, $"lattice_filter{(reverse ? "(reverse)" : "")}", values, g => Filter(lattice, g, !reverse, scale));
    }

    static IBackend Backend(this PermutohedralLattice lattice) => lattice.Device.Backend;
}

/// <summary>
/// Feature builders for the two kernels of a dense CRF and the bilateral filter of the dense-energy loss, with the
/// reference's conventions (x = column index, y = row index, divisions in float), and a differentiable bilateral filter.
/// </summary>
public static class Bilateral
{
    /// <summary>(H·W, 2) features (x/σ, y/σ), row-major pixels: the Gaussian (smoothness) kernel's.</summary>
    public static Tensor GaussianFeatures(int height, int width, float sigmaXy, Device? device = null, DType dtype = DType.Float32)
    {
        const string name = "gaussian_features";
        CheckSize(height, width, name);
        CheckSigma(sigmaXy, "sigma_xy", name);
        return Coordinates(height, width, sigmaXy, device ?? Device.CPU, dtype);
    }

    /// <summary>(H·W, 5) features (x/σ_xy, y/σ_xy, r/σ_rgb, g/σ_rgb, b/σ_rgb) of an image (3, H, W), colours in the
    /// image's own range (0..255 for the CRF and the dense-energy loss). Never recorded.</summary>
    public static Tensor BilateralFeatures(Tensor image, float sigmaXy, float sigmaRgb)
    {
        const string name = "bilateral_features";
        Float(image, name);
        if (image.dim() != 3 || image.size(0) != 3)
            throw new ArgumentException($"{name}: expected an image of shape (3, H, W), got {Shape.Format(image.ShapeSpan)}");
        CheckSigma(sigmaXy, "sigma_xy", name);
        CheckSigma(sigmaRgb, "sigma_rgb", name);
        int h = image.size(1), w = image.size(2);
        CheckSize(h, w, name);
        using var noGrad = torch.no_grad();
        using var xy = Coordinates(h, w, sigmaXy, image.device, image.DType);
        using var planes = image.reshape(3, h * w);
        using var colours = planes.t();
        using var scaled = colours.div(sigmaRgb);
        return torch.cat([xy, scaled], 1);
    }

    /// <summary>
    /// Unnormalised bilateral filter of values (B, C, H, W) over the features of images (B, 3, H, W):
    /// out[b] = L_b(values[b]) with L_b the lattice of <see cref="BilateralFeatures"/>(image[b]). Differentiable in the
    /// values (the backward rebuilds each image's lattice and filters the gradient in reverse order); the images are
    /// constants. This is the filter of the dense-energy loss (spec §6.4).
    /// </summary>
    public static Tensor Filter(Tensor images, Tensor values, float sigmaXy, float sigmaRgb)
    {
        const string name = "bilateral_filter";
        Float(images, name);
        Float(values, name);
        SameDevice(images, values, name);
        SameDType(images, values, name);
        if (images.dim() != 4 || images.size(1) != 3)
            throw new ArgumentException($"{name}: expected images of shape (B, 3, H, W), got {Shape.Format(images.ShapeSpan)}");
        if (values.dim() != 4 || values.size(0) != images.size(0) || values.size(2) != images.size(2) || values.size(3) != images.size(3))
            throw new ArgumentException($"{name}: values {Shape.Format(values.ShapeSpan)} must be (B, C, H, W) with the images' B, H, W {Shape.Format(images.ShapeSpan)}");
        if (GradMode.IsEnabled && images.requires_grad)
            throw new NotSupportedException($"{name}: no gradient flows to the images; detach them");
        var imgs = images.detach();
        var y = Run(imgs, values, sigmaXy, sigmaRgb, reverse: false);
        return Tape.Record(y, name, values, g => Run(imgs, g, sigmaXy, sigmaRgb, reverse: true));
    }

    /// <summary>One lattice per image, built, used and disposed; never recorded (the caller records).</summary>
    internal static Tensor Run(Tensor images, Tensor values, float sigmaXy, float sigmaRgb, bool reverse)
    {
        int batch = values.size(0), channels = values.size(1);
        var vc = values.ContiguousOrSelf();
        var y = Tensor.Empty(values.ShapeArray, values.device, values.DType);
        using (torch.no_grad())
        {
            for (int b = 0; b < batch; b++)
            {
                using var image = images.select(0, b);
                using var features = BilateralFeatures(image, sigmaXy, sigmaRgb);
                using var lattice = Permutohedral.Build(features);
                using var vin = vc.select(0, b);
                using var vout = y.select(0, b);
                values.Backend.LatticeFilter(lattice, vin, vout, channels, reverse, null);
            }
        }
        if (!ReferenceEquals(vc, values)) vc.Dispose();
        return y;
    }

    static Tensor Coordinates(int h, int w, float sigma, Device device, DType dtype)
    {
        int n = h * w;
        if (dtype == DType.Float64)
        {
            if (device != Device.CPU) throw new NotSupportedException($"bilateral features: Float64 tensors live on the cpu backend, not {device}");
            var d = new double[2 * n];
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) { d[2 * (y * w + x)] = x / (double)sigma; d[2 * (y * w + x) + 1] = y / (double)sigma; }
            return torch.tensor((ReadOnlySpan<double>)d, [n, 2]);
        }
        var f = new float[2 * n];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) { f[2 * (y * w + x)] = x / sigma; f[2 * (y * w + x) + 1] = y / sigma; }
        return torch.tensor((ReadOnlySpan<float>)f, [n, 2], device);
    }

    internal static void CheckSigma(float sigma, string what, string op)
    {
        if (!(sigma > 0) || float.IsInfinity(sigma)) throw new ArgumentException($"{op}: {what} must be positive and finite, got {sigma}");
    }

    static void CheckSize(int h, int w, string op)
    {
        if (h < 1 || w < 1) throw new ArgumentException($"{op}: image size {h}×{w} must be positive");
    }
}

/// <summary>
/// The dense-energy (CRF) regulariser of spec §6.4 (ToCo/FSR's DenseEnergyLoss, from Tang et al.'s rloss):
/// L = −weight · Σ_{b,k,pixels} P_k · (R_k ⊙ G) / B with R_k = Bilateral(P_k) (unnormalised, the reference's lattice)
/// and the gate G = max(0, 1 − max_k P_k), G = 1 where the pseudo label is ignored (255).
/// </summary>
public static class DenseEnergy
{
    /// <summary>
    /// The loss on inputs already at the loss's resolution (spec step 2–4): images (B, 3, h, w) in 0..255, probabilities
    /// (B, K, h, w) (softmax of the segmentation logits), labels (B, h, w) (Int32 or float; ignoreIndex marks ignored
    /// pixels) or null. Returns a 0-D tensor. Its gradient with respect to the probabilities is the reference's,
    /// −2·weight·(R ⊙ G)/B (G a constant; exact where G is constant, since the filter is then symmetric up to its blur
    /// order), not the derivative of the value through the gate. For the exact derivative compose
    /// <see cref="Bilateral.Filter"/> with the gate yourself.
    /// </summary>
    public static Tensor Loss(Tensor images, Tensor probs, Tensor? labels, float sigmaRgb = 15f, float sigmaXy = 50f, float weight = 1e-7f, int ignoreIndex = 255)
    {
        const string name = "dense_energy_loss";
        Float(images, name);
        Float(probs, name);
        SameDevice(images, probs, name);
        SameDType(images, probs, name);
        if (probs.dim() != 4 || images.dim() != 4 || images.size(1) != 3 || images.size(0) != probs.size(0)
            || images.size(2) != probs.size(2) || images.size(3) != probs.size(3))
            throw new ArgumentException($"{name}: expected images (B, 3, h, w) and probabilities (B, K, h, w) of the same B, h, w; got " +
                $"{Shape.Format(images.ShapeSpan)} and {Shape.Format(probs.ShapeSpan)}");
        if (labels is not null)
        {
            SameDevice(labels, probs, name);
            if (labels.dim() != 3 || labels.size(0) != probs.size(0) || labels.size(1) != probs.size(2) || labels.size(2) != probs.size(3))
                throw new ArgumentException($"{name}: labels {Shape.Format(labels.ShapeSpan)} must be (B, h, w) = ({probs.size(0)}, {probs.size(2)}, {probs.size(3)})");
        }
        Bilateral.CheckSigma(sigmaXy, "sigma_xy", name);
        Bilateral.CheckSigma(sigmaRgb, "sigma_rgb", name);
        if (GradMode.IsEnabled && images.requires_grad)
            throw new NotSupportedException($"{name}: no gradient flows to the images; detach them");
        int batch = probs.size(0);
        Tensor gated, loss;
        using (torch.no_grad())
        {
            using var p = probs.detach();
            using var r = Bilateral.Run(images.detach(), p, sigmaXy, sigmaRgb, reverse: false);
            using var maxP = p.amax([1], keepdim: true);
            using var open = maxP.rsub(1f);
            Tensor gate = open.clamp(min: 0f);
            if (labels is not null)
            {
                using var lf = labels.DType == probs.DType ? labels.detach() : labels.to(probs.DType);
                using var ignored = lf.eq(ignoreIndex);
                using var mask = ignored.unsqueeze(1);
                var g2 = gate.masked_fill(mask, 1f);
                gate.Dispose();
                gate = g2;
            }
            gated = r.mul(gate);
            gate.Dispose();
            using var prod = p.mul(gated);
            using var total = prod.sum();
            loss = total.mul(-weight / batch);
        }
        float scale = -2f * weight / batch;
        return Tape.Record(loss, name, probs, g => gated.mul(g).mul(scale));
    }

    /// <summary>
    /// The whole of spec §6.4 from the training resolution: images (B, 3, H, W) in 0..255 (float de-normalisation),
    /// probabilities (B, K, H, W), pseudo labels (B, H, W); downscaled by <paramref name="scale"/> (images and labels
    /// nearest, probabilities bilinear, as the reference's interpolate calls with recompute_scale_factor), then
    /// <see cref="Loss"/> with σ_xy = sigmaXy·scale. The gradient reaches the full-resolution probabilities through the
    /// bilinear downscale.
    /// </summary>
    public static Tensor LossAtScale(Tensor images, Tensor probs, Tensor? labels, float sigmaRgb = 15f, float sigmaXy = 100f, float scale = 0.5f,
        float weight = 1e-7f, int ignoreIndex = 255)
    {
        const string name = "dense_energy_loss";
        if (!(scale > 0) || scale > 1) throw new ArgumentException($"{name}: scale must be in (0, 1], got {scale}");
        double[] factor = [scale];
        Tensor smallImages, smallLabels = null!;
        using (torch.no_grad())
        {
            smallImages = torch.nn.functional.interpolate(images.detach(), scale_factor: factor, mode: "nearest", recompute_scale_factor: true);
            if (labels is not null)
            {
                using var lf = labels.to(DType.Float32);
                using var l4 = lf.unsqueeze(1);
                using var s4 = torch.nn.functional.interpolate(l4, scale_factor: factor, mode: "nearest", recompute_scale_factor: true);
                smallLabels = s4.squeeze(1);
            }
        }
        // Part of the graph (the gradient reaches probs through it): not disposed here but left to the caller's dispose
        // scope, like any intermediate of a recorded op.
        var smallProbs = torch.nn.functional.interpolate(probs, scale_factor: factor, mode: "bilinear", align_corners: false, recompute_scale_factor: true);
        try
        {
            return Loss(smallImages, smallProbs, labels is null ? null : smallLabels, sigmaRgb, sigmaXy * scale, weight, ignoreIndex);
        }
        finally
        {
            smallImages.Dispose();
            if (labels is not null) smallLabels.Dispose();
        }
    }
}

/// <summary>Parameters of the dense CRF (spec §8.2: pydensecrf's defaults as used by FSR).</summary>
public sealed record DenseCrfParams
{
    /// <summary>Mean-field iterations.</summary>
    public int Iterations { get; init; } = 10;
    /// <summary>σ_xy of the Gaussian (smoothness) kernel.</summary>
    public float GaussianSigma { get; init; } = 1f;
    /// <summary>Potts weight of the Gaussian kernel (0 leaves it out).</summary>
    public float GaussianWeight { get; init; } = 1f;
    /// <summary>σ_xy of the bilateral (appearance) kernel.</summary>
    public float BilateralSigmaXy { get; init; } = 121f;
    /// <summary>σ_rgb of the bilateral kernel (colours in 0..255).</summary>
    public float BilateralSigmaRgb { get; init; } = 5f;
    /// <summary>Potts weight of the bilateral kernel (0 leaves it out).</summary>
    public float BilateralWeight { get; init; } = 4f;
    /// <summary>Probabilities are clipped to at least this before −log (pydensecrf's unary_from_softmax).</summary>
    public float Clip { get; init; } = 1e-5f;

    public static DenseCrfParams Default { get; } = new();
}

/// <summary>
/// Fully connected CRF with Gaussian edge potentials (Krähenbühl and Koltun 2011), mean-field inference as in
/// densecrf/pydensecrf: unary U = −log(max(P, clip)); Q₀ = softmax(−U); each iteration
/// Q ← softmax(−U + Σ_m w_m·D_m^{-½} K_m D_m^{-½} Q) (Potts), with K_m the lattice filter of kernel m (self included) and
/// D_m = K_m·1 (symmetric normalisation). No gradient: inputs that require grad are rejected while grad mode is on.
/// </summary>
public static class DenseCrf
{
    /// <summary>Marginals (K, H, W) from an image (3, H, W) with colours in 0..255 and probabilities (K, H, W).</summary>
    public static Tensor Infer(Tensor image, Tensor probs, DenseCrfParams? parameters = null)
    {
        const string name = "dense_crf";
        var p = parameters ?? DenseCrfParams.Default;
        Float(image, name);
        Float(probs, name);
        SameDevice(image, probs, name);
        SameDType(image, probs, name);
        if (image.dim() != 3 || image.size(0) != 3)
            throw new ArgumentException($"{name}: expected an image of shape (3, H, W), got {Shape.Format(image.ShapeSpan)}");
        if (probs.dim() != 3 || probs.size(1) != image.size(1) || probs.size(2) != image.size(2))
            throw new ArgumentException($"{name}: probabilities {Shape.Format(probs.ShapeSpan)} must be (K, H, W) with the image's H, W {Shape.Format(image.ShapeSpan)}");
        if (probs.size(0) < 1) throw new ArgumentException($"{name}: needs at least one label");
        if (p.Iterations < 0) throw new ArgumentException($"{name}: iterations must be non-negative, got {p.Iterations}");
        if (!(p.Clip > 0)) throw new ArgumentException($"{name}: clip must be positive, got {p.Clip}");
        if (GradMode.IsEnabled && (image.requires_grad || probs.requires_grad))
            throw new NotSupportedException($"{name}: has no gradient; run it under torch.no_grad() or detach the inputs");
        int k = probs.size(0), h = image.size(1), w = image.size(2), n = h * w;
        var backend = probs.Backend;

        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var kernels = new List<(PermutohedralLattice Lattice, Tensor Norm, float Weight)>();
        try
        {
            if (p.GaussianWeight != 0f)
            {
                Bilateral.CheckSigma(p.GaussianSigma, "gaussian sigma", name);
                var f = Bilateral.GaussianFeatures(h, w, p.GaussianSigma, image.device, image.DType);
                kernels.Add(Kernel(Permutohedral.Build(f), p.GaussianWeight));
            }
            if (p.BilateralWeight != 0f)
            {
                var f = Bilateral.BilateralFeatures(image, p.BilateralSigmaXy, p.BilateralSigmaRgb);
                kernels.Add(Kernel(Permutohedral.Build(f), p.BilateralWeight));
            }
            var unary = probs.reshape(k, n).clamp(min: p.Clip, max: 1f).log().neg();
            var q = Tensor.Empty([k, h, w], probs.device, probs.DType);
            backend.MeanFieldUpdate(unary, null, 0f, null, 0f, q, k, n);
            var filtered = kernels.Select(_ => Tensor.Empty([k, n], probs.device, probs.DType)).ToArray();
            for (int it = 0; it < p.Iterations; it++)
            {
                for (int m = 0; m < kernels.Count; m++) backend.LatticeFilter(kernels[m].Lattice, q, filtered[m], k, false, kernels[m].Norm);
                backend.MeanFieldUpdate(unary, filtered.Length > 0 ? filtered[0] : null, kernels.Count > 0 ? kernels[0].Weight : 0f,
                    filtered.Length > 1 ? filtered[1] : null, kernels.Count > 1 ? kernels[1].Weight : 0f, q, k, n);
            }
            return q.MoveToOuterDisposeScope();
        }
        finally
        {
            foreach (var kernel in kernels) kernel.Lattice.Dispose();
        }

        (PermutohedralLattice, Tensor, float) Kernel(PermutohedralLattice lattice, float weight)
        {
            // D = K·1 (self included); the symmetric normalisation multiplies by D^{-1/2} before and after filtering.
            var ones = torch.ones([1, n], image.device, dtype: image.DType);
            var d = Tensor.Empty([1, n], image.device, image.DType);
            backend.LatticeFilter(lattice, ones, d, 1, false, null);
            return (lattice, d.add(1e-20f).rsqrt(), weight);
        }
    }

    /// <summary>The MAP labels (H, W) (Int32): argmax over labels of <see cref="Infer"/>.</summary>
    public static Tensor Labels(Tensor image, Tensor probs, DenseCrfParams? parameters = null)
    {
        using var q = Infer(image, probs, parameters);
        return q.argmax(0);
    }
}

/// <summary>
/// Pixel-adaptive refinement (spec §3.6, ToCo's PAR): 48-neighbour multi-dilation affinities from the image (colour
/// term softmax over neighbours plus 0.01 × a fixed position-term softmax), then iterations of
/// Q ← Σ_n w_n·Q(neighbour n) with replicate padding. No gradient (FSR runs it under no_grad on CAMs): inputs that
/// require grad are rejected while grad mode is on.
/// </summary>
public static class Par
{
    /// <summary>The spec's dilations.</summary>
    public static IReadOnlyList<int> DefaultDilations { get; } = [1, 2, 4, 8, 12, 24];

    /// <summary>Refines probabilities (B, K, h, w) (or (K, h, w)) with the image (B, C, h, w) (or (C, h, w)), C ≤ 4,
    /// colours in [0, 1] as the spec feeds it (any range works: the affinity divides by the local spread).</summary>
    public static Tensor Refine(Tensor image, Tensor probs, int iterations = 10, IReadOnlyList<int>? dilations = null)
    {
        const string name = "par";
        Float(image, name);
        Float(probs, name);
        SameDevice(image, probs, name);
        SameDType(image, probs, name);
        if (GradMode.IsEnabled && (image.requires_grad || probs.requires_grad))
            throw new NotSupportedException($"{name}: has no gradient (FSR runs it under no_grad); run it under torch.no_grad() or detach the inputs");
        bool batched = image.dim() == 4;
        if (image.dim() != probs.dim() || (image.dim() != 3 && image.dim() != 4))
            throw new ArgumentException($"{name}: expected image (B, C, h, w) and probabilities (B, K, h, w) (or both without B), got " +
                $"{Shape.Format(image.ShapeSpan)} and {Shape.Format(probs.ShapeSpan)}");
        int o = batched ? 1 : 0;
        int batch = batched ? image.size(0) : 1, channels = image.size(o), h = image.size(o + 1), w = image.size(o + 2), k = probs.size(o);
        if ((batched && probs.size(0) != batch) || probs.size(o + 1) != h || probs.size(o + 2) != w)
            throw new ArgumentException($"{name}: probabilities {Shape.Format(probs.ShapeSpan)} must match the image {Shape.Format(image.ShapeSpan)} in B, h and w");
        if (channels < 1 || channels > ParMath.MaxChannels)
            throw new ArgumentException($"{name}: the image must have 1 to {ParMath.MaxChannels} channels, got {channels}");
        if (iterations < 0) throw new ArgumentException($"{name}: iterations must be non-negative, got {iterations}");
        var dil = new ParDilations((dilations ?? DefaultDilations).ToArray());
        if (dil.Neighbours < 2) throw new ArgumentException($"{name}: needs at least two neighbours");

        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var backend = probs.Backend;
        var img = image.ContiguousOrSelf();
        var pos = ParMath.PositionWeights(dil);
        var position = probs.DType == DType.Float64
            ? torch.tensor((ReadOnlySpan<double>)Array.ConvertAll(pos, v => (double)v), [pos.Length])
            : torch.tensor((ReadOnlySpan<float>)pos, [pos.Length], probs.device);
        var weights = Tensor.Empty([batch, dil.Neighbours, h, w], probs.device, probs.DType);
        backend.ParAffinity(img, position, weights, batch, channels, h, w, dil);
        var q = probs.ContiguousCopyUnrecorded();
        var next = Tensor.Empty(probs.ShapeArray, probs.device, probs.DType);
        for (int it = 0; it < iterations; it++)
        {
            backend.ParPropagate(weights, q, next, batch, k, h, w, dil);
            (q, next) = (next, q);
        }
        return q.MoveToOuterDisposeScope();
    }

    static Tensor ContiguousCopyUnrecorded(this Tensor x)
    {
        var c = Tensor.Empty(x.ShapeArray, x.device, x.DType);
        x.Backend.Copy(x, c);
        return c;
    }
}
