using FsrNative.Kernels;
using FsrNative.Kernels.Cpu;
using Xunit;

namespace FsrNative.Tests.Kernels;

/// <summary>CpuBinary: SIMD/threaded path against the scalar reference; NaN rules of maximum/minimum and comparisons.</summary>
[Trait("Category", "Kernels")]
public class CpuBinaryTests
{
    public static IEnumerable<object[]> OpLengths()
    {
        foreach (BinaryOp op in Enum.GetValues<BinaryOp>())
            foreach (int n in CpuTestData.Lengths)
                yield return [op, n];
    }

    /// <summary>Inputs with repeated values (so Eq/Le/Ge see equality) and, for Pow, a positive base.</summary>
    static (float[] a, float[] b) Inputs(BinaryOp op, int n, int seed)
    {
        var a = CpuTestData.Uniform(n, seed, op == BinaryOp.Pow ? 0.1f : -4f, 4f);
        var b = CpuTestData.Uniform(n, seed + 1, op == BinaryOp.Pow ? -3f : -4f, op == BinaryOp.Pow ? 3f : 4f);
        for (int i = 0; i < n; i += 3) b[i] = a[i];
        if (op == BinaryOp.Div) for (int i = 0; i < n; i++) if (MathF.Abs(b[i]) < 1e-3f) b[i] = 1f;
        return (a, b);
    }

    static double Tol(BinaryOp op) => op == BinaryOp.Pow ? 1e-5 : 1e-6;

    [Theory]
    [MemberData(nameof(OpLengths))]
    public void Forward_MatchesReference(BinaryOp op, int n)
    {
        var (a, b) = Inputs(op, n, 10 + (int)op);
        var expected = new float[n];
        var actual = new float[n];
        CpuBinary.ForwardReference(op, a, b, expected);
        CpuBinary.Forward(op, a, b, actual);
        CpuTestData.AssertClose(expected, actual, Tol(op), Tol(op), $"{op} n={n}");

        var inPlace = (float[])a.Clone();
        CpuBinary.Forward(op, inPlace, b, inPlace);
        CpuTestData.AssertBitwiseEqual(actual, inPlace, $"{op} in place n={n}");
    }

    [Theory]
    [MemberData(nameof(OpLengths))]
    public void ScalarBroadcast_MatchesReference(BinaryOp op, int n)
    {
        var (a, b) = Inputs(op, n, 20 + (int)op);
        float s = op == BinaryOp.Pow ? 1.7f : a.Length > 0 ? a[0] : 0.5f; // a[0] makes one equality for the comparisons
        var expected = new float[n];
        var actual = new float[n];
        CpuBinary.ForwardScalarRightReference(op, a, s, expected);
        CpuBinary.ForwardScalarRight(op, a, s, actual);
        CpuTestData.AssertClose(expected, actual, Tol(op), Tol(op), $"{op} (scalar right) n={n}");
        float sl = op == BinaryOp.Pow ? 2.5f : s;
        CpuBinary.ForwardScalarLeftReference(op, sl, b, expected);
        CpuBinary.ForwardScalarLeft(op, sl, b, actual);
        CpuTestData.AssertClose(expected, actual, Tol(op), Tol(op), $"{op} (scalar left) n={n}");
    }

    [Theory]
    [MemberData(nameof(CpuTestData.LengthData), MemberType = typeof(CpuTestData))]
    public void Where_MatchesReference(int n)
    {
        var c = CpuTestData.Uniform(n, 5, -1, 1);
        for (int i = 0; i < n; i++) c[i] = i % 4 == 0 ? 0f : i % 4 == 1 ? -0f : i % 7 == 0 ? float.NaN : c[i];
        var a = CpuTestData.Uniform(n, 6);
        var b = CpuTestData.Uniform(n, 7);
        var expected = new float[n];
        var actual = new float[n];
        CpuBinary.WhereReference(c, a, b, expected);
        CpuBinary.Where(c, a, b, actual);
        CpuTestData.AssertBitwiseEqual(expected, actual, $"where n={n}");
        for (int i = 0; i < n; i++) Assert.Equal(c[i] != 0f ? a[i] : b[i], actual[i]);
    }

    [Fact]
    public void MaximumMinimum_PropagateNaN_FromEitherSide()
    {
        float nan = float.NaN, inf = float.PositiveInfinity;
        float[] a = [nan, 1f, nan, -inf, inf, 2f, -3f, 0f, 5f, nan];
        float[] b = [1f, nan, nan, 1f, 1f, 2f, -4f, -0f, nan, -inf];
        var y = new float[a.Length];
        CpuBinary.Forward(BinaryOp.Maximum, a, b, y);
        Assert.Equal([nan, nan, nan, 1f, inf, 2f, -3f, 0f, nan, nan], y);
        CpuBinary.Forward(BinaryOp.Minimum, a, b, y);
        Assert.Equal([nan, nan, nan, -inf, 1f, 2f, -4f, 0f, nan, nan], y);
        CpuBinary.ForwardScalarRight(BinaryOp.Maximum, a, nan, y);
        Assert.All(y, v => Assert.True(float.IsNaN(v)));
        CpuBinary.ForwardScalarLeft(BinaryOp.Minimum, 0f, a, y);
        Assert.Equal([nan, 0f, nan, -inf, 0f, 0f, -3f, 0f, 0f, nan], y);
    }

    [Fact]
    public void Comparisons_FollowIeee_WithNaN()
    {
        float nan = float.NaN;
        float[] a = [nan, 1f, 1f, 2f, -0f, nan, 3f, 1f, 0f];
        float[] b = [nan, nan, 1f, 1f, 0f, 1f, 4f, 1f, 0f];
        var y = new float[a.Length];
        CpuBinary.Forward(BinaryOp.Eq, a, b, y); Assert.Equal([0f, 0f, 1f, 0f, 1f, 0f, 0f, 1f, 1f], y);
        CpuBinary.Forward(BinaryOp.Ne, a, b, y); Assert.Equal([1f, 1f, 0f, 1f, 0f, 1f, 1f, 0f, 0f], y);
        CpuBinary.Forward(BinaryOp.Lt, a, b, y); Assert.Equal([0f, 0f, 0f, 0f, 0f, 0f, 1f, 0f, 0f], y);
        CpuBinary.Forward(BinaryOp.Le, a, b, y); Assert.Equal([0f, 0f, 1f, 0f, 1f, 0f, 1f, 1f, 1f], y);
        CpuBinary.Forward(BinaryOp.Gt, a, b, y); Assert.Equal([0f, 0f, 0f, 1f, 0f, 0f, 0f, 0f, 0f], y);
        CpuBinary.Forward(BinaryOp.Ge, a, b, y); Assert.Equal([0f, 0f, 1f, 1f, 1f, 0f, 0f, 1f, 1f], y);
    }
}
