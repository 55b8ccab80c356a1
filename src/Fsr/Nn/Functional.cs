namespace FsrNative.Nn;

/// <summary>
/// The functions the layers need beyond the engine's op set, composed of existing differentiable ops: stand-ins
/// until the engine's own ops land in src/Autograd/Ops (dropout, drop-path, conv2d; fused attention is the
/// Attention layer's), plus the folding <see cref="linear"/> and the antialiased bicubic resize the engine's
/// interpolate lacks. The layers call them through here so each switch is one line.
/// </summary>
public static class Functional
{
    /// <summary>Inverted dropout: zeroes each element with probability <paramref name="p"/> and scales the rest by
    /// 1/(1−p), as torch.nn.functional.dropout (the mask comes from the Philox generator).</summary>
    public static Tensor dropout(Tensor x, float p, bool training, Generator? generator = null)
    {
        if (p < 0 || p > 1) throw new ArgumentException($"dropout: probability must be in [0, 1], got {p}");
        if (!training || p == 0) return x;
        if (p == 1) return x.mul(0f);
        using var u = torch.rand(x.shape, generator, x.device);
        using var keep = u.ge(p);
        var scaled = keep.mul(1f / (1f - p));   // saved by the product for backward: left to the dispose scope
        return x.mul(scaled);
    }

    /// <summary>
    /// Stochastic depth (timm's drop_path): with probability <paramref name="p"/> the whole sample (dim 0) becomes 0,
    /// the others are scaled by 1/(1−p) when <paramref name="scaleByKeep"/>.
    /// </summary>
    public static Tensor drop_path(Tensor x, float p, bool training, bool scaleByKeep = true, Generator? generator = null)
    {
        if (p < 0 || p > 1) throw new ArgumentException($"drop_path: probability must be in [0, 1], got {p}");
        if (!training || p == 0) return x;
        var shape = new int[x.dim()];
        Array.Fill(shape, 1);
        shape[0] = x.size(0);
        float keepProb = 1f - p;
        using var u = torch.rand(shape, generator, x.device);
        using var keep = u.lt(keepProb);   // bernoulli(keep_prob)
        var mask = keepProb > 0 && scaleByKeep ? keep.div(keepProb) : keep.mul(1f);   // saved for backward
        return x.mul(mask);
    }

    /// <summary>
    /// y = x·Wᵀ + b over the last dimension, with every leading dimension folded into the rows of ONE matrix
    /// product: the weight gradient is then one GEMM with K = all rows (x₂ᵀ·g₂), not a batch of small products whose
    /// results are summed over the batch afterwards (what matmul's broadcast rule gives for a 3-D input).
    /// </summary>
    public static Tensor linear(Tensor x, Tensor weight, Tensor? bias)
    {
        if (x.dim() <= 2) return torch.nn.functional.linear(x, weight, bias);
        var lead = x.shape[..^1];
        var y = torch.nn.functional.linear(x.reshape(-1, x.size(-1)), weight, bias);
        return y.reshape([.. lead, y.size(-1)]);
    }

    /// <summary>
    /// Non-overlapping patches as GEMM rows: (B, C, H, W) → (B, ⌊H/p⌋·⌊W/p⌋, C·p·p), each row ordered (c, i, j) like a
    /// conv weight's (in, kh, kw), patches row-major over the grid. Remainder pixels are dropped as a stride-p conv
    /// does. Differentiable (views plus one copy).
    /// </summary>
    public static Tensor patchify(Tensor x, int patchH, int patchW)
    {
        if (x.dim() != 4) throw new ArgumentException($"patchify: expected (B, C, H, W), got {Shape.Format(x.shape)}");
        int b = x.size(0), c = x.size(1), gh = x.size(2) / patchH, gw = x.size(3) / patchW;
        if (gh == 0 || gw == 0) throw new ArgumentException($"patchify: image {x.size(2)}×{x.size(3)} is smaller than a {patchH}×{patchW} patch");
        var cropped = x.size(2) == gh * patchH && x.size(3) == gw * patchW ? x : x.narrow(2, 0, gh * patchH).narrow(3, 0, gw * patchW);
        return cropped.reshape(b, c, gh, patchH, gw, patchW)
                      .permute(0, 2, 4, 1, 3, 5)
                      .reshape(b, gh * gw, c * patchH * patchW);
    }

