namespace FsrNative.Nn;

/// <summary>timm's Mlp: fc1 → GELU → drop → fc2 → drop (keys <c>fc1.*</c>, <c>fc2.*</c>).</summary>
public sealed class Mlp : Module<Tensor, Tensor>
{
    public Mlp(int inFeatures, int? hiddenFeatures = null, int? outFeatures = null, float drop = 0f, bool bias = true,
        Device? device = null, Generator? generator = null)
    {
        int hidden = hiddenFeatures ?? inFeatures;
        int outF = outFeatures ?? inFeatures;
        fc1 = register_module("fc1", new Linear(inFeatures, hidden, bias, device, generator));
        act = register_module("act", new GELU());
        drop1 = register_module("drop1", new Dropout(drop, generator));
        fc2 = register_module("fc2", new Linear(hidden, outF, bias, device, generator));
        drop2 = register_module("drop2", new Dropout(drop, generator));
    }

    public readonly Linear fc1, fc2;
    public readonly GELU act;
    public readonly Dropout drop1, drop2;

    public override Tensor forward(Tensor x)
        => drop2.forward(fc2.forward(drop1.forward(act.forward(fc1.forward(x)))));
}
