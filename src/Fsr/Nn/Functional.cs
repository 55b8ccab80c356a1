namespace FsrNative.Nn;

/// <summary>
/// The functions the layers share beyond the engine's ops: the folding <see cref="linear"/>, the patch convolution
/// as one GEMM, and the antialiased bicubic resize the engine's interpolate lacks (composed of differentiable ops).
/// </summary>
public static class Functional
{
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
