using FsrNative.Tests.Infrastructure;
using FsrNative.Tests.Parity;
using static FsrNative.Tests.Parity.ParityHarness;

namespace FsrNative.Tests.Cuda;

using F = FsrNative.torch.nn.functional;
using In = FsrNative.Tests.Parity.In;

/// <summary>
/// The checks of the <c>Cuda</c> category, by name: the bodies of the Parity tests (tests/FsrNative.Tests/Parity) run with
/// their device set to a CUDA device (<see cref="ParityHarness.RunOn"/>), so every comparison is CUDA against the CPU
/// backend, forward and gradients; plus a few shapes larger than the emulator can afford (several groups per launch,
/// tiled GEMM and flash-attention edges, long rows). The xunit tests in <see cref="CudaParityTests"/> and the GPU runner
/// (bench/gpu/runner, which has no xunit runner) both run this list.
/// <para>Not here: Parity bodies that need ILGPU's CPU accelerator itself (the isolated emulator of
/// KernelGroupSizeParityTests, AttentionParityTests.TiledKernelsMatchCpuAndNaive, ConvPool's tiled-GEMM case, the Dino
/// group-size sweep): on a GPU the shared <c>cuda</c> backend already runs the tiled GEMM and attention kernels, at the real
/// group sizes.</para>
/// </summary>
public static class CudaChecks
{
    /// <summary>The CUDA device the checks run on: <c>FSR_CUDA_DEVICE</c> (e.g. <c>cuda:1</c>), default <c>cuda:0</c>.</summary>
    public static Device Target => Device.Parse(Environment.GetEnvironmentVariable("FSR_CUDA_DEVICE") is { Length: > 0 } s ? s : "cuda:0");

    /// <summary>Null when <see cref="Target"/> can be used; else why not (the skip reason).</summary>
    public static string? SkipReason
    {
        get
        {
            try
            {
                var d = Target;
                if (d.Type != DeviceType.Cuda) return $"FSR_CUDA_DEVICE={d} is not a CUDA device";
                return CudaInfo.Unavailable(d.Index) is { } why ? $"no usable CUDA device: {why}" : null;
            }
            catch (Exception ex)
            {
                return $"no usable CUDA device: {ex.Message}";
            }
        }
    }

    /// <summary>Runs the named check on <see cref="Target"/> (throws on a mismatch, naming the check and the values).</summary>
    public static void Run(string name) => Run(name, Target);

    /// <summary>Runs the named check with <paramref name="device"/> in place of the CUDA device (the emulator: how the
    /// plumbing is tested without a GPU).</summary>
    public static void Run(string name, Device device)
    {
        if (!ByName.TryGetValue(name, out var body)) throw new ArgumentException($"no Cuda check named '{name}'", nameof(name));
        RunOn(device, body);
    }

