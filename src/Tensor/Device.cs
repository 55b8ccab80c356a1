namespace FsrNative;

/// <summary>Where a tensor's storage lives and which backend computes on it.</summary>
public enum DeviceType
{
    /// <summary>The managed SIMD CPU backend: the default without a GPU.</summary>
    Cpu,
    /// <summary>An NVIDIA GPU through ILGPU's CUDA accelerator.</summary>
    Cuda,
    /// <summary>ILGPU's CPU accelerator (an emulator configured like an NVIDIA device, warp 32): runs the GPU
    /// kernels without a GPU, for the parity tests. Slow by design.</summary>
    IlgpuCpu,
}

/// <summary>A device: a type and an index (the GPU ordinal for CUDA).</summary>
public readonly record struct Device(DeviceType Type, int Index = 0)
{
    public static readonly Device CPU = new(DeviceType.Cpu);
    public static readonly Device IlgpuCpu = new(DeviceType.IlgpuCpu);
    public static Device Cuda(int index = 0) => new(DeviceType.Cuda, index);

    public bool IsCpu => Type == DeviceType.Cpu;

    /// <summary>
    /// Parses <c>cpu</c>, <c>cuda</c>, <c>cuda:N</c>, <c>ilgpu-cpu</c> and <c>auto</c> (CUDA device 0 when ILGPU finds one,
    /// else cpu). Throws <see cref="ArgumentException"/> naming the text for anything else.
    /// </summary>
    public static Device Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string s = text.Trim().ToLowerInvariant();
        if (s == "cpu") return CPU;
        if (s == "ilgpu-cpu") return IlgpuCpu;
        if (s == "auto") return Backends.CudaDeviceCount() > 0 ? Cuda(0) : CPU;
        if (s == "cuda") return Cuda(0);
        if (s.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (int.TryParse(s.AsSpan(5), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int idx))
                return Cuda(idx);
            throw new ArgumentException($"device '{text}': the CUDA ordinal after 'cuda:' must be a non-negative integer", nameof(text));
        }
        throw new ArgumentException($"device '{text}' is not one of cpu, cuda, cuda:N, ilgpu-cpu, auto", nameof(text));
    }

    public override string ToString() => Type switch
    {
        DeviceType.Cpu => "cpu",
        DeviceType.Cuda => $"cuda:{Index}",
        DeviceType.IlgpuCpu => "ilgpu-cpu",
        _ => Type.ToString(),
    };

    /// <summary>The backend that computes on this device (created on first use).</summary>
    public IBackend Backend => Backends.Get(this);
}
