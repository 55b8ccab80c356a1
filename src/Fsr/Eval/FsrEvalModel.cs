using FsrNative.Model;

namespace FsrNative.Eval;

/// <summary>
/// The FSR network (<see cref="WsssNetwork"/>) as evaluation sees it: <see cref="ISegmentationModel"/> gives the LargeFOV
/// decoder's logits (N, K, gh, gw) (fsr-spec §3.2, §8.1), <see cref="ICamModel"/> the main and the auxiliary CAM
/// (N, C, gh, gw) of one encoder pass (§3.5, §8.3: both are scored). The CAMs come out of
/// <see cref="WsssNetwork.forward_cams"/> already through ReLU, which evaluation applies again (idempotent).
/// The adapter does not change the network's mode: call <see cref="Evaluating"/> (or <c>eval()</c>) first, as
/// spec §8.3 evaluates "each model in evaluation mode" (no stochastic depth).
/// </summary>
public sealed class FsrEvalModel(WsssNetwork network) : ISegmentationModel, ICamModel
{
    /// <summary>The CAM set names, in <see cref="CamSets"/> order.</summary>
    public static IReadOnlyList<string> CamSetNames { get; } = ["CAM", "aux CAM"];

    public WsssNetwork Network { get; } = network ?? throw new ArgumentNullException(nameof(network));

    /// <summary>Decoder logits (N, K, gh, gw) of normalised images (N, 3, h, w).</summary>
    public Tensor Logits(Tensor images)
    {
        var (segOut, _, _) = Network.forward_segmentation(images);
        return segOut;
    }

    /// <summary>The main CAM (N, C, gh, gw).</summary>
    public Tensor Cams(Tensor images) => Network.forward_cams(images).topCam;

    public IReadOnlyList<string> CamNames => CamSetNames;

    /// <summary>[main CAM, aux CAM], each (N, C, gh, gw), from one encoder pass.</summary>
    public Tensor[] CamSets(Tensor images)
    {
        var (top, aux) = Network.forward_cams(images);
        return [top, aux];
    }

    /// <summary>Puts the network in evaluation mode until the returned scope is disposed, then gives it back its
    /// previous mode (training keeps its stochastic depth; the teacher is never switched to eval during training).</summary>
    public IDisposable Evaluating() => new ModeScope(Network);

    sealed class ModeScope : IDisposable
    {
        readonly WsssNetwork _network;
        readonly bool _wasTraining;

        public ModeScope(WsssNetwork network)
        {
            _network = network;
            _wasTraining = network.training;
            network.eval();
        }

        public void Dispose() => _network.train(_wasTraining);
    }
}
