using FsrNative.Kernels.Cpu;
using FsrNative.Kernels.Cpu.Reference;
using Xunit;

namespace FsrNative.Tests.Kernels;

/// <summary>CpuBf16: the SIMD/threaded bit trick against the arithmetic definition (ReferencePrecision) on every upper
/// half of a float32 with tie-making and random lower halves, at lengths that exercise the vector tails and the
/// thread split.</summary>
[Trait("Category", "Kernels")]
public class CpuBf16Tests
{
    [Fact]
    public void SimdMatchesTheDefinitionOnEveryExponentAndTie()
    {
        var rng = new Random(3);
        var lows = new uint[] { 0x0000, 0x7FFF, 0x8000, 0x8001, 0xFFFF, 0, 0 };
        var x = new float[65536 * lows.Length + 5];   // + 5: a vector tail
        int n = 0;
        foreach (uint low0 in lows)
            for (uint high = 0; high < 0x10000; high++)
                x[n++] = BitConverter.UInt32BitsToSingle((high << 16) | (low0 == 0 && n >= 65536 * 5 ? (uint)rng.Next(0, 0x10000) : low0));
        while (n < x.Length) x[n++] = BitConverter.UInt32BitsToSingle((uint)rng.NextInt64(0, 1L << 32));

        var fast = new float[x.Length];
        CpuBf16.Round(x, fast);
        for (int i = 0; i < x.Length; i++)
        {
            float expected = ReferencePrecision<float>.RoundToBFloat16(x[i]);
            bool same = float.IsNaN(expected) ? float.IsNaN(fast[i]) && (BitConverter.SingleToUInt32Bits(fast[i]) & 0xFFFF) == 0
                : BitConverter.SingleToUInt32Bits(expected) == BitConverter.SingleToUInt32Bits(fast[i]);
            if (!same)
                Assert.Fail($"bf16(0x{BitConverter.SingleToUInt32Bits(x[i]):X8}): SIMD 0x{BitConverter.SingleToUInt32Bits(fast[i]):X8}, definition 0x{BitConverter.SingleToUInt32Bits(expected):X8}");
            Assert.Equal(BitConverter.SingleToUInt32Bits(CpuBf16.Round(x[i])), BitConverter.SingleToUInt32Bits(fast[i]));
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(1000)]
    public void EveryLengthAndInPlace(int length)
    {
        var x = FsrNative.Tests.Infrastructure.TestRandom.Normal(9, length);
        var y = new float[length];
        CpuBf16.Round(x, y);
        CpuBf16.Round(x, x);
        Assert.Equal(y, x);
        foreach (float v in y) Assert.Equal(0u, BitConverter.SingleToUInt32Bits(v) & 0xFFFF);
    }
}
