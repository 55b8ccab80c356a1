using FsrNative.Fsr.PseudoLabels;

namespace FsrNative.Model;

/// <summary>How blocks are chosen for masking (fsr-spec §4.1).</summary>
public enum MaskStrategy
{
    /// <summary>No masking (mask.enabled false): view 2 goes through the student unmasked and unc.FSR is off.</summary>
    None,
    /// <summary>Uniform random blocks (the warm-up phase: the first maxIters/5 iterations).</summary>
    Random,
    /// <summary>Blocks whose top-left pixel is uncertain (low &lt; u &lt; high) first, random among equals.</summary>
    Uncertain,
}

/// <summary>
/// One draw of <see cref="BlockMaskGenerator.Generate"/> (golden <c>step0.mask.*</c>). Tensors belong to the caller's
/// dispose scope.
/// </summary>
public sealed record BlockMask
{
    /// <summary>The token mask (B, gh, gw), Float32, 1 = masked (each chosen block expanded to its tokens).</summary>
    public required Tensor mask { get; init; }
    /// <summary>The per-block uniform draws (B, blocks) (given or drawn).</summary>
    public required Tensor noise { get; init; }
    /// <summary>1 where low &lt; max_c(y_c·cam_c) &lt; high, (B, H, W) Int32; null with <see cref="MaskStrategy.Random"/>.</summary>
    public Tensor? uncertain_map { get; init; }
    /// <summary>The uncertain map read at each block's top-left pixel, (B, blocks) Int32; null with Random.</summary>
    public Tensor? uncertain_blocks { get; init; }
}

/// <summary>
/// The block mask of view 2 (fsr-spec §4.1; reference <c>utils/masking.MaskGenerator</c>): the image is cut into
/// (ImageSize/BlockSize)² blocks, each covering (BlockSize/PatchSize)² tokens; every block gets a uniform score, +1
/// when the strategy is Uncertain and the block's nearest-sampled pixel (its top-left) is uncertain
/// (low &lt; max_c y_c·auxCAM_c &lt; high, strict); the ⌈ratio·blocks⌉ blocks with the largest scores are masked.
/// </summary>
public sealed class BlockMaskGenerator
{
    public BlockMaskGenerator(int inputSize, int patchSize, int blockSize, double maskRatio, float lowThreshold = 0.2f, float highThreshold = 0.7f)
    {
        if (inputSize <= 0 || patchSize <= 0 || blockSize <= 0)
            throw new ArgumentException($"BlockMaskGenerator: input size {inputSize}, patch size {patchSize} and block size {blockSize} must be positive");
        if (inputSize % blockSize != 0) throw new ArgumentException($"BlockMaskGenerator: input size {inputSize} must be a multiple of block size {blockSize}");
        if (blockSize % patchSize != 0) throw new ArgumentException($"BlockMaskGenerator: block size {blockSize} must be a multiple of patch size {patchSize}");
        if (maskRatio is < 0 or > 1) throw new ArgumentException($"BlockMaskGenerator: mask ratio must be in [0, 1], got {maskRatio}");
        input_size = inputSize;
        block_size = blockSize;
        blocks_per_side = inputSize / blockSize;
        tokens_per_block_side = blockSize / patchSize;
        num_blocks = blocks_per_side * blocks_per_side;
        num_masked = (int)Math.Ceiling(num_blocks * maskRatio);   // np.ceil(length * mask_ratio)
        low_threshold = lowThreshold;
        high_threshold = highThreshold;
    }

    /// <summary>From the model configuration (ImageSize, PatchSize, BlockSize, MaskRatio) with the band 0.2 &lt; u &lt; 0.7.</summary>
    public static BlockMaskGenerator FromConfig(FsrModelConfig config, float lowThreshold = 0.2f, float highThreshold = 0.7f)
        => new(config.ImageSize, config.PatchSize, config.BlockSize, config.MaskRatio, lowThreshold, highThreshold);

    public int input_size { get; }
    public int block_size { get; }
    public int blocks_per_side { get; }
    public int tokens_per_block_side { get; }
    public int num_blocks { get; }
    /// <summary>Blocks masked per image: ⌈ratio · blocks⌉.</summary>
    public int num_masked { get; }
    public float low_threshold { get; }
    public float high_threshold { get; }

