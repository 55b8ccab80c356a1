using FsrNative.Kernels;
using FsrNative.Kernels.Cpu;
using Xunit;

namespace FsrNative.Tests.Kernels;

/// <summary>CpuUnary: the SIMD/threaded path against the scalar reference for every op code and length.</summary>
[Trait("Category", "Kernels")]
public class CpuUnaryTests
{
    /// <summary>Every op with an input range that suits it and its scalar parameters.</summary>
    static readonly (UnaryOp op, float lo, float hi, float a, float b)[] Cases =
    [
        (UnaryOp.Identity, -4, 4, 0, 0), (UnaryOp.Neg, -4, 4, 0, 0), (UnaryOp.Abs, -4, 4, 0, 0),
        (UnaryOp.Exp, -20, 20, 0, 0), (UnaryOp.Log, 1e-3f, 50, 0, 0), (UnaryOp.Sqrt, 0, 50, 0, 0),
        (UnaryOp.Rsqrt, 1e-3f, 50, 0, 0), (UnaryOp.Square, -4, 4, 0, 0),
        (UnaryOp.PowScalar, -4, 4, 2f, 0), (UnaryOp.PowScalar, -4, 4, 3f, 0), (UnaryOp.PowScalar, 0.01f, 4, 0.5f, 0),
        (UnaryOp.PowScalar, 0.01f, 4, -1f, 0), (UnaryOp.PowScalar, 0.01f, 4, -0.5f, 0), (UnaryOp.PowScalar, 0.01f, 4, -2f, 0),
        (UnaryOp.PowScalar, 0.01f, 4, 1.7f, 0), (UnaryOp.PowScalar, -4, 4, 1f, 0), (UnaryOp.PowScalar, -4, 4, 0f, 0),
        (UnaryOp.Relu, -4, 4, 0, 0), (UnaryOp.GeluErf, -8, 8, 0, 0), (UnaryOp.GeluTanh, -8, 8, 0, 0),
        (UnaryOp.Sigmoid, -30, 30, 0, 0), (UnaryOp.Tanh, -10, 10, 0, 0), (UnaryOp.Clamp, -4, 4, -1f, 2f),
        (UnaryOp.Clamp, -4, 4, float.NegativeInfinity, 0.5f), (UnaryOp.AddScalar, -4, 4, 1.25f, 0),
        (UnaryOp.MulScalar, -4, 4, -0.75f, 0), (UnaryOp.RDivScalar, 0.1f, 4, 3f, 0), (UnaryOp.RSubScalar, -4, 4, 2f, 0),
        (UnaryOp.Affine, -4, 4, 1.5f, -0.25f), (UnaryOp.RPowScalar, -4, 4, 2.5f, 0), (UnaryOp.RPowScalar, -4, 4, 0f, 0),
    ];

    public static IEnumerable<object[]> CaseData()
    {
        for (int c = 0; c < Cases.Length; c++)
            foreach (int n in CpuTestData.Lengths)
                yield return [c, n];
    }

    static (double rtol, double atol) Tol(UnaryOp op) => op switch
    {
        UnaryOp.GeluErf or UnaryOp.GeluTanh or UnaryOp.Tanh or UnaryOp.Exp or UnaryOp.Sigmoid or UnaryOp.Log
            or UnaryOp.RPowScalar or UnaryOp.PowScalar => (1e-5, 1e-5),
        _ => (1e-6, 1e-6),
    };

    [Theory]
    [MemberData(nameof(CaseData))]
    public void Forward_MatchesReference(int caseIndex, int n)
    {
        var (op, lo, hi, a, b) = Cases[caseIndex];
        var x = CpuTestData.Uniform(n, 100 + caseIndex, lo, hi);
        var expected = new float[n];
        CpuUnary.ForwardReference(op, x, expected, a, b);
        var actual = new float[n];
        CpuUnary.Forward(op, x, actual, a, b);
        var (rtol, atol) = Tol(op);
        CpuTestData.AssertClose(expected, actual, rtol, atol, $"{op}(a={a}, b={b}) n={n}");

        // in place gives the same bits as out of place
        var inPlace = (float[])x.Clone();
        CpuUnary.Forward(op, inPlace, inPlace, a, b);
        CpuTestData.AssertBitwiseEqual(actual, inPlace, $"{op} in place n={n}");
    }

