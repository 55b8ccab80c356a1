namespace FsrNative.Kernels.Cpu;

/// <summary>
/// The plain definition of <see cref="Sgemm"/>: a naive triple loop with a double accumulator, no blocking, no SIMD,
/// no threads. The fast kernels are validated against it; nothing else should call it.
/// </summary>
public static unsafe class SgemmReference
{
    /// <summary>Row-major C[M×N] = act(alpha · op(A)·op(B) + beta · C + bias); same contract as <see cref="Sgemm.Multiply(bool, bool, int, int, int, float, float*, int, float*, int, float, float*, int)"/>.</summary>
    public static void Multiply(bool transA, bool transB, int M, int N, int K, float alpha,
        float* A, int lda, float* B, int ldb, float beta, float* C, int ldc,
        float* bias = null, GemmEpilogue epilogue = GemmEpilogue.None)
    {
        for (int m = 0; m < M; m++)
        {
            for (int n = 0; n < N; n++)
            {
                double acc = 0;
                for (int k = 0; k < K; k++)
                {
                    float a = transA ? A[(long)k * lda + m] : A[(long)m * lda + k];
                    float b = transB ? B[(long)n * ldb + k] : B[(long)k * ldb + n];
                    acc += (double)a * b;
                }
                float* c = C + (long)m * ldc + n;
                float v = alpha * (float)acc;
                if (beta != 0) v += beta * *c;
                if (epilogue != GemmEpilogue.None && bias != null) v += bias[n];
                if (epilogue == GemmEpilogue.BiasGeluErf) v = (float)(0.5 * v * (1.0 + ErfDouble(v / Math.Sqrt(2.0))));
                else if (epilogue == GemmEpilogue.BiasGeluTanh)
                    v = (float)(0.5 * v * (1.0 + Math.Tanh(Math.Sqrt(2.0 / Math.PI) * (v + 0.044715 * (double)v * v * v))));
                *c = v;
            }
        }
    }

    /// <summary>The batched form: product i uses A + i·strideA, B + i·strideB, C + i·strideC.</summary>
    public static void MultiplyBatched(bool transA, bool transB, int batch, int M, int N, int K, float alpha,
        float* A, int lda, long strideA, float* B, int ldb, long strideB, float beta, float* C, int ldc, long strideC)
    {
        for (int i = 0; i < batch; i++)
            Multiply(transA, transB, M, N, K, alpha, A + i * strideA, lda, B + i * strideB, ldb, beta, C + i * strideC, ldc);
    }

    /// <summary>erf in double to ~1e-15: Taylor series for |x| &lt; 3, continued fraction for erfc beyond.</summary>
    public static double ErfDouble(double x)
    {
        double ax = Math.Abs(x);
        if (double.IsNaN(x)) return x;
        if (ax < 3.0)
        {
            // erf(x) = 2/√π Σ (-1)^n x^(2n+1) / (n! (2n+1))
            double sum = 0, term = x, x2 = x * x;
            for (int n = 0; n < 200; n++)
            {
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
                term *= -x2 / (n + 1);
            }
            return 2.0 / Math.Sqrt(Math.PI) * sum;
        }
        // erfc(x) = exp(-x²)/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...)))) (Lentz would be tidier; 60 terms is plenty at x ≥ 3)
        double f = ax;
        for (int n = 60; n >= 1; n--) f = ax + n / 2.0 / f;
        double erfc = Math.Exp(-ax * ax) / Math.Sqrt(Math.PI) / f;
        return Math.Sign(x) * (1.0 - erfc);
    }
}
