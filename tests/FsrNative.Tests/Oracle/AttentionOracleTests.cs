using FsrNative.Kernels.Random;
using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Oracle;

using TT = TorchSharp.torch.Tensor;
using ts = TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

/// <summary>
/// scaled_dot_product_attention against libtorch: TorchSharp's own scaled_dot_product_attention where it has the
/// case (no scale argument, boolean masks as attn_mask, is_causal for square scores), otherwise the explicit
/// composition softmax(q·kᵀ·scale + mask)·v with fully masked rows set to 0 (the engine's definition; libtorch's math
/// path gives NaN there). Forward and the gradients of q, k and v; shapes from N = 1 to the ViT-B/16 shape at 448 px
/// (N = 784, 12 heads, d = 64), odd N, d ∈ {8, 17, 64, 128}, Nq ≠ Nk, Dv ≠ D, non-contiguous views.
/// </summary>
[Trait(Categories.Trait, Categories.Oracle)]
public class AttentionOracleTests
{
    static Tolerance T(double atol, double rtol) => new(atol, rtol);

    /// <summary>Probability-weighted sums of O(1) values over up to ~50 keys, in another order than libtorch's.</summary>
    static readonly Tolerance Sums = T(2e-5, 1e-4);

    /// <summary>(B, H, N, d) → base (B, N, H, d) viewed by permute(0, 2, 1, 3): the head split of a fused qkv
    /// projection (row stride H·d, head stride d) — read in place by the kernels.</summary>
    static readonly Layout HeadSplit = new("bnhd",
        s => [s[0], s[2], s[1], s[3]],
        (b, _) => b.permute(0, 2, 1, 3), (b, _) => b.permute(0, 2, 1, 3));

    /// <summary>softmax(q·kᵀ·scale + additive, keys with keep = 0 removed, causal)·v with fully masked rows = 0; also the
    /// probabilities.</summary>
    internal static (TT output, TT probs) Explicit(TT q, TT k, TT v, TT? additive = null, TT? keep = null, bool causal = false,
        double? scale = null, TT? dropFactors = null)
    {
        double sc = scale ?? 1.0 / Math.Sqrt(q.shape[^1]);
        var s = q.matmul(k.transpose(-2, -1)).mul(sc);
        if (additive is not null) s = s.add(additive);
        if (keep is not null) s = s.masked_fill(keep.eq(0), double.NegativeInfinity);
        if (causal)
        {
            long nq = s.shape[^2], nk = s.shape[^1];
            var tril = ts.ones([nq, nk], ts.ScalarType.Bool).tril();
            s = s.masked_fill(tril.logical_not(), double.NegativeInfinity);
        }
        var full = s.amax([-1L], keepdim: true).eq(double.NegativeInfinity);
        var p = s.masked_fill(full, 0).softmax(-1).masked_fill(full, 0);
        var pd = dropFactors is null ? p : p.mul(dropFactors);
        return (pd.matmul(v), p);
    }

    static Tensor Ours(Tensor[] x, Tensor? additive = null, Tensor? keep = null, bool causal = false, double? scale = null)
        => torch.nn.functional.scaled_dot_product_attention(x[0], x[1], x[2], additive, is_causal: causal, scale: scale, keep_mask: keep);

    // ---- plain attention against TorchSharp's scaled_dot_product_attention ------------------------------------------

    [Theory]
    [InlineData("1x1x1x8", "1x1x1x8", "1x1x1x8")]           // N = 1
    [InlineData("2x3x13x8", "2x3x13x8", "2x3x13x8")]        // odd N, d = 8
    [InlineData("1x2x37x17", "1x2x37x17", "1x2x37x17")]     // odd N and d
    [InlineData("2x2x13x64", "2x2x13x64", "2x2x13x64")]
    [InlineData("1x1x5x128", "1x1x5x128", "1x1x5x128")]     // d = 128
    [InlineData("2x1x70x64", "2x1x70x64", "2x1x70x64")]     // two query blocks on the CPU
    [InlineData("13x16", "13x16", "13x16")]                 // no batch dimensions
    [InlineData("2x7x8", "2x7x8", "2x7x8")]                 // one batch dimension
    [InlineData("2x2x3x5x8", "2x2x3x6x8", "2x2x3x6x4")]     // three batch dimensions
    [InlineData("2x3x7x16", "2x3x19x16", "2x3x19x24")]      // Nq ≠ Nk, Dv ≠ D
    [InlineData("2x3x1x64", "2x3x50x64", "2x3x50x64")]      // one query token (cross-attention)
    [InlineData("1x2x9x8", "1x2x1x8", "1x2x1x8")]           // one key
    public void Plain(string q, string k, string v)
    {
        OpCheck.Check("sdpa", [q, k, v], x => Ours(x), x => F.scaled_dot_product_attention(x[0], x[1], x[2]), Sums, Sums);
    }

