namespace FsrNative.Kernels.Cpu;

/// <summary>
/// 2-D convolution (NCHW, groups = 1) on the CPU as im2col + the packed <see cref="Sgemm"/>, forward and backward.
/// Legend: N images, C input channels, O output channels, K = C·KH·KW (<see cref="Conv2dGeometry.ColRows"/>),
/// P = OH·OW output positions per image (<see cref="Conv2dGeometry.OutPlane"/>).
/// <para><b>Three layouts of the patch matrix</b>, chosen by <see cref="LayoutOf"/>:
/// <list type="bullet">
/// <item><b>Pointwise</b> (1×1, stride 1, no padding): the image (C × H·W) is the patch matrix; no copy at all.</item>
/// <item><b>Columns</b> (K × P, stride 1 along W): row k = (c, kh, kw) of the matrix is the input plane c shifted by
/// (kh·DH − PH, kw·DW − PW), so im2col is one memcpy per output row plus zeroed borders (the 3×3 dilated LargeFOV
/// convolutions). y_n = W · col_n; gcol_n = Wᵀ · gy_n then col2im; gW += gy_n · col_nᵀ.</item>
/// <item><b>Rows</b> (P × K, any other stride): row p = (oh, ow) is the patch under output p in the weight's
/// (c, kh, kw) order, so with dilation 1 im2col copies runs of KW contiguous floats — for the ViT patch embedding
/// (kernel = stride = 16) it is a pure permutation of the image. y_n = W · Pᵀ (a transposed GEMM operand, absorbed
/// by the packing); gP_n = gy_nᵀ · W then the inverse permutation (col2im adds where patches overlap);
/// gW += gy_n · P_n.</item>
/// </list></para>
/// <para><b>Batching and scratch.</b> Images go through in chunks of <see cref="ChunkImages"/>: im2col of the chunk
/// into one scratch buffer (at most <see cref="ScratchBudget"/> floats unless one image needs more), then one batched
/// GEMM over the chunk (the weight is shared: stride 0), which Sgemm splits over cores (across images when they are
/// small, within each product otherwise). The caller provides the scratch (the CPU backend rents it from its caching
/// allocator, so repeated calls reuse it). im2col and col2im run over cores too; col2im gives each input plane to one
/// thread, which adds its contributions in a fixed order: results do not depend on the core count. The weight
/// gradient sums over images by accumulating GEMMs (beta = 1) image after image. The bias is written into the output
/// first and the forward GEMM accumulates onto it (beta = 1), except in the rows layout with several images per chunk,
/// where the chunk is one GEMM whose columns are copied out with the bias added.</para>
/// </summary>
public static unsafe class CpuConv2d
{
    /// <summary>Floats of scratch <see cref="ScratchLength"/> asks for (16 MiB) unless a single image needs more. Speed
    /// depends on it, and the rounding of a rows-layout forward (one GEMM per chunk); never the core count.</summary>
    public static int ScratchBudget { get; set; } = 1 << 22;

    public enum PatchLayout { Pointwise, Columns, Rows }

    /// <summary>The patch-matrix layout used for <paramref name="g"/> (see the class summary).</summary>
    public static PatchLayout LayoutOf(in Conv2dGeometry g)
        => g.IsPointwise ? PatchLayout.Pointwise : g.SW == 1 ? PatchLayout.Columns : PatchLayout.Rows;

    /// <summary>Floats of scratch per image: its patch matrix, plus (rows layout) its product before the copy into the
    /// output (see <see cref="Forward"/>).</summary>
    public static long ScratchPerImage(in Conv2dGeometry g) => LayoutOf(g) switch
    {
        PatchLayout.Pointwise => 0,
        PatchLayout.Columns => (long)g.ColRows * g.OutPlane,
        _ => ((long)g.ColRows + g.O) * g.OutPlane,
    };

