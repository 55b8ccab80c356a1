// INTERIM: plain scalar versions of the CPU kernel APIs, so the tensor core builds while the SIMD kernels
// (CpuUnary.cs, CpuBinary.cs, CpuReduce.cs, CpuSoftmax.cs, CpuLayerNorm.cs, ScalarMath.cs; Gemm/ has landed) are written
// on their own branches. This file is deleted when they merge.
namespace FsrNative.Kernels
{
    public static class ScalarMath
    {
        public static float Erf(float x) => (float)ErfD(x);
        static double ErfD(double x)
        {
            // Abramowitz–Stegun 7.1.26 is too coarse; use a series/continued fraction in double.
            double ax = Math.Abs(x);
            double r;
            if (ax < 2.5)
            {
                double sum = ax, term = ax, x2 = ax * ax;
                for (int n = 1; n < 80; n++) { term *= -x2 / n; sum += term / (2 * n + 1); }
                r = 2 / Math.Sqrt(Math.PI) * sum;
            }
            else
            {
                double t = 0, x2 = ax * ax;
                for (int n = 60; n >= 1; n--) t = n / 2.0 / (ax + t);
                r = 1 - Math.Exp(-x2) / Math.Sqrt(Math.PI) / (ax + t);
            }
            return x < 0 ? -r : r;
        }
        public static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));
        public static float Unary(UnaryOp op, float x, float a, float b) => op switch
        {
            UnaryOp.Identity => x,
            UnaryOp.Neg => -x,
            UnaryOp.Abs => MathF.Abs(x),
            UnaryOp.Exp => MathF.Exp(x),
            UnaryOp.Log => MathF.Log(x),
            UnaryOp.Sqrt => MathF.Sqrt(x),
            UnaryOp.Rsqrt => 1f / MathF.Sqrt(x),
            UnaryOp.Square => x * x,
            UnaryOp.PowScalar => MathF.Pow(x, a),
            UnaryOp.Relu => x > 0 ? x : 0f,
            UnaryOp.GeluErf => 0.5f * x * (1f + Erf(x * 0.70710678118654752f)),
            UnaryOp.GeluTanh => 0.5f * x * (1f + MathF.Tanh(0.7978845608028654f * (x + 0.044715f * x * x * x))),
            UnaryOp.Sigmoid => Sigmoid(x),
            UnaryOp.Tanh => MathF.Tanh(x),
            UnaryOp.Clamp => float.IsNaN(x) ? x : MathF.Min(MathF.Max(x, a), b),
            UnaryOp.AddScalar => x + a,
            UnaryOp.MulScalar => x * a,
            UnaryOp.RDivScalar => a / x,
            UnaryOp.DivScalar => x / a,
            UnaryOp.RSubScalar => a - x,
            UnaryOp.Affine => a * x + b,
            UnaryOp.RPowScalar => MathF.Pow(a, x),
            _ => float.NaN,
        };
        public static float UnaryGrad(UnaryOp op, float x, float y, float a, float b)
        {
            switch (op)
            {
                case UnaryOp.Identity: return 1f;
                case UnaryOp.Neg: return -1f;
                case UnaryOp.Abs: return x > 0 ? 1f : x < 0 ? -1f : 0f;
                case UnaryOp.Exp: return y;
                case UnaryOp.Log: return 1f / x;
                case UnaryOp.Sqrt: return 0.5f / y;
                case UnaryOp.Rsqrt: return -0.5f * y * y * y;
                case UnaryOp.Square: return 2f * x;
                case UnaryOp.PowScalar: return a == 0f ? 0f : a * MathF.Pow(x, a - 1f);
                case UnaryOp.Relu: return x > 0 ? 1f : 0f;
                case UnaryOp.GeluErf:
                    {
                        float cdf = 0.5f * (1f + Erf(x * 0.70710678118654752f));
                        float pdf = MathF.Exp(-0.5f * x * x) * 0.3989422804014327f;
                        return cdf + x * pdf;
                    }
                case UnaryOp.GeluTanh:
                    {
                        const float k = 0.7978845608028654f;
                        float inner = k * (x + 0.044715f * x * x * x);
                        float t = MathF.Tanh(inner);
                        return 0.5f * (1f + t) + 0.5f * x * (1f - t * t) * k * (1f + 3f * 0.044715f * x * x);
                    }
                case UnaryOp.Sigmoid: return y * (1f - y);
                case UnaryOp.Tanh: return 1f - y * y;
                case UnaryOp.Clamp: return x >= a && x <= b ? 1f : 0f;
                case UnaryOp.AddScalar: return 1f;
                case UnaryOp.MulScalar: return a;
                case UnaryOp.RDivScalar: return -a / (x * x);
                case UnaryOp.DivScalar: return 1f / a;
                case UnaryOp.RSubScalar: return -1f;
                case UnaryOp.Affine: return a;
                case UnaryOp.RPowScalar: return y * MathF.Log(a);
                default: return float.NaN;
            }
        }
        public static float Binary(BinaryOp op, float a, float b) => op switch
        {
            BinaryOp.Add => a + b,
            BinaryOp.Sub => a - b,
            BinaryOp.Mul => a * b,
            BinaryOp.Div => a / b,
            BinaryOp.Maximum => float.IsNaN(a) || float.IsNaN(b) ? float.NaN : MathF.Max(a, b),
            BinaryOp.Minimum => float.IsNaN(a) || float.IsNaN(b) ? float.NaN : MathF.Min(a, b),
            BinaryOp.Pow => MathF.Pow(a, b),
            BinaryOp.Eq => a == b ? 1f : 0f,
            BinaryOp.Ne => a != b ? 1f : 0f,
            BinaryOp.Lt => a < b ? 1f : 0f,
            BinaryOp.Le => a <= b ? 1f : 0f,
            BinaryOp.Gt => a > b ? 1f : 0f,
            BinaryOp.Ge => a >= b ? 1f : 0f,
            _ => float.NaN,
        };
    }
}