    [Theory]
    [InlineData("2x3x13x8@n", "2x3x13x8", "2x3x13x8")]                 // row stride > d (sliced features)
    [InlineData("2x3x13x8", "2x3x13x8@e1", "2x3x13x8@e1")]             // keys and values shared by the heads (stride 0)
    [InlineData("2x3x13x8@p", "2x3x13x8@t", "2x3x13x8")]               // last stride ≠ 1: copied
    [InlineData("2x3x13x8@n1", "2x3x13x8@n2", "2x3x13x8@n0")]          // offsets, sliced heads/tokens/batch
    public void Views(string q, string k, string v)
    {
        OpCheck.Check("sdpa views", [q, k, v], x => Ours(x), x => F.scaled_dot_product_attention(x[0], x[1], x[2]), Sums, Sums);
    }

    [Fact]
    public void HeadSplitOfFusedProjection()
    {
        In Split(string s) => In.Parse(s) with { Layout = HeadSplit };
        OpCheck.Check("sdpa head split", [Split("2x3x13x16"), Split("2x3x13x16"), Split("2x3x13x16")], x => Ours(x),
            x => F.scaled_dot_product_attention(x[0], x[1], x[2]), Sums, Sums);
        OpCheck.Check("sdpa head split, partial grads", [Split("2x3x13x16"), Split("2x3x13x16").NoGrad(), Split("2x3x13x16")], x => Ours(x),
            x => F.scaled_dot_product_attention(x[0], x[1], x[2]), Sums, Sums);
    }

    /// <summary>The ViT-B/16 attention at 448 px: N = 784 tokens, 12 heads of 64, forward and backward.</summary>
    [Fact]
    public void VitBase448()
    {
        OpCheck.Check("sdpa ViT-B", ["1x12x784x64", "1x12x784x64", "1x12x784x64"], x => Ours(x),
            x => F.scaled_dot_product_attention(x[0], x[1], x[2]), T(2e-5, 2e-4), T(2e-5, 2e-4));
    }

    // ---- masks ------------------------------------------------------------------------------------------------

    /// <summary>Additive masks of several broadcast shapes, with −∞ entries (never a whole row).</summary>
    [Theory]
    [InlineData("2x3x13x8", "2x3x13x8", "2x1x13x13")]
    [InlineData("2x3x13x8", "2x3x13x8", "13x13")]
    [InlineData("2x3x7x8", "2x3x11x8", "2x3x7x11")]
    [InlineData("2x3x7x8", "2x3x11x8", "2x1x1x11")]
    [InlineData("2x3x7x8", "2x3x11x8", "7x1")]
    [InlineData("1x2x70x16", "1x2x37x16", "70x37@t")]        // transposed mask view (column stride ≠ 1)
    public void AdditiveMask(string q, string k, string mask)
    {
        var m = In.Parse(mask).NoGrad().With(Values.With(Values.Normal(), float.NegativeInfinity, 7, 3));
        var v = k;
        OpCheck.Check("sdpa additive mask", [q, k, v, m], x => Ours(x, additive: x[3]),
            x => F.scaled_dot_product_attention(x[0], x[1], x[2], x[3]), Sums, Sums);
    }

    /// <summary>keep_mask (non-zero = attend) per (batch, key) and per (batch, query, key), against TorchSharp with the
    /// same mask as a boolean attn_mask (no row fully masked here).</summary>
    [Theory]
    [InlineData("2x3x9x8", "2x3x21x8", "2x1x1x21")]
    [InlineData("2x3x9x8", "2x3x21x8", "2x1x9x21")]
    [InlineData("2x3x1x64", "2x3x50x64", "2x1x1x50")]       // the aggregation module's shape, scaled down
    public void KeepMask(string q, string k, string mask)
    {
        int nk = In.Parse(k).Shape[^2];
        var m = In.Parse(mask).NoGrad().With(KeepValues(nk, 0.6, fullyMaskedEvery: 0));
        OpCheck.Check("sdpa keep mask", [q, k, k, m], x => Ours(x, keep: x[3]),
            x => F.scaled_dot_product_attention(x[0], x[1], x[2], x[3].ne(0)), Sums, Sums);
    }

    /// <summary>0/1 masks with P(keep) = p, each row of <paramref name="nk"/> keeping at least its first entry, except
    /// every <paramref name="fullyMaskedEvery"/>-th row, which is all zeros (0: none).</summary>
    static ValueMaker KeepValues(int nk, double p, int fullyMaskedEvery) => (s, n) =>
    {
        var v = Values.Mask(p)(s, n);
        for (int row = 0; row * nk < n; row++)
        {
            if (fullyMaskedEvery > 0 && row % fullyMaskedEvery == 1) Array.Clear(v, row * nk, nk);
            else v[row * nk + (row % nk)] = 1f;
        }
        return v;
    };

