namespace FsrNative.Tests.Infrastructure;

// Inside FsrNative.*, the names torch and Tensor mean the engine's; these aliases make them TorchSharp's in this file.
using TorchSharp;
using static TorchSharp.torch;
using torch = TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

/// <summary>
/// Proves the oracle itself works on this machine: libtorch loads through TorchSharp (on Debian 12 only after
/// build/TorchSharpNativeFix.targets patched the copied libLibTorchSharp.so) and computes the right numbers.
/// </summary>
[Trait(Categories.Trait, Categories.Oracle)]
public class TorchSharpLoadsTests
{
    [Fact]
    public void TorchSharpLoads()
    {
        Torch.EnsureInitialized();

        // A (2×3) · B (3×2) with values whose product is exact in float32.
        float[] a = [1, 2, 3,
                     4, 5, 6];
        float[] b = [7, 8,
                     9, 10,
                     11, 12];
        using var ta = Torch.FromArray(a, 2, 3);
        using var tb = Torch.FromArray(b, 3, 2);
        using var tc = torch.matmul(ta, tb);

        Assert.Equal([2L, 2L], tc.shape);
        Assert.Equal(ScalarType.Float32, tc.dtype);
        Close.AssertClose([58f, 64f, 139f, 154f], Torch.ToArray(tc), 0, 0, "libtorch matmul (2x3)·(3x2)", [2, 2]);
    }

    [Fact]
    public void TorchMatmulMatchesNaiveOnRandomInput()
    {
        const int m = 37, k = 53, n = 29; // odd sizes: no vector-width coincidences
        float[] a = TestRandom.Uniform(TestRandom.SeedFor(nameof(TorchMatmulMatchesNaiveOnRandomInput), 0), m * k);
        float[] b = TestRandom.Uniform(TestRandom.SeedFor(nameof(TorchMatmulMatchesNaiveOnRandomInput), 1), k * n);
        var expected = new float[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++) s += (double)a[i * k + p] * b[p * n + j];
                expected[i * n + j] = (float)s;
            }

        using var ta = Torch.FromArray(a, m, k);
        using var tb = Torch.FromArray(b, k, n);
        using var tc = ta.matmul(tb);
        Close.AssertClose(expected, Torch.ToArray(tc), Tolerance.Float32, "libtorch matmul vs double-accumulated naive", [m, n]);
    }

    [Fact]
    public void ToArrayOfAViewIsRowMajor()
    {
        float[] a = [0, 1, 2, 3, 4, 5];
        using var t = Torch.FromArray(a, 2, 3);
        using var tt = t.t(); // non-contiguous view (3×2)
        Assert.False(tt.is_contiguous());
        Assert.Equal([0f, 3f, 1f, 4f, 2f, 5f], Torch.ToArray(tt));
    }
}
