namespace FsrNative.Kernels;

/// <summary>
/// The geometry of one 2-D convolution with groups = 1: input (N, C, H, W), weight (O, C, KH, KW), output
/// (N, O, OH, OW), all NCHW and contiguous. Output position (oh, ow) reads input rows
/// ih = oh·SH − PH + kh·DH and columns iw = ow·SW − PW + kw·DW (zero outside the image). Blittable (ints only),
/// so the GPU kernels take it by value; the CPU and reference kernels take the same struct.
/// <para>The im2col matrix of one image has <see cref="ColRows"/> = C·KH·KW rows, indexed k = (c·KH + kh)·KW + kw
/// (the weight's own row-major order), and <see cref="OutPlane"/> = OH·OW columns p = oh·OW + ow.</para>
/// </summary>
public struct Conv2dGeometry
{
    public int N, C, H, W;
    public int O, KH, KW;
    public int SH, SW, PH, PW, DH, DW;
    public int OH, OW;

    /// <summary>C·KH·KW: the reduction length of the convolution as a GEMM.</summary>
    public readonly int ColRows => C * KH * KW;
    /// <summary>OH·OW: output positions per image.</summary>
    public readonly int OutPlane => OH * OW;
    /// <summary>H·W: input positions per image and channel.</summary>
    public readonly int InPlane => H * W;

    /// <summary>True for a 1×1 convolution with stride 1 and no padding: the input image is already the im2col matrix.</summary>
    public readonly bool IsPointwise => KH == 1 && KW == 1 && SH == 1 && SW == 1 && PH == 0 && PW == 0;

    /// <summary>
    /// Builds the geometry, computing the output size as PyTorch does: OH = ⌊(H + 2·PH − DH·(KH − 1) − 1) / SH⌋ + 1.
    /// Throws (naming conv2d, the argument and its value) for non-positive strides or dilations, negative padding,
    /// or an output smaller than 1×1.
    /// </summary>
    public static Conv2dGeometry Create(int n, int c, int h, int w, int o, int kh, int kw,
        int sh, int sw, int ph, int pw, int dh, int dw)
    {
        if (sh <= 0 || sw <= 0) throw new ArgumentException($"conv2d: stride must be positive, got ({sh}, {sw})");
        if (dh <= 0 || dw <= 0) throw new ArgumentException($"conv2d: dilation must be positive, got ({dh}, {dw})");
        if (ph < 0 || pw < 0) throw new ArgumentException($"conv2d: padding must be non-negative, got ({ph}, {pw})");
        if (kh <= 0 || kw <= 0) throw new ArgumentException($"conv2d: kernel size must be positive, got ({kh}, {kw})");
        long effH = (long)dh * (kh - 1) + 1, effW = (long)dw * (kw - 1) + 1;
        long oh = (h + 2L * ph - effH) / sh + 1, ow = (w + 2L * pw - effW) / sw + 1;
        if (h + 2L * ph < effH || w + 2L * pw < effW || oh < 1 || ow < 1)
            throw new ArgumentException(
                $"conv2d: the padded input ({h + 2L * ph} × {w + 2L * pw}) is smaller than the dilated kernel ({effH} × {effW}): " +
                $"input {h}×{w}, kernel {kh}×{kw}, padding ({ph}, {pw}), dilation ({dh}, {dw})");
        return new Conv2dGeometry
        {
            N = n, C = c, H = h, W = w, O = o, KH = kh, KW = kw,
            SH = sh, SW = sw, PH = ph, PW = pw, DH = dh, DW = dw, OH = (int)oh, OW = (int)ow,
        };
    }

    public override readonly string ToString() =>
        $"conv2d N={N} C={C} H×W={H}×{W} O={O} kernel {KH}×{KW} stride ({SH}, {SW}) padding ({PH}, {PW}) dilation ({DH}, {DW}) → {OH}×{OW}";
}

/// <summary>
/// The geometry of a 2-D pooling over <see cref="Planes"/> = N·C contiguous (H, W) planes into (OH, OW) planes.
/// <para>Window pools (max, average): output (oh, ow) covers rows ih = oh·SH − PH + kh·DH, kh &lt; KH (and likewise
/// columns); positions outside the image are skipped (max) or count as zeros (average with
/// <see cref="CountIncludePad"/>). Adaptive average pooling (<see cref="Adaptive"/> = 1) uses PyTorch's windows
/// rows [⌊oh·H/OH⌋, ⌈(oh+1)·H/OH⌉) and ignores the kernel, stride and padding fields.</para>
/// <para>Average divisor, as PyTorch's avg_pool2d: <see cref="Divisor"/> when non-zero (divisor_override), else the
/// window's area clipped to the padded image (count_include_pad) or to the image; adaptive windows divide by their area.</para>
/// </summary>
public struct Pool2dGeometry
{
    public int Planes, H, W, OH, OW;
    public int KH, KW, SH, SW, PH, PW, DH, DW;
    /// <summary>1: padded positions count in the average's divisor (PyTorch's default).</summary>
    public int CountIncludePad;
    /// <summary>Non-zero: every average divides by this (PyTorch's divisor_override).</summary>
    public int Divisor;
    /// <summary>1: adaptive average pooling windows.</summary>
    public int Adaptive;

    /// <summary>True when every output is the whole plane (global pooling): one window of H×W, no padding.</summary>
    public readonly bool IsGlobal => OH == 1 && OW == 1 &&
        (Adaptive != 0 || (KH == H && KW == W && PH == 0 && PW == 0 && DH == 1 && DW == 1));

