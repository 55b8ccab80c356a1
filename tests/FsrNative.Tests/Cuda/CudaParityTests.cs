using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Cuda;

/// <summary>
/// The Cuda category: each <see cref="CudaChecks"/> entry as its own test (the Parity bodies on <c>cuda:0</c>, or
/// <c>FSR_CUDA_DEVICE</c>, against the CPU backend). Without a usable CUDA device every test is reported as skipped with
/// the reason (no libcuda, cuInit's error, driver too old, index out of range) — never as passed. Run with
/// <c>dotnet test FsrNative.sln -c Release --filter Category=Cuda</c>, or without .NET through the published GPU runner
/// (bench/gpu/run.sh).
/// </summary>
[Trait(Categories.Trait, Categories.Cuda)]
[Collection(nameof(FsrNative.Tests.Parity.KernelErrorReporting))]
public sealed class CudaParityTests
{
    [CudaFact] public void ElementwiseUnaryViews() => CudaChecks.Run("elementwise/unary-views");
    [CudaFact] public void ElementwiseUnaryTransposedGelu() => CudaChecks.Run("elementwise/unary-transposed-gelu");
    [CudaFact] public void ElementwiseUnaryTransposedTanh() => CudaChecks.Run("elementwise/unary-transposed-tanh");
    [CudaFact] public void ElementwiseEveryUnaryOp() => CudaChecks.Run("elementwise/every-unary-op");
    [CudaFact] public void ElementwiseBinaryBroadcastDiv() => CudaChecks.Run("elementwise/binary-broadcast-div");
    [CudaFact] public void ElementwiseBinaryTransposedPow() => CudaChecks.Run("elementwise/binary-transposed-pow");
    [CudaFact] public void ElementwiseEveryBinaryOpNan() => CudaChecks.Run("elementwise/every-binary-op-nan");
    [CudaFact] public void ElementwiseComparisons() => CudaChecks.Run("elementwise/comparisons");
    [CudaFact] public void ElementwiseWhereMaskedFill() => CudaChecks.Run("elementwise/where-masked-fill");
    [CudaFact] public void ElementwiseInPlace() => CudaChecks.Run("elementwise/in-place");
    [CudaFact] public void DataUploadDownload() => CudaChecks.Run("data/upload-download");
    [CudaFact] public void DataStridedCopies() => CudaChecks.Run("data/strided-copies");
    [CudaFact] public void DataCasts() => CudaChecks.Run("data/casts");
    [CudaFact] public void DataCastNanReportsAtSync() => CudaChecks.Run("data/cast-nan-reports-at-sync");
    [CudaFact] public void RandomUniformBitIdentical() => CudaChecks.Run("random/uniform-bit-identical");
    [CudaFact] public void RandomNormal() => CudaChecks.Run("random/normal");
    [CudaFact] public void IndexingGatherScatter() => CudaChecks.Run("indexing/gather-scatter");
    [CudaFact] public void IndexingOutOfRangeAtSync() => CudaChecks.Run("indexing/out-of-range-at-sync");
    [CudaFact] public void ReductionsSumMeanEveryAxis() => CudaChecks.Run("reductions/sum-mean-every-axis");
    [CudaFact] public void ReductionsMaxMinIndices() => CudaChecks.Run("reductions/max-min-indices");
    [CudaFact] public void ReductionsEveryReduceOp() => CudaChecks.Run("reductions/every-reduce-op");
    [CudaFact] public void ReductionsArgAndNan() => CudaChecks.Run("reductions/arg-and-nan");
    [CudaFact] public void ReductionsVarStd() => CudaChecks.Run("reductions/var-std");
    [CudaFact] public void Matmul2dTransposed() => CudaChecks.Run("matmul/2d-transposed");
    [CudaFact] public void MatmulBatchedBroadcast() => CudaChecks.Run("matmul/batched-broadcast");
    [CudaFact] public void MatmulLinear() => CudaChecks.Run("matmul/linear");
    [CudaFact] public void MatmulAlphaBetaK0() => CudaChecks.Run("matmul/alpha-beta-k0");
    [CudaFact] public void MatmulBeta0NeverReadsC() => CudaChecks.Run("matmul/beta0-never-reads-c");
    [CudaFact] public void SoftmaxEveryAxis() => CudaChecks.Run("softmax/every-axis");
    [CudaFact] public void LogSoftmaxEveryAxis() => CudaChecks.Run("log-softmax/every-axis");
    [CudaFact] public void SoftmaxInfinities() => CudaChecks.Run("softmax/infinities");
    [CudaFact] public void LayerNormAffinePlain() => CudaChecks.Run("layer-norm/affine-plain");
    [CudaFact] public void LayerNormStatistics() => CudaChecks.Run("layer-norm/statistics");
    [CudaFact] public void AttentionThroughTheOp() => CudaChecks.Run("attention/through-the-op");
    [CudaFact] public void AttentionNaiveKernels() => CudaChecks.Run("attention/naive-kernels");
    [CudaFact] public void AttentionFullyMaskedRows() => CudaChecks.Run("attention/fully-masked-rows");
    [CudaFact] public void AttentionDropoutBitIdentical() => CudaChecks.Run("attention/dropout-bit-identical");
    [CudaFact] public void Conv2dEveryLayout() => CudaChecks.Run("conv2d/every-layout");
    [CudaFact] public void PoolingAll() => CudaChecks.Run("pooling/all");
    [CudaFact] public void InterpolateNearest() => CudaChecks.Run("interpolate/nearest");
    [CudaFact] public void InterpolateBilinear() => CudaChecks.Run("interpolate/bilinear");
    [CudaFact] public void InterpolateBilinearAlign() => CudaChecks.Run("interpolate/bilinear-align");
    [CudaFact] public void InterpolateBicubic() => CudaChecks.Run("interpolate/bicubic");
    [CudaFact] public void Flip() => CudaChecks.Run("flip");
    [CudaFact] public void CenteringDinoCrossEntropy() => CudaChecks.Run("centering/dino-cross-entropy");
    [CudaFact] public void LossesCrossEntropyMean() => CudaChecks.Run("losses/cross-entropy-mean");
    [CudaFact] public void LossesCrossEntropyNone() => CudaChecks.Run("losses/cross-entropy-none");
    [CudaFact] public void LossesBadTargetsAtSync() => CudaChecks.Run("losses/bad-targets-at-sync");
    [CudaFact] public void LossesBceMultilabel() => CudaChecks.Run("losses/bce-multilabel");
    [CudaFact] public void LossesNormalizeCosine() => CudaChecks.Run("losses/normalize-cosine");
    [CudaFact] public void LossesWeightNorm() => CudaChecks.Run("losses/weight-norm");
    [CudaFact] public void CrfLatticeImage() => CudaChecks.Run("crf/lattice-image");
    [CudaFact] public void CrfLatticeRandom() => CudaChecks.Run("crf/lattice-random");
    [CudaFact] public void CrfLatticeFlat() => CudaChecks.Run("crf/lattice-flat");
    [CudaFact] public void CrfBilateralBackward() => CudaChecks.Run("crf/bilateral-backward");
    [CudaFact] public void CrfDenseEnergyLoss() => CudaChecks.Run("crf/dense-energy-loss");
    [CudaFact] public void CrfDenseCrf() => CudaChecks.Run("crf/dense-crf");
    [CudaFact] public void CrfPar() => CudaChecks.Run("crf/par");
    [CudaFact] public void LargeGemmEdges() => CudaChecks.Run("large/gemm-edges");
    [CudaFact] public void LargeAttentionVit() => CudaChecks.Run("large/attention-vit");
    [CudaFact] public void LargeSoftmaxLayernormRows() => CudaChecks.Run("large/softmax-layernorm-rows");
    [CudaFact] public void LargeConv2dPatchEmbed() => CudaChecks.Run("large/conv2d-patch-embed");
    [CudaFact] public void LargeReductions() => CudaChecks.Run("large/reductions");