    /// <summary>Rows whose every key is masked: output 0 and no gradient from them (explicit composition with the rows zeroed).</summary>
    [Theory]
    [InlineData("2x3x9x8", "2x3x21x8", "2x1x9x21")]
    [InlineData("2x3x9x8", "2x3x21x8", "2x1x1x21")]          // a whole batch entry fully masked
    [InlineData("1x2x70x16", "1x2x37x16", "1x1x70x37")]
    [InlineData("3x12x1x64", "3x12x50x64", "3x1x1x50")]      // aggregation: one query over masked patch tokens
    public void FullyMaskedRows(string q, string k, string mask)
    {
        int nk = In.Parse(k).Shape[^2];
        var m = In.Parse(mask).NoGrad().With(KeepValues(nk, 0.5, fullyMaskedEvery: 2));
        OpCheck.Check("sdpa fully masked rows", [q, k, k, m], x => Ours(x, keep: x[3]),
            x => Explicit(x[0], x[1], x[2], keep: x[3]).output, Sums, Sums);
    }

    [Fact]
    public void AdditiveAndKeepMaskTogether()
    {
        var add = In.Parse("2x1x9x21!").With(Values.With(Values.Normal(), float.NegativeInfinity, 5));
        var keep = In.Parse("2x1x1x21!").With(KeepValues(21, 0.5, fullyMaskedEvery: 0));
        OpCheck.Check("sdpa additive + keep", ["2x3x9x8", "2x3x21x8", "2x3x21x8", add, keep], x => Ours(x, additive: x[3], keep: x[4]),
            x => Explicit(x[0], x[1], x[2], additive: x[3], keep: x[4]).output, Sums, Sums);
    }

    /// <summary>An Int32 keep mask (as made by comparisons on label maps) works like a float one.</summary>
    [Fact]
    public void IntegerKeepMask()
    {
        OpCheck.Check("sdpa int keep mask", ["2x3x9x8", "2x3x21x8", "2x3x21x8", In.Index(2, 2, 1, 9, 21)],
            x => Ours(x, keep: x[3]), x => Explicit(x[0], x[1], x[2], keep: x[3]).output, Sums, Sums);
    }

    [Theory]
    [InlineData("2x3x13x8", "2x3x13x8", true)]     // square: TorchSharp's is_causal
    [InlineData("2x3x7x8", "2x3x12x8", false)]     // Nq < Nk: top-left aligned triangle
    [InlineData("2x3x12x8", "2x3x7x8", false)]     // Nq > Nk
    public void Causal(string q, string k, bool torchFlag)
    {
        OpCheck.Check("sdpa causal", [q, k, k], x => Ours(x, causal: true),
            x => torchFlag ? F.scaled_dot_product_attention(x[0], x[1], x[2], is_casual: true) : Explicit(x[0], x[1], x[2], causal: true).output,
            Sums, Sums);
    }

    [Fact]
    public void CausalWithKeepMask()
    {
        var keep = In.Parse("2x1x1x13!").With(KeepValues(13, 0.6, fullyMaskedEvery: 0));
        OpCheck.Check("sdpa causal + keep", ["2x3x13x8", "2x3x13x8", "2x3x13x8", keep], x => Ours(x, keep: x[3], causal: true),
            x => Explicit(x[0], x[1], x[2], keep: x[3], causal: true).output, Sums, Sums);
    }

    [Theory]
    [InlineData(0.125)]
    [InlineData(1.0)]
    [InlineData(2.5)]
    public void ExplicitScale(double scale)
    {
        OpCheck.Check($"sdpa scale {scale}", ["2x3x13x8", "2x3x17x8", "2x3x17x5"], x => Ours(x, scale: scale),
            x => Explicit(x[0], x[1], x[2], scale: scale).output, Sums, Sums);
    }

    // ---- attention probabilities --------------------------------------------------------------------------------

    [Theory]
    [InlineData("2x3x13x8", "2x3x17x8", false)]
    [InlineData("2x3x70x16", "2x3x37x16", true)]
    public void WithWeights(string q, string k, bool masked)
    {
        int nk = In.Parse(k).Shape[^2];
        In[] inputs = masked
            ? [q, k, k, In.Parse($"2x1x70x{nk}!").With(KeepValues(nk, 0.5, fullyMaskedEvery: 3))]
            : [q, k, k];
        OpCheck.CheckMany("sdpa with weights", inputs,
            x =>
            {
                var (o, w) = torch.nn.functional.scaled_dot_product_attention_with_weights(x[0], x[1], x[2], keep_mask: masked ? x[3] : null);
                Assert.False(w.requires_grad);
                return [o, w];
            },
            x =>
            {
                var (o, p) = Explicit(x[0], x[1], x[2], keep: masked ? x[3] : null);
                return [o, p.detach()];
            }, Sums, Sums);
    }

