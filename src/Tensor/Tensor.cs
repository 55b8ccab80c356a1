using System.Runtime.CompilerServices;

namespace FsrNative;

/// <summary>
/// An n-dimensional array of 4-byte elements: a handle onto a <see cref="Storage"/> with a shape, element strides
/// and a storage offset. Views (reshape, permute, narrow, expand, …) are new handles onto the same storage.
/// This class holds data and autograd slots only; the ops live in the Autograd assembly
/// (<c>TensorOps</c>, <c>torch</c>), which records each op on the tape as it runs it.
/// Tensors are <see cref="IDisposable"/>: dispose them, or create them inside a <see cref="DisposeScope"/>.
/// </summary>
public sealed class Tensor : IDisposable
{
    readonly int[] _shape;
    readonly int[] _strides;
    Storage? _storage;

    internal Tensor(Storage storage, int[] shape, int[] strides, int offset, DType dtype)
    {
        _storage = storage;
        _shape = shape;
        _strides = strides;
        Offset = offset;
        DType = dtype;
        NumEl = Shape.NumEl(shape);
        DisposeScope.Register(this);
    }

    // ---- layout ----------------------------------------------------------------------------------------------

    /// <summary>The dimensions (a copy; use <see cref="size(int)"/> for one).</summary>
    public int[] shape => (int[])_shape.Clone();
    /// <summary>The element strides (a copy).</summary>
    public int[] stride() => (int[])_strides.Clone();
    internal ReadOnlySpan<int> ShapeSpan => _shape;
    internal ReadOnlySpan<int> StrideSpan => _strides;
    internal int[] ShapeArray => _shape;
    internal int[] StrideArray => _strides;
    public int Offset { get; }
    public DType DType { get; }
    public int NumEl { get; }
    public int dim() => _shape.Length;
    public int numel() => NumEl;
    /// <summary>Size of dimension <paramref name="d"/>; negative counts from the end.</summary>
    public int size(int d) => _shape[Shape.Axis(d, _shape.Length, "size")];
    public int stride(int d) => _strides[Shape.Axis(d, _shape.Length, "stride")];
    public bool is_contiguous() => Shape.IsContiguous(_shape, _strides);
    public Device device => Storage.Device;
    public IBackend Backend => Storage.Device.Backend;

    /// <summary>The storage; throws <see cref="ObjectDisposedException"/> once this handle is disposed.</summary>
    public Storage Storage => _storage ?? throw new ObjectDisposedException(nameof(Tensor), $"tensor {Describe()} was disposed");
    public bool IsDisposed => _storage is null;

    // ---- autograd slots (filled by the Autograd assembly) -----------------------------------------------------

    bool _requiresGrad;

    /// <summary>Whether gradients flow to this tensor. Setting it is allowed on leaves only, as in PyTorch.</summary>
    public bool requires_grad
    {
        get => _requiresGrad;
        set
        {
            if (grad_fn is not null && !value)
                throw new InvalidOperationException("requires_grad: cannot turn gradients off on a non-leaf tensor; use detach()");
            if (value && !DType.IsFloatingPoint())
                throw new InvalidOperationException($"requires_grad: only floating-point tensors can require gradients, this one is {DType}");
            _requiresGrad = value;
        }
    }

    internal void SetRequiresGradFromOp() => _requiresGrad = true;

    /// <summary>The accumulated gradient of a leaf after <c>backward()</c>; owned by this tensor (disposed with it).</summary>
    public Tensor? grad { get; set; }

    /// <summary>The tape record that produced this tensor; null for leaves and for results computed without grad.</summary>
    public GradFn? grad_fn { get; internal set; }

    public bool is_leaf => grad_fn is null;

    /// <summary>When true, backward() also stores this non-leaf's gradient in <see cref="grad"/>.</summary>
    public bool RetainsGrad { get; private set; }
    public void retain_grad() => RetainsGrad = true;

    /// <summary>An optional name shown in errors and printing (parameters get theirs from the module tree).</summary>
    public string? Name { get; set; }

    // ---- handles ----------------------------------------------------------------------------------------------