    [Theory]
    [MemberData(nameof(CaseData))]
    public void Backward_MatchesReference(int caseIndex, int n)
    {
        var (op, lo, hi, a, b) = Cases[caseIndex];
        var x = CpuTestData.Uniform(n, 200 + caseIndex, lo, hi);
        var y = new float[n];
        CpuUnary.ForwardReference(op, x, y, a, b);
        var gy = CpuTestData.Uniform(n, 300 + caseIndex, -2, 2);
        var expected = new float[n];
        CpuUnary.BackwardReference(op, x, y, gy, expected, a, b);
        var actual = new float[n];
        CpuUnary.Backward(op, x, y, gy, actual, a, b);
        var (rtol, atol) = Tol(op);
        CpuTestData.AssertClose(expected, actual, rtol, atol, $"{op}' (a={a}, b={b}) n={n}");

        // the inputs the op does not need may be omitted
        var lean = new float[n];
        CpuUnary.Backward(op, CpuUnary.BackwardNeedsInput(op) ? x : default, CpuUnary.BackwardNeedsOutput(op) ? y : default, gy, lean, a, b);
        CpuTestData.AssertBitwiseEqual(actual, lean, $"{op}' without unused inputs n={n}");
    }

    [Fact]
    public void Relu_Clamp_Abs_SpecialValues()
    {
        float[] x = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, 1f, -1f, 2f, -2f, float.NaN, 3f];
        var y = new float[x.Length];
        CpuUnary.Forward(UnaryOp.Relu, x, y, 0, 0);
        Assert.True(float.IsNaN(y[0]) && float.IsNaN(y[9]));
        Assert.Equal([float.PositiveInfinity, 0f, 0f, 0f, 1f, 0f, 2f, 0f], y[1..9]);
        CpuUnary.Forward(UnaryOp.Clamp, x, y, -1f, 1f);
        Assert.True(float.IsNaN(y[0]) && float.IsNaN(y[9]));
        Assert.Equal([1f, -1f, 0f, 0f, 1f, -1f, 1f, -1f], y[1..9]);
        CpuUnary.Forward(UnaryOp.Abs, x, y, 0, 0);
        Assert.True(float.IsNaN(y[0]));
        Assert.Equal(float.PositiveInfinity, y[2]);

        var gy = Enumerable.Repeat(1f, x.Length).ToArray();
        var gx = new float[x.Length];
        CpuUnary.Backward(UnaryOp.Relu, x, default, gy, gx, 0, 0);
        Assert.Equal([1f, 1f, 0f, 0f, 0f, 1f, 0f, 1f, 0f, 1f, 1f], gx); // NaN passes gy (torch: !(x <= 0))
        CpuUnary.Backward(UnaryOp.Clamp, x, default, gy, gx, -1f, 1f);
        Assert.Equal([0f, 0f, 0f, 1f, 1f, 1f, 1f, 0f, 0f, 0f, 0f], gx); // ends included, NaN blocked
        CpuUnary.Backward(UnaryOp.Abs, x, default, gy, gx, 0, 0);
        Assert.Equal([0f, 1f, -1f, 0f, 0f, 1f, -1f, 1f, -1f, 0f, 1f], gx);
        CpuUnary.Backward(UnaryOp.Sqrt, default, new float[] { 0f, 1f, 4f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f }, gy, gx, 0, 0);
        Assert.Equal(float.PositiveInfinity, gx[0]);
        Assert.Equal(0.5f, gx[1]);
    }

    [Fact]
    public void TranscendentalOps_SaturateLikeTorch()
    {
        float[] x = [-1000f, -200f, 0f, 200f, 1000f, float.NegativeInfinity, float.PositiveInfinity, float.NaN, 1f];
        var y = new float[x.Length];
        CpuUnary.Forward(UnaryOp.Sigmoid, x, y, 0, 0);
        Assert.Equal([0f, 0f, 0.5f, 1f, 1f, 0f, 1f, float.NaN], y[..8]);
        CpuUnary.Forward(UnaryOp.GeluErf, x, y, 0, 0);
        Assert.Equal([0f, 0f, 0f, 200f, 1000f, float.NaN, float.PositiveInfinity, float.NaN], y[..8]); // −∞·0 = NaN, as torch
        CpuUnary.Forward(UnaryOp.GeluTanh, x, y, 0, 0);
        Assert.Equal([0f, 0f, 0f, 200f, 1000f], y[..5]);
        CpuUnary.Forward(UnaryOp.Exp, x, y, 0, 0);
        Assert.Equal([0f, 0f, 1f, float.PositiveInfinity, float.PositiveInfinity, 0f, float.PositiveInfinity, float.NaN], y[..8]);
        CpuUnary.Forward(UnaryOp.Tanh, x, y, 0, 0);
        Assert.Equal([-1f, -1f, 0f, 1f, 1f, -1f, 1f, float.NaN], y[..8]);
    }
}
