using System.Numerics;

namespace FsrNative.Kernels.Cpu.Reference;

/// <summary>
/// Plain, obviously-correct scalar kernels, generic over the float type: the definition every faster kernel is
/// measured against, and the whole compute path of Float64 tensors (used by the finite-difference gradient check,
/// where float32 rounding would drown the difference quotients). Same (outer, r, inner) conventions as the SIMD
/// kernels; accumulation in T.
/// </summary>
public static class ReferenceKernels<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    static T C(double v) => T.CreateChecked(v);
    static readonly T Half = C(0.5), One = T.One, Zero = T.Zero, Two = C(2);

    /// <summary>erf evaluated in double (series below 2.5, continued fraction above): ~1e-13 absolute.</summary>
    public static T Erf(T x)
    {
        double v = double.CreateChecked(x), ax = Math.Abs(v), r;
        if (ax < 2.5)
        {
            double sum = ax, term = ax, x2 = ax * ax;
            for (int n = 1; n < 100; n++)
            {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
            }
            r = 2 / Math.Sqrt(Math.PI) * sum;
        }
        else
        {
            double t = 0;
            for (int n = 80; n >= 1; n--) t = n / 2.0 / (ax + t);
            r = 1 - Math.Exp(-ax * ax) / Math.Sqrt(Math.PI) / (ax + t);
        }
        return C(v < 0 ? -r : r);
    }

    public static T Unary(UnaryOp op, T x, T a, T b)
    {
        switch (op)
        {
            case UnaryOp.Identity: return x;
            case UnaryOp.Neg: return -x;
            case UnaryOp.Abs: return T.Abs(x);
            case UnaryOp.Exp: return T.Exp(x);
            case UnaryOp.Log: return T.Log(x);
            case UnaryOp.Sqrt: return T.Sqrt(x);
            case UnaryOp.Rsqrt: return One / T.Sqrt(x);
            case UnaryOp.Square: return x * x;
            case UnaryOp.PowScalar: return T.Pow(x, a);
            case UnaryOp.Relu: return T.IsNaN(x) || x > Zero ? x : Zero;   // NaN propagates, as in PyTorch
            case UnaryOp.GeluErf: return Half * x * (One + Erf(x / T.Sqrt(Two)));
            case UnaryOp.GeluTanh:
                {
                    T k = T.Sqrt(Two / T.Pi);
                    return Half * x * (One + T.Tanh(k * (x + C(0.044715) * x * x * x)));
                }
            case UnaryOp.Sigmoid: return One / (One + T.Exp(-x));
            case UnaryOp.Tanh: return T.Tanh(x);
            case UnaryOp.Clamp: return T.IsNaN(x) ? x : T.Min(T.Max(x, a), b);
            case UnaryOp.AddScalar: return x + a;
            case UnaryOp.MulScalar: return x * a;
            case UnaryOp.DivScalar: return x / a;
            case UnaryOp.RDivScalar: return a / x;
            case UnaryOp.RSubScalar: return a - x;
            case UnaryOp.Affine: return a * x + b;
            case UnaryOp.RPowScalar: return T.Pow(a, x);
            default: throw new NotSupportedException($"reference kernel: unary {op} is not defined");
        }
    }

    /// <summary>dy/dx given x and y = f(x), with PyTorch's conventions at kinks (relu′(0) = 0, abs′(0) = 0, clamp
    /// passes the gradient on the closed interval).</summary>
    public static T UnaryGrad(UnaryOp op, T x, T y, T a, T b)
    {
        switch (op)
        {
            case UnaryOp.Identity: case UnaryOp.AddScalar: return One;
            case UnaryOp.Neg: case UnaryOp.RSubScalar: return -One;
            case UnaryOp.Abs: return x > Zero ? One : x < Zero ? -One : Zero;
            case UnaryOp.Exp: return y;
            case UnaryOp.Log: return One / x;
            case UnaryOp.Sqrt: return Half / y;
            case UnaryOp.Rsqrt: return -Half * y * y * y;
            case UnaryOp.Square: return Two * x;
            case UnaryOp.PowScalar: return a == Zero ? Zero : a * T.Pow(x, a - One);
            case UnaryOp.Relu: return x > Zero ? One : Zero;
            case UnaryOp.GeluErf:
                {
                    T cdf = Half * (One + Erf(x / T.Sqrt(Two)));
                    T pdf = T.Exp(-Half * x * x) / T.Sqrt(Two * T.Pi);
                    return cdf + x * pdf;
                }
            case UnaryOp.GeluTanh:
                {
                    T k = T.Sqrt(Two / T.Pi), c = C(0.044715);
                    T t = T.Tanh(k * (x + c * x * x * x));
                    return Half * (One + t) + Half * x * (One - t * t) * k * (One + C(3) * c * x * x);
                }
            case UnaryOp.Sigmoid: return y * (One - y);
            case UnaryOp.Tanh: return One - y * y;
            case UnaryOp.Clamp: return x >= a && x <= b ? One : Zero;
            case UnaryOp.MulScalar: case UnaryOp.Affine: return a;
            case UnaryOp.DivScalar: return One / a;
            case UnaryOp.RDivScalar: return -a / (x * x);
            case UnaryOp.RPowScalar: return y * T.Log(a);
            default: throw new NotSupportedException($"reference kernel: gradient of {op} is not defined");
        }
    }

    public static T Binary(BinaryOp op, T a, T b) => op switch
    {
        BinaryOp.Add => a + b,
        BinaryOp.Sub => a - b,
        BinaryOp.Mul => a * b,
        BinaryOp.Div => a / b,
        BinaryOp.Maximum => T.IsNaN(a) || T.IsNaN(b) ? T.NaN : T.Max(a, b),
        BinaryOp.Minimum => T.IsNaN(a) || T.IsNaN(b) ? T.NaN : T.Min(a, b),
        BinaryOp.Pow => T.Pow(a, b),
        BinaryOp.Eq => a == b ? One : Zero,
        BinaryOp.Ne => a != b ? One : Zero,
        BinaryOp.Lt => a < b ? One : Zero,
        BinaryOp.Le => a <= b ? One : Zero,
        BinaryOp.Gt => a > b ? One : Zero,
        BinaryOp.Ge => a >= b ? One : Zero,
        _ => throw new NotSupportedException($"reference kernel: binary {op} is not defined"),
    };

    public static void UnaryForward(UnaryOp op, ReadOnlySpan<T> x, Span<T> y, T a, T b)
    {
        for (int i = 0; i < x.Length; i++) y[i] = Unary(op, x[i], a, b);
    }

    public static void UnaryBackward(UnaryOp op, ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> gy, Span<T> gx, T a, T b)
    {
        for (int i = 0; i < x.Length; i++) gx[i] = gy[i] * UnaryGrad(op, x[i], y[i], a, b);
    }

    public static void Reduce(ReduceOp op, ReadOnlySpan<T> x, int outer, int r, int inner, Span<T> y)
    {
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                T acc = op == ReduceOp.Max ? T.NegativeInfinity : op == ReduceOp.Min ? T.PositiveInfinity : Zero;
                for (int j = 0; j < r; j++)
                {
                    T v = x[(o * r + j) * inner + i];
                    acc = op switch
                    {
                        ReduceOp.Max => T.IsNaN(v) || T.IsNaN(acc) ? T.NaN : T.Max(acc, v),
                        ReduceOp.Min => T.IsNaN(v) || T.IsNaN(acc) ? T.NaN : T.Min(acc, v),
                        ReduceOp.SumSquares => acc + v * v,
                        _ => acc + v,
                    };
                }
                if (op == ReduceOp.Mean) acc /= T.CreateChecked(r);
                y[o * inner + i] = acc;
            }
    }

    public static void ArgReduce(bool max, ReadOnlySpan<T> x, int outer, int r, int inner, Span<T> values, Span<int> indices)
    {
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int best = 0;
                T bv = x[o * r * inner + i];
                for (int j = 1; j < r && !T.IsNaN(bv); j++)
                {
                    T v = x[(o * r + j) * inner + i];
                    if (T.IsNaN(v) || (max ? v > bv : v < bv)) { bv = v; best = j; }
                }
                values[o * inner + i] = bv;
                indices[o * inner + i] = best;
            }
    }

    public static void Variance(ReadOnlySpan<T> x, int outer, int r, int inner, T correction, Span<T> variance, Span<T> mean)
    {
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                T s = Zero;
                for (int j = 0; j < r; j++) s += x[(o * r + j) * inner + i];
                T m = s / T.CreateChecked(r), q = Zero;
                for (int j = 0; j < r; j++) { T d = x[(o * r + j) * inner + i] - m; q += d * d; }
                mean[o * inner + i] = m;
                variance[o * inner + i] = q / T.Max(T.CreateChecked(r) - correction, Zero);
            }
    }

    public static void Softmax(ReadOnlySpan<T> x, Span<T> y, int outer, int l, int inner, bool log)
    {
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int b = o * l * inner + i;
                T m = T.NegativeInfinity;
                for (int j = 0; j < l; j++) m = T.Max(m, x[b + j * inner]);
                T s = Zero;
                for (int j = 0; j < l; j++) s += T.Exp(x[b + j * inner] - m);
                for (int j = 0; j < l; j++)
                    y[b + j * inner] = log ? x[b + j * inner] - m - T.Log(s) : T.Exp(x[b + j * inner] - m) / s;
            }
    }

    public static void SoftmaxBackward(ReadOnlySpan<T> y, ReadOnlySpan<T> gy, Span<T> gx, int outer, int l, int inner, bool log)
    {
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int b = o * l * inner + i;
                T s = Zero;
                for (int j = 0; j < l; j++) s += log ? gy[b + j * inner] : gy[b + j * inner] * y[b + j * inner];
                for (int j = 0; j < l; j++)
                    gx[b + j * inner] = log ? gy[b + j * inner] - T.Exp(y[b + j * inner]) * s : y[b + j * inner] * (gy[b + j * inner] - s);
            }
    }

    public static void LayerNorm(ReadOnlySpan<T> x, ReadOnlySpan<T> gamma, ReadOnlySpan<T> beta, Span<T> y, Span<T> mean, Span<T> rstd, int rows, int c, T eps)
    {
        T n = T.CreateChecked(c);
        for (int r = 0; r < rows; r++)
        {
            var row = x.Slice(r * c, c);
            T s = Zero;
            foreach (T v in row) s += v;
            T m = s / n, q = Zero;
            foreach (T v in row) q += (v - m) * (v - m);
            T rs = One / T.Sqrt(q / n + eps);
            mean[r] = m;
            rstd[r] = rs;
            for (int j = 0; j < c; j++)
            {
                T v = (row[j] - m) * rs;
                if (!gamma.IsEmpty) v *= gamma[j];
                if (!beta.IsEmpty) v += beta[j];
                y[r * c + j] = v;
            }
        }
    }

    public static void LayerNormBackward(ReadOnlySpan<T> x, ReadOnlySpan<T> gamma, ReadOnlySpan<T> mean, ReadOnlySpan<T> rstd, ReadOnlySpan<T> gy,
        Span<T> gx, Span<T> gGamma, Span<T> gBeta, int rows, int c)
    {
        gGamma.Clear();
        gBeta.Clear();
        T n = T.CreateChecked(c);
        for (int r = 0; r < rows; r++)
        {
            T s1 = Zero, s2 = Zero;
            for (int j = 0; j < c; j++)
            {
                T xh = (x[r * c + j] - mean[r]) * rstd[r];
                T g = gy[r * c + j] * (gamma.IsEmpty ? One : gamma[j]);
                s1 += g;
                s2 += g * xh;
                if (!gGamma.IsEmpty) gGamma[j] += gy[r * c + j] * xh;
                if (!gBeta.IsEmpty) gBeta[j] += gy[r * c + j];
            }
            for (int j = 0; j < c; j++)
            {
                T xh = (x[r * c + j] - mean[r]) * rstd[r];
                T g = gy[r * c + j] * (gamma.IsEmpty ? One : gamma[j]);
                gx[r * c + j] = rstd[r] * (g - s1 / n - xh * s2 / n);
            }
        }
    }

    /// <summary>C[M×N] = alpha·op(A)·op(B) + beta·C on element offsets (row-major, BLAS-style trans flags).</summary>
    public static void Gemm(bool transA, bool transB, int m, int n, int k, T alpha,
        ReadOnlySpan<T> a, int offA, int lda, ReadOnlySpan<T> b, int offB, int ldb, T beta, Span<T> c, int offC, int ldc)
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                T s = Zero;
                for (int p = 0; p < k; p++)
                    s += a[offA + (transA ? p * lda + i : i * lda + p)] * b[offB + (transB ? j * ldb + p : p * ldb + j)];
                T prev = beta == Zero ? Zero : beta * c[offC + i * ldc + j];
                c[offC + i * ldc + j] = alpha * s + prev;
            }
    }
}
