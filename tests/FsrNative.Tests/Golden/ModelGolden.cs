using FsrNative.Model;

namespace FsrNative.Tests.Golden;

/// <summary>
/// Shared set-up of the model's golden tests: the network of the golden file's configuration with one of its stored
/// state dicts loaded strictly, and the README §7 tolerances for activations and CAMs.
/// </summary>
static class ModelGolden
{
    /// <summary>Activations, projector outputs, seg and inference logits: max|Δ| ≤ 1e-5·max|ref| + 1e-6.</summary>
    public const double ActRel = 1e-5, ActAbs = 1e-6;
    /// <summary>CAMs (in [0, 1]): absolute 2e-5.</summary>
    public const double CamAbs = 2e-5;

    /// <summary>The network of the golden file's configuration: its reference arguments as settings
    /// (<see cref="ScheduleGoldenConfig.From"/>), turned into the network's configuration as training does it.</summary>
    public static FsrModelConfig Config(GoldenFile g) => FsrNative.Fsr.Training.FsrModelSettings.Model(ScheduleGoldenConfig.From(g.Config));

    /// <summary>A network of the golden configuration holding the weights stored under <paramref name="prefix"/>
    /// (e.g. "init.student."), loaded with strict key matching, in training mode as the reference.</summary>
    public static WsssNetwork Network(GoldenFile g, string prefix)
    {
        var net = new WsssNetwork(Config(g));
        using var scope = torch.NewDisposeScope();
        net.load_state_dict(g.WithPrefix(prefix), strict: true);
        return net;
    }

    public static void Close(GoldenFile g, string name, Tensor actual) => GoldenAssert.Close(g, name, actual, ActRel, ActAbs);

    /// <summary>The float scales listed under <paramref name="key"/> in the configuration (cam_scales, infer_scales).</summary>
    public static double[] Scales(GoldenFile g, string key)
        => g.Config.GetProperty(key).EnumerateArray().Select(e => e.GetDouble()).ToArray();
}
