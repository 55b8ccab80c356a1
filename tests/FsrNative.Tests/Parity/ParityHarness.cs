using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Parity;

/// <summary>One input of a parity check: its shape, the range of its uniform test data, and whether it is a leaf that
/// requires grad (so that its gradient is compared too).</summary>
public sealed record In(int[] Shape, float Lo = -2f, float Hi = 2f, bool Grad = true, bool Integers = false);

/// <summary>
/// Runs the same computation on the CPU backend (the reference) and on ILGPU's CPU accelerator (<c>ilgpu-cpu</c>, the
/// GPU kernels emulated with warp size 32) — or, inside <see cref="RunOn"/>, on a CUDA device — from identical inputs, and compares the forward results and, through
/// <c>backward()</c>, the gradients of every input that requires grad. Shapes are small: the emulator runs each
/// GPU thread as an OS-scheduled thread.
/// </summary>
public static class ParityHarness
{
    static readonly AsyncLocal<Device?> Target = new();

    /// <summary>The device the checks compare with the CPU backend: ILGPU's CPU accelerator (<c>ilgpu-cpu</c>), or the
    /// device of an enclosing <see cref="RunOn"/> (the Cuda category runs these same test bodies on <c>cuda:N</c>).</summary>
    public static Device Emu => Target.Value ?? Device.IlgpuCpu;

    /// <summary>True while the checks run on a real GPU (inside <see cref="RunOn"/> with a CUDA device).</summary>
    public static bool OnGpu => Emu.Type == DeviceType.Cuda;

    /// <summary>Runs <paramref name="body"/> (a parity test body) with <see cref="Emu"/> = <paramref name="device"/>, then
    /// waits for the device and reports any error its kernels recorded (a sync point).</summary>
    public static void RunOn(Device device, Action body)
    {
        var previous = Target.Value;
        Target.Value = device;
        try
        {
            body();
            device.Backend.Synchronize();
        }
        finally
        {
            Target.Value = previous;
        }
    }

    /// <summary>Exact equality (copies, fills, index ops, uniform random).</summary>
    public static readonly Tolerance Exact = new(0, 0);

    /// <summary>Float32 math evaluated in a different order or precision on the two backends. On a GPU (inside
    /// <see cref="RunOn"/>) the relative part is 6e-4: ILGPU 1.5.3 compiles MathF.Tanh to <c>tanh.approx.f32</c> (max
    /// relative error 2^-10.99, PTX ISA manual) and Exp/Log/Sin/Cos to <c>ex2/lg2/sin/cos.approx.f32</c>
    /// (Src/ILGPU/Backends/PTX/PTXInstructions.Data.cs); see docs/gpu.md.</summary>
    public static Tolerance Elementwise => OnGpu ? GpuElementwise : EmulatorElementwise;

    static readonly Tolerance EmulatorElementwise = new(1e-5, 1e-5);
    static readonly Tolerance GpuElementwise = new(1e-5, 6e-4);

    /// <summary>Sums over dozens of terms (reductions, GEMM, normalisation, their backwards).</summary>
    public static readonly Tolerance Sums = new(2e-5, 1e-4);

    public static float[] Data(In input, ulong seed)
    {
        int n = FsrNative.Shape.NumEl(input.Shape);
        if (!input.Integers) return TestRandom.Uniform(seed, n, input.Lo, input.Hi);
        var ints = TestRandom.Integers(seed, n, (int)input.Lo, (int)input.Hi);
        return Array.ConvertAll(ints, v => (float)v);
    }

    /// <summary>
    /// Builds the inputs on both devices, runs <paramref name="f"/>, compares its result, then (when it is a Float32
    /// tensor that requires grad) back-propagates the same random upstream gradient on both devices and compares the
    /// inputs' gradients.
    /// </summary>
    public static void Check(string what, Func<Tensor[], Tensor> f, Tolerance tol, params In[] inputs)
        => Check(what, f, tol, tol, inputs);

    public static void Check(string what, Func<Tensor[], Tensor> f, Tolerance forwardTol, Tolerance gradTol, params In[] inputs)
        => Check(what, f, forwardTol, gradTol, false, inputs);

    /// <summary>As <see cref="Check(string, Func{Tensor[], Tensor}, Tolerance, In[])"/>, where NaN is an expected result
    /// (it then only matches NaN). Elsewhere a NaN fails the check even on both sides, so that a broken shared formula
    /// (both backends call the same ScalarMath) cannot pass as NaN == NaN.</summary>
    public static void CheckAllowingNaN(string what, Func<Tensor[], Tensor> f, Tolerance tol, params In[] inputs)
        => Check(what, f, tol, tol, true, inputs);

    static void Check(string what, Func<Tensor[], Tensor> f, Tolerance forwardTol, Tolerance gradTol, bool equalNan, params In[] inputs)
    {
        var data = inputs.Select((inp, i) => Data(inp, StableSeed(what) + (ulong)i)).ToArray();
        var cpu = Run(Device.CPU, what, f, inputs, data);
        var emu = Run(Emu, what, f, inputs, data);
        Assert.Equal(cpu.Shape, emu.Shape);
        if (cpu.Ints is not null)
            Assert.Equal(cpu.Ints, emu.Ints!);
        else
            Close.AssertClose(cpu.Values!, emu.Values!, forwardTol, $"{what}: forward", cpu.Shape, equalNan);
        Assert.Equal(cpu.Grads.Length, emu.Grads.Length);
        for (int i = 0; i < cpu.Grads.Length; i++)
        {
            if (cpu.Grads[i] is null) { Assert.Null(emu.Grads[i]); continue; }
            Assert.NotNull(emu.Grads[i]);
            Close.AssertClose(cpu.Grads[i]!, emu.Grads[i]!, gradTol, $"{what}: gradient of input {i}", inputs[i].Shape, equalNan);
        }
    }

    sealed record Result(int[] Shape, float[]? Values, int[]? Ints, float[]?[] Grads);

    static Result Run(Device device, string what, Func<Tensor[], Tensor> f, In[] inputs, float[][] data)
    {
        using var scope = torch.NewDisposeScope();
        var leaves = new Tensor[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
            leaves[i] = torch.tensor(data[i], inputs[i].Shape, device, requires_grad: inputs[i].Grad);
        var y = f(leaves);
        Assert.Equal(device, y.device);
        var grads = new float[]?[inputs.Length];
        if (y.DType == DType.Int32) return new Result(y.shape, null, y.ToIntArray(), grads);
        var values = y.ToArray();
        if (y.requires_grad)
        {
            var upstream = TestRandom.Uniform(StableSeed(what) ^ 0x9E3779B97F4A7C15UL, y.NumEl, -1f, 1f);
            var g = torch.tensor(upstream, y.shape, device);
            y.mul(g).sum().backward();
            for (int i = 0; i < inputs.Length; i++) grads[i] = leaves[i].grad?.ToArray();
        }
        return new Result(y.shape, values, null, grads);
    }

    /// <summary>A seed from the check's name that is the same in every process (string.GetHashCode is randomised).</summary>
    public static ulong StableSeed(string text)
    {
        ulong h = 14695981039346656037UL;   // FNV-1a
        foreach (char c in text) { h ^= c; h *= 1099511628211UL; }
        return h;
    }

    /// <summary>A tensor with the given data on <paramref name="device"/> (Float32).</summary>
    public static Tensor On(Device device, float[] data, params int[] shape) => torch.tensor(data, shape, device);

    /// <summary>The elements of a tensor of any layout and device as a flat host array.</summary>
    public static float[] Host(Tensor t) => t.ToArray();
}