    /// <summary>A new handle onto the same storage with the given layout (no copy, no autograd).</summary>
    internal Tensor AsStridedRaw(int[] shape, int[] strides, int offset)
    {
        Storage s = Storage;
        s.AddRef();
        return new Tensor(s, shape, strides, offset, DType);
    }

    /// <summary>A new handle onto the same storage with the same layout and element type <paramref name="dtype"/>
    /// (bits reinterpreted; internal use only, e.g. by kernels that treat indices as words).</summary>
    internal Tensor AliasRaw(DType? dtype = null)
    {
        Storage s = Storage;
        s.AddRef();
        return new Tensor(s, (int[])_shape.Clone(), (int[])_strides.Clone(), Offset, dtype ?? DType);
    }

    /// <summary>Wraps fresh storage (its reference passes to the tensor) as a contiguous tensor.</summary>
    internal static Tensor FromStorage(Storage storage, int[] shape, DType dtype)
        => new(storage, shape, Shape.ContiguousStrides(shape), 0, dtype);

    /// <summary>Allocates an uninitialised contiguous tensor on <paramref name="device"/>.</summary>
    internal static Tensor Empty(int[] shape, Device device, DType dtype = DType.Float32)
    {
        Shape.Validate(shape, "empty");
        if (dtype == DType.Float64 && !device.IsCpu)
            throw new NotSupportedException($"Float64 tensors exist on the cpu backend only (for gradient checks), not on {device}");
        long words = (long)Shape.NumEl(shape) * dtype.Words();
        if (words > int.MaxValue) throw new ArgumentException($"shape {Shape.Format(shape)} of {dtype} needs more than 2^31−1 words");
        return FromStorage(device.Backend.Allocate((int)words), (int[])shape.Clone(), dtype);
    }

    /// <summary>Releases this handle's reference on the storage. Idempotent. The gradient is disposed too.</summary>
    public void Dispose()
    {
        var s = Interlocked.Exchange(ref _storage, null);
        if (s is null) return;
        s.Release();
        grad?.Dispose();
        grad = null;
        grad_fn = null;
        DisposeScope.Unregister(this);
    }

    internal DisposeScope? OwnerScope { get; set; }

    /// <summary>Moves this tensor from the current dispose scope to the one outside it (or to none), so it
    /// survives the scope's end. Returns this tensor.</summary>
    public Tensor MoveToOuterDisposeScope() { DisposeScope.MoveToOuter(this); return this; }

    /// <summary>Takes this tensor out of every dispose scope: the caller now owns it.</summary>
    public Tensor DetachFromDisposeScope() { DisposeScope.Detach(this); return this; }

    // ---- host access ------------------------------------------------------------------------------------------

    /// <summary>Copies the elements (in logical row-major order) to a new host array; Float64 values are rounded
    /// to float. Synchronises with the device.</summary>
    public float[] ToArray()
    {
        if (DType == DType.Float64) return Array.ConvertAll(ToDoubleArray(), v => (float)v);
        RequireDType(DType.Float32, "ToArray");
        var result = new float[NumEl];
        Backend.Download(this, result);
        return result;
    }

    /// <summary>Copies a Float64 (or Float32, widened) tensor's elements to a new host array.</summary>
    public double[] ToDoubleArray()
    {
        if (DType == DType.Float32) return Array.ConvertAll(ToArray(), v => (double)v);
        RequireDType(DType.Float64, "ToDoubleArray");
        return CpuBackend.DownloadDouble(this);
    }

    /// <summary>Copies an Int32 tensor's elements to a new host array. Synchronises with the device.</summary>
    public int[] ToIntArray()
    {
        RequireDType(DType.Int32, "ToIntArray");
        var words = new float[NumEl];
        Backend.Download(this, words);
        return System.Runtime.InteropServices.MemoryMarshal.Cast<float, int>(words).ToArray();
    }

    /// <summary>The value of a one-element tensor (Int32 values are converted). Synchronises with the device.</summary>
    public float item()
    {
        if (NumEl != 1) throw new InvalidOperationException($"item(): tensor has {NumEl} elements, expected exactly 1 (shape {Shape.Format(_shape)})");
        if (DType == DType.Float64) return (float)ToDoubleArray()[0];
        Span<float> one = stackalloc float[1];
        Backend.Download(this, one);
        return DType == DType.Int32 ? BitConverter.SingleToInt32Bits(one[0]) : one[0];
    }

