using FsrNative.Kernels;
using FsrNative.Kernels.Gpu;
using ILGPU;
using ILGPU.Runtime;

namespace FsrNative;

/// <summary>
/// The ILGPU backend: every primitive of <see cref="IBackend"/> as ILGPU kernels (src/Kernels/Gpu) on one accelerator,
/// a CUDA GPU (<c>cuda:N</c>) or ILGPU's CPU accelerator configured like an NVIDIA GPU (<c>ilgpu-cpu</c>, the parity
/// tests' emulator). This class checks layouts, builds the kernels' layout arguments and picks launch geometry; the
/// kernels do the work.
/// <para>Execution: all work is queued on the accelerator's default stream, in call order. Calls are serialised by a
/// lock (the stream is shared) and bind the accelerator to the calling thread, so any thread may use the backend.
/// Sync points are <see cref="Synchronize"/>, <see cref="Download"/> and <see cref="Upload"/> (ILGPU's host copies
/// wait for the stream).</para>
/// <para>Invalid indices (and float → Int32 casts of NaN or out-of-range values) are not checked on the host, which
/// would need a download and a sync per op: kernels clamp them, so memory stays safe, and record the first one in an
/// error buffer (see <see cref="KernelErrors"/>). The next sync point throws <see cref="IndexOutOfRangeException"/>
/// (or <see cref="OverflowException"/>) naming the op, position and value; the failing op's output is undefined, as
/// with out-of-range indices in CUDA PyTorch.</para>
/// </summary>
public sealed partial class IlgpuBackend : IBackend
{
    readonly Accelerator _acc;
    readonly IlgpuAllocator _allocator;
    readonly IlgpuKernels _k;
    readonly Lock _gate = new();
    readonly MemoryBuffer1D<int, Stride1D.Dense> _errors;
    bool _errorsPending;
    readonly int _maxExtent;

    /// <summary>Below this row length (and for inner &gt; 1) reductions, softmax and arg-reductions run one thread per
    /// output instead of one group per row.</summary>
    internal const int RowKernelMinLength = 32;

    internal IlgpuBackend(Device device, Accelerator accelerator, bool ownsAccelerator = false)
    {
        Device = device;
        _ownsAccelerator = ownsAccelerator;
        _acc = accelerator;
        _allocator = new IlgpuAllocator(accelerator, device);
        _k = new IlgpuKernels(accelerator);
        GemmChoice = IsEmulator ? GemmKernel.Naive : GemmKernel.Tiled;
        _maxExtent = IsEmulator ? 32 : Math.Max(1, accelerator.NumMultiprocessors * accelerator.MaxNumThreadsPerMultiprocessor);
        using (_acc.BindScoped())
        {
            _errors = _acc.Allocate1D<int>(KernelErrors.Words);
            _errors.View.MemSetToZero(_acc.DefaultStream);
            _acc.Synchronize();
        }
    }

    /// <summary>Creates the backend of an ILGPU device (called once per device by <see cref="Backends"/>).</summary>
    internal static IlgpuBackend Create(Device device) => new(device, IlgpuRuntime.CreateAccelerator(device));

    /// <summary>
    /// Tests: a private emulator backend on its own CPU accelerator, not registered with <see cref="Backends"/> (its
    /// tensors must be made with its <see cref="Allocate"/> and used through its methods only). Lets a test run wide
    /// groups (the 256-thread GEMM tile) without slowing down the shared emulator. Dispose it when done.
    /// </summary>
    internal static IlgpuBackend CreateIsolatedEmulator() => new(Device.IlgpuCpu, IlgpuRuntime.CreateAccelerator(Device.IlgpuCpu), ownsAccelerator: true);

    readonly bool _ownsAccelerator;

    /// <summary>Releases an isolated backend's accelerator (and its threads). Registered backends live as long as the process.</summary>
    internal void DisposeIsolated()
    {
        if (!_ownsAccelerator) throw new InvalidOperationException($"{Device}: only isolated backends can be disposed");
        lock (_gate)
        {
            _acc.Synchronize();
            _allocator.EmptyCache();
            _errors.Dispose();
            _acc.Dispose();
        }
    }

    public Device Device { get; }

    /// <summary>The ILGPU accelerator (its name, warp size, group limits).</summary>
    public Accelerator Accelerator => _acc;

