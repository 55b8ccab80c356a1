using FsrNative.Kernels.Cpu;
using FsrNative.Kernels.Cpu.Reference;
using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Oracle;

using TT = TorchSharp.torch.Tensor;
using ts = TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

/// <summary>
/// Mixed precision against libtorch. (1) Rounding to bfloat16: the engine's op, the CPU SIMD kernel and the reference
/// definition, bit for bit against <c>x.to(bfloat16).to(float32)</c> on ties (both directions), subnormals, the overflow
/// edge, ±∞, NaN (including payloads only in the low half), ±0 and every exponent; the op's gradient is libtorch's for
/// the two casts (the gradient rounded). (2) Autocast: matmul, linear, attention and conv2d inside
/// <c>torch.autocast()</c>, forward and every input gradient, against libtorch computing in float32 from the
/// bf16-rounded operands and the bf16-rounded output gradient — the definition of the engine's autocast. The products
/// are then exact in float32 in both engines and only the order of accumulation differs, so the tolerances are the
/// float32 ones of the ops' own oracle tests; each case also checks that plain float32 misses by more than that (the
/// rounding really happened). (3) Outside autocast nothing changes: bit-identical results and gradients.
/// </summary>
[Trait(Categories.Trait, Categories.Oracle)]
public class PrecisionOracleTests
{
    static Tolerance T(double atol, double rtol) => new(atol, rtol);
    static readonly Tolerance Gemm = T(1e-5, 1e-4);
    static readonly Tolerance Conv = T(1e-4, 1e-4);

    static float Bits(uint b) => BitConverter.UInt32BitsToSingle(b);

    /// <summary>Edge values: ties to even (down and up), just above and below a tie, subnormal ties, the largest finite
    /// values and the overflow tie, ±∞, NaNs (quiet, signalling, payload in the low 16 bits only), ±0.</summary>
    static readonly float[] Edges =
    [
        1f, Bits(0x3F808000), Bits(0x3F818000), Bits(0x3F808001), Bits(0x3F807FFF), Bits(0xBF808000), Bits(0xBF818000),
        Bits(0x00000001), Bits(0x00008000), Bits(0x00018000), Bits(0x00007FFF), Bits(0x00008001), Bits(0x807FFFFF), Bits(0x007F8000),
        Bits(0x7F7FFFFF), Bits(0x7F7F8000), Bits(0x7F7F7FFF), Bits(0xFF7F8000), float.MaxValue, float.MinValue,
        float.PositiveInfinity, float.NegativeInfinity, float.NaN, Bits(0x7F800001), Bits(0xFF800001), Bits(0x7FC00000), Bits(0x7F80FFFF),
        0f, -0f, float.Epsilon, -float.Epsilon, 3.14159265f, -2.7182817f, 1e-40f, 65504f, 1e38f, 3.4e38f,
    ];

    /// <summary>Edges, then random bit patterns over every exponent (and the 64 K upper halves with tie-making low halves).</summary>
    static float[] Inputs()
    {
        var values = new List<float>(Edges);
        var rng = new Random(20240611);
        for (int i = 0; i < 20000; i++) values.Add(Bits((uint)rng.NextInt64(0, 1L << 32)));
        foreach (uint low in new uint[] { 0x8000, 0x7FFF, 0x8001 })
            for (uint high = 0; high < 0x10000; high += 7) values.Add(Bits((high << 16) | low));
        return values.ToArray();
    }

    static float[] TorchBf16(float[] x)
    {
        using var t = Torch.FromArray(x, x.Length);
        using var b = t.to(ts.ScalarType.BFloat16);
        using var back = b.to(ts.ScalarType.Float32);
        return Torch.ToArray(back);
    }

