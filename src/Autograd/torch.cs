namespace FsrNative;

/// <summary>
/// The entry point PyTorch users expect: tensor creation, random numbers, grad mode and dispose scopes.
/// Ops on tensors are methods of <see cref="Tensor"/> (see <c>Ops/*.cs</c>) and functions in
/// <see cref="torch.nn.functional"/>.
/// </summary>
public static partial class torch
{
    // ---- creation -------------------------------------------------------------------------------------------

    public static Tensor empty(int[] shape, Device? device = null, DType dtype = DType.Float32)
        => Tensor.Empty(shape, device ?? Device.CPU, dtype);

    public static Tensor full(int[] shape, float value, Device? device = null, bool requires_grad = false, DType dtype = DType.Float32)
    {
        if (!dtype.IsFloatingPoint()) throw new ArgumentException($"full: dtype {dtype} is not floating point; use full_int");
        var t = empty(shape, device, dtype);
        t.Backend.Fill(t, value);
        t.requires_grad = requires_grad;
        return t;
    }

    public static Tensor zeros(int[] shape, Device? device = null, bool requires_grad = false, DType dtype = DType.Float32) => full(shape, 0f, device, requires_grad, dtype);
    public static Tensor ones(int[] shape, Device? device = null, bool requires_grad = false, DType dtype = DType.Float32) => full(shape, 1f, device, requires_grad, dtype);
    public static Tensor zeros(params int[] shape) => zeros(shape, null);
    public static Tensor ones(params int[] shape) => ones(shape, null);

    /// <summary>An Int32 tensor filled with <paramref name="value"/>.</summary>
    public static Tensor full_int(int[] shape, int value, Device? device = null)
    {
        var t = empty(shape, device, DType.Int32);
        t.Backend.Fill(t, BitConverter.Int32BitsToSingle(value));
        return t;
    }

    public static Tensor zeros_like(Tensor t) => zeros(t.shape, t.device, dtype: t.DType);
    public static Tensor ones_like(Tensor t) => ones(t.shape, t.device, dtype: t.DType);
    public static Tensor full_like(Tensor t, float value) => full(t.shape, value, t.device, dtype: t.DType);
    public static Tensor empty_like(Tensor t) => empty(t.shape, t.device, t.DType);

    /// <summary>A Float32 tensor holding <paramref name="data"/> with <paramref name="shape"/> (default: 1-D).</summary>
    public static Tensor tensor(ReadOnlySpan<float> data, int[]? shape = null, Device? device = null, bool requires_grad = false)
    {
        shape ??= [data.Length];
        if (Shape.NumEl(shape) != data.Length)
            throw new ArgumentException($"tensor: {data.Length} values do not fill shape {Shape.Format(shape)}");
        var t = empty(shape, device);
        t.Backend.Upload(data, t);
        t.requires_grad = requires_grad;
        return t;
    }

    public static Tensor tensor(float[] data, params int[] shape) => tensor((ReadOnlySpan<float>)data, shape.Length == 0 ? null : shape, null, false);

    /// <summary>A 0-dimensional tensor.</summary>
    public static Tensor scalar_tensor(float value, Device? device = null, DType dtype = DType.Float32)
        => dtype == DType.Float64 ? tensor([(double)value], []) : tensor([value], [], device);

    /// <summary>A Float64 tensor on the CPU backend (gradient checks).</summary>
    public static Tensor tensor(ReadOnlySpan<double> data, int[]? shape = null, bool requires_grad = false)
    {
        shape ??= [data.Length];
        if (Shape.NumEl(shape) != data.Length)
            throw new ArgumentException($"tensor: {data.Length} values do not fill shape {Shape.Format(shape)}");
        var t = empty(shape, Device.CPU, DType.Float64);
        CpuBackend.UploadDouble(data, t);
        t.requires_grad = requires_grad;
        return t;
    }

    /// <summary>An Int32 tensor (indices, labels).</summary>
    public static Tensor tensor(ReadOnlySpan<int> data, int[]? shape = null, Device? device = null)
    {
        shape ??= [data.Length];
        if (Shape.NumEl(shape) != data.Length)
            throw new ArgumentException($"tensor: {data.Length} values do not fill shape {Shape.Format(shape)}");
        var t = empty(shape, device, DType.Int32);
        t.Backend.Upload(System.Runtime.InteropServices.MemoryMarshal.Cast<int, float>(data), t);
        return t;
    }

    /// <summary>Values start, start+step, … below end (Float32), like torch.arange.</summary>
    public static Tensor arange(float start, float end, float step = 1f, Device? device = null)
    {
        if (step == 0 || (end - start) / step < 0 && end != start)
            throw new ArgumentException($"arange: step {step} cannot go from {start} to {end}");
        int n = (int)Math.Ceiling((end - start) / (double)step);
        var values = new float[Math.Max(n, 0)];
        for (int i = 0; i < values.Length; i++) values[i] = (float)(start + (double)i * step);
        return tensor(values, [values.Length], device);
    }

    public static Tensor arange(float end, Device? device = null) => arange(0, end, 1, device);

    /// <summary>Int32 values start, start+step, … below end.</summary>
    public static Tensor arange_int(int start, int end, int step = 1, Device? device = null)
    {
        if (step == 0) throw new ArgumentException("arange_int: step must not be 0");
        int n = Math.Max(0, (int)Math.Ceiling((end - start) / (double)step));
        var values = new int[n];
        for (int i = 0; i < n; i++) values[i] = start + i * step;
        return tensor(values, [n], device);
    }

