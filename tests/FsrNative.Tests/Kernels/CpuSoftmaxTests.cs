using FsrNative.Kernels.Cpu;
using Xunit;

namespace FsrNative.Tests.Kernels;

/// <summary>CpuSoftmax: softmax/log_softmax forward and backward, row and column cases, −∞ handling like torch.</summary>
[Trait("Category", "Kernels")]
public class CpuSoftmaxTests
{
    public static readonly (int outer, int l, int inner)[] Shapes =
    [
        (1, 1, 1), (3, 7, 1), (2, 8, 1), (5, 9, 1), (4, 33, 1), (3, 1000, 1), (2, 100003, 1), (200, 784, 1),
        (2, 5, 3), (3, 7, 8), (2, 9, 33), (4, 33, 70), (2, 100, 7), (1, 1, 9), (3, 300, 130),
    ];

    public static IEnumerable<object[]> Cases()
    {
        for (int s = 0; s < Shapes.Length; s++)
        {
            yield return [s, false];
            yield return [s, true];
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_MatchesReference(int shape, bool log)
    {
        var (outer, l, inner) = Shapes[shape];
        var x = CpuTestData.Uniform(outer * l * inner, 10 + shape, -8f, 8f);
        var expected = new float[x.Length];
        var actual = new float[x.Length];
        CpuSoftmax.ForwardReference(x, expected, outer, l, inner, log);
        CpuSoftmax.Forward(x, actual, outer, l, inner, log);
        CpuTestData.AssertClose(expected, actual, 1e-5, log ? 1e-5 : 1e-7, $"{(log ? "log_" : "")}softmax ({outer},{l},{inner})");
        var inPlace = (float[])x.Clone();
        CpuSoftmax.Forward(inPlace, inPlace, outer, l, inner, log);
        CpuTestData.AssertBitwiseEqual(actual, inPlace, "in place");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward_MatchesReference(int shape, bool log)
    {
        var (outer, l, inner) = Shapes[shape];
        var x = CpuTestData.Uniform(outer * l * inner, 20 + shape, -4f, 4f);
        var y = new float[x.Length];
        CpuSoftmax.ForwardReference(x, y, outer, l, inner, log);
        var gy = CpuTestData.Uniform(x.Length, 30 + shape, -1f, 1f);
        var expected = new float[x.Length];
        var actual = new float[x.Length];
        CpuSoftmax.BackwardReference(y, gy, expected, outer, l, inner, log);
        CpuSoftmax.Backward(y, gy, actual, outer, l, inner, log);
        CpuTestData.AssertClose(expected, actual, 1e-5, 1e-6, $"{(log ? "log_" : "")}softmax backward ({outer},{l},{inner})");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void NegativeInfinity_GivesZero_AndAllNegInfRow_GivesNaN(bool log)
    {
        float ninf = float.NegativeInfinity;
        // rows of 9 (tail path) and 40 (vector path): some −∞, all −∞, and a NaN
        foreach (int l in new[] { 9, 40 })
        {
            var x = new float[3 * l];
            for (int j = 0; j < l; j++)
            {
                x[j] = j % 3 == 0 ? ninf : j * 0.1f;
                x[l + j] = ninf;
                x[2 * l + j] = j == 5 ? float.NaN : j;
            }
            var y = new float[x.Length];
            CpuSoftmax.Forward(x, y, 3, l, 1, log);
            double sum = 0;
            for (int j = 0; j < l; j++)
            {
                if (j % 3 == 0) Assert.Equal(log ? ninf : 0f, y[j]);
                else Assert.True(float.IsFinite(y[j]));
                sum += log ? Math.Exp(y[j]) : y[j];
                Assert.True(float.IsNaN(y[l + j]), "all −∞ row gives NaN (torch)");
                Assert.True(float.IsNaN(y[2 * l + j]), "a NaN poisons its row (torch)");
            }
            Assert.Equal(1.0, sum, 5);
        }
        // the same along a non-last axis: (outer 1, l 4, inner 10)
        var c = new float[40];
        for (int i = 0; i < 10; i++)
            for (int j = 0; j < 4; j++)
                c[j * 10 + i] = i == 0 ? ninf : j == 1 ? ninf : i + j;
        var cy = new float[40];
        CpuSoftmax.Forward(c, cy, 1, 4, 10, log);
        for (int j = 0; j < 4; j++)
        {
            Assert.True(float.IsNaN(cy[j * 10]));
            Assert.Equal(log ? ninf : 0f, cy[10 + 3]);
        }
    }

    [Fact]
    public void Softmax_RowsSumToOne_OnLargeShape()
    {
        int rows = 96 * 4, l = 784;
        var x = CpuTestData.Uniform(rows * l, 1, -10f, 10f);
        var y = new float[x.Length];
        CpuSoftmax.Forward(x, y, rows, l, 1, false);
        for (int r = 0; r < rows; r++)
        {
            double s = 0;
            for (int j = 0; j < l; j++) s += y[r * l + j];
            Assert.True(Math.Abs(s - 1) < 2e-6, $"row {r} sums to {s}");
        }
    }
}
