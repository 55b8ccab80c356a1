using FsrNative.Model;

namespace FsrNative.Tests.Fsr;

/// <summary>The "Fsr" test category: FSR components' own rules (shapes, errors, invariants), without the golden file.</summary>
public static class FsrCategory
{
    public const string Name = "Fsr";
}

/// <summary>A very small FSR configuration for fast unit tests: 32-px views, 8-px patches (4×4 grid), width 12.</summary>
static class ModelTestSupport
{
    public static readonly FsrModelConfig Tiny = new()
    {
        ImageSize = 32, PatchSize = 8, EmbedDim = 12, Depth = 3, NumHeads = 3, ClsDepth = 2, AuxLayer = -2, NumClasses = 4,
        ProjHidden = 16, ProjBottleneck = 8, OutDim = 20, DecoderChannels = 6, DropPathRate = 0f, BlockSize = 16, MaskRatio = 0.4,
    };

    public static Tensor Images(int n, int h, int w, ulong seed = 1) => torch.randn([n, 3, h, w], new Generator(seed));
}