    // ---- random (Philox4x32-10: same seed and draw give the same numbers on every backend) ------------------

    /// <summary>Seeds the default generator and restarts its stream counter.</summary>
    public static void manual_seed(ulong seed) => Generator.Default.manual_seed(seed);

    /// <summary>Uniform [0, 1).</summary>
    public static Tensor rand(int[] shape, Generator? generator = null, Device? device = null, bool requires_grad = false)
        => uniform(shape, 0f, 1f, generator, device, requires_grad);

    public static Tensor uniform(int[] shape, float low, float high, Generator? generator = null, Device? device = null, bool requires_grad = false)
    {
        var g = generator ?? Generator.Default;
        var t = empty(shape, device);
        t.Backend.RandomUniform(t, g.Seed, g.NextStream(), low, high);
        t.requires_grad = requires_grad;
        return t;
    }

    /// <summary>Standard normal (Box–Muller on Philox words).</summary>
    public static Tensor randn(int[] shape, Generator? generator = null, Device? device = null, bool requires_grad = false)
        => normal(shape, 0f, 1f, generator, device, requires_grad);

    public static Tensor normal(int[] shape, float mean, float std, Generator? generator = null, Device? device = null, bool requires_grad = false)
    {
        var g = generator ?? Generator.Default;
        var t = empty(shape, device);
        t.Backend.RandomNormal(t, g.Seed, g.NextStream(), mean, std);
        t.requires_grad = requires_grad;
        return t;
    }

    /// <summary>
    /// Normal(mean, std) truncated to [a, b] by inverse-CDF sampling, exactly the recipe of
    /// <c>torch.nn.init.trunc_normal_</c> / timm: u ~ U(2Φ(α)−1, 2Φ(β)−1), x = mean + std·√2·erfinv(u), clamped.
    /// Computed on the host from the same Philox stream, then moved (initialisation is not a hot path).
    /// </summary>
    public static Tensor trunc_normal(int[] shape, float mean = 0f, float std = 1f, float a = -2f, float b = 2f,
        Generator? generator = null, Device? device = null, bool requires_grad = false)
    {
        var g = generator ?? Generator.Default;
        ulong seed = g.Seed, stream = g.NextStream();
        int n = Shape.NumEl(shape);
        double lo = NormCdf((a - mean) / std), hi = NormCdf((b - mean) / std);
        var values = new float[n];
        for (int i = 0; i < n; i++)
        {
            double u = Kernels.Random.Philox.Uniform(seed, stream, i);
            double v = (2 * lo - 1) + u * ((2 * hi - 1) - (2 * lo - 1));
            double x = mean + std * Math.Sqrt(2) * ErfInv(v);
            values[i] = (float)Math.Clamp(x, a, b);
        }
        return tensor(values, shape, device, requires_grad);
    }

    static double NormCdf(double x) => (1 + Erf(x / Math.Sqrt(2))) / 2;

    /// <summary>erf in double precision (series below 3, continued fraction above): host-side initialisation only.</summary>
    static double Erf(double x)
    {
        double ax = Math.Abs(x), r;
        if (ax < 3)
        {
            double sum = ax, term = ax, x2 = ax * ax;
            for (int n = 1; n < 100; n++) { term *= -x2 / n; double add = term / (2 * n + 1); sum += add; if (Math.Abs(add) < 1e-17) break; }
            r = 2 / Math.Sqrt(Math.PI) * sum;
        }
        else
        {
            double t = 0;
            for (int n = 80; n >= 1; n--) t = n / 2.0 / (ax + t);
            r = 1 - Math.Exp(-ax * ax) / Math.Sqrt(Math.PI) / (ax + t);
        }
        return x < 0 ? -r : r;
    }

    /// <summary>Inverse erf by Newton iterations on <see cref="Erf"/> from a closed-form start (host side).</summary>
    static double ErfInv(double y)
    {
        if (y <= -1) return double.NegativeInfinity;
        if (y >= 1) return double.PositiveInfinity;
        // Winitzki's closed form (a = 0.147) as the starting point: |x| = √(√(t² + w/a) − t), t = 2/(πa) − w/2, w = −ln(1 − y²).
        double w = -Math.Log((1 - y) * (1 + y));
        double t = 2 / (Math.PI * 0.147) - w / 2;
        double x = Math.Sign(y) * Math.Sqrt(Math.Sqrt(t * t + w / 0.147) - t);
        for (int i = 0; i < 4; i++) x -= (Erf(x) - y) / (2 / Math.Sqrt(Math.PI) * Math.Exp(-x * x));
        return x;
    }

    // ---- grad mode and scopes ---------------------------------------------------------------------------------

    /// <summary><c>using (torch.no_grad()) { … }</c>: ops inside record nothing.</summary>
    public static IDisposable no_grad() => GradMode.Set(false);
    public static IDisposable enable_grad() => GradMode.Set(true);
    public static bool is_grad_enabled() => GradMode.IsEnabled;

    /// <summary>Opens a dispose scope (see <see cref="DisposeScope"/>).</summary>
    public static DisposeScope NewDisposeScope() => DisposeScope.Open();

    public static partial class nn
    {
        public static partial class functional { }
    }
}