    /// <summary>True on ILGPU's CPU accelerator (the emulator), false on a GPU.</summary>
    internal bool IsEmulator => _acc.AcceleratorType == AcceleratorType.CPU;

    /// <summary>Tests: forces the group size of the one-group-per-row kernels (any size from 1 to 1024).</summary>
    internal int? RowGroupSizeOverride { get; set; }

    /// <summary>Which GEMM kernel <see cref="Matmul"/> runs. GPU: the tiled kernel. Emulator: the naive one, because
    /// the emulator starts one OS thread per group thread and keeps them: after one 256-thread tiled launch every later
    /// launch of the process wakes 256 threads, which makes everything else several times slower. The parity tests
    /// check the tiled kernel on an isolated emulator instance (<see cref="CreateIsolatedEmulator"/>).</summary>
    internal GemmKernel GemmChoice { get; set; }

    internal enum GemmKernel { Tiled, Naive }

    public MemoryStats MemoryStats => _allocator.Stats;

    /// <summary>Frees the cached (unused) device buffers.</summary>
    public void EmptyCache()
    {
        lock (_gate) _allocator.EmptyCache();
    }

    public void ResetPeakMemoryStats() => _allocator.ResetPeak();

    public Storage Allocate(int length)
    {
        if (length < 0) throw new ArgumentOutOfRangeException(nameof(length), $"allocate: negative length {length}");
        lock (_gate)
        {
            _acc.Bind();
            return new IlgpuStorage(Device, length, _allocator.Rent(length), _allocator);
        }
    }

