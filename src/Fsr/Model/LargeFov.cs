using FsrNative.Nn;

namespace FsrNative.Model;

/// <summary>
/// DeepLab-LargeFOV segmentation decoder (fsr-spec §3.2; reference <c>models/decoder.py</c>): conv6 3×3 dilation 5
/// pad 5 (in → channels, no bias) → ReLU → conv7 3×3 dilation 5 pad 5 (channels → channels, no bias) → ReLU → conv8
/// 1×1 (channels → classes incl. background, no bias). Kaiming-normal init (fan-out, ReLU gain). Keys
/// <c>conv6.weight</c>, <c>conv7.weight</c>, <c>conv8.weight</c>.
/// </summary>
public sealed class LargeFov : Module<Tensor, Tensor>
{
    public LargeFov(int inPlanes, int outPlanes, int channels = 512, int dilation = 5, Device? device = null, Generator? generator = null)
    {
        conv6 = register_module("conv6", new Conv2d(inPlanes, channels, 3, padding: dilation, dilation: dilation, bias: false, device: device, generator: generator));
        relu6 = register_module("relu6", new ReLU());
        conv7 = register_module("conv7", new Conv2d(channels, channels, 3, padding: dilation, dilation: dilation, bias: false, device: device, generator: generator));
        relu7 = register_module("relu7", new ReLU());
        conv8 = register_module("conv8", new Conv2d(channels, outPlanes, 1, bias: false, device: device, generator: generator));
        foreach (var conv in new[] { conv6, conv7, conv8 })
            init.kaiming_normal_(conv.weight, mode: "fan_out", nonlinearity: "relu", generator: generator);
    }

    public readonly Conv2d conv6, conv7, conv8;
    public readonly ReLU relu6, relu7;

    /// <summary>(B, in, h, w) feature map → (B, classes, h, w) logits.</summary>
    public override Tensor forward(Tensor x)
    {
        if (x.dim() != 4 || x.size(1) != conv6.in_channels)
            throw new ArgumentException($"LargeFov: expected a (B, {conv6.in_channels}, h, w) feature map, got {Shape.Format(x.shape)}");
        return conv8.forward(relu7.forward(conv7.forward(relu6.forward(conv6.forward(x)))));
    }
}
