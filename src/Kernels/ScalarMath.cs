namespace FsrNative.Kernels;

/// <summary>
/// Scalar float math shared by the CPU kernels (reference versions and tails) and the ILGPU kernels.
/// Every member is static, allocation-free and exception-free, and uses only arithmetic, comparisons, switch and
/// <see cref="MathF"/> functions that ILGPU maps to device intrinsics (Exp, Log, Sqrt, Tanh, Abs, CopySign; Pow
/// needs ILGPU.Algorithms' <c>EnableAlgorithms()</c> on the context), so the same code compiles for the GPU.
/// Checked: both kernels calling Unary/UnaryGrad/UnaryBackward/Binary compile to PTX for sm_80 and sm_90 and agree
/// with .NET on ILGPU's CPU accelerator. MathF.FusedMultiplyAdd is NOT used: ILGPU's PTX backend leaves it as an
/// unresolved <c>.extern .func FusedMultiplyAdd</c> (it has an intrinsic only through libdevice/NVVM). <see cref="Mad"/>
/// (a·b + c) is used instead; ptxas contracts it to fma.rn.f32 (its default --fmad=true), the CPU JIT does not.
/// <para>Gradient conventions follow PyTorch's autograd formulas (tools/autograd/derivatives.yaml and
/// FunctionsManual.cpp) exactly, including their boundary values; see <see cref="UnaryBackward"/>.</para>
/// </summary>
public static class ScalarMath
{
    /// <summary>1/√2.</summary>
    public const float Sqrt1_2 = 0.70710678118654752440f;
    /// <summary>√(2/π), the tanh-GELU constant (PyTorch's kBeta).</summary>
    public const float Sqrt2OverPi = 0.79788456080286535588f;
    /// <summary>1/√(2π), the normal density's constant (PyTorch's kAlpha = 2/√π · 1/√2 · ½).</summary>
    public const float InvSqrt2Pi = 0.39894228040143267794f;
    /// <summary>0.044715, the tanh-GELU cubic coefficient (PyTorch's kKappa).</summary>
    public const float GeluKappa = 0.044715f;

    /// <summary>Boundary between the two erf approximations (475/512).</summary>
    public const float ErfSplit = 0.927734375f;

    // Minimax coefficients fitted for this project (Lawson-weighted least squares against 40-digit mpmath erf):
    // |x| <= ErfSplit: erf(x) = x + x·P(x²), P of degree 5, relative fit error 1.7e-8;
    // ErfSplit < |x| <= 4: erf(x) = 1 − exp(t·R(t) − t), t = |x|, R of degree 6, absolute fit error 6.5e-10.
    // Measured in float against an exact erf: with FMA (the Vector256 path, GPU) max 1.13 ulp / 6.7e-8 absolute; with
    // separate multiply and add (this scalar code on the CPU) see ScalarErf_MaxAbsError_Below2e7_And_About1Ulp.
    internal const float ErfP5 = -0.0005964098f, ErfP4 = 0.0049879737f, ErfP3 = -0.026763104f,
        ErfP2 = 0.112817205f, ErfP1 = -0.37612486f, ErfP0 = 0.12837915f;
    internal const float ErfR6 = -1.1803925E-05f, ErfR5 = 0.00032848702f, ErfR4 = -0.0036653546f,
        ErfR3 = 0.023810009f, ErfR2 = -0.10629195f, ErfR1 = -0.63511837f, ErfR0 = -0.1286565f;

    /// <summary>The error function, max error 1.13 ulp / 6.7e-8 absolute over all floats; erf(±∞) = ±1, NaN → NaN.</summary>
    public static float Erf(float x)
    {
        float t = MathF.Abs(x);
        if (t > ErfSplit)
        {
            if (t > 4f) return MathF.CopySign(1f, x); // erfc(4) = 1.5e-8 < ½ ulp(1): erf rounds to ±1 beyond
            float r = ErfR6;
            r = Mad(r, t, ErfR5);
            r = Mad(r, t, ErfR4);
            r = Mad(r, t, ErfR3);
            r = Mad(r, t, ErfR2);
            r = Mad(r, t, ErfR1);
            r = Mad(r, t, ErfR0);
            r = Mad(r, t, -t);
            return MathF.CopySign(1f - MathF.Exp(r), x);
        }
        float s = x * x;
        float p = ErfP5;
        p = Mad(p, s, ErfP4);
        p = Mad(p, s, ErfP3);
        p = Mad(p, s, ErfP2);
        p = Mad(p, s, ErfP1);
        p = Mad(p, s, ErfP0);
        return Mad(p, x, x);
    }