    /// <summary>Floats of scratch to give <see cref="Forward"/>, <see cref="BackwardInput"/> and
    /// <see cref="BackwardWeight"/>: what as many images as fit in <see cref="ScratchBudget"/> need, at least one
    /// image's (none for pointwise convolutions).</summary>
    public static long ScratchLength(in Conv2dGeometry g)
    {
        long per = ScratchPerImage(g);
        if (per == 0 || g.N == 0) return 0;
        return Math.Clamp(ScratchBudget / per, 1, g.N) * per;
    }

    /// <summary>Images per chunk for a scratch of <paramref name="scratchLength"/> floats (which must hold one image's
    /// share unless the layout needs none).</summary>
    static int ChunkImages(in Conv2dGeometry g, long scratchLength)
    {
        long per = ScratchPerImage(g);
        if (per == 0) return Math.Max(g.N, 1);
        if (scratchLength < per)
            throw new ArgumentException($"conv2d: a scratch of {scratchLength} floats cannot hold one image's share ({per} floats): {g}");
        return (int)Math.Clamp(scratchLength / per, 1, Math.Max(g.N, 1));
    }

    // ---- forward ----------------------------------------------------------------------------------------------

    /// <summary>y (N, O, OH, OW) = conv(x (N, C, H, W), w (O, C, KH, KW)) + bias (O, or null).</summary>
    public static void Forward(float* x, float* w, float* bias, float* y, in Conv2dGeometry g, float* scratch, long scratchLength)
    {
        int O = g.O, P = g.OutPlane, K = g.ColRows;
        if (g.N == 0 || O == 0 || P == 0) return;
        var layout = LayoutOf(g);
        float beta = bias != null ? 1f : 0f;
        if (layout == PatchLayout.Pointwise)
        {
            if (bias != null) FillBias(y, bias, g.N, O, P);
            Sgemm.MultiplyBatched(false, false, g.N, O, P, K, 1f, w, K, 0, x, P, (long)g.C * P, beta, y, P, (long)O * P);
            return;
        }
        int chunk = ChunkImages(g, scratchLength);
        long colSize = (long)K * P;
        for (int n0 = 0; n0 < g.N; n0 += chunk)
        {
            int nb = Math.Min(chunk, g.N - n0);
            float* xn = x + (long)n0 * g.C * g.InPlane, yn = y + (long)n0 * O * P;
            if (layout == PatchLayout.Columns)
            {
                Im2ColColumns(xn, scratch, g, nb);
                if (bias != null) FillBias(yn, bias, nb, O, P);
                Sgemm.MultiplyBatched(false, false, nb, O, P, K, 1f, w, K, 0, scratch, P, colSize, beta, yn, P, (long)O * P);
                continue;
            }
            Im2ColRows(xn, scratch, g, nb);
            if (nb == 1)
            {
                if (bias != null) FillBias(yn, bias, 1, O, P);
                Sgemm.Multiply(false, true, O, P, K, 1f, w, K, scratch, K, beta, yn, P);
                continue;
            }
            // The chunk's patch rows are one (nb·P × K) matrix: one product W · rowsᵀ of nb·P columns, then each
            // image's P columns are copied to its output, plus the bias. (ViT patch embedding at batch 8, one thread:
            // one 768×1568×768 product took ≈ 15% less time than eight of 768×196×768.)
            float* product = scratch + nb * colSize;
            Sgemm.Multiply(false, true, O, nb * P, K, 1f, w, K, scratch, K, 0f, product, nb * P);
            CopyColumnsOut(product, yn, bias, nb, O, P);
        }
    }

    static void FillBias(float* y, float* bias, int n, int o, int p)
    {
        long rows = (long)n * o;
        CpuParallel.For(rows, p, 1, (r0, r1) =>
        {
            for (long r = r0; r < r1; r++) new Span<float>(y + r * p, p).Fill(bias[r % o]);
        });
    }