    // ---- dropout on the probabilities, with the engine's mask rebuilt on the torch side ---------------------------

    /// <summary>The factors (0 or 1/(1−p)) the engine applies to probability (bh, i, j) for a generator (seed, stream).</summary>
    internal static float[] DropFactors(ulong seed, ulong stream, int bh, int nq, int nk, double p)
    {
        var z = new float[bh * nq * nk];
        float keep = (float)(1 - p), scale = (float)(1 / (1 - p));
        for (int i = 0; i < z.Length; i++) z[i] = Philox.Uniform(seed, stream, i) < keep ? scale : 0f;
        return z;
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.5)]
    public void DropoutMatchesExplicitWithSameMask(double p)
    {
        const ulong seed = 77;
        var z = DropFactors(seed, 0, 2 * 3, 13, 17, p);
        var mask = In.Parse("2x1x13x17!").With(KeepValues(17, 0.7, fullyMaskedEvery: 4));
        OpCheck.Check($"sdpa dropout {p}", ["2x3x13x8", "2x3x17x8", "2x3x17x8", mask],
            x => torch.nn.functional.scaled_dot_product_attention(x[0], x[1], x[2], dropout_p: p, keep_mask: x[3], generator: new Generator(seed)),
            x => Explicit(x[0], x[1], x[2], keep: x[3], dropFactors: ts.tensor(z, [2L, 3, 13, 17])).output, Sums, Sums);
    }

    // ---- errors -------------------------------------------------------------------------------------------------

    [Fact]
    public void RefusesAMaskThatRequiresGrad()
    {
        using var scope = torch.NewDisposeScope();
        var q = torch.randn([1, 2, 3, 4], new Generator(1));
        var mask = torch.zeros([3, 3], requires_grad: true);
        var e = Assert.Throws<NotSupportedException>(() => torch.nn.functional.scaled_dot_product_attention(q, q, q, mask));
        Assert.Contains("attn_mask", e.Message);
        using (torch.no_grad()) torch.nn.functional.scaled_dot_product_attention(q, q, q, mask);   // fine without grad mode
    }

    /// <summary>An additive mask is read again by the backward: changing it in place in between is caught, as for q,
    /// k, v. A keep mask is converted in the forward, so changing it afterwards is harmless.</summary>
    [Fact]
    public void ChangingAMaskBeforeTheBackward()
    {
        using var scope = torch.NewDisposeScope();
        var q = torch.randn([1, 2, 3, 4], new Generator(1), requires_grad: true);
        var add = torch.zeros([3, 3]);
        var y = torch.nn.functional.scaled_dot_product_attention(q, q, q, add);
        add.add_(torch.ones([3, 3]));
        Assert.Contains("scaled_dot_product_attention", Assert.Throws<InvalidOperationException>(() => y.sum().backward()).Message);

        var keep = torch.ones([3, 3]);
        var z = torch.nn.functional.scaled_dot_product_attention(q, q, q, keep_mask: keep);
        keep.mul_(torch.zeros([3, 3]));
        z.sum().backward();
        Assert.NotNull(q.grad);
    }

    [Fact]
    public void ErrorsNameTheOpAndArgument()
    {
        using var scope = torch.NewDisposeScope();
        var q = torch.zeros([1, 2, 3, 4]);
        var F2 = (Func<Tensor, Tensor, Tensor, Tensor?, Tensor?, double, Tensor>)((a, b, c, m, k, p) =>
            torch.nn.functional.scaled_dot_product_attention(a, b, c, m, p, keep_mask: k));
        Assert.Contains("features", Assert.Throws<ArgumentException>(() => F2(q, torch.zeros([1, 2, 3, 5]), q, null, null, 0)).Message);
        Assert.Contains("tokens", Assert.Throws<ArgumentException>(() => F2(q, q, torch.zeros([1, 2, 4, 4]), null, null, 0)).Message);
        Assert.Contains("leading", Assert.Throws<ArgumentException>(() => F2(q, torch.zeros([2, 2, 3, 4]), q, null, null, 0)).Message);
        Assert.Contains("does not broadcast", Assert.Throws<ArgumentException>(() => F2(q, q, q, torch.zeros([2, 3]), null, 0)).Message);
        Assert.Contains("keep_mask", Assert.Throws<ArgumentException>(() => F2(q, q, q, null, torch.zeros([5]), 0)).Message);
        Assert.Contains("dropout_p", Assert.Throws<ArgumentOutOfRangeException>(() => F2(q, q, q, null, null, 1.5)).Message);
        Assert.Contains("is_causal", Assert.Throws<ArgumentException>(() =>
            torch.nn.functional.scaled_dot_product_attention(q, q, q, torch.zeros([3, 3]), is_causal: true)).Message);
    }
}
