namespace FsrNative.Nn;

/// <summary>y = x·Wᵀ + b; weight (out, in), bias (out). PyTorch's default init: U(±1/√in) for both.</summary>
public sealed class Linear : Module<Tensor, Tensor>
{
    public Linear(int inFeatures, int outFeatures, bool bias = true, Device? device = null, Generator? generator = null)
    {
        if (inFeatures < 0 || outFeatures < 0) throw new ArgumentException($"Linear: feature counts must be ≥ 0, got in={inFeatures}, out={outFeatures}");
        in_features = inFeatures;
        out_features = outFeatures;
        register_parameter("weight", torch.empty([outFeatures, inFeatures], device));
        if (bias) register_parameter("bias", torch.empty([outFeatures], device));
        else register_parameter_none("bias");
        init.default_linear_(weight, this.bias, generator);
    }

    public int in_features { get; }
    public int out_features { get; }
    public Tensor weight => Param("weight");
    public Tensor? bias => OptionalParam("bias");

    public override Tensor forward(Tensor input) => Functional.linear(input, weight, bias);
}

/// <summary>Layer normalisation over the trailing <c>normalized_shape</c>; affine weight ones, bias zeros.</summary>
public sealed class LayerNorm : Module<Tensor, Tensor>
{
    public LayerNorm(int normalizedShape, float eps = 1e-5f, bool elementwiseAffine = true, bool bias = true, Device? device = null)
        : this([normalizedShape], eps, elementwiseAffine, bias, device) { }

    public LayerNorm(int[] normalizedShape, float eps = 1e-5f, bool elementwiseAffine = true, bool bias = true, Device? device = null)
    {
        normalized_shape = (int[])normalizedShape.Clone();
        this.eps = eps;
        if (elementwiseAffine)
        {
            register_parameter("weight", torch.ones(normalized_shape, device));
            if (bias) register_parameter("bias", torch.zeros(normalized_shape, device));
            else register_parameter_none("bias");
        }
        else
        {
            register_parameter_none("weight");
            register_parameter_none("bias");
        }
    }

    public int[] normalized_shape { get; }
    public float eps { get; }
    public Tensor? weight => OptionalParam("weight");
    public Tensor? bias => OptionalParam("bias");

    public override Tensor forward(Tensor input) => torch.nn.functional.layer_norm(input, normalized_shape, weight, bias, eps);
}

/// <summary>Inverted dropout with probability <c>p</c> in training mode; identity in eval mode.</summary>
public sealed class Dropout(float p = 0.5f, Generator? generator = null) : Module<Tensor, Tensor>
{
    public float p { get; } = p is >= 0 and <= 1 ? p : throw new ArgumentException($"Dropout: p must be in [0, 1], got {p}");
    public override Tensor forward(Tensor input) => torch.nn.functional.dropout(input, p, training, generator);
}

/// <summary>Stochastic depth per sample (timm's DropPath): identity in eval mode or when p = 0.</summary>
public sealed class DropPath(float p = 0f, bool scaleByKeep = true, Generator? generator = null) : Module<Tensor, Tensor>
{
    public float drop_prob { get; } = p is >= 0 and <= 1 ? p : throw new ArgumentException($"DropPath: p must be in [0, 1], got {p}");
    public bool scale_by_keep { get; } = scaleByKeep;
    public override Tensor forward(Tensor input) => torch.nn.functional.drop_path(input, drop_prob, training, generator, scale_by_keep);
}

/// <summary>GELU, exact (erf) by default or the tanh approximation.</summary>
public sealed class GELU(string approximate = "none") : Module<Tensor, Tensor>
{
    public string approximate { get; } = approximate;
    public override Tensor forward(Tensor input) => input.gelu(approximate);
}

public sealed class ReLU : Module<Tensor, Tensor>
{
    public override Tensor forward(Tensor input) => input.relu();
}

/// <summary>Returns its input (placeholder for switched-off layers, as torch.nn.Identity).</summary>
public sealed class Identity : Module<Tensor, Tensor>
{
    public override Tensor forward(Tensor input) => input;
}

/// <summary>timm's LayerScale: x·γ with a learnable per-channel γ (initialised to <c>init_values</c>).</summary>
public sealed class LayerScale : Module<Tensor, Tensor>
{
    public LayerScale(int dim, float initValues = 1e-5f, Device? device = null)
        => register_parameter("gamma", torch.full([dim], initValues, device));

    public Tensor gamma => Param("gamma");
    public override Tensor forward(Tensor input) => input.mul(gamma);
}