    /// <summary>y[i, o, :] = product[o, i·P .. (i+1)·P) (+ bias[o]) for the nb images of a chunk.</summary>
    static void CopyColumnsOut(float* product, float* y, float* bias, int nb, int o, int p)
    {
        CpuParallel.For((long)nb * o, p, 1, (r0, r1) =>
        {
            for (long r = r0; r < r1; r++)
            {
                int img = (int)(r / o), ch = (int)(r % o);
                var src = new ReadOnlySpan<float>(product + ((long)ch * nb + img) * p, p);
                var dst = new Span<float>(y + r * p, p);
                if (bias == null) src.CopyTo(dst);
                else System.Numerics.Tensors.TensorPrimitives.Add(src, bias[ch], dst);
            }
        });
    }

    // ---- backward ---------------------------------------------------------------------------------------------

    /// <summary>gx (N, C, H, W) = the input gradient for output gradient gy (N, O, OH, OW); gx is overwritten.</summary>
    public static void BackwardInput(float* gy, float* w, float* gx, in Conv2dGeometry g, float* scratch, long scratchLength)
    {
        int O = g.O, P = g.OutPlane, K = g.ColRows;
        long xImage = (long)g.C * g.InPlane;
        if (g.N == 0 || xImage == 0) return;
        if (O == 0 || P == 0)
        {
            new Span<float>(gx, checked((int)(g.N * xImage))).Clear();
            return;
        }
        var layout = LayoutOf(g);
        if (layout == PatchLayout.Pointwise)
        {
            Sgemm.MultiplyBatched(true, false, g.N, g.C, P, O, 1f, w, g.C, 0, gy, P, (long)O * P, 0f, gx, P, xImage);
            return;
        }
        int chunk = ChunkImages(g, scratchLength);
        long colSize = (long)K * P;
        for (int n0 = 0; n0 < g.N; n0 += chunk)
        {
            int nb = Math.Min(chunk, g.N - n0);
            float* gyn = gy + (long)n0 * O * P, gxn = gx + n0 * xImage;
            if (layout == PatchLayout.Columns)
            {
                Sgemm.MultiplyBatched(true, false, nb, K, P, O, 1f, w, K, 0, gyn, P, (long)O * P, 0f, scratch, P, colSize);
                Col2ImColumns(scratch, gxn, g, nb);
            }
            else
            {
                Sgemm.MultiplyBatched(true, false, nb, P, K, O, 1f, gyn, P, (long)O * P, w, K, 0, 0f, scratch, K, colSize);
                Col2ImRows(scratch, gxn, g, nb);
            }
        }
    }

    /// <summary>gw (O, C, KH, KW) = Σ_n gy_n · patches_nᵀ; gw is overwritten.</summary>
    public static void BackwardWeight(float* x, float* gy, float* gw, in Conv2dGeometry g, float* scratch, long scratchLength)
    {
        int O = g.O, P = g.OutPlane, K = g.ColRows;
        if (O == 0 || K == 0) return;
        if (g.N == 0 || P == 0)
        {
            new Span<float>(gw, checked(O * K)).Clear();
            return;
        }
        var layout = LayoutOf(g);
        long xImage = (long)g.C * g.InPlane, colSize = (long)K * P;
        int chunk = ChunkImages(g, scratchLength);
        for (int n0 = 0; n0 < g.N; n0 += chunk)
        {
            int nb = Math.Min(chunk, g.N - n0);
            if (layout == PatchLayout.Columns) Im2ColColumns(x + n0 * xImage, scratch, g, nb);
            else if (layout == PatchLayout.Rows) Im2ColRows(x + n0 * xImage, scratch, g, nb);
            for (int i = 0; i < nb; i++)
            {
                int n = n0 + i;
                float beta = n == 0 ? 0f : 1f;
                float* gyn = gy + (long)n * O * P;
                switch (layout)
                {
                    case PatchLayout.Pointwise:
                        Sgemm.Multiply(false, true, O, K, P, 1f, gyn, P, x + n * xImage, P, beta, gw, K);
                        break;
                    case PatchLayout.Columns:
                        Sgemm.Multiply(false, true, O, K, P, 1f, gyn, P, scratch + i * colSize, P, beta, gw, K);
                        break;
                    default:
                        Sgemm.Multiply(false, false, O, K, P, 1f, gyn, P, scratch + i * colSize, K, beta, gw, K);
                        break;
                }
            }
        }
    }

