using FsrNative.Nn;

namespace FsrNative.Model;

/// <summary>
/// The FSR network (reference <c>WSSSNetwork</c>, fsr-spec §3): <see cref="FsrEncoder"/> <c>encoder</c>,
/// <see cref="LargeFov"/> <c>decoder</c>, <see cref="DinoHead"/> <c>projector</c>, and two bias-free 1×1 classifiers
/// <c>top_classifier</c>, <c>aux_classifier</c> (C = NumClasses − 1 outputs, PyTorch's default conv init). The
/// state-dict keys and their order are the reference's (100 tensors for the golden tiny configuration).
/// </summary>
public sealed class WsssNetwork : Module
{
    public WsssNetwork(FsrModelConfig config, Device? device = null, Generator? generator = null)
    {
        config.Validate();
        this.config = config;
        encoder = register_module("encoder", new FsrEncoder(config, device, generator));
        decoder = register_module("decoder", new LargeFov(config.EmbedDim, config.NumClasses, config.DecoderChannels, config.DecoderDilation, device, generator));
        projector = register_module("projector", new DinoHead(config.EmbedDim, config.OutDim, config.ProjHidden, config.ProjBottleneck, device, generator));
        top_classifier = register_module("top_classifier", new Conv2d(config.EmbedDim, config.NumForegroundClasses, 1, bias: false, device: device, generator: generator));
        aux_classifier = register_module("aux_classifier", new Conv2d(config.EmbedDim, config.NumForegroundClasses, 1, bias: false, device: device, generator: generator));
    }

    public FsrModelConfig config { get; }
    public readonly FsrEncoder encoder;
    public readonly LargeFov decoder;
    public readonly DinoHead projector;
    public readonly Conv2d top_classifier, aux_classifier;

    /// <summary>
    /// The training/inference forward (fsr-spec §3, §4 step 2). <paramref name="images"/> (N, 3, H, W);
    /// <paramref name="mask"/> null or (N, gh, gw), non-zero = token replaced by the mask token. With
    /// <paramref name="twoViews"/> the rows are [view 1; view 2] (N even) and the heads (classifiers, CAMs, feature
    /// maps, decoder) see view 1 only, as the reference does for a list of views; the projector always sees every
    /// token of every row.
    /// </summary>
    public WsssOutput forward(Tensor images, Tensor? mask = null, bool twoViews = false)
    {
        if (twoViews && images.size(0) % 2 != 0)
            throw new ArgumentException($"WsssNetwork.forward: twoViews needs [view 1; view 2] rows, got an odd batch {images.size(0)}");
        var enc = encoder.forward(images, mask);
        var projectOut = projector.forward(enc.out_);
        int n = images.size(0), t = enc.grid.h * enc.grid.w;
        var patches = enc.out_.narrow(1, 1, t);
        var aux = enc.aux;
        if (twoViews)
        {
            patches = patches.narrow(0, 0, n / 2);
            aux = aux.narrow(0, 0, n / 2);
        }
        var topFmap = ToMap(patches, enc.grid);
        var auxFmap = ToMap(aux, enc.grid);
        Tensor topCam, auxCam;
        using (torch.no_grad())
        {
            topCam = Cam(patches, top_classifier, enc.grid);
            auxCam = Cam(aux, aux_classifier, enc.grid);
        }
        return new WsssOutput
        {
            top_cls_out = Classify(topFmap, top_classifier),
            aux_cls_out = Classify(auxFmap, aux_classifier),
            project_out = projectOut,
            seg_out = decoder.forward(topFmap),
            top_cam = topCam,
            aux_cam = auxCam,
            top_fmap = topFmap,
            aux_fmap = auxFmap,
            encoder = enc,
        };
    }

    /// <summary>
    /// <see cref="forward"/> on two views (fsr-spec §4 step 2): rows [view1; view2], view 1 never masked, view 2 masked
    /// by <paramref name="mask2"/> (B, gh, gw) when given.
    /// </summary>
    public WsssOutput forward(Tensor view1, Tensor view2, Tensor? mask2)
    {
        if (!Shape.SameShape(view1.shape, view2.shape))
            throw new ArgumentException($"WsssNetwork.forward: view 1 {Shape.Format(view1.shape)} and view 2 {Shape.Format(view2.shape)} differ in shape");
        Tensor? mask = null;
        if (mask2 is not null)
        {
            var m2 = mask2.DType == DType.Float32 ? mask2 : mask2.to(DType.Float32);
            mask = torch.cat([torch.zeros_like(m2), m2], 0);
        }
        return forward(torch.cat([view1, view2], 0), mask, twoViews: true);
    }

