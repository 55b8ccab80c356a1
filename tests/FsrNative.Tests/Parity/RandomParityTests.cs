using FsrNative.Tests.Infrastructure;
using static FsrNative.Tests.Parity.ParityHarness;

namespace FsrNative.Tests.Parity;

/// <summary>Philox random fills: uniform draws are bit-identical to the CPU backend, normal ones agree to float rounding
/// (on the emulator they are identical too; on CUDA sin/cos/log are the GPU's approximations).</summary>
[Trait(Categories.Trait, Categories.Parity)]
public sealed class RandomParityTests
{
    [Fact]
    public void UniformIsBitIdentical()
    {
        foreach (var (shape, lo, hi) in new[] { (new[] { 1001 }, 0f, 1f), (new[] { 3, 7, 5 }, -2.5f, 0.75f), (new[] { 1 }, 3f, 3.5f) })
        {
            var g1 = new Generator(1234);
            var g2 = new Generator(1234);
            using var scope = torch.NewDisposeScope();
            var a = torch.uniform(shape, lo, hi, g1);
            var b = torch.uniform(shape, lo, hi, g2, Emu);
            Assert.Equal(a.ToArray().Select(BitConverter.SingleToInt32Bits), b.ToArray().Select(BitConverter.SingleToInt32Bits));
            // Both generators advanced by one stream: the next draws agree too.
            Assert.Equal(torch.rand([9], g1).ToArray(), torch.rand([9], g2, Emu).ToArray());
        }
    }

    [Fact]
    public void NormalAgrees()
    {
        var g1 = new Generator(99);
        var g2 = new Generator(99);
        using var scope = torch.NewDisposeScope();
        Close.AssertClose(torch.normal([2, 517], 0.5f, 2f, g1).ToArray(), torch.normal([2, 517], 0.5f, 2f, g2, Emu).ToArray(),
            Elementwise, "normal(0.5, 2)");
        Close.AssertClose(torch.randn([33], g1).ToArray(), torch.randn([33], g2, Emu).ToArray(), Elementwise, "randn");
    }

    /// <summary>The primitive on a tensor at a storage offset (a slice of a larger buffer).</summary>
    [Fact]
    public void RandomIntoAnOffsetWindow()
    {
        float[] Run(Device d)
        {
            using var scope = torch.NewDisposeScope();
            var big = torch.zeros([4, 5], d);
            var rows = big.narrow(0, 1, 2);          // contiguous, offset 5
            d.Backend.RandomUniform(rows, 7, 3, -1f, 1f);
            d.Backend.RandomNormal(big.narrow(0, 3, 1), 7, 4, 0f, 1f);
            return big.ToArray();
        }
        var c = Run(Device.CPU);
        Assert.Equal(c.Take(15).Select(BitConverter.SingleToInt32Bits), Run(Emu).Take(15).Select(BitConverter.SingleToInt32Bits));
        Close.AssertClose(c, Run(Emu), Elementwise, "uniform + normal windows");
    }
}