    /// <summary>A span over a contiguous CPU tensor's elements (no copy). Throws for other devices or views that
    /// are not contiguous: call <c>contiguous()</c> / <c>cpu()</c> first.</summary>
    public Span<float> AsSpan()
    {
        if (Storage is not CpuStorage cpu) throw new InvalidOperationException($"AsSpan: tensor is on {device}, not cpu");
        if (!is_contiguous()) throw new InvalidOperationException($"AsSpan: tensor with shape {Shape.Format(_shape)} and strides {Shape.Format(_strides)} is not contiguous");
        if (DType == DType.Float64) throw new InvalidOperationException("AsSpan: tensor is Float64; use AsDoubleSpan()");
        return cpu.Data.AsSpan(Offset, NumEl);
    }

    /// <summary>A span over a contiguous Float64 CPU tensor's elements.</summary>
    public Span<double> AsDoubleSpan()
    {
        RequireDType(DType.Float64, "AsDoubleSpan");
        if (!is_contiguous()) throw new InvalidOperationException($"AsDoubleSpan: tensor with shape {Shape.Format(_shape)} is not contiguous");
        return System.Runtime.InteropServices.MemoryMarshal.Cast<float, double>(((CpuStorage)Storage).Data.AsSpan()).Slice(Offset, NumEl);
    }

    public Span<int> AsIntSpan() => System.Runtime.InteropServices.MemoryMarshal.Cast<float, int>(AsSpan());

    internal void RequireDType(DType expected, string op)
    {
        if (DType != expected)
            throw new ArgumentException($"{op}: expected a {expected} tensor, got {DType} with shape {Shape.Format(_shape)}");
    }

    internal string Describe() => $"{Name ?? "tensor"}{Shape.Format(_shape)}";

    public override string ToString() => TensorFormatter.Format(this);

    /// <summary>Reference identity: two handles are the same tensor only if they are the same object.</summary>
    public override bool Equals(object? obj) => ReferenceEquals(this, obj);
    public override int GetHashCode() => RuntimeHelpers.GetHashCode(this);
}

/// <summary>
/// The tape record of one op application: the op's name, its inputs, and the rule that maps the output's
/// gradient to the inputs' gradients (null where an input needs none). Written by the op itself, beside its
/// forward (see the Autograd assembly). It remembers the storage versions of its inputs and output so that a
/// backward after an in-place change of a saved tensor fails loudly instead of computing wrong gradients.
/// </summary>
public sealed class GradFn
{
    readonly int[] _versions;
    Tensor? _output;

    public GradFn(string name, Tensor[] inputs, Func<Tensor, Tensor?[]> backward, Tensor output)
    {
        Name = name;
        Inputs = inputs;
        Backward = backward;
        _output = output;
        _versions = new int[inputs.Length + 1];
        for (int i = 0; i < inputs.Length; i++) _versions[i] = inputs[i].Storage.Version;
        _versions[^1] = output.Storage.Version;
    }

    public string Name { get; }
    public Tensor[] Inputs { get; private set; }
    internal Func<Tensor, Tensor?[]>? Backward { get; private set; }
    public bool IsReleased => Backward is null;

    /// <summary>Throws if an input or the output was modified in place after this op ran.</summary>
    internal void CheckVersions()
    {
        for (int i = 0; i <= Inputs.Length; i++)
        {
            var t = i < Inputs.Length ? Inputs[i] : _output;
            if (t is null || t.IsDisposed) continue;
            if (t.Storage.Version != _versions[i])
                throw new InvalidOperationException(
                    $"backward of {Name}: {(i < Inputs.Length ? $"input {i}" : "its output")} ({t.Describe()}) was modified by an in-place operation " +
                    "after it was used; gradients would be wrong. Clone it before modifying it.");
        }
    }

    /// <summary>Drops the saved tensors after a backward pass (retain_graph = false).</summary>
    internal void Release()
    {
        Backward = null;
        Inputs = [];
        _output = null;
    }

    public override string ToString() => $"<{Name}Backward>";
}