    /// <summary>
    /// Chooses the blocks for B images. <paramref name="auxCam"/> (B, C, H, W) multi-scale aux CAM of view 2 and
    /// <paramref name="clsLabels"/> (B, C) are read only by the Uncertain strategy (pass null for Random).
    /// <paramref name="noise"/> (B, blocks) replays stored draws (golden <c>mask.noise</c>); when null the draws come
    /// from <paramref name="generator"/> (Philox; the default generator when null). The mask is on the CAM's device
    /// (CPU without a CAM).
    /// </summary>
    public BlockMask Generate(int batch, Tensor? auxCam, Tensor? clsLabels, MaskStrategy strategy, Tensor? noise = null, Generator? generator = null)
    {
        if (batch <= 0) throw new ArgumentException($"BlockMaskGenerator.Generate: batch must be positive, got {batch}");
        if (strategy == MaskStrategy.None) throw new ArgumentException("BlockMaskGenerator.Generate: strategy None masks nothing; do not ask for a mask");
        var device = auxCam?.device ?? Device.CPU;
        Tensor noiseTensor;
        if (noise is null) noiseTensor = torch.rand([batch, num_blocks], generator);
        else
        {
            if (noise.dim() != 2 || noise.size(0) != batch || noise.size(1) != num_blocks)
                throw new ArgumentException($"BlockMaskGenerator.Generate: noise {Shape.Format(noise.shape)} must be (B, blocks) = ({batch}, {num_blocks})");
            noiseTensor = noise;
        }
        var scores = noiseTensor.cpu().ToArray();   // sync point: the block ranking runs on the host (B × blocks uniforms)
        Tensor? uncertainMap = null, uncertainBlocks = null;
        if (strategy == MaskStrategy.Uncertain)
        {
            if (auxCam is null || clsLabels is null) throw new ArgumentException("BlockMaskGenerator.Generate: the Uncertain strategy needs the aux CAM and the class labels");
            if (auxCam.dim() != 4 || auxCam.size(0) != batch)
                throw new ArgumentException($"BlockMaskGenerator.Generate: aux CAM {Shape.Format(auxCam.shape)} must be (B = {batch}, C, H, W)");
            (uncertainMap, var blockFlags) = Uncertain(auxCam, clsLabels);
            for (int i = 0; i < scores.Length; i++) scores[i] += blockFlags[i];
            uncertainBlocks = torch.tensor(blockFlags, [batch, num_blocks], device);
        }
        return new BlockMask
        {
            mask = Expand(Select(scores, batch), batch, device),
            noise = noiseTensor,
            uncertain_map = uncertainMap,
            uncertain_blocks = uncertainBlocks,
        };
    }

    /// <summary>The uncertain map (B, H, W) and its nearest-neighbour samples at the block grid (legacy 'nearest':
    /// source pixel ⌊i·H/blocks⌋ — the block's top-left pixel).</summary>
    (Tensor map, int[] blocks) Uncertain(Tensor auxCam, Tensor clsLabels)
    {
        int b = auxCam.size(0), h = auxCam.size(2), w = auxCam.size(3);
        Tensor map;
        using (var scope = torch.NewDisposeScope())
        {
            var u = CamLabels.ValidCam(auxCam, clsLabels).amax([1]);               // (B, H, W)
            map = u.gt(low_threshold).mul(u.lt(high_threshold)).to(DType.Int32).MoveToOuterDisposeScope();
        }
        var flags = map.cpu().ToIntArray();   // sync point: the uncertain map (B, h, w) is read to count uncertain tokens per block on the host
        var blocks = new int[b * num_blocks];
        float sy = (float)h / blocks_per_side, sx = (float)w / blocks_per_side;   // torch's nearest scale, in float
        for (int n = 0; n < b; n++)
            for (int i = 0; i < blocks_per_side; i++)
                for (int j = 0; j < blocks_per_side; j++)
                {
                    int y = Math.Min((int)MathF.Floor(i * sy), h - 1), x = Math.Min((int)MathF.Floor(j * sx), w - 1);
                    blocks[n * num_blocks + i * blocks_per_side + j] = flags[(n * h + y) * w + x];
                }
        return (map, blocks);
    }

    /// <summary>Per image, the <see cref="num_masked"/> blocks with the largest scores (ascending sort, the first
    /// blocks − masked kept, as the reference's argsort; equal scores keep index order).</summary>
    bool[] Select(float[] scores, int batch)
    {
        var chosen = new bool[batch * num_blocks];
        var order = new int[num_blocks];
        var keys = new float[num_blocks];
        for (int n = 0; n < batch; n++)
        {
            for (int k = 0; k < num_blocks; k++) { order[k] = k; keys[k] = scores[n * num_blocks + k]; }
            Array.Sort(order, (a, c) => keys[a] != keys[c] ? keys[a].CompareTo(keys[c]) : a.CompareTo(c));
            for (int r = num_blocks - num_masked; r < num_blocks; r++) chosen[n * num_blocks + order[r]] = true;
        }
        return chosen;
    }

    /// <summary>Blocks → tokens: each chosen block masks its tokens_per_block_side² tokens, (B, gh, gw) Float32.</summary>
    Tensor Expand(bool[] chosen, int batch, Device device)
    {
        int side = blocks_per_side * tokens_per_block_side, s = tokens_per_block_side;
        var m = new float[batch * side * side];
        for (int n = 0; n < batch; n++)
            for (int y = 0; y < side; y++)
                for (int x = 0; x < side; x++)
                    m[(n * side + y) * side + x] = chosen[n * num_blocks + (y / s) * blocks_per_side + x / s] ? 1f : 0f;
        return torch.tensor(m, [batch, side, side], device);
    }
}