    public static IReadOnlyList<(string Name, Action Body)> All { get; } =
    [
        // elementwise
        ("elementwise/unary-views", () => new ElementwiseParityTests().UnaryOnBroadcastAndNarrowedViews()),
        ("elementwise/unary-transposed-gelu", () => new ElementwiseParityTests().UnaryOnTransposedView("gelu")),
        ("elementwise/unary-transposed-tanh", () => new ElementwiseParityTests().UnaryOnTransposedView("tanh")),
        ("elementwise/every-unary-op", () => new ElementwiseParityTests().EveryUnaryOpDirect()),
        ("elementwise/binary-broadcast-div", () => new ElementwiseParityTests().BinaryWithBroadcast("div")),
        ("elementwise/binary-transposed-pow", () => new ElementwiseParityTests().BinaryContiguousAndTransposed("pow")),
        ("elementwise/every-binary-op-nan", () => new ElementwiseParityTests().EveryBinaryOpDirectWithNaN()),
        ("elementwise/comparisons", () => new ElementwiseParityTests().Comparisons()),
        ("elementwise/where-masked-fill", () => new ElementwiseParityTests().WhereAndMaskedFill()),
        ("elementwise/in-place", () => new ElementwiseParityTests().InPlaceOps()),
        // data movement, random, indexing
        ("data/upload-download", () => new DataMovementParityTests().UploadDownloadRoundTripIsExact()),
        ("data/strided-copies", () => new DataMovementParityTests().CopiesThroughViews()),
        ("data/casts", () => new DataMovementParityTests().CastsTruncateTowardZero()),
        ("data/cast-nan-reports-at-sync", () => new DataMovementParityTests().CastOfNaNReportsAtSync()),
        ("random/uniform-bit-identical", () => new RandomParityTests().UniformIsBitIdentical()),
        ("random/normal", () => new RandomParityTests().NormalAgrees()),
        ("indexing/gather-scatter", () => new IndexingParityTests().GatherAndItsScatterAddBackward()),
        ("indexing/out-of-range-at-sync", () => new IndexingParityTests().OutOfRangeIndicesReportAtTheNextSync()),
        // reductions
        ("reductions/sum-mean-every-axis", () => new ReductionParityTests().SumAndMeanOverEveryKindOfAxis()),
        ("reductions/max-min-indices", () => new ReductionParityTests().MaxMinAlongDimWithIndices()),
        ("reductions/every-reduce-op", () => new ReductionParityTests().EveryReduceOpDirect()),
        ("reductions/arg-and-nan", () => new ReductionParityTests().ArgReduceAndReduceWithNaN()),
        ("reductions/var-std", () => new ReductionParityTests().VarianceAndStd()),
        // matmul
        ("matmul/2d-transposed", () => new MatmulParityTests().Matmul2DAndTransposedViews()),
        ("matmul/batched-broadcast", () => new MatmulParityTests().BatchedAndBroadcastBatches()),
        ("matmul/linear", () => new MatmulParityTests().LinearLayer()),
        ("matmul/alpha-beta-k0", () => new MatmulParityTests().GemmPrimitiveAlphaBetaAndEmptyK()),
        ("matmul/beta0-never-reads-c", () => new MatmulParityTests().BetaZeroNeverReadsC()),
        // softmax, layer_norm
        ("softmax/every-axis", () => new NormalizationParityTests().SoftmaxOverEveryKindOfAxis(false)),
        ("log-softmax/every-axis", () => new NormalizationParityTests().SoftmaxOverEveryKindOfAxis(true)),
        ("softmax/infinities", () => new NormalizationParityTests().SoftmaxWithInfinities()),
        ("layer-norm/affine-plain", () => new NormalizationParityTests().LayerNormAffineAndPlain()),
        ("layer-norm/statistics", () => new NormalizationParityTests().LayerNormStatisticsDirect()),
        // attention (tiled kernels on a GPU), dropout
        ("attention/through-the-op", () => new AttentionParityTests().NaiveKernelsThroughTheOp()),
        ("attention/naive-kernels", () => WithNaiveAttention(() => new AttentionParityTests().NaiveKernelsThroughTheOp())),
        ("attention/fully-masked-rows", () => new AttentionParityTests().FullyMaskedRowsGiveZerosOnBothBackends()),
        ("attention/dropout-bit-identical", () => new AttentionParityTests().DropoutAndDropPathAreBitIdentical()),
        // conv2d, pooling
        ("conv2d/every-layout", () => new ConvPoolParityTests().Conv2dEveryLayout()),
        ("pooling/all", () => new ConvPoolParityTests().Pooling()),
        // resampling, centering
        ("interpolate/nearest", () => new ResamplingParityTests().Interpolate("nearest", null)),
        ("interpolate/bilinear", () => new ResamplingParityTests().Interpolate("bilinear", false)),
        ("interpolate/bilinear-align", () => new ResamplingParityTests().Interpolate("bilinear", true)),
        ("interpolate/bicubic", () => new ResamplingParityTests().Interpolate("bicubic", false)),
        ("flip", () => new ResamplingParityTests().Flip()),
        ("centering/dino-cross-entropy", () => new CenteringParityTests().DinoCrossEntropy()),
        // losses
        ("losses/cross-entropy-mean", () => new LossesParityTests().CrossEntropy("mean")),
        ("losses/cross-entropy-none", () => new LossesParityTests().CrossEntropy("none")),
        ("losses/bad-targets-at-sync", () => new LossesParityTests().CrossEntropyReportsBadTargetsAtTheSyncPoint()),
        ("losses/bce-multilabel", () => new LossesParityTests().BinaryCrossEntropyAndMultilabelSoftMargin()),
        ("losses/normalize-cosine", () => new LossesParityTests().NormalizeAndCosineSimilarity()),
        ("losses/weight-norm", () => new LossesParityTests().WeightNorm()),
        // CRF / PAR
        ("crf/lattice-image", () => new CrfParityTests().LatticeFilter("image", 110, 5, 4)),
        ("crf/lattice-random", () => new CrfParityTests().LatticeFilter("random", 50, 8, 1)),
        ("crf/lattice-flat", () => new CrfParityTests().LatticeFilter("flat", 1600, 5, 2)),
        ("crf/bilateral-backward", () => new CrfParityTests().BilateralFilterWithBackward()),
        ("crf/dense-energy-loss", () => new CrfParityTests().DenseEnergyLoss()),
        ("crf/dense-crf", () => new CrfParityTests().DenseCrf()),
        ("crf/par", () => new CrfParityTests().Par()),
        // larger shapes than the emulator can afford
        ("large/gemm-edges", LargeGemm),
        ("large/attention-vit", LargeAttention),
        ("large/softmax-layernorm-rows", LargeRows),
        ("large/conv2d-patch-embed", LargeConv),
        ("large/reductions", LargeReductions),
    ];