    /// <summary>Waits for all queued work (a sync point), then reports any error a kernel recorded.</summary>
    public void Synchronize()
    {
        lock (_gate)
        {
            _acc.Bind();
            _acc.Synchronize();
            CheckErrors();
        }
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    AcceleratorStream Stream => _acc.DefaultStream;

    IlgpuStorage StorageOf(Tensor t, string op)
    {
        if (t.Storage is IlgpuStorage s && s.Allocator == _allocator) return s;
        if (t.device == Device)
            throw new InvalidOperationException($"{op}: {t.Describe()} belongs to another {Device} backend instance (an isolated test emulator?)");
        throw new InvalidOperationException($"{op}: {t.Describe()} is on {t.device}, expected {Device}");
    }

    /// <summary>The whole buffer of <paramref name="t"/> (for kernels that take a layout with the offset).</summary>
    ArrayView<float> Whole(Tensor t, string op) => StorageOf(t, op).View;

    /// <summary>The elements of a contiguous tensor as a dense view; throws naming the op otherwise (an op-layer bug).</summary>
    ArrayView1D<float, Stride1D.Dense> Contig(Tensor t, string op)
    {
        var s = StorageOf(t, op);
        if (!t.is_contiguous())
            throw new InvalidOperationException($"{op}: ilgpu backend expects a contiguous {t.Describe()} (strides {Shape.Format(t.StrideSpan)})");
        return s.Buffer.View.SubView(t.Offset, t.NumEl);
    }

    ArrayView<int> ContigInt(Tensor t, string op) => ((ArrayView<float>)Contig(t, op)).Cast<int>();

    /// <summary>A placeholder view for absent optional operands (never read by the kernels).</summary>
    ArrayView<float> Placeholder => ((ArrayView<int>)_errors.View).Cast<float>();

    static void SameShape(Tensor a, Tensor b, string op)
    {
        if (!Shape.SameShape(a.ShapeSpan, b.ShapeSpan))
            throw new ArgumentException($"{op}: shapes {Shape.Format(a.ShapeSpan)} and {Shape.Format(b.ShapeSpan)} differ");
    }

    static void CheckCount(Tensor t, long expected, string op, string what)
    {
        if (t.NumEl != expected)
            throw new ArgumentException($"{op}: {what} {t.Describe()} has {t.NumEl} elements, expected {expected}");
    }

    /// <summary>Layouts for operands iterated together over <paramref name="shape"/>: the dimensions every operand can
    /// walk as one are merged first (Shape.Coalesce), so a contiguous operand costs one division per element.</summary>
    static StridedLayout[] Layouts(ReadOnlySpan<int> shape, params Tensor[] operands)
    {
        var strides = new int[operands.Length][];
        for (int k = 0; k < operands.Length; k++) strides[k] = operands[k].StrideArray;
        var (cs, cstr) = Shape.Coalesce(shape, strides);
        var result = new StridedLayout[operands.Length];
        for (int k = 0; k < operands.Length; k++) result[k] = StridedLayout.Create(cs, cstr[k], operands[k].Offset);
        return result;
    }

    static StridedLayout Layout(Tensor t) => Layouts(t.ShapeSpan, t)[0];

    /// <summary>
    /// The group size of the one-group-per-row kernels. GPU: a power of two from 32 to 256 covering the row.
    /// Emulator: 1. Every emulated group thread is an OS thread, each group barrier wakes all of them, and once a
    /// launch has used G threads every later launch of that accelerator wakes G threads; measured with the spirals
    /// demo (fsr demo --device ilgpu-cpu): 1.8 steps/s at G = 1, 0.8 at 2, 0.3 at 4, 0.05 at 32. The kernels are
    /// written for any group size, and the parity tests run each of them at 1, 3, 32 and 37 threads on an isolated
    /// emulator instance (<see cref="CreateIsolatedEmulator"/>), so the shared emulator can stay fast.
    /// </summary>
    int RowGroupSize(int rowLength)
    {
        if (RowGroupSizeOverride is int forced) return forced;
        if (IsEmulator) return 1;
        int size = 32;
        while (size < rowLength && size < 256) size <<= 1;
        return size;
    }

    /// <summary>The launch extent of a grid-stride kernel over <paramref name="work"/> items: all of them, up to what the
    /// device runs at once (GPU: multiprocessors × threads per multiprocessor). On the emulator every launched item is
    /// scheduled like a thread (a barrier per item), so it launches one warp's worth (32) and lets each loop.</summary>
    int Grid(int work)
    {
        if (work > int.MaxValue - _maxExtent)   // i + step must not overflow in the kernels' loops
            throw new NotSupportedException($"{Device}: {work} work items exceed what one grid-stride launch can index");
        return Math.Min(work, _maxExtent);
    }

    KernelConfig RowConfig(int rows, int rowLength) => new(rows, RowGroupSize(rowLength));

    void CheckErrors()
    {
        if (!_errorsPending) return;
        _errorsPending = false;
        Span<int> words = stackalloc int[KernelErrors.Words];
        _errors.View.CopyToCPU(Stream, words);   // sync point (the stream was already synchronised by the caller)
        if (words[0] == KernelErrors.None) return;
        _errors.View.MemSetToZero(Stream);
        _acc.Synchronize();
        int op = words[0], position = words[1], value = words[2], limit = words[3];
        if (op == KernelErrors.CastToInt32)
            throw new OverflowException(
                $"cast to Int32: value {BitConverter.Int32BitsToSingle(value)} at element {position} is not representable " +
                $"(found on {Device}; reported at this sync point, the cast's output is invalid)");
        throw new IndexOutOfRangeException(
            $"{KernelErrors.OpName(op)}: index {value} at position {position} is out of range for a dimension of size {limit} " +
            $"(found on {Device}; reported at this sync point, the op's output is invalid)");
    }

    // ---- transfers ----------------------------------------------------------------------------------------------

    public void Upload(ReadOnlySpan<float> host, Tensor dst)
    {
        if (host.Length != dst.NumEl) throw new ArgumentException($"upload: {host.Length} host values for {dst.NumEl} elements");
        lock (_gate)
        {
            _acc.Bind();
            var view = Contig(dst, "upload");
            if (host.Length == 0) return;
            view.CopyFromCPU(Stream, host);   // sync point: ILGPU waits for the stream before the host memory may go
        }
    }

    public void Download(Tensor src, Span<float> host)
    {
        if (host.Length != src.NumEl) throw new ArgumentException($"download: {host.Length} host slots for {src.NumEl} elements");
        lock (_gate)
        {
            _acc.Bind();
            int n = src.NumEl;
            var storage = StorageOf(src, "download");
            if (n == 0)
            {
                _acc.Synchronize();
                CheckErrors();
                return;
            }
            if (src.is_contiguous())
            {
                storage.Buffer.View.SubView(src.Offset, n).CopyToCPU(Stream, host);   // sync point: waits for the stream
            }
            else
            {
                // A strided view: gather it into a contiguous temporary on the device, then one copy to the host.
                var temp = _allocator.Rent(n);
                try
                {
                    var lay = Layouts(src.ShapeSpan, src)[0];
                    var dense = StridedLayout.Create([n], [1], 0);
                    _k.CopyStrided(Grid(n), n, Grid(n), storage.View, lay, temp.View, dense);
                    temp.View.SubView(0, n).CopyToCPU(Stream, host);   // sync point: waits for the gather kernel
                }
                finally
                {
                    _allocator.Return(temp);   // safe: the stream is idle after the synchronous copy
                }
            }
            CheckErrors();
        }
    }

    // ---- data movement ------------------------------------------------------------------------------------------

    public void Fill(Tensor dst, float value)
    {
        lock (_gate)
        {
            _acc.Bind();
            int n = dst.NumEl;
            var s = StorageOf(dst, "fill");
            if (n == 0) return;
            if (dst.is_contiguous()) _k.FillContiguous(Grid(n), n, Grid(n), s.Buffer.View.SubView(dst.Offset, n), value);
            else _k.FillStrided(Grid(n), n, Grid(n), s.View, Layout(dst), value);
        }
    }

    public void Copy(Tensor src, Tensor dst)
    {
        SameShape(src, dst, "copy");
        lock (_gate)
        {
            _acc.Bind();
            int n = dst.NumEl;
            var ss = StorageOf(src, "copy");
            var ds = StorageOf(dst, "copy");
            if (n == 0) return;
            if (src.is_contiguous() && dst.is_contiguous())
            {
                ss.Buffer.View.SubView(src.Offset, n).CopyTo(Stream, ds.Buffer.View.SubView(dst.Offset, n));   // device memcpy, queued
                return;
            }
            var l = Layouts(dst.ShapeSpan, src, dst);
            _k.CopyStrided(Grid(n), n, Grid(n), ss.View, l[0], ds.View, l[1]);
        }
    }

    public void Cast(Tensor src, Tensor dst)
    {
        SameShape(src, dst, "cast");
        if (src.DType == dst.DType)
        {
            Copy(src, dst);
            return;
        }
        lock (_gate)
        {
            _acc.Bind();
            int n = dst.NumEl;
            var s = StorageOf(src, "cast");
            var d = Contig(dst, "cast");
            if (n == 0) return;
            var l = Layout(src);
            if (src.DType == DType.Int32) _k.CastInt32ToFloat(Grid(n), n, Grid(n), s.View.Cast<int>(), l, d);
            else
            {
                _k.CastFloatToInt32(Grid(n), n, Grid(n), s.View, l, ((ArrayView<float>)d).Cast<int>(), _errors.View);
                _errorsPending = true;
            }
        }
    }

    // ---- elementwise --------------------------------------------------------------------------------------------

    public void Unary(UnaryOp op, Tensor x, Tensor y, float a, float b)
    {
        SameShape(x, y, op.ToString());
        lock (_gate)
        {
            _acc.Bind();
            var yv = Contig(y, op.ToString());
            int n = y.NumEl;
            var xs = StorageOf(x, op.ToString());
            if (n == 0) return;
            if (x.is_contiguous()) _k.UnaryContiguous(Grid(n), n, Grid(n), xs.Buffer.View.SubView(x.Offset, n), yv, op, a, b);
            else _k.UnaryStrided(Grid(n), n, Grid(n), xs.View, Layout(x), yv, op, a, b);
        }
    }

    public void UnaryBackward(UnaryOp op, Tensor x, Tensor y, Tensor gy, Tensor gx, float a, float b)
    {
        string name = op + "_backward";
        SameShape(x, gx, name); SameShape(y, gx, name); SameShape(gy, gx, name);
        lock (_gate)
        {
            _acc.Bind();
            var xv = Contig(x, name); var yv = Contig(y, name); var gyv = Contig(gy, name); var gxv = Contig(gx, name);
            int n = gx.NumEl;
            if (n == 0) return;
            _k.UnaryBackward(Grid(n), n, Grid(n), xv, yv, gyv, gxv, op, a, b);
        }
    }

    public void Binary(BinaryOp op, Tensor a, Tensor b, Tensor y)
    {
        string name = op.ToString();
        SameShape(a, y, name);
        SameShape(b, y, name);
        lock (_gate)
        {
            _acc.Bind();
            var yv = Contig(y, name);
            var sa = StorageOf(a, name); var sb = StorageOf(b, name);
            int n = y.NumEl;
            if (n == 0) return;
            if (a.is_contiguous() && b.is_contiguous())
                _k.BinaryContiguous(Grid(n), n, Grid(n), sa.Buffer.View.SubView(a.Offset, n), sb.Buffer.View.SubView(b.Offset, n), yv, op);
            else
            {
                var l = Layouts(y.ShapeSpan, a, b);
                _k.BinaryStrided(Grid(n), n, Grid(n), sa.View, l[0], sb.View, l[1], yv, op);
            }
        }
    }

    public void Where(Tensor cond, Tensor a, Tensor b, Tensor y)
    {
        SameShape(cond, y, "where"); SameShape(a, y, "where"); SameShape(b, y, "where");
        lock (_gate)
        {
            _acc.Bind();
            var yv = Contig(y, "where");
            var sc = StorageOf(cond, "where"); var sa = StorageOf(a, "where"); var sb = StorageOf(b, "where");
            int n = y.NumEl;
            if (n == 0) return;
            if (cond.is_contiguous() && a.is_contiguous() && b.is_contiguous())
                _k.WhereContiguous(Grid(n), n, Grid(n), sc.Buffer.View.SubView(cond.Offset, n), sa.Buffer.View.SubView(a.Offset, n),
                    sb.Buffer.View.SubView(b.Offset, n), yv);
            else
            {
                var l = Layouts(y.ShapeSpan, cond, a, b);
                _k.WhereStrided(Grid(n), n, Grid(n), sc.View, l[0], sa.View, l[1], sb.View, l[2], yv);
            }
        }
    }

    // ---- reductions ---------------------------------------------------------------------------------------------

    static void CheckBlock(Tensor x, Tensor y, int outer, int r, int inner, string op)
    {
        if (outer < 0 || r < 0 || inner < 0) throw new ArgumentException($"{op}: negative block ({outer}, {r}, {inner})");
        CheckCount(x, (long)outer * r * inner, op, "input");
        CheckCount(y, (long)outer * inner, op, "output");
    }

    public void Reduce(ReduceOp op, Tensor x, int outer, int r, int inner, Tensor y)
    {
        string name = op.ToString();
        CheckBlock(x, y, outer, r, inner, name);
        lock (_gate)
        {
            _acc.Bind();
            var xv = Contig(x, name); var yv = Contig(y, name);
            int n = outer * inner;
            if (n == 0) return;
            if (inner == 1 && r >= RowKernelMinLength) _k.ReduceRows(RowConfig(outer, r), xv, yv, outer, r, op);
            else _k.ReduceColumns(Grid(n), n, Grid(n), xv, yv, r, inner, op);
        }
    }

    public void ArgReduce(bool max, Tensor x, int outer, int r, int inner, Tensor values, Tensor indices)
    {
        string name = max ? "argmax" : "argmin";
        if (r == 0) throw new ArgumentException($"{name}: cannot reduce over an empty dimension");
        CheckBlock(x, values, outer, r, inner, name);
        CheckCount(indices, (long)outer * inner, name, "indices");
        lock (_gate)
        {
            _acc.Bind();
            var xv = Contig(x, name); var vv = Contig(values, name); var iv = ContigInt(indices, name);
            int n = outer * inner;
            if (n == 0) return;
            if (inner == 1 && r >= RowKernelMinLength) _k.ArgReduceRows(RowConfig(outer, r), xv, vv, iv, outer, r, max ? 1 : 0);
            else _k.ArgReduceColumns(Grid(n), n, Grid(n), xv, vv, iv, r, inner, max ? 1 : 0);
        }
    }

    public void Variance(Tensor x, int outer, int r, int inner, float correction, Tensor variance, Tensor mean)
    {
        CheckBlock(x, variance, outer, r, inner, "var");
        CheckCount(mean, (long)outer * inner, "var", "mean");
        lock (_gate)
        {
            _acc.Bind();
            var xv = Contig(x, "var"); var vv = Contig(variance, "var"); var mv = Contig(mean, "var");
            int n = outer * inner;
            if (n == 0) return;
            if (inner == 1 && r >= RowKernelMinLength) _k.VarianceRows(RowConfig(outer, r), xv, vv, mv, outer, r, correction);
            else _k.VarianceColumns(Grid(n), n, Grid(n), xv, vv, mv, r, inner, correction);
        }
    }

    // ---- matmul -------------------------------------------------------------------------------------------------

    public void Matmul(in MatmulArgs p)
    {
        const string name = "matmul";
        int batch = p.BatchCount;
        if (p.BatchStridesA.Length != p.BatchShape.Length || p.BatchStridesB.Length != p.BatchShape.Length)
            throw new ArgumentException($"{name}: batch shape {Shape.Format(p.BatchShape)} with {p.BatchStridesA.Length} and {p.BatchStridesB.Length} batch strides");
        if (p.Beta != 0f && p.Beta != 1f) throw new ArgumentException($"{name}: beta must be 0 or 1, got {p.Beta}");
        CheckCount(p.C, (long)batch * p.M * p.N, name, "C");
        lock (_gate)
        {
            _acc.Bind();
            var cv = Contig(p.C, name);
            var sa = StorageOf(p.A, name); var sb = StorageOf(p.B, name);
            if (batch == 0 || p.M == 0 || p.N == 0) return;
            if (TryPtxMatmul(p, name)) return;   // the TF32 PTX GEMM when selected and allowed (IlgpuBackend.Ptx.cs)
            StridedLayout la, lb;
            if (p.BatchShape.Length == 0)
            {
                la = StridedLayout.Create([], [], p.A.Offset);
                lb = StridedLayout.Create([], [], p.B.Offset);
            }
            else
            {
                // Merge batch dimensions where both operands allow it (C is contiguous, so its batch index is linear).
                var (bs, bstr) = Shape.Coalesce(p.BatchShape, p.BatchStridesA, p.BatchStridesB);
                la = StridedLayout.Create(bs, bstr[0], p.A.Offset);
                lb = StridedLayout.Create(bs, bstr[1], p.B.Offset);
            }
            var shape = new GemmShape
            {
                M = p.M, N = p.N, K = p.K, Lda = p.Lda, Ldb = p.Ldb,
                TransA = p.TransA ? 1 : 0, TransB = p.TransB ? 1 : 0,
                Alpha = p.Alpha, Beta = p.Beta, Batch = batch,
            };
            if (GemmChoice == GemmKernel.Naive)
            {
                int total = batch * p.M * p.N;
                _k.GemmNaive(Grid(total), total, Grid(total), sa.View, la, sb.View, lb, cv, shape);
            }
            else
            {
                long groups = (long)GpuMath.DivUp(p.N, MatmulKernels.TileN) * GpuMath.DivUp(p.M, MatmulKernels.TileM) * batch;
                if (groups > int.MaxValue) throw new NotSupportedException($"{name}: {groups} tiles exceed one launch");
                _k.GemmTiled(new KernelConfig((int)groups, MatmulKernels.Threads), sa.View, la, sb.View, lb, cv, shape);
            }
        }
    }

    // ---- normalisation ------------------------------------------------------------------------------------------

    public void Softmax(Tensor x, Tensor y, int outer, int l, int inner, bool log)
    {
        const string name = "softmax";
        CheckCount(x, (long)outer * l * inner, name, "input");
        SameShape(x, y, name);
        lock (_gate)
        {
            _acc.Bind();
            var xv = Contig(x, name); var yv = Contig(y, name);
            int n = outer * inner;
            if (n == 0 || l == 0) return;
            if (inner == 1 && l >= RowKernelMinLength) _k.SoftmaxRows(RowConfig(outer, l), xv, yv, outer, l, log ? 1 : 0);
            else _k.SoftmaxColumns(Grid(n), n, Grid(n), xv, yv, l, inner, log ? 1 : 0);
        }
    }

    public void SoftmaxBackward(Tensor y, Tensor gy, Tensor gx, int outer, int l, int inner, bool log)
    {
        const string name = "softmax_backward";
        CheckCount(y, (long)outer * l * inner, name, "output");
        SameShape(y, gy, name); SameShape(y, gx, name);
        lock (_gate)
        {
            _acc.Bind();
            var yv = Contig(y, name); var gyv = Contig(gy, name); var gxv = Contig(gx, name);
            int n = outer * inner;
            if (n == 0 || l == 0) return;
            if (inner == 1 && l >= RowKernelMinLength) _k.SoftmaxBackwardRows(RowConfig(outer, l), yv, gyv, gxv, outer, l, log ? 1 : 0);
            else _k.SoftmaxBackwardColumns(Grid(n), n, Grid(n), yv, gyv, gxv, l, inner, log ? 1 : 0);
        }
    }

    public void LayerNorm(Tensor x, Tensor? gamma, Tensor? beta, Tensor y, Tensor mean, Tensor rstd, int rows, int c, float eps)
    {
        const string name = "layer_norm";
        CheckCount(x, (long)rows * c, name, "input");
        SameShape(x, y, name);
        CheckCount(mean, rows, name, "mean");
        CheckCount(rstd, rows, name, "rstd");
        if (gamma is not null) CheckCount(gamma, c, name, "weight");
        if (beta is not null) CheckCount(beta, c, name, "bias");
        lock (_gate)
        {
            _acc.Bind();
            var xv = Contig(x, name); var yv = Contig(y, name); var mv = Contig(mean, name); var rv = Contig(rstd, name);
            ArrayView<float> gv = gamma is null ? Placeholder : Contig(gamma, name);
            ArrayView<float> bv = beta is null ? Placeholder : Contig(beta, name);
            if (rows == 0 || c == 0) return;
            _k.LayerNormRows(RowConfig(rows, c), xv, gv, bv, yv, mv, rv, rows, c, eps, gamma is null ? 0 : 1, beta is null ? 0 : 1);
        }
    }

    public void LayerNormBackward(Tensor x, Tensor? gamma, Tensor mean, Tensor rstd, Tensor gy, Tensor gx, Tensor? gGamma, Tensor? gBeta, int rows, int c)
    {
        const string name = "layer_norm_backward";
        CheckCount(x, (long)rows * c, name, "input");
        SameShape(x, gy, name); SameShape(x, gx, name);
        CheckCount(mean, rows, name, "mean");
        CheckCount(rstd, rows, name, "rstd");
        if (gamma is not null) CheckCount(gamma, c, name, "weight");
        if (gGamma is not null) CheckCount(gGamma, c, name, "weight gradient");
        if (gBeta is not null) CheckCount(gBeta, c, name, "bias gradient");
        lock (_gate)
        {
            _acc.Bind();
            var xv = Contig(x, name); var mv = Contig(mean, name); var rv = Contig(rstd, name);
            var gyv = Contig(gy, name); var gxv = Contig(gx, name);
            ArrayView<float> gv = gamma is null ? Placeholder : Contig(gamma, name);
            ArrayView<float> ggv = gGamma is null ? Placeholder : Contig(gGamma, name);
            ArrayView<float> gbv = gBeta is null ? Placeholder : Contig(gBeta, name);
            if (c == 0) return;
            if (rows > 0) _k.LayerNormBackwardRows(RowConfig(rows, c), xv, gv, mv, rv, gyv, gxv, rows, c, gamma is null ? 0 : 1);
            if (gGamma is not null || gBeta is not null)   // also for rows == 0: the gradients are then zeros
                _k.LayerNormParamGrads(Grid(c), c, Grid(c), xv, mv, rv, gyv, ggv, gbv, rows, gGamma is null ? 0 : 1, gBeta is null ? 0 : 1);
        }
    }

    // ---- indexing -----------------------------------------------------------------------------------------------

    public void IndexSelect(Tensor src, Tensor index, Tensor dst, int outer, int n, int inner)
    {
        const string name = "index_select";
        int k = index.NumEl;
        CheckCount(src, (long)outer * n * inner, name, "source");
        CheckCount(dst, (long)outer * k * inner, name, "destination");
        lock (_gate)
        {
            _acc.Bind();
            var sv = Contig(src, name); var iv = ContigInt(index, name); var dv = Contig(dst, name);
            int total = outer * k * inner;
            if (total > 0) _k.IndexSelect(Grid(total), total, Grid(total), sv, iv, dv, n, k, inner, _errors.View);
            else if (k > 0) _k.CheckRange(Grid(k), k, Grid(k), iv, n, KernelErrors.IndexSelect, _errors.View);
            if (k > 0) _errorsPending = true;
        }
    }

    public void IndexAdd(Tensor dst, Tensor index, Tensor src, int outer, int n, int inner)
    {
        const string name = "index_add";
        int k = index.NumEl;
        CheckCount(dst, (long)outer * n * inner, name, "destination");
        CheckCount(src, (long)outer * k * inner, name, "source");
        lock (_gate)
        {
            _acc.Bind();
            var dv = Contig(dst, name); var iv = ContigInt(index, name); var sv = Contig(src, name);
            int columns = outer * inner;
            if (k == 0) return;
            if (columns > 0) _k.IndexAdd(Grid(columns), columns, Grid(columns), dv, iv, sv, n, k, inner, _errors.View);
            else _k.CheckRange(Grid(k), k, Grid(k), iv, n, KernelErrors.IndexAdd, _errors.View);
            _errorsPending = true;
        }
    }

    public void Gather(Tensor src, Tensor index, Tensor dst, int outer, int n, int k, int inner)
    {
        const string name = "gather";
        CheckCount(src, (long)outer * n * inner, name, "source");
        CheckCount(index, (long)outer * k * inner, name, "index");
        CheckCount(dst, (long)outer * k * inner, name, "destination");
        lock (_gate)
        {
            _acc.Bind();
            var sv = Contig(src, name); var iv = ContigInt(index, name); var dv = Contig(dst, name);
            int total = outer * k * inner;
            if (total == 0) return;
            _k.Gather(Grid(total), total, Grid(total), sv, iv, dv, n, k, inner, _errors.View);
            _errorsPending = true;
        }
    }

    public void ScatterAdd(Tensor dst, Tensor index, Tensor src, int outer, int n, int k, int inner)
    {
        const string name = "scatter_add";
        CheckCount(dst, (long)outer * n * inner, name, "destination");
        CheckCount(index, (long)outer * k * inner, name, "index");
        CheckCount(src, (long)outer * k * inner, name, "source");
        lock (_gate)
        {
            _acc.Bind();
            var dv = Contig(dst, name); var iv = ContigInt(index, name); var sv = Contig(src, name);
            int columns = outer * inner;
            if (columns == 0 || k == 0) return;
            _k.ScatterAdd(Grid(columns), columns, Grid(columns), dv, iv, sv, n, k, inner, _errors.View);
            _errorsPending = true;
        }
    }

    public void OneHot(Tensor index, Tensor dst, int classes)
    {
        const string name = "one_hot";
        int count = index.NumEl;
        CheckCount(dst, (long)count * classes, name, "destination");
        lock (_gate)
        {
            _acc.Bind();
            var iv = ContigInt(index, name); var dv = Contig(dst, name);
            if (count == 0) return;
            int total = count * classes;
            if (total > 0) _k.OneHot(Grid(total), total, Grid(total), iv, dv, classes, _errors.View);
            else _k.CheckRange(Grid(count), count, Grid(count), iv, classes, KernelErrors.OneHot, _errors.View);
            _errorsPending = true;
        }
    }

    // ---- random -------------------------------------------------------------------------------------------------

    public void RandomUniform(Tensor dst, ulong seed, ulong stream, float low, float high)
    {
        lock (_gate)
        {
            _acc.Bind();
            var d = Contig(dst, "uniform");
            int n = dst.NumEl;
            if (n == 0) return;
            float scale = high - low;   // as the CPU backend computes it
            _k.Uniform(Grid(n), n, Grid(n), d, seed, stream, low, scale);
        }
    }

    public void RandomNormal(Tensor dst, ulong seed, ulong stream, float mean, float std)
    {
        lock (_gate)
        {
            _acc.Bind();
            var d = Contig(dst, "normal");
            int n = dst.NumEl;
            if (n == 0) return;
            _k.Normal(Grid(n), n, Grid(n), d, seed, stream, mean, std);
        }
    }

    public override string ToString() => $"IlgpuBackend({Device}: {_acc.Name}, warp {_acc.WarpSize})";
}
