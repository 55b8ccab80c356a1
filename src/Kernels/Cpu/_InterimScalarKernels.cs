// INTERIM: a plain scalar Sgemm so the tensor core builds while the packed SGEMM (Gemm/) is written on its own
// branch. This file is deleted when it merges.
namespace FsrNative.Kernels.Cpu
{
    public static unsafe class Sgemm
    {
        public static void Multiply(bool transA, bool transB, int M, int N, int K, float alpha,
            float* A, int lda, float* B, int ldb, float beta, float* C, int ldc)
        {
            for (int m = 0; m < M; m++)
                for (int n = 0; n < N; n++)
                {
                    float s = 0;
                    for (int k = 0; k < K; k++)
                        s += (transA ? A[k * lda + m] : A[m * lda + k]) * (transB ? B[n * ldb + k] : B[k * ldb + n]);
                    C[m * ldc + n] = alpha * s + (beta == 0 ? 0 : beta * C[m * ldc + n]);
                }
        }
        public static void MultiplyBatched(bool transA, bool transB, int batch, int M, int N, int K, float alpha,
            float* A, int lda, long strideA, float* B, int ldb, long strideB, float beta, float* C, int ldc, long strideC)
        {
            for (int b = 0; b < batch; b++)
                Multiply(transA, transB, M, N, K, alpha, A + b * strideA, lda, B + b * strideB, ldb, beta, C + b * strideC, ldc);
        }
    }
}