    /// <summary>The catalogue's plumbing (RunOn, the device switch, the final sync) on the emulator, where no GPU is.</summary>
    [Fact]
    [Trait(Categories.Trait, Categories.Parity)]
    public void CatalogueEntriesRunOnTheEmulator()
    {
        foreach (var name in new[] { "elementwise/unary-views", "matmul/linear", "softmax/infinities", "attention/fully-masked-rows", "losses/bad-targets-at-sync" })
            CudaChecks.Run(name, Device.IlgpuCpu);
        Assert.Throws<ArgumentException>(() => CudaChecks.Run("no/such-check", Device.IlgpuCpu));
    }

    /// <summary>Every check of the catalogue has a test above (the runner and xunit run the same list).</summary>
    [Fact]
    [Trait(Categories.Trait, Categories.Parity)]
    public void EveryCheckHasATest()
    {
        var tests = typeof(CudaParityTests).GetMethods()
            .Where(m => m.GetCustomAttributes(typeof(CudaFactAttribute), false).Length > 0).Select(m => m.Name).ToHashSet();
        foreach (var (name, _) in CudaChecks.All)
            Assert.Contains(string.Concat(name.Split('/', '-').Select(p => char.ToUpperInvariant(p[0]) + p[1..])), tests);
        Assert.Equal(CudaChecks.All.Count, tests.Count);
    }
}