    /// <summary>Logistic sigmoid 1/(1+e^−x); saturates to exactly 0 and 1.</summary>
    public static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));

    /// <summary>GELU (exact): x·Φ(x) = ½x(1 + erf(x/√2)), evaluated as h + h·erf with h = ½x (one rounding fewer).</summary>
    public static float GeluErf(float x)
    {
        float h = 0.5f * x;
        return Mad(h, Erf(x * Sqrt1_2), h);
    }

    /// <summary>d/dx GELU(x) = Φ(x) + x·φ(x), as PyTorch's GeluBackward: cdf + x·kAlpha·exp(−x²/2).</summary>
    public static float GeluErfGrad(float x)
    {
        float cdf = 0.5f * (1f + Erf(x * Sqrt1_2));
        float pdf = InvSqrt2Pi * MathF.Exp(-0.5f * x * x);
        return Mad(x, pdf, cdf);
    }

    /// <summary>GELU, tanh approximation: ½x(1 + tanh(√(2/π)(x + 0.044715x³))), written as x·σ(2u) (the same function,
    /// without the cancellation of 1 + tanh for negative x).</summary>
    public static float GeluTanh(float x)
    {
        float u = Sqrt2OverPi * Mad(GeluKappa * x * x, x, x);
        return x / (1f + MathF.Exp(-2f * u));
    }

    /// <summary>d/dx of the tanh GELU, PyTorch's formula: ½(1+th) + ½x(1−th²)·√(2/π)(1 + 3·0.044715x²).</summary>
    public static float GeluTanhGrad(float x)
    {
        float x2 = x * x;
        float inner = Sqrt2OverPi * Mad(GeluKappa * x2, x, x);
        float th = MathF.Tanh(inner);
        float left = 0.5f * x;
        float leftDerivative = 0.5f * (1f + th);
        float rightDerivative = left * (1f - th * th) * (Sqrt2OverPi * Mad(3f * GeluKappa, x2, 1f));
        return leftDerivative + rightDerivative;
    }

    /// <summary>x^a with the exponents PyTorch special-cases computed exactly as it does (x·x, √x, 1/x, …).</summary>
    public static float PowScalar(float x, float a)
    {
        if (a == 2f) return x * x;
        if (a == 1f) return x;
        if (a == 0.5f) return MathF.Sqrt(x);
        if (a == 3f) return x * x * x;
        if (a == -1f) return 1f / x;
        if (a == -0.5f) return 1f / MathF.Sqrt(x);
        if (a == -2f) return 1f / (x * x);
        return MathF.Pow(x, a);
    }

    /// <summary>y = f(x) for a unary op; <paramref name="a"/>/<paramref name="b"/> are the op's scalar parameters
    /// (see <see cref="UnaryOp"/>). NaN propagates through every op (relu and clamp included, as in PyTorch).</summary>
    public static float Unary(UnaryOp op, float x, float a, float b)
    {
        switch (op)
        {
            case UnaryOp.Identity: return x;
            case UnaryOp.Neg: return -x;
            case UnaryOp.Abs: return MathF.Abs(x);
            case UnaryOp.Exp: return MathF.Exp(x);
            case UnaryOp.Log: return MathF.Log(x);
            case UnaryOp.Sqrt: return MathF.Sqrt(x);
            case UnaryOp.Rsqrt: return 1f / MathF.Sqrt(x);
            case UnaryOp.Square: return x * x;
            case UnaryOp.PowScalar: return PowScalar(x, a);
            case UnaryOp.Relu: return x > 0f || IsNaN(x) ? x : 0f;
            case UnaryOp.GeluErf: return GeluErf(x);
            case UnaryOp.GeluTanh: return GeluTanh(x);
            case UnaryOp.Sigmoid: return Sigmoid(x);
            case UnaryOp.Tanh: return MathF.Tanh(x);
            case UnaryOp.Clamp:
                if (IsNaN(x)) return x;
                return x < a ? (a < b ? a : b) : (x > b ? b : x); // min(max(x, a), b), as torch.clamp
            case UnaryOp.AddScalar: return x + a;
            case UnaryOp.MulScalar: return x * a;
            case UnaryOp.RDivScalar: return a / x;
            case UnaryOp.DivScalar: return x / a;
            case UnaryOp.RSubScalar: return a - x;
            case UnaryOp.Affine: return a * x + b;
            case UnaryOp.RPowScalar: return MathF.Pow(a, x);
            default: return float.NaN;
        }
    }

    /// <summary>dy/dx given x and y = f(x). Boundary conventions are PyTorch's: relu'(0) = 0, abs'(0) = 0 (sign),
    /// sqrt'(0) = +∞, clamp' = 1 where a ≤ x ≤ b (both ends included) else 0, pow(x, 0)' = 0 everywhere,
    /// (a^x)' = 0 for a = 0 and x ≥ 0. Use <see cref="UnaryBackward"/> for gx, which also matches torch where it masks
    /// with a select (relu, clamp: a NaN gy stays out of the masked entries).</summary>
    public static float UnaryGrad(UnaryOp op, float x, float y, float a, float b)
    {
        switch (op)
        {
            case UnaryOp.Identity: return 1f;
            case UnaryOp.Neg: return -1f;
            case UnaryOp.Abs: return x > 0f ? 1f : (x < 0f ? -1f : 0f);
            case UnaryOp.Exp: return y;
            case UnaryOp.Log: return 1f / x;
            case UnaryOp.Sqrt: return 1f / (2f * y);
            case UnaryOp.Rsqrt: return -0.5f * (y * y * y);
            case UnaryOp.Square: return 2f * x;
            case UnaryOp.PowScalar: return a == 0f ? 0f : a * PowScalar(x, a - 1f);
            case UnaryOp.Relu: return x > 0f || IsNaN(x) ? 1f : 0f; // torch: threshold_backward passes where !(y <= 0)
            case UnaryOp.GeluErf: return GeluErfGrad(x);
            case UnaryOp.GeluTanh: return GeluTanhGrad(x);
            case UnaryOp.Sigmoid: return (1f - y) * y;
            case UnaryOp.Tanh: return 1f - y * y;
            case UnaryOp.Clamp: return x >= a && x <= b ? 1f : 0f;
            case UnaryOp.AddScalar: return 1f;
            case UnaryOp.MulScalar: return a;
            case UnaryOp.RDivScalar: return -a / (x * x);
            case UnaryOp.DivScalar: return 1f / a;
            case UnaryOp.RSubScalar: return -1f;
            case UnaryOp.Affine: return a;
            case UnaryOp.RPowScalar: return a == 0f && x >= 0f ? 0f : y * MathF.Log(a);
            default: return float.NaN;
        }
    }

    /// <summary>gx = gy · f'(x), in the exact form of PyTorch's backward formula for each op (so rounding and the
    /// special values agree): e.g. exp: gy·y; sqrt: gy/(2y); rsqrt: −0.5·gy·y³; sigmoid: gy·(1−y)·y;
    /// tanh: gy·(1−y²); relu and clamp select gy or 0 (never gy·0).</summary>
    public static float UnaryBackward(UnaryOp op, float x, float y, float gy, float a, float b)
    {
        switch (op)
        {
            case UnaryOp.Identity: return gy;
            case UnaryOp.Neg: return -gy;
            case UnaryOp.Abs: return gy * (x > 0f ? 1f : (x < 0f ? -1f : 0f));
            case UnaryOp.Exp: return gy * y;
            case UnaryOp.Log: return gy / x;
            case UnaryOp.Sqrt: return gy / (2f * y);
            case UnaryOp.Rsqrt: return -0.5f * gy * (y * y * y);
            case UnaryOp.Square: return gy * (2f * x);
            case UnaryOp.PowScalar: return a == 0f ? 0f : gy * (a * PowScalar(x, a - 1f)); // torch: zeros_like(x)
            case UnaryOp.Relu: return x <= 0f ? 0f : gy;
            case UnaryOp.GeluErf: return gy * GeluErfGrad(x);
            case UnaryOp.GeluTanh: return gy * GeluTanhGrad(x);
            case UnaryOp.Sigmoid: return gy * (1f - y) * y;
            case UnaryOp.Tanh: return gy * (1f - y * y);
            case UnaryOp.Clamp: return x >= a && x <= b ? gy : 0f;
            case UnaryOp.AddScalar: return gy;
            case UnaryOp.MulScalar: return gy * a;
            case UnaryOp.RDivScalar: return -gy * a / (x * x);
            case UnaryOp.DivScalar: return gy / a;
            case UnaryOp.RSubScalar: return -gy;
            case UnaryOp.Affine: return gy * a;
            case UnaryOp.RPowScalar: return a == 0f && x >= 0f ? 0f * gy : gy * (y * MathF.Log(a));
            default: return float.NaN;
        }
    }

    /// <summary>y = a ∘ b. Comparisons give 1 or 0 (NaN compares unequal: only Ne is 1). Maximum/Minimum propagate
    /// NaN from either side, like torch.maximum/minimum.</summary>
    public static float Binary(BinaryOp op, float a, float b)
    {
        switch (op)
        {
            case BinaryOp.Add: return a + b;
            case BinaryOp.Sub: return a - b;
            case BinaryOp.Mul: return a * b;
            case BinaryOp.Div: return a / b;
            case BinaryOp.Maximum: return IsNaN(a) ? a : (IsNaN(b) ? b : (a > b ? a : b));
            case BinaryOp.Minimum: return IsNaN(a) ? a : (IsNaN(b) ? b : (a < b ? a : b));
            case BinaryOp.Pow: return MathF.Pow(a, b);
            case BinaryOp.Eq: return a == b ? 1f : 0f;
            case BinaryOp.Ne: return a != b ? 1f : 0f;
            case BinaryOp.Lt: return a < b ? 1f : 0f;
            case BinaryOp.Le: return a <= b ? 1f : 0f;
            case BinaryOp.Gt: return a > b ? 1f : 0f;
            case BinaryOp.Ge: return a >= b ? 1f : 0f;
            default: return float.NaN;
        }
    }

    /// <summary>a·b + c, two roundings on the CPU (the .NET JIT does not contract), one on the GPU (ptxas fuses).</summary>
    public static float Mad(float a, float b, float c) => a * b + c;

    /// <summary>x ≠ x: NaN test in plain arithmetic (compiles everywhere ILGPU does).</summary>
#pragma warning disable CS1718 // comparison to the same variable is the point
    public static bool IsNaN(float x) => x != x;
#pragma warning restore CS1718
}