    static readonly Dictionary<string, Action> ByName = All.ToDictionary(c => c.Name, c => c.Body);

    static void WithNaiveAttention(Action body)
    {
        var be = (IlgpuBackend)Emu.Backend;
        var saved = be.AttentionChoice;
        be.AttentionChoice = IlgpuBackend.AttentionKernel.Naive;
        try { body(); }
        finally { be.AttentionChoice = saved; }
    }

    // ---- larger shapes (GPU only: on the emulator they would take minutes) ------------------------------------------

    /// <summary>Tiled GEMM with partial tiles on every edge, transposed operands, a batch, K not a multiple of the tile.</summary>
    static void LargeGemm()
    {
        Check("gemm 257×300·300×129", x => x[0].matmul(x[1]), Sums, new In([257, 300]), new In([300, 129]));
        Check("gemm Aᵀ·Bᵀ", x => x[0].t().matmul(x[1].t()), Sums, new In([300, 131]), new In([67, 300]));
        Check("bmm 3×(197×64·64×197)", x => x[0].matmul(x[1].transpose(-1, -2)), Sums, new In([3, 197, 64]), new In([3, 197, 64]));
        Check("linear 2×197×768→(2304)", x => F.linear(x[0], x[1], x[2]), Sums, new In([2, 197, 768], -1, 1), new In([2304, 768], -0.05f, 0.05f), new In([2304]));
    }

    /// <summary>ViT-B/16 at 224 px shaped attention (197 tokens, 64-wide heads), 448 px token count with fewer heads,
    /// and a causal case, forward and the three gradients.</summary>
    static void LargeAttention()
    {
        Tensor Sdpa(Tensor q, Tensor k, Tensor v, bool causal = false) => F.scaled_dot_product_attention(q, k, v, null, 0, causal);
        Check("sdpa 2×12×197×64", x => Sdpa(x[0], x[1], x[2]), Sums, new In([2, 12, 197, 64], -1, 1), new In([2, 12, 197, 64], -1, 1), new In([2, 12, 197, 64], -1, 1));
        Check("sdpa 1×2×785×64", x => Sdpa(x[0], x[1], x[2]), Sums, new In([1, 2, 785, 64], -1, 1), new In([1, 2, 785, 64], -1, 1), new In([1, 2, 785, 64], -1, 1));
        Check("sdpa causal 1×3×130×32", x => Sdpa(x[0], x[1], x[2], causal: true), Sums, new In([1, 3, 130, 32], -1, 1), new In([1, 3, 130, 32], -1, 1), new In([1, 3, 130, 32], -1, 1));
    }

    static void LargeRows()
    {
        Check("softmax 2×12×197×197", x => x[0].softmax(-1), Sums, new In([2, 12, 197, 197], -4, 4));
        Check("log_softmax over 21 classes of 2×21×56×56", x => x[0].log_softmax(1), Sums, new In([2, 21, 56, 56], -4, 4));
        Check("layer_norm 2×197×768", x => F.layer_norm(x[0], [768], x[1], x[2]), Sums, new In([2, 197, 768]), new In([768]), new In([768]));
    }

    static void LargeConv()
    {
        Check("conv2d patch-embed 2×3×224×224 k16 s16", x => F.conv2d(x[0], x[1], x[2], stride: 16), Sums,
            new In([2, 3, 224, 224], -1, 1), new In([96, 3, 16, 16], -0.1f, 0.1f), new In([96]));
        Check("conv2d 3×3 pad 1 2×64×28×28→64", x => F.conv2d(x[0], x[1], null, padding: 1), Sums,
            new In([2, 64, 28, 28], -1, 1), new In([64, 64, 3, 3], -0.1f, 0.1f));
    }

    static void LargeReductions()
    {
        Check("sum of 1M", x => x[0].sum(), new Tolerance(1e-3, 1e-4), new In([1 << 20], -1, 1));
        Check("mean over dim 1 of 64×4096×3", x => x[0].mean(1), Sums, new In([64, 4096, 3], -1, 1));
        Check("amax rows of 1000×1000", x => x[0].amax([1]), Exact, new In([1000, 1000]));
    }
}
