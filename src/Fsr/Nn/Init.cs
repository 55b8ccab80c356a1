namespace FsrNative.Nn;

/// <summary>
/// In-place initialisers with torch.nn.init's names and formulas (timm uses these). Values are drawn from the
/// engine's Philox generator (<paramref name="generator"/>, default <see cref="Generator.Default"/>), so they are the
/// same on every backend, though not the numbers libtorch would draw. Each returns its tensor.
/// </summary>
public static class init
{
    /// <summary>Fills with <paramref name="values"/> made on the CPU (initialisation is not a hot path).</summary>
    static Tensor Fill(Tensor t, Tensor values)
    {
        using (values)
        using (torch.no_grad())
            t.copy_(values);
        return t;
    }

    public static Tensor zeros_(Tensor t) { using (torch.no_grad()) t.zero_(); return t; }
    public static Tensor ones_(Tensor t) => constant_(t, 1f);
    public static Tensor constant_(Tensor t, float value) { using (torch.no_grad()) t.fill_(value); return t; }

    public static Tensor uniform_(Tensor t, float a = 0f, float b = 1f, Generator? generator = null)
        => Fill(t, torch.uniform(t.shape, a, b, generator, t.device));

    public static Tensor normal_(Tensor t, float mean = 0f, float std = 1f, Generator? generator = null)
        => Fill(t, torch.normal(t.shape, mean, std, generator, t.device));

    /// <summary>Normal(mean, std²) truncated to [a, b] (absolute bounds, as torch/timm: with std 0.02 the default
    /// ±2 hardly truncates).</summary>
    /// <remarks>When both bounds lie more than 6σ from the mean (timm's std 0.02 with ±2: 100σ) the truncated mass is
    /// below 2·10⁻⁹ and the inverse-CDF recipe is a plain normal: it is drawn as one (Box–Muller on the device) and
    /// clamped, which is fast for 86M-parameter models; otherwise <see cref="torch.trunc_normal"/>'s exact recipe.</remarks>
    public static Tensor trunc_normal_(Tensor t, float mean = 0f, float std = 1f, float a = -2f, float b = 2f, Generator? generator = null)
    {
        if (!(a < b) || !(std > 0)) throw new ArgumentException($"init.trunc_normal_: need a < b and std > 0, got a={a}, b={b}, std={std}");
        if ((mean - a) / std > 6 && (b - mean) / std > 6)
        {
            var values = torch.normal(t.shape, mean, std, generator, t.device);
            using (torch.no_grad()) values.clamp_(a, b);
            return Fill(t, values);
        }
        return Fill(t, torch.trunc_normal(t.shape, mean, std, a, b, generator));
    }

    /// <summary>(fan_in, fan_out) as torch computes them: dims 1 and 0 times the receptive field (dims 2…).</summary>
    public static (int fanIn, int fanOut) CalculateFanInAndFanOut(Tensor t)
    {
        if (t.dim() < 2) throw new ArgumentException($"init: fan in and fan out cannot be computed for a tensor with fewer than 2 dimensions, got {Shape.Format(t.shape)}");
        int receptive = 1;
        for (int i = 2; i < t.dim(); i++) receptive *= t.size(i);
        return (t.size(1) * receptive, t.size(0) * receptive);
    }

    /// <summary>torch.nn.init.calculate_gain for the nonlinearities used here.</summary>
    public static double calculate_gain(string nonlinearity, double param = 0.01) => nonlinearity switch
    {
        "linear" or "conv1d" or "conv2d" or "sigmoid" => 1.0,
        "tanh" => 5.0 / 3,
        "relu" => Math.Sqrt(2.0),
        "leaky_relu" => Math.Sqrt(2.0 / (1 + param * param)),
        "selu" => 3.0 / 4,
        _ => throw new ArgumentException($"init.calculate_gain: unsupported nonlinearity '{nonlinearity}'"),
    };

    static int Fan(Tensor t, string mode)
    {
        var (fanIn, fanOut) = CalculateFanInAndFanOut(t);
        return mode switch
        {
            "fan_in" => fanIn,
            "fan_out" => fanOut,
            _ => throw new ArgumentException($"init: mode must be 'fan_in' or 'fan_out', got '{mode}'"),
        };
    }

    /// <summary>He initialisation: N(0, (gain/√fan)²). timm/DeepLab decoders use mode "fan_out", nonlinearity "relu".</summary>
    public static Tensor kaiming_normal_(Tensor t, double a = 0, string mode = "fan_in", string nonlinearity = "leaky_relu", Generator? generator = null)
    {
        double std = calculate_gain(nonlinearity, a) / Math.Sqrt(Fan(t, mode));
        return normal_(t, 0f, (float)std, generator);
    }

    /// <summary>U(−bound, bound) with bound = gain·√(3/fan); with a = √5 this is PyTorch's default Linear/Conv weight init.</summary>
    public static Tensor kaiming_uniform_(Tensor t, double a = 0, string mode = "fan_in", string nonlinearity = "leaky_relu", Generator? generator = null)
    {
        double bound = calculate_gain(nonlinearity, a) * Math.Sqrt(3.0 / Fan(t, mode));
        return uniform_(t, (float)-bound, (float)bound, generator);
    }

    public static Tensor xavier_uniform_(Tensor t, double gain = 1.0, Generator? generator = null)
    {
        var (fanIn, fanOut) = CalculateFanInAndFanOut(t);
        double bound = gain * Math.Sqrt(6.0 / (fanIn + fanOut));
        return uniform_(t, (float)-bound, (float)bound, generator);
    }

    /// <summary>PyTorch's default for Linear and Conv layers: weight kaiming_uniform(a = √5) = U(±1/√fan_in), bias
    /// U(±1/√fan_in).</summary>
    public static void default_linear_(Tensor weight, Tensor? bias, Generator? generator = null)
    {
        kaiming_uniform_(weight, Math.Sqrt(5), generator: generator);
        if (bias is null) return;
        int fanIn = CalculateFanInAndFanOut(weight).fanIn;
        float bound = fanIn > 0 ? 1f / MathF.Sqrt(fanIn) : 0f;
        uniform_(bias, -bound, bound, generator);
    }
}
