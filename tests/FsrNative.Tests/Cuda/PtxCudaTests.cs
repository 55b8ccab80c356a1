using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Cuda;

/// <summary>One Cuda-category test per <see cref="PtxCudaChecks"/> check; skipped with the reason without a CUDA device.</summary>
[Trait(Categories.Trait, Categories.Cuda)]
public sealed class PtxCudaTests
{
    [CudaFact] public void GemmTf32() => PtxCudaChecks.Run("ptx/gemm-tf32", CudaChecks.Target);
    [CudaFact] public void GemmBf16() => PtxCudaChecks.Run("ptx/gemm-bf16", CudaChecks.Target);
    [CudaFact] public void GemmTf32OffByDefault() => PtxCudaChecks.Run("ptx/gemm-tf32-off-by-default", CudaChecks.Target);
    [CudaFact] public void AttentionForward() => PtxCudaChecks.Run("ptx/attention-forward", CudaChecks.Target);
    [CudaFact] public void AttentionUncoveredFallsBack() => PtxCudaChecks.Run("ptx/attention-uncovered-falls-back", CudaChecks.Target);
}