    /// <summary>Output size along one axis as PyTorch's pooling_output_shape (floor or ceil mode; in ceil mode the
    /// last window must start inside the image or its left padding).</summary>
    public static int OutputSize(int input, int kernel, int stride, int pad, int dilation, bool ceilMode)
    {
        long numerator = input + 2L * pad - (long)dilation * (kernel - 1) - 1 + (ceilMode ? stride - 1 : 0);
        long size = FloorDiv(numerator, stride) + 1;
        if (ceilMode && (size - 1) * stride >= input + pad) size--;
        return (int)Math.Clamp(size, int.MinValue, int.MaxValue);
    }

    static long FloorDiv(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);

    /// <summary>
    /// A max or average pooling geometry with PyTorch's checks (each error names the op, the argument and the value):
    /// positive kernel, stride and dilation; padding at most half the kernel; an output of at least 1×1.
    /// </summary>
    public static Pool2dGeometry Create(string op, int planes, int h, int w, int kh, int kw, int sh, int sw,
        int ph, int pw, int dh, int dw, bool ceilMode, bool countIncludePad = true, int divisor = 0)
    {
        if (kh <= 0 || kw <= 0) throw new ArgumentException($"{op}: kernel_size must be positive, got ({kh}, {kw})");
        if (sh <= 0 || sw <= 0) throw new ArgumentException($"{op}: stride must be positive, got ({sh}, {sw})");
        if (dh <= 0 || dw <= 0) throw new ArgumentException($"{op}: dilation must be positive, got ({dh}, {dw})");
        if (ph < 0 || pw < 0) throw new ArgumentException($"{op}: padding must be non-negative, got ({ph}, {pw})");
        if (ph > kh / 2 || pw > kw / 2)
            throw new ArgumentException($"{op}: padding ({ph}, {pw}) must be at most half of the kernel size ({kh}, {kw})");
        int oh = OutputSize(h, kh, sh, ph, dh, ceilMode), ow = OutputSize(w, kw, sw, pw, dw, ceilMode);
        if (oh < 1 || ow < 1)
            throw new ArgumentException(
                $"{op}: output size {oh}×{ow} is too small for input {h}×{w} with kernel ({kh}, {kw}), stride ({sh}, {sw}), " +
                $"padding ({ph}, {pw}), dilation ({dh}, {dw})");
        // With dilation, a window that starts in the padding can step over a tiny input entirely. PyTorch then
        // returns −∞ with an index outside the plane (and its backward writes outside the plane); refuse instead.
        EmptyWindowCheck(op, "height", h, oh, sh, ph, dh);
        EmptyWindowCheck(op, "width", w, ow, sw, pw, dw);
        return new Pool2dGeometry
        {
            Planes = planes, H = h, W = w, OH = oh, OW = ow, KH = kh, KW = kw, SH = sh, SW = sw, PH = ph, PW = pw,
            DH = dh, DW = dw, CountIncludePad = countIncludePad ? 1 : 0, Divisor = divisor,
        };
    }

    static void EmptyWindowCheck(string op, string axis, int input, int outputs, int stride, int pad, int dilation)
    {
        for (int o = 0; o < outputs && o * stride < pad; o++)
        {
            int start = o * stride - pad;
            int first = start + (-start + dilation - 1) / dilation * dilation;
            if (first >= input)
                throw new ArgumentException(
                    $"{op}: along the {axis} ({input}), the window of output {o} (start {start}, dilation {dilation}) holds no input position");
        }
    }

    /// <summary>Adaptive average pooling of (H, W) planes to (OH, OW).</summary>
    public static Pool2dGeometry CreateAdaptive(string op, int planes, int h, int w, int oh, int ow)
    {
        if (oh < 1 || ow < 1) throw new ArgumentException($"{op}: output_size must be positive, got ({oh}, {ow})");
        if (h < 1 || w < 1) throw new ArgumentException($"{op}: input planes must be non-empty, got {h}×{w}");
        return new Pool2dGeometry
        {
            Planes = planes, H = h, W = w, OH = oh, OW = ow, KH = 1, KW = 1, SH = 1, SW = 1, DH = 1, DW = 1,
            CountIncludePad = 1, Adaptive = 1,
        };
    }

    /// <summary>Rows (or columns) [start, end) of window <paramref name="o"/> along an axis of <paramref name="input"/>
    /// positions, clipped to the image, and the divisor's factor along that axis (PyTorch's avg_pool2d and
    /// adaptive_avg_pool2d formulas). Max pooling uses <see cref="MaxWindow"/> instead (dilation).</summary>
    public readonly void AvgWindow(int o, bool rows, out int start, out int end, out int count)
    {
        int input = rows ? H : W, output = rows ? OH : OW;
        if (Adaptive != 0)
        {
            start = o * input / output;
            end = ((o + 1) * input + output - 1) / output;
            count = end - start;
            return;
        }
        int k = rows ? KH : KW, s = rows ? SH : SW, p = rows ? PH : PW;
        start = o * s - p;
        end = Math.Min(start + k, input + p);
        int padded = end - start;
        if (start < 0) start = 0;
        if (end > input) end = input;
        count = CountIncludePad != 0 ? padded : end - start;
    }

    public override readonly string ToString() => Adaptive != 0
        ? $"adaptive pool {Planes} planes {H}×{W} → {OH}×{OW}"
        : $"pool {Planes} planes {H}×{W} kernel ({KH}, {KW}) stride ({SH}, {SW}) padding ({PH}, {PW}) dilation ({DH}, {DW}) → {OH}×{OW}";
}