    /// <summary>
    /// What the teacher contributes to an iteration (fsr-spec §4 step 2, §6.5): the projector output (N, 1 + T, out_dim)
    /// for every token of every row, without the classifiers, CAMs and decoder (which the losses never read from the
    /// teacher). Equal to <see cref="forward"/>'s <c>project_out</c>. Gradients are recorded unless the caller is under no_grad.
    /// </summary>
    public Tensor forward_projection(Tensor images, Tensor? mask = null) => projector.forward(encoder.forward(images, mask).out_);

    /// <summary>
    /// The CAMs only (the reference's <c>cam_only=True</c>, used by the multi-scale CAM): ReLU(1×1 conv) of the
    /// final-normalised patch tokens and of the aux features, each (N, C, gh, gw), without gradient and without the
    /// class-token aggregation, decoder and projector (which do not affect them).
    /// </summary>
    public (Tensor topCam, Tensor auxCam) forward_cams(Tensor images)
    {
        using var noGrad = torch.no_grad();
        var (patches, aux, grid) = encoder.forward_patch_tokens(images);
        return (Cam(patches, top_classifier, grid), Cam(aux, aux_classifier, grid));
    }

    /// <summary>
    /// What inference needs (fsr-spec §8.1): decoder logits (N, K, gh, gw) and the main and aux CAMs (N, C, gh, gw)
    /// for every row, without the class-token aggregation and projector (the final LayerNorm acts per token, so these
    /// equal <see cref="forward"/>'s). Gradients are recorded unless the caller is under no_grad.
    /// </summary>
    public (Tensor segOut, Tensor topCam, Tensor auxCam) forward_segmentation(Tensor images)
    {
        var (patches, aux, grid) = encoder.forward_patch_tokens(images);
        Tensor topCam, auxCam;
        using (torch.no_grad())
        {
            topCam = Cam(patches, top_classifier, grid);
            auxCam = Cam(aux, aux_classifier, grid);
        }
        return (decoder.forward(ToMap(patches, grid)), topCam, auxCam);
    }

    /// <summary>(B, T, D) tokens → (B, D, gh, gw), the reference's <c>to_2D</c>.</summary>
    static Tensor ToMap(Tensor tokens, (int h, int w) grid)
        => tokens.transpose(1, 2).reshape(tokens.size(0), tokens.size(2), grid.h, grid.w);

    /// <summary>ReLU(W ∗ F) with the 1×1 classifier as a matrix product over tokens: (B, T, D) → (B, C, gh, gw).</summary>
    static Tensor Cam(Tensor tokens, Conv2d classifier, (int h, int w) grid)
    {
        var w = classifier.weight.reshape(classifier.out_channels, classifier.in_channels);
        var scores = Functional.linear(tokens, w, null).relu();                    // (B, T, C)
        return scores.transpose(1, 2).reshape(tokens.size(0), classifier.out_channels, grid.h, grid.w);
    }

    /// <summary>Global max pooling over the map, then the 1×1 classifier: (B, D, gh, gw) → (B, C) (fsr-spec §3.2).</summary>
    static Tensor Classify(Tensor fmap, Conv2d classifier)
    {
        var pooled = torch.nn.functional.global_max_pool2d(fmap);                  // (B, D)
        return Functional.linear(pooled, classifier.weight.reshape(classifier.out_channels, classifier.in_channels), null);
    }

    /// <summary>
    /// The reference's <c>get_param_groups</c> (fsr-spec §7): 0 = encoder 1-D parameters, biases, pos_embed, cls_token,
    /// mask_token; 1 = other encoder weights (aggregation blocks included); 2 = decoder and projector 1-D parameters
    /// and biases; 3 = decoder and projector weights (weight-norm g and v included — g is frozen) and both classifiers.
    /// Names are the state-dict keys.
    /// </summary>
    public IReadOnlyList<IReadOnlyList<(string name, Tensor parameter)>> get_param_groups()
    {
        var groups = new List<(string, Tensor)>[] { new(), new(), new(), new() };
        string[] noDecay = ["pos_embed", "cls_token", "mask_token"];
        foreach (var (name, p) in encoder.named_parameters())
            groups[p.dim() == 1 || name.EndsWith(".bias", StringComparison.Ordinal) || noDecay.Contains(name) ? 0 : 1].Add(("encoder." + name, p));
        foreach (var (prefix, module) in new (string, Module)[] { ("decoder.", decoder), ("projector.", projector) })
            foreach (var (name, p) in module.named_parameters())
                groups[p.dim() == 1 || name.EndsWith(".bias", StringComparison.Ordinal) ? 2 : 3].Add((prefix + name, p));
        groups[3].Add(("top_classifier.weight", top_classifier.weight));
        groups[3].Add(("aux_classifier.weight", aux_classifier.weight));
        return groups;
    }
}