namespace FsrNative.Kernels.Cpu
{
    public static class CpuUnary
    {
        public static void Forward(UnaryOp op, ReadOnlySpan<float> x, Span<float> y, float a, float b)
        { for (int i = 0; i < x.Length; i++) y[i] = ScalarMath.Unary(op, x[i], a, b); }
        public static void Backward(UnaryOp op, ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> gy, Span<float> gx, float a, float b)
        { for (int i = 0; i < x.Length; i++) gx[i] = gy[i] * ScalarMath.UnaryGrad(op, x[i], y[i], a, b); }
    }
    public static class CpuBinary
    {
        public static void Forward(BinaryOp op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
        { for (int i = 0; i < y.Length; i++) y[i] = ScalarMath.Binary(op, a[i], b[i]); }
        public static void ForwardScalarRight(BinaryOp op, ReadOnlySpan<float> a, float b, Span<float> y)
        { for (int i = 0; i < y.Length; i++) y[i] = ScalarMath.Binary(op, a[i], b); }
        public static void ForwardScalarLeft(BinaryOp op, float a, ReadOnlySpan<float> b, Span<float> y)
        { for (int i = 0; i < y.Length; i++) y[i] = ScalarMath.Binary(op, a, b[i]); }
        public static void Where(ReadOnlySpan<float> cond, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
        { for (int i = 0; i < y.Length; i++) y[i] = cond[i] != 0 ? a[i] : b[i]; }
    }
    public static class CpuReduce
    {
        public static void Reduce(ReduceOp op, ReadOnlySpan<float> x, int outer, int r, int inner, Span<float> y)
        {
            for (int o = 0; o < outer; o++)
                for (int i = 0; i < inner; i++)
                {
                    double acc = op switch { ReduceOp.Max => double.NegativeInfinity, ReduceOp.Min => double.PositiveInfinity, _ => 0 };
                    for (int j = 0; j < r; j++)
                    {
                        float v = x[(o * r + j) * inner + i];
                        acc = op switch
                        {
                            ReduceOp.Max => float.IsNaN(v) || double.IsNaN(acc) ? double.NaN : Math.Max(acc, v),
                            ReduceOp.Min => float.IsNaN(v) || double.IsNaN(acc) ? double.NaN : Math.Min(acc, v),
                            ReduceOp.SumSquares => acc + (double)v * v,
                            _ => acc + v,
                        };
                    }
                    if (op == ReduceOp.Mean) acc /= r;
                    y[o * inner + i] = (float)acc;
                }
        }
        public static void ArgReduce(bool max, ReadOnlySpan<float> x, int outer, int r, int inner, Span<float> values, Span<int> indices)
        {
            for (int o = 0; o < outer; o++)
                for (int i = 0; i < inner; i++)
                {
                    int best = 0; float bv = x[o * r * inner + i];
                    for (int j = 1; j < r && !float.IsNaN(bv); j++)
                    {
                        float v = x[(o * r + j) * inner + i];
                        if (float.IsNaN(v) || (max ? v > bv : v < bv)) { bv = v; best = j; }
                    }
                    values[o * inner + i] = bv; indices[o * inner + i] = best;
                }
        }
        public static void Variance(ReadOnlySpan<float> x, int outer, int r, int inner, float correction, Span<float> y, Span<float> mean)
        {
            for (int o = 0; o < outer; o++)
                for (int i = 0; i < inner; i++)
                {
                    double s = 0; for (int j = 0; j < r; j++) s += x[(o * r + j) * inner + i];
                    double m = s / r, q = 0;
                    for (int j = 0; j < r; j++) { double d = x[(o * r + j) * inner + i] - m; q += d * d; }
                    mean[o * inner + i] = (float)m; y[o * inner + i] = (float)(q / Math.Max(r - correction, 0));
                }
        }
    }
    public static class CpuSoftmax
    {
        public static void Forward(ReadOnlySpan<float> x, Span<float> y, int outer, int l, int inner, bool log)
        {
            for (int o = 0; o < outer; o++)
                for (int i = 0; i < inner; i++)
                {
                    int b = o * l * inner + i;
                    float m = float.NegativeInfinity; for (int j = 0; j < l; j++) m = MathF.Max(m, x[b + j * inner]);
                    double s = 0; for (int j = 0; j < l; j++) s += MathF.Exp(x[b + j * inner] - m);
                    for (int j = 0; j < l; j++)
                        y[b + j * inner] = log ? x[b + j * inner] - m - (float)Math.Log(s) : MathF.Exp(x[b + j * inner] - m) / (float)s;
                }
        }
        public static void Backward(ReadOnlySpan<float> y, ReadOnlySpan<float> gy, Span<float> gx, int outer, int l, int inner, bool log)
        {
            for (int o = 0; o < outer; o++)
                for (int i = 0; i < inner; i++)
                {
                    int b = o * l * inner + i;
                    double s = 0;
                    for (int j = 0; j < l; j++) s += log ? gy[b + j * inner] : gy[b + j * inner] * y[b + j * inner];
                    for (int j = 0; j < l; j++)
                        gx[b + j * inner] = log ? gy[b + j * inner] - MathF.Exp(y[b + j * inner]) * (float)s : y[b + j * inner] * (gy[b + j * inner] - (float)s);
                }
        }
    }
    public static class CpuLayerNorm
    {
        public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> y, Span<float> mean, Span<float> rstd, int rows, int c, float eps)
        {
            for (int r = 0; r < rows; r++)
            {
                double s = 0; for (int j = 0; j < c; j++) s += x[r * c + j];
                double m = s / c, q = 0; for (int j = 0; j < c; j++) { double d = x[r * c + j] - m; q += d * d; }
                float rs = (float)(1 / Math.Sqrt(q / c + eps));
                mean[r] = (float)m; rstd[r] = rs;
                for (int j = 0; j < c; j++)
                {
                    float v = (x[r * c + j] - (float)m) * rs;
                    if (!gamma.IsEmpty) v = v * gamma[j];
                    if (!beta.IsEmpty) v += beta[j];
                    y[r * c + j] = v;
                }
            }
        }
        public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> mean, ReadOnlySpan<float> rstd, ReadOnlySpan<float> gy, Span<float> gx, Span<float> gGamma, Span<float> gBeta, int rows, int c)
        {
            if (!gGamma.IsEmpty) gGamma.Clear();
            if (!gBeta.IsEmpty) gBeta.Clear();
            for (int r = 0; r < rows; r++)
            {
                double s1 = 0, s2 = 0;
                for (int j = 0; j < c; j++)
                {
                    float xh = (x[r * c + j] - mean[r]) * rstd[r];
                    float g = gy[r * c + j] * (gamma.IsEmpty ? 1f : gamma[j]);
                    s1 += g; s2 += g * xh;
                    if (!gGamma.IsEmpty) gGamma[j] += gy[r * c + j] * xh;
                    if (!gBeta.IsEmpty) gBeta[j] += gy[r * c + j];
                }
                for (int j = 0; j < c; j++)
                {
                    float xh = (x[r * c + j] - mean[r]) * rstd[r];
                    float g = gy[r * c + j] * (gamma.IsEmpty ? 1f : gamma[j]);
                    gx[r * c + j] = rstd[r] * (g - (float)(s1 / c) - xh * (float)(s2 / c));
                }
            }
        }
    }
    // Sgemm: replaced by Gemm/Sgemm.cs (branch gemm).
}