    // ---- im2col / col2im ----------------------------------------------------------------------------------------

    /// <summary>The output columns [lo, hi) whose input column ow·SW − PW + kw·DW lies inside the image.</summary>
    static void ValidColumns(in Conv2dGeometry g, int kw, out int lo, out int hi)
    {
        int shift = kw * g.DW - g.PW;                       // iw = ow·SW + shift
        lo = shift >= 0 ? 0 : (-shift + g.SW - 1) / g.SW;
        int last = g.W - 1 - shift;                         // ow·SW ≤ last
        hi = last < 0 ? 0 : Math.Min(g.OW, last / g.SW + 1);
        if (lo > hi) lo = hi;
    }

    /// <summary>col[i] (K × P) for images i &lt; nb of x: col[k, p] = x[c, oh·SH − PH + kh·DH, ow·SW − PW + kw·DW] or 0.</summary>
    internal static void Im2ColColumns(float* x, float* col, Conv2dGeometry g, int nb)
    {
        int K = g.ColRows, P = g.OutPlane, KK = g.KH * g.KW;
        CpuParallel.For((long)nb * K, P, 1, (r0, r1) =>
        {
            for (long r = r0; r < r1; r++)
            {
                int img = (int)(r / K), k = (int)(r % K);
                int c = k / KK, kh = k % KK / g.KW, kw = k % g.KW;
                float* src = x + ((long)img * g.C + c) * g.InPlane;
                float* dst = col + r * P;
                ValidColumns(g, kw, out int lo, out int hi);
                int shift = kw * g.DW - g.PW;
                for (int oh = 0; oh < g.OH; oh++)
                {
                    float* d = dst + oh * g.OW;
                    int ih = oh * g.SH - g.PH + kh * g.DH;
                    if ((uint)ih >= (uint)g.H || lo >= hi)
                    {
                        new Span<float>(d, g.OW).Clear();
                        continue;
                    }
                    if (lo > 0) new Span<float>(d, lo).Clear();
                    if (hi < g.OW) new Span<float>(d + hi, g.OW - hi).Clear();
                    float* s = src + (long)ih * g.W + shift;
                    if (g.SW == 1) new ReadOnlySpan<float>(s + lo, hi - lo).CopyTo(new Span<float>(d + lo, hi - lo));
                    else for (int ow = lo; ow < hi; ow++) d[ow] = s[ow * g.SW];
                }
            }
        });
    }

    /// <summary>gx planes of images i &lt; nb = col2im of gcol[i] (K × P): each plane zeroed, then its KH·KW rows added
    /// in (kh, kw) order. One thread per plane.</summary>
    internal static void Col2ImColumns(float* gcol, float* gx, Conv2dGeometry g, int nb)
    {
        int K = g.ColRows, P = g.OutPlane, KK = g.KH * g.KW;
        CpuParallel.For((long)nb * g.C, (long)KK * P, 1, (p0, p1) =>
        {
            for (long plane = p0; plane < p1; plane++)
            {
                int img = (int)(plane / g.C), c = (int)(plane % g.C);
                float* dst = gx + plane * g.InPlane;
                new Span<float>(dst, g.InPlane).Clear();
                for (int kh = 0; kh < g.KH; kh++)
                    for (int kw = 0; kw < g.KW; kw++)
                    {
                        float* src = gcol + ((long)img * K + (c * g.KH + kh) * g.KW + kw) * P;
                        ValidColumns(g, kw, out int lo, out int hi);
                        if (lo >= hi) continue;
                        int shift = kw * g.DW - g.PW;
                        for (int oh = 0; oh < g.OH; oh++)
                        {
                            int ih = oh * g.SH - g.PH + kh * g.DH;
                            if ((uint)ih >= (uint)g.H) continue;
                            float* d = dst + (long)ih * g.W + shift;
                            float* s = src + oh * g.OW;
                            if (g.SW == 1)
                            {
                                var dd = new Span<float>(d + lo, hi - lo);
                                System.Numerics.Tensors.TensorPrimitives.Add(dd, new ReadOnlySpan<float>(s + lo, hi - lo), dd);
                            }
                            else for (int ow = lo; ow < hi; ow++) d[ow * g.SW] += s[ow];
                        }
                    }
            }
        });
    }

