using FsrNative.Tests.Infrastructure;
using static FsrNative.Tests.Parity.ParityHarness;

namespace FsrNative.Tests.Parity;

/// <summary>
/// Mixed precision on ILGPU against the CPU backend: the Bf16Round kernel bit for bit (edge values and random bit
/// patterns), and the autocast ops (matmul through the bf16 GEMM dispatch, linear, attention, conv2d) forward and
/// backward — the rounded operands are identical on both backends, so only the float32 accumulation order differs.
/// </summary>
[Trait(Categories.Trait, Categories.Parity)]
public sealed class PrecisionParityTests
{
    static float Bits(uint b) => BitConverter.UInt32BitsToSingle(b);

    [Fact]
    public void Bf16RoundBitIdentical()
    {
        var values = new List<float>
        {
            Bits(0x3F808000), Bits(0x3F818000), Bits(0x00008000), Bits(0x00018000), Bits(0x7F7F8000), Bits(0xFF7F8000),
            float.PositiveInfinity, float.NegativeInfinity, float.NaN, Bits(0x7F800001), 0f, -0f, float.Epsilon, float.MaxValue,
        };
        var rng = new Random(7);
        while (values.Count < 1000) values.Add(Bits((uint)rng.NextInt64(0, 1L << 32)));
        var x = values.ToArray();
        using var cpu = torch.tensor(x, x.Length).round_to_bfloat16();
        using var onDevice = On(Emu, x, x.Length);
        using var dev = onDevice.round_to_bfloat16();
        var expected = cpu.ToArray();
        var actual = Host(dev);
        for (int i = 0; i < x.Length; i++)
        {
            bool same = float.IsNaN(expected[i]) ? float.IsNaN(actual[i])
                : BitConverter.SingleToUInt32Bits(expected[i]) == BitConverter.SingleToUInt32Bits(actual[i]);
            Assert.True(same, $"Bf16Round on {Emu}: input 0x{BitConverter.SingleToUInt32Bits(x[i]):X8} gave 0x{BitConverter.SingleToUInt32Bits(actual[i]):X8}, cpu 0x{BitConverter.SingleToUInt32Bits(expected[i]):X8}");
        }
    }

    static Func<Tensor[], Tensor> Autocast(Func<Tensor[], Tensor> f) => xs =>
    {
        using (torch.autocast()) return f(xs);
    };

    [Fact]
    public void AutocastOps()
    {
        Check("autocast matmul", Autocast(xs => xs[0].matmul(xs[1])), Sums, new In([7, 19]), new In([19, 5]));
        Check("autocast matmul aᵀ, batched", Autocast(xs => xs[0].transpose(-1, -2).matmul(xs[1])), Sums, new In([2, 19, 7]), new In([2, 19, 5]));
        Check("autocast linear", Autocast(xs => torch.nn.functional.linear(xs[0], xs[1], xs[2])), Sums, new In([2, 3, 12]), new In([4, 12]), new In([4]));
        Check("autocast sdpa", Autocast(xs => torch.nn.functional.scaled_dot_product_attention(xs[0], xs[1], xs[2])), Sums,
            new In([1, 2, 9, 8]), new In([1, 2, 11, 8]), new In([1, 2, 11, 8]));
        Check("autocast conv2d", Autocast(xs => torch.nn.functional.conv2d(xs[0], xs[1], xs[2], 1, 1)), Sums,
            new In([1, 3, 6, 7]), new In([4, 3, 3, 3]), new In([4]));
    }
}
