using FsrNative.Nn;

namespace FsrNative.Model;

/// <summary>
/// The DINO projector (fsr-spec §3.3; reference <c>DINOHead</c>, nlayers 3), applied to every token independently:
/// Linear in → hidden → GELU → Linear hidden → hidden → GELU → Linear hidden → bottleneck → L2-normalise → weight-
/// normalised Linear bottleneck → out without bias whose gain is filled with 1 and frozen. Keys <c>mlp.0</c>,
/// <c>mlp.2</c>, <c>mlp.4</c> (weight, bias), <c>last_layer.weight_g</c> (out, 1), <c>last_layer.weight_v</c> (out,
/// bottleneck). Init: trunc_normal(0.02) MLP weights, zero biases; v keeps PyTorch's default Linear init (the custom
/// init runs before the last layer exists).
/// </summary>
public sealed class DinoHead : Module<Tensor, Tensor>
{
    public DinoHead(int inDim, int outDim, int hiddenDim = 2048, int bottleneckDim = 256, Device? device = null, Generator? generator = null)
    {
        var fc0 = new Linear(inDim, hiddenDim, device: device, generator: generator);
        var fc2 = new Linear(hiddenDim, hiddenDim, device: device, generator: generator);
        var fc4 = new Linear(hiddenDim, bottleneckDim, device: device, generator: generator);
        foreach (var lin in new[] { fc0, fc2, fc4 })
        {
            init.trunc_normal_(lin.weight, std: .02f, generator: generator);
            init.zeros_(lin.bias!);
        }
        mlp = register_module("mlp", new Sequential(fc0, new GELU(), fc2, new GELU(), fc4));
        last_layer = register_module("last_layer", new WeightNormLinear(bottleneckDim, outDim, bias: false, fixedGain: true, device: device, generator: generator));
    }

    public readonly Sequential mlp;
    public readonly WeightNormLinear last_layer;

    /// <summary>(…, in) tokens → (…, out) logits.</summary>
    public override Tensor forward(Tensor x)
    {
        var z = mlp.forward(x);
        z = torch.nn.functional.normalize(z, p: 2f, dim: -1);
        return last_layer.forward(z);
    }
}