    /// <summary>rows[i] (P × K) for images i &lt; nb: rows[p, k] = the input under output p at tap k, or 0.</summary>
    internal static void Im2ColRows(float* x, float* rows, Conv2dGeometry g, int nb)
    {
        int K = g.ColRows, P = g.OutPlane;
        CpuParallel.For((long)nb * P, K, 1, (r0, r1) =>
        {
            for (long r = r0; r < r1; r++)
            {
                int img = (int)(r / P), p = (int)(r % P);
                int oh = p / g.OW, ow = p % g.OW;
                float* dst = rows + r * K;
                int iw0 = ow * g.SW - g.PW;
                bool fullRow = g.DW == 1 && iw0 >= 0 && iw0 + g.KW <= g.W;
                for (int c = 0; c < g.C; c++)
                {
                    float* src = x + ((long)img * g.C + c) * g.InPlane;
                    for (int kh = 0; kh < g.KH; kh++)
                    {
                        float* d = dst + (c * g.KH + kh) * g.KW;
                        int ih = oh * g.SH - g.PH + kh * g.DH;
                        if ((uint)ih >= (uint)g.H)
                        {
                            new Span<float>(d, g.KW).Clear();
                            continue;
                        }
                        float* s = src + (long)ih * g.W;
                        if (fullRow)
                        {
                            new ReadOnlySpan<float>(s + iw0, g.KW).CopyTo(new Span<float>(d, g.KW));
                            continue;
                        }
                        for (int kw = 0; kw < g.KW; kw++)
                        {
                            int iw = iw0 + kw * g.DW;
                            d[kw] = (uint)iw < (uint)g.W ? s[iw] : 0f;
                        }
                    }
                }
            }
        });
    }

    /// <summary>gx planes of images i &lt; nb from gP[i] (P × K): each plane zeroed, then the patches added in (oh, ow)
    /// order. One thread per plane.</summary>
    internal static void Col2ImRows(float* rows, float* gx, Conv2dGeometry g, int nb)
    {
        int K = g.ColRows, P = g.OutPlane;
        CpuParallel.For((long)nb * g.C, (long)P * g.KH * g.KW, 1, (p0, p1) =>
        {
            for (long plane = p0; plane < p1; plane++)
            {
                int img = (int)(plane / g.C), c = (int)(plane % g.C);
                float* dst = gx + plane * g.InPlane;
                new Span<float>(dst, g.InPlane).Clear();
                for (int p = 0; p < P; p++)
                {
                    int oh = p / g.OW, ow = p % g.OW;
                    float* src = rows + ((long)img * P + p) * K + c * g.KH * g.KW;
                    int iw0 = ow * g.SW - g.PW;
                    bool fullRow = g.DW == 1 && iw0 >= 0 && iw0 + g.KW <= g.W;
                    for (int kh = 0; kh < g.KH; kh++)
                    {
                        int ih = oh * g.SH - g.PH + kh * g.DH;
                        if ((uint)ih >= (uint)g.H) continue;
                        float* d = dst + (long)ih * g.W;
                        float* s = src + kh * g.KW;
                        if (fullRow)
                        {
                            var dd = new Span<float>(d + iw0, g.KW);
                            System.Numerics.Tensors.TensorPrimitives.Add(dd, new ReadOnlySpan<float>(s, g.KW), dd);
                            continue;
                        }
                        for (int kw = 0; kw < g.KW; kw++)
                        {
                            int iw = iw0 + kw * g.DW;
                            if ((uint)iw < (uint)g.W) d[iw] += s[kw];
                        }
                    }
                }
            }
        });
    }
}