    /// <summary>
    /// A convolution whose kernel equals its stride (no padding, dilation 1, groups 1) — patch embedding — as one
    /// GEMM over <see cref="patchify"/> rows. Returns (B, gh·gw, out) tokens; <see cref="Conv2d"/> reshapes to NCHW.
    /// </summary>
    public static Tensor patch_conv(Tensor x, Tensor weight, Tensor? bias)
    {
        int outCh = weight.size(0), kh = weight.size(2), kw = weight.size(3);
        if (x.size(1) != weight.size(1))
            throw new ArgumentException($"patch_conv: input has {x.size(1)} channels, weight {Shape.Format(weight.shape)} expects {weight.size(1)}");
        var rows = patchify(x, kh, kw);
        return linear(rows, weight.reshape(outCh, -1), bias);
    }

    /// <summary>
    /// 2-D convolution (groups = 1) as im2col + one GEMM, composed of differentiable ops: the zero-padded input's
    /// pixels are gathered into (B·Ho·Wo, C·kh·kw) columns by one index_select over the flattened image (its backward
    /// is a deterministic index-add), multiplied by the (out, C·kh·kw) weight, and laid out as (B, out, Ho, Wo).
    /// Same output size rule as torch: ⌊(H + 2p − d(k − 1) − 1)/s⌋ + 1.
    /// </summary>
    public static Tensor conv2d_im2col(Tensor x, Tensor weight, Tensor? bias, (int h, int w) stride, (int h, int w) padding, (int h, int w) dilation)
    {
        if (x.dim() != 4) throw new ArgumentException($"conv2d: expected (B, C, H, W), got {Shape.Format(x.shape)}");
        int b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
        int outCh = weight.size(0), kh = weight.size(2), kw = weight.size(3);
        if (weight.size(1) != c) throw new ArgumentException($"conv2d: input has {c} channels, weight {Shape.Format(weight.shape)} expects {weight.size(1)}");
        int hp = h + 2 * padding.h, wp = w + 2 * padding.w;
        int ho = (hp - dilation.h * (kh - 1) - 1) / stride.h + 1;
        int wo = (wp - dilation.w * (kw - 1) - 1) / stride.w + 1;
        if (ho <= 0 || wo <= 0) throw new ArgumentException($"conv2d: a {kh}×{kw} kernel (dilation {dilation}, padding {padding}) does not fit a {h}×{w} input");
        var padded = padding == (0, 0) ? x : Pad(x, padding.h, padding.w);
        // index[(oy, ox, i, j)] = (oy·s + i·d)·Wp + (ox·s + j·d): rows ordered by output pixel, then kernel tap.
        var index = new int[ho * wo * kh * kw];
        int n = 0;
        for (int oy = 0; oy < ho; oy++)
            for (int ox = 0; ox < wo; ox++)
                for (int i = 0; i < kh; i++)
                    for (int j = 0; j < kw; j++)
                        index[n++] = (oy * stride.h + i * dilation.h) * wp + ox * stride.w + j * dilation.w;
        var idx = torch.tensor((ReadOnlySpan<int>)index, null, x.device);
        var cols = padded.reshape(b, c, hp * wp).index_select(2, idx)            // (B, C, Ho·Wo·kh·kw)
                         .reshape(b, c, ho * wo, kh * kw).permute(0, 2, 1, 3)    // (B, Ho·Wo, C, kh·kw)
                         .reshape(b, ho * wo, c * kh * kw);
        var y = linear(cols, weight.reshape(outCh, -1), bias);                  // (B, Ho·Wo, out)
        return y.transpose(1, 2).reshape(b, outCh, ho, wo);
    }

    /// <summary>Zero padding of the last two dimensions (differentiable: a concatenation with zeros).</summary>
    static Tensor Pad(Tensor x, int ph, int pw)
    {
        int b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
        var t = x;
        if (pw > 0)
        {
            var side = torch.zeros([b, c, h, pw], x.device, dtype: x.DType);
            t = torch.cat([side, t, side], 3);
        }
        if (ph > 0)
        {
            var band = torch.zeros([b, c, ph, w + 2 * pw], x.device, dtype: x.DType);
            t = torch.cat([band, t, band], 2);
        }
        return t;
    }