    static void AssertSameBits(float[] expected, float[] actual, float[] input, string who)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            bool same = float.IsNaN(expected[i]) ? float.IsNaN(actual[i])
                : BitConverter.SingleToUInt32Bits(expected[i]) == BitConverter.SingleToUInt32Bits(actual[i]);
            if (!same)
                Assert.Fail($"{who}: bf16(0x{BitConverter.SingleToUInt32Bits(input[i]):X8}) = 0x{BitConverter.SingleToUInt32Bits(actual[i]):X8}, " +
                            $"libtorch gives 0x{BitConverter.SingleToUInt32Bits(expected[i]):X8} (element {i})");
        }
    }

    [Fact]
    public void RoundToBFloat16MatchesLibtorchBitForBit()
    {
        var x = Inputs();
        var expected = TorchBf16(x);

        var simd = new float[x.Length];
        CpuBf16.Round(x, simd);
        AssertSameBits(expected, simd, x, "CpuBf16.Round (SIMD)");

        var reference = new float[x.Length];
        ReferencePrecision<float>.RoundToBFloat16(x, reference);
        AssertSameBits(expected, reference, x, "ReferencePrecision<float>");

        // Float64: rounded once from the double; on float32-representable inputs the same value.
        var reference64 = new double[x.Length];
        ReferencePrecision<double>.RoundToBFloat16(Array.ConvertAll(x, v => (double)v), reference64);
        AssertSameBits(expected, Array.ConvertAll(reference64, v => (float)v), x, "ReferencePrecision<double>");

        using var ours = torch.tensor(x, x.Length).round_to_bfloat16();
        AssertSameBits(expected, ours.ToArray(), x, "round_to_bfloat16 (cpu backend)");
        // Negative zero keeps its sign (the bit comparison above covers it; said explicitly as it is easy to lose).
        Assert.True(float.IsNegative(CpuBf16.Round(-0f)) && CpuBf16.Round(-0f) == 0f);
    }

    [Fact]
    public void RoundToBFloat16InPlaceAndOnViews()
    {
        var x = TestRandom.Normal(5, 300);
        var expected = TorchBf16(x);
        var inPlace = (float[])x.Clone();
        CpuBf16.Round(inPlace, inPlace);
        AssertSameBits(expected, inPlace, x, "CpuBf16.Round in place");
        OpCheck.Check("round_to_bfloat16", ["13x11@t"], xs => xs[0].round_to_bfloat16(),
            xs => xs[0].to(ts.ScalarType.BFloat16).to(ts.ScalarType.Float32), T(0, 0), T(0, 0));
    }

    // ---- autocast -------------------------------------------------------------------------------------------------

    static TT TorchRounded(float[] data, int[] shape, bool grad)
    {
        using var t = Torch.FromArray(data, Array.ConvertAll(shape, v => (long)v));
        var r = t.to(ts.ScalarType.BFloat16).to(ts.ScalarType.Float32).detach();
        if (grad) r.requires_grad_(true);
        return r;
    }

    /// <summary>
    /// Runs <paramref name="ours"/> inside torch.autocast() on leaves made from random values, backward (outside the
    /// region) with a random output gradient, and <paramref name="theirs"/> in libtorch on leaves holding the bf16-rounded
    /// values, backward with the bf16-rounded output gradient; compares the output and every input gradient. Inputs
    /// flagged false take no gradient.
    /// </summary>
    static void CheckAutocast(string what, (int[] shape, bool grad)[] inputs, Func<Tensor[], Tensor> ours, Func<TT[], TT> theirs,
        Tolerance forward, Tolerance backward)
    {
        ulong seed = TestRandom.SeedFor(what);
        var data = inputs.Select((inp, i) => TestRandom.Normal(seed + (ulong)i, TestRandom.Numel(inp.shape))).ToArray();
        using var scope = torch.NewDisposeScope();
        var ourLeaves = inputs.Select((inp, i) => torch.tensor(data[i], inp.shape, requires_grad: inp.grad)).ToArray();
        Tensor y;
        using (torch.autocast()) y = ours(ourLeaves);
        Assert.False(torch.is_autocast_enabled());
        var g = TestRandom.Normal(seed + 99, y.numel());
        y.backward(torch.tensor(g, y.shape));

        var theirLeaves = inputs.Select((inp, i) => TorchRounded(data[i], inp.shape, inp.grad)).ToArray();
        using var ty = theirs(theirLeaves);
        using var tg = TorchRounded(g, y.shape, false);
        ty.backward([tg]);
        Close.AssertClose(Torch.ToArray(ty), y.ToArray(), forward, $"{what}: autocast forward");
        for (int i = 0; i < inputs.Length; i++)
        {
            if (!inputs[i].grad) continue;
            Close.AssertClose(Torch.ToArray(theirLeaves[i].grad!), ourLeaves[i].grad!.ToArray(), backward, $"{what}: gradient of input {i}");
        }

        // The same in plain float32 (unrounded operands) is further away than the tolerance: the rounding was applied.
        var plainLeaves = inputs.Select((inp, i) => Torch.FromArray(data[i], Array.ConvertAll(inp.shape, v => (long)v))).ToArray();
        using var plain = theirs(plainLeaves);
        Assert.NotNull(Close.Compare(Torch.ToArray(plain), y.ToArray(), forward.Atol, forward.Rtol, $"{what}: float32"));
        foreach (var t in theirLeaves.Concat(plainLeaves)) t.Dispose();
    }

    [Theory]
    [InlineData(new[] { 13, 33 }, new[] { 33, 17 })]
    [InlineData(new[] { 3, 5, 40 }, new[] { 3, 40, 4 })]     // batched
    [InlineData(new[] { 2, 1, 5, 40 }, new[] { 3, 40, 4 })]  // broadcast batch (gradients summed)
    [InlineData(new[] { 3, 9, 40 }, new[] { 40, 6 })]        // shared right operand (folded into one GEMM)
    [InlineData(new[] { 40 }, new[] { 40, 6 })]              // 1-D
    public void AutocastMatmul(int[] a, int[] b)
    {
        CheckAutocast($"matmul {string.Join('x', a)}·{string.Join('x', b)}", [(a, true), (b, true)],
            x => x[0].matmul(x[1]), x => x[0].matmul(x[1]), Gemm, Gemm);
    }

    [Fact]
    public void AutocastMatmulTransposedAndPartialGrads()
    {
        CheckAutocast("matmul aᵀ·bᵀ", [([40, 13], true), ([17, 40], true)], x => x[0].t().matmul(x[1].t()), x => x[0].t().matmul(x[1].t()), Gemm, Gemm);
        CheckAutocast("matmul a·b (b no grad)", [([13, 40], true), ([40, 17], false)], x => x[0].matmul(x[1]), x => x[0].matmul(x[1]), Gemm, Gemm);
        CheckAutocast("matmul narrowed", [([13, 50], true), ([40, 17], true)], x => x[0].narrow(1, 5, 40).matmul(x[1]),
            x => x[0].narrow(1, 5, 40).matmul(x[1]), Gemm, Gemm);
    }

    [Fact]
    public void AutocastLinear()
    {
        // Weight rounded, bias added in float32 (the bias is the torch leaf's rounded value: inputs are rounded by the harness;
        // a float32 bias would differ from it only by the rounding of the bias itself, which autocast does not do).
        CheckAutocast("linear", [([2, 7, 48], true), ([24, 48], true)],
            x => torch.nn.functional.linear(x[0], x[1]), x => F.linear(x[0], x[1]), Gemm, Gemm);
        var bias = TestRandom.Normal(77, 24);
        using var scope = torch.NewDisposeScope();
        var xs = torch.tensor(TestRandom.Normal(78, 2 * 48), [2, 48]);
        var w = torch.tensor(TestRandom.Normal(79, 24 * 48), [24, 48]);
        var b = torch.tensor(bias, 24);
        Tensor y;
        using (torch.autocast()) y = torch.nn.functional.linear(xs, w, b);
        using var expected = F.linear(TorchRounded(xs.ToArray(), [2, 48], false), TorchRounded(w.ToArray(), [24, 48], false), Torch.FromArray(bias, 24));
        Close.AssertClose(Torch.ToArray(expected), y.ToArray(), Gemm, "linear with a float32 bias");
    }

    [Theory]
    [InlineData(2, 3, 13, 11, 16, false)]
    [InlineData(1, 2, 9, 9, 8, true)]
    public void AutocastAttention(int b, int h, int nq, int nk, int d, bool causal)
    {
        CheckAutocast($"sdpa {b}x{h}x{nq}x{nk}x{d}{(causal ? " causal" : "")}",
            [([b, h, nq, d], true), ([b, h, nk, d], true), ([b, h, nk, d], true)],
            x => torch.nn.functional.scaled_dot_product_attention(x[0], x[1], x[2], is_causal: causal),
            x => F.scaled_dot_product_attention(x[0], x[1], x[2], is_casual: causal), T(2e-5, 1e-4), T(2e-5, 1e-4));
    }

    [Fact]
    public void AutocastConv2d()
    {
        CheckAutocast("conv2d 3×3 pad 1", [([2, 5, 7, 9], true), ([4, 5, 3, 3], true)],
            x => torch.nn.functional.conv2d(x[0], x[1], null, 1, 1), x => F.conv2d(x[0], x[1], null, [1, 1], [1, 1]), Conv, Conv);
        CheckAutocast("conv2d patch-embed", [([2, 3, 16, 16], true), ([6, 3, 4, 4], true)],
            x => torch.nn.functional.conv2d(x[0], x[1], null, 4), x => F.conv2d(x[0], x[1], null, [4, 4]), Conv, Conv);
    }

    // ---- outside autocast ----------------------------------------------------------------------------------------

    /// <summary>Outputs and gradients of matmul, linear, attention and conv2d, computed by <paramref name="run"/>.</summary>
    static float[][] Results(Func<Func<Tensor>, Tensor> run)
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.tensor(TestRandom.Normal(1, 7 * 40), [7, 40], requires_grad: true);
        var w = torch.tensor(TestRandom.Normal(2, 9 * 40), [9, 40], requires_grad: true);
        var q = torch.tensor(TestRandom.Normal(3, 2 * 2 * 5 * 8), [2, 2, 5, 8], requires_grad: true);
        var img = torch.tensor(TestRandom.Normal(4, 2 * 3 * 6 * 6), [2, 3, 6, 6], requires_grad: true);
        var k = torch.tensor(TestRandom.Normal(5, 4 * 3 * 3 * 3), [4, 3, 3, 3], requires_grad: true);
        var y1 = run(() => torch.nn.functional.linear(a, w));
        var y2 = run(() => torch.nn.functional.scaled_dot_product_attention(q, q.flip([2]), q));
        var y3 = run(() => torch.nn.functional.conv2d(img, k, null, 1, 1));
        y1.sum().add(y2.square().sum()).add(y3.square().mean()).backward();
        return [y1.ToArray(), y2.ToArray(), y3.ToArray(), a.grad!.ToArray(), w.grad!.ToArray(), q.grad!.ToArray(), img.grad!.ToArray(), k.grad!.ToArray()];
    }

    [Fact]
    public void OutsideAutocastNothingChanges()
    {
        Assert.False(torch.is_autocast_enabled());   // off by default
        var before = Results(f => f());
        var bf16 = Results(f => { using (torch.autocast()) return f(); });
        var disabled = Results(f => { using (torch.autocast()) using (torch.autocast(enabled: false)) return f(); });
        var after = Results(f => f());
        Assert.False(torch.is_autocast_enabled());
        for (int i = 0; i < before.Length; i++)
        {
            Assert.Equal(before[i], after[i]);      // bit-identical: exact float equality element by element
            Assert.Equal(before[i], disabled[i]);
            Assert.NotEqual(before[i], bf16[i]);
        }
    }

    [Fact]
    public void BackwardFollowsTheForwardsDecision()
    {
        // Forward outside, backward inside a region: float32 gradients; forward inside, backward outside: bf16 ones.
        using var scope = torch.NewDisposeScope();
        var a = torch.tensor(TestRandom.Normal(11, 6 * 30), [6, 30], requires_grad: true);
        var b = torch.tensor(TestRandom.Normal(12, 30 * 5), [30, 5], requires_grad: true);
        var g = torch.tensor(TestRandom.Normal(13, 6 * 5), [6, 5]);

        a.matmul(b).backward(g);
        var fp32 = a.grad!.ToArray();
        a.grad = null;
        var y = a.matmul(b);
        using (torch.autocast()) y.backward(g);
        Assert.Equal(fp32, a.grad!.ToArray());

        a.grad = null;
        Tensor y2;
        using (torch.autocast()) y2 = a.matmul(b);
        y2.backward(g);
        var bf16 = a.grad!.ToArray();
        using var expected = TorchRounded(g.ToArray(), [6, 5], false).matmul(TorchRounded(b.ToArray(), [30, 5], false).t());
        Close.AssertClose(Torch.ToArray(expected), bf16, Gemm, "matmul backward under autocast");
        Assert.NotEqual(fp32, bf16);
    }
}
