namespace FsrNative.Nn;

/// <summary>
/// 2-D convolution over (B, C, H, W): weight (out, in/groups, kh, kw), bias (out). PyTorch's default init
/// (kaiming_uniform a = √5, bias U(±1/√fan_in)); decoders re-initialise with
/// <see cref="init.kaiming_normal_"/>(mode "fan_out", "relu").
/// <para>
/// A kernel that tiles the input (kernel = stride, no padding: patch embedding, 1×1) runs as one GEMM over
/// <see cref="Functional.patch_conv"/> rows; anything else with groups = 1 (the DeepLab decoder's dilated 3×3) runs
/// the engine's <c>F.conv2d</c>; groups &gt; 1 throws <see cref="NotSupportedException"/>.
/// </para>
/// </summary>
public sealed class Conv2d : Module<Tensor, Tensor>
{
    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, int dilation = 1,
        int groups = 1, bool bias = true, Device? device = null, Generator? generator = null)
        : this(inChannels, outChannels, (kernelSize, kernelSize), (stride, stride), (padding, padding), (dilation, dilation), groups, bias, device, generator) { }

    public Conv2d(int inChannels, int outChannels, (int h, int w) kernelSize, (int h, int w) stride, (int h, int w) padding,
        (int h, int w) dilation, int groups = 1, bool bias = true, Device? device = null, Generator? generator = null)
    {
        if (groups <= 0 || inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"Conv2d: in ({inChannels}) and out ({outChannels}) channels must be divisible by groups ({groups})");
        if (kernelSize.h <= 0 || kernelSize.w <= 0 || stride.h <= 0 || stride.w <= 0 || dilation.h <= 0 || dilation.w <= 0 || padding.h < 0 || padding.w < 0)
            throw new ArgumentException($"Conv2d: kernel {kernelSize}, stride {stride}, dilation {dilation} must be positive and padding {padding} non-negative");
        in_channels = inChannels;
        out_channels = outChannels;
        kernel_size = kernelSize;
        this.stride = stride;
        this.padding = padding;
        this.dilation = dilation;
        this.groups = groups;
        register_parameter("weight", torch.empty([outChannels, inChannels / groups, kernelSize.h, kernelSize.w], device));
        if (bias) register_parameter("bias", torch.empty([outChannels], device));
        else register_parameter_none("bias");
        init.default_linear_(weight, this.bias, generator);
    }

    public int in_channels { get; }
    public int out_channels { get; }
    public (int h, int w) kernel_size { get; }
    public (int h, int w) stride { get; }
    public (int h, int w) padding { get; }
    public (int h, int w) dilation { get; }
    public int groups { get; }
    public Tensor weight => Param("weight");
    public Tensor? bias => OptionalParam("bias");

    /// <summary>True when the kernel tiles the input without overlap (kernel = stride, no padding, dilation 1, groups 1).</summary>
    public bool IsPatchConv => kernel_size == stride && padding == (0, 0) && dilation == (1, 1) && groups == 1;

    public override Tensor forward(Tensor input)
    {
        if (input.dim() != 4) throw new ArgumentException($"Conv2d: expected (B, C, H, W) input, got {Shape.Format(input.shape)}");
        if (IsPatchConv)
        {
            int b = input.size(0), gh = input.size(2) / stride.h, gw = input.size(3) / stride.w;
            var tokens = Functional.patch_conv(input, weight, bias);             // (B, gh·gw, out)
            return tokens.transpose(1, 2).reshape(b, out_channels, gh, gw);
        }
        if (groups == 1) return torch.nn.functional.conv2d(input, weight, bias, stride, padding, dilation);
        throw new NotSupportedException($"Conv2d: groups = {groups} is not supported by the engine's conv2d (groups = 1 only)");
    }
}

/// <summary>
/// A weight-normalised linear layer, as <c>torch.nn.utils.weight_norm(nn.Linear(in, out, bias=False))</c> in DINO's
/// head: weight = g · v / ‖v‖ (row norms), parameters <c>weight_g</c> (out, 1) and <c>weight_v</c> (out, in).
/// With <paramref name="fixedGain"/> the gain is filled with 1 and frozen (DINO's <c>norm_last_layer</c>), so every
/// output row is a unit vector in the direction of v's row. v keeps PyTorch's default Linear init.
/// </summary>
public sealed class WeightNormLinear : Module<Tensor, Tensor>
{
    public WeightNormLinear(int inFeatures, int outFeatures, bool bias = false, bool fixedGain = true, Device? device = null, Generator? generator = null)
    {
        in_features = inFeatures;
        out_features = outFeatures;
        var v = torch.empty([outFeatures, inFeatures], device);
        Tensor? b = bias ? torch.empty([outFeatures], device) : null;
        init.default_linear_(v, b, generator);
        if (b is not null) register_parameter("bias", b); else register_parameter_none("bias");
        // weight_norm initialises g to ‖v‖ (so the weight is unchanged); DINO then fills it with 1.
        using (torch.no_grad())
        using (var norm = RowNorms(v))
            register_parameter("weight_g", fixedGain ? torch.ones([outFeatures, 1], device) : norm.clone());
        register_parameter("weight_v", v);
        if (fixedGain) weight_g.requires_grad = false;
    }

    public int in_features { get; }
    public int out_features { get; }
    public Tensor weight_g => Param("weight_g");
    public Tensor weight_v => Param("weight_v");
    public Tensor? bias => OptionalParam("bias");

    static Tensor RowNorms(Tensor v) => v.square().sum(1, keepdim: true).sqrt();

    /// <summary>The effective weight g · v/‖v‖ (recomputed from the parameters on each call, as the hook does).</summary>
    public Tensor weight => torch.nn.functional.weight_norm(weight_v, weight_g, 0);

    public override Tensor forward(Tensor input) => Functional.linear(input, weight, bias);
}