    /// <summary>
    /// The (out × in) matrix M with resized = M · signal for 1-D bicubic interpolation, align_corners=False:
    /// <list type="bullet">
    /// <item><paramref name="antialias"/> false: torch's upsample_bicubic2d (Keys kernel A = −0.75, source
    /// x = (i + ½)·in/out − ½ not clamped, taps at ⌊x⌋−1…⌊x⌋+2 clamped to the border) — what
    /// <c>F.interpolate(mode='bicubic', align_corners=False)</c>, ToCo and FSR use.</item>
    /// <item><paramref name="antialias"/> true: torch's _upsample_bicubic2d_aa (PIL's filter, A = −0.5, support
    /// widened by the scale when downsampling, weights normalised) — timm's resample_abs_pos_embed default.</item>
    /// </list>
    /// Weights are computed in double and rounded once.
    /// </summary>
    public static float[,] BicubicMatrix(int inSize, int outSize, bool antialias = false)
    {
        if (inSize <= 0 || outSize <= 0) throw new ArgumentException($"BicubicMatrix: sizes must be positive, got {inSize} → {outSize}");
        var m = new float[outSize, inSize];
        double scale = (double)inSize / outSize;
        if (!antialias)
        {
            const double A = -0.75;
            for (int i = 0; i < outSize; i++)
            {
                // torch computes these in float (opmath of float tensors); do the same so taps and weights agree.
                float real = (float)scale * (i + 0.5f) - 0.5f;
                int idx = Math.Min((int)MathF.Floor(real), inSize - 1);
                float t = Math.Clamp(real - idx, 0f, 1f);
                double[] w = [Cubic2(t + 1.0, A), Cubic1(t, A), Cubic1(1.0 - t, A), Cubic2(2.0 - t, A)];
                for (int k = 0; k < 4; k++) m[i, Math.Clamp(idx - 1 + k, 0, inSize - 1)] += (float)w[k];
            }
            return m;
        }
        {
            const double A = -0.5;
            double support = 2.0 * Math.Max(scale, 1.0);
            double invScale = scale >= 1.0 ? 1.0 / scale : 1.0;
            for (int i = 0; i < outSize; i++)
            {
                double center = scale * (i + 0.5);
                int xmin = Math.Max((int)(center - support + 0.5), 0);
                int xmax = Math.Min((int)(center + support + 0.5), inSize);
                var w = new double[xmax - xmin];
                double total = 0;
                for (int j = 0; j < w.Length; j++)
                {
                    double x = Math.Abs((j + xmin - center + 0.5) * invScale);
                    w[j] = x < 1 ? Cubic1(x, A) : x < 2 ? Cubic2(x, A) : 0;
                    total += w[j];
                }
                for (int j = 0; j < w.Length; j++) m[i, xmin + j] = (float)(total != 0 ? w[j] / total : 0);
            }
            return m;
        }
    }

    static double Cubic1(double x, double a) => ((a + 2) * x - (a + 3)) * x * x + 1;            // |x| ≤ 1
    static double Cubic2(double x, double a) => ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;       // 1 < |x| < 2

    /// <summary>
    /// Bicubic resize of the spatial dims of <paramref name="x"/> laid out as (…, H, W, C) — channels last, as a
    /// position-embedding grid is stored — to (…, outH, outW, C): the engine's interpolate for the plain mode, two
    /// matmuls with <see cref="BicubicMatrix"/> for the antialiased one (which the engine lacks); both exact and
    /// differentiable. Equal to <c>F.interpolate(x.permute(…, C, H, W), (outH, outW), mode='bicubic',
    /// align_corners=False[, antialias])</c> permuted back.
    /// </summary>
    public static Tensor resize_bicubic_channels_last(Tensor x, int outH, int outW, bool antialias = false)
    {
        if (x.dim() < 3) throw new ArgumentException($"resize_bicubic_channels_last: expected (…, H, W, C), got {Shape.Format(x.shape)}");
        int h = x.size(-3), w = x.size(-2), c = x.size(-1);
        if (h == outH && w == outW) return x;
        var lead = x.shape[..^3];
        int batch = Shape.NumEl(lead);
        if (!antialias)
        {
            // The engine's bicubic interpolate (NCHW): channels to the front and back.
            var nchw = x.reshape(batch, h, w, c).permute(0, 3, 1, 2);
            var resized = torch.nn.functional.interpolate(nchw, [outH, outW], mode: "bicubic", align_corners: false);
            return resized.permute(0, 2, 3, 1).reshape([.. lead, outH, outW, c]);
        }
        // The matrices are saved by the matmuls for backward: they belong to the caller's dispose scope.
        var mh = MatrixTensor(BicubicMatrix(h, outH, antialias), x.device);
        var mw = MatrixTensor(BicubicMatrix(w, outW, antialias), x.device);
        var rows = mh.matmul(x.reshape(batch, h, w * c));                          // (batch, outH, w·C)
        var both = mw.matmul(rows.reshape(batch * outH, w, c));                    // (batch·outH, outW, C)
        return both.reshape([.. lead, outH, outW, c]);
    }

    static Tensor MatrixTensor(float[,] m, Device device)
    {
        var flat = new float[m.Length];
        Buffer.BlockCopy(m, 0, flat, 0, flat.Length * sizeof(float));
        return torch.tensor(flat, [m.GetLength(0), m.GetLength(1)], device);
    }
}
