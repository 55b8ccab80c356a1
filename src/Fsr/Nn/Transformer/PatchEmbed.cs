namespace FsrNative.Nn;

/// <summary>
/// timm's PatchEmbed: a p×p stride-p convolution <c>proj</c> (keys <c>proj.weight</c> (D, C, p, p), <c>proj.bias</c>)
/// turning (B, C, H, W) into (B, ⌊H/p⌋·⌊W/p⌋, D) tokens, row-major over the patch grid. Computed as one GEMM over
/// patch rows (no NCHW intermediate). Remainder pixels are dropped, as the convolution does.
/// </summary>
public sealed class PatchEmbed : Module<Tensor, Tensor>
{
    public PatchEmbed(int imgSize = 224, int patchSize = 16, int inChans = 3, int embedDim = 768, bool bias = true,
        Device? device = null, Generator? generator = null)
    {
        img_size = imgSize;
        patch_size = patchSize;
        embed_dim = embedDim;
        proj = register_module("proj", new Conv2d(inChans, embedDim, patchSize, patchSize, bias: bias, device: device, generator: generator));
    }

    public readonly Conv2d proj;
    public int img_size { get; }
    public int patch_size { get; }
    public int embed_dim { get; }
    public (int h, int w) grid_size => (img_size / patch_size, img_size / patch_size);
    public int num_patches => grid_size.h * grid_size.w;

    /// <summary>The token grid for an image of <paramref name="h"/>×<paramref name="w"/> pixels.</summary>
    public (int h, int w) GridFor(int h, int w) => (h / patch_size, w / patch_size);

    public override Tensor forward(Tensor x)
    {
        if (x.dim() != 4) throw new ArgumentException($"PatchEmbed: expected (B, C, H, W) images, got {Shape.Format(x.shape)}");
        return Functional.patch_conv(x, proj.weight, proj.bias);
    }
}
