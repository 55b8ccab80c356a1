using System.Runtime.InteropServices;

namespace FsrNative;

/// <summary>A CUDA driver call that failed: the function, the CUresult (number and name), the driver's description,
/// the kernel or module it concerned, and for a module load the JIT error log.</summary>
public sealed class CudaDriverException : InvalidOperationException
{
    public CudaDriverException(string function, int code, string errorName, string kernel, string message)
        : base(message)
    {
        Function = function;
        Code = code;
        ErrorName = errorName;
        Kernel = kernel;
    }

    /// <summary>The driver API function that failed, e.g. <c>cuLaunchKernel</c>.</summary>
    public string Function { get; }
    /// <summary>The CUresult.</summary>
    public int Code { get; }
    /// <summary>The CUresult's name, e.g. <c>CUDA_ERROR_INVALID_PTX</c>.</summary>
    public string ErrorName { get; }
    /// <summary>The kernel (entry function) or PTX file the call concerned.</summary>
    public string Kernel { get; }
}

/// <summary>
/// The six CUDA driver API functions the hand-written PTX kernels need (module load with the JIT logs, function lookup,
/// launch, unload, error name and description), bound through <see cref="NativeLibrary"/> to the same driver library
/// ILGPU uses (<c>libcuda.so.1</c> first: see <see cref="CudaInfo.LibraryNames"/>). The driver's state — the current
/// context ILGPU's <c>Accelerator.Bind()</c> sets, its streams and allocations — is per process, so modules loaded
/// here run on ILGPU's context and stream with ILGPU's buffers. Why our own binding and not ILGPU's <c>CudaAPI</c>:
/// docs/gpu.md, "Hand-written PTX".
/// </summary>
internal sealed unsafe class CudaDriver
{
    readonly delegate* unmanaged<IntPtr*, byte*, uint, int*, void**, int> _moduleLoadDataEx;
    readonly delegate* unmanaged<IntPtr*, IntPtr, byte*, int> _moduleGetFunction;
    readonly delegate* unmanaged<IntPtr, uint, uint, uint, uint, uint, uint, uint, IntPtr, void**, void**, int> _launchKernel;
    readonly delegate* unmanaged<IntPtr, int> _moduleUnload;
    readonly delegate* unmanaged<int, byte**, int> _getErrorName;
    readonly delegate* unmanaged<int, byte**, int> _getErrorString;

    /// <summary>The library the functions come from (e.g. <c>libcuda.so.1</c>).</summary>
    public string Library { get; }

    CudaDriver(string library, IntPtr handle)
    {
        Library = library;
        _moduleLoadDataEx = (delegate* unmanaged<IntPtr*, byte*, uint, int*, void**, int>)Export(handle, library, "cuModuleLoadDataEx");
        _moduleGetFunction = (delegate* unmanaged<IntPtr*, IntPtr, byte*, int>)Export(handle, library, "cuModuleGetFunction");
        _launchKernel = (delegate* unmanaged<IntPtr, uint, uint, uint, uint, uint, uint, uint, IntPtr, void**, void**, int>)Export(handle, library, "cuLaunchKernel");
        _moduleUnload = (delegate* unmanaged<IntPtr, int>)Export(handle, library, "cuModuleUnload");
        _getErrorName = (delegate* unmanaged<int, byte**, int>)Export(handle, library, "cuGetErrorName");
        _getErrorString = (delegate* unmanaged<int, byte**, int>)Export(handle, library, "cuGetErrorString");
    }

    static IntPtr Export(IntPtr handle, string library, string name)
        => NativeLibrary.TryGetExport(handle, name, out var p) ? p
            : throw new InvalidOperationException($"PTX kernels: the CUDA driver library {library} does not export {name}");

    static readonly Lock Gate = new();
    static CudaDriver? _shared;

    /// <summary>The process's binding, loaded on first use from <see cref="CudaInfo.LibraryNames"/>.</summary>
    /// <exception cref="InvalidOperationException">No driver library could be loaded (the message lists what was tried).</exception>
    public static CudaDriver Shared
    {
        get
        {
            lock (Gate) return _shared ??= Open(CudaInfo.LibraryNames);
        }
    }

    /// <summary>Loads the first of <paramref name="libraryNames"/> that loads; throws naming every name tried and why.</summary>
    public static CudaDriver Open(IEnumerable<string> libraryNames)
    {
        var tried = new List<string>();
        foreach (var name in libraryNames)
        {
            if (NativeLibrary.TryLoad(name, out var handle)) return new CudaDriver(name, handle);
            tried.Add($"{name}: not found");
        }
        throw new InvalidOperationException("PTX kernels: the CUDA driver library (libcuda) could not be loaded, so the " +
            $"hand-written PTX kernels cannot be loaded or launched (tried {string.Join(", ", tried)}). Install the NVIDIA " +
            "driver, or run with FSR_GPU_KERNELS=ilgpu.");
    }

    /// <summary>"700 CUDA_ERROR_ILLEGAL_ADDRESS (an illegal memory access was encountered)".</summary>
    public (string Name, string Description) Describe(int code)
    {
        byte* s = null;
        string name = _getErrorName(code, &s) == 0 && s != null ? Marshal.PtrToStringUTF8((IntPtr)s) ?? "?" : "CUDA_ERROR_UNKNOWN_CODE";
        s = null;
        string text = _getErrorString(code, &s) == 0 && s != null ? Marshal.PtrToStringUTF8((IntPtr)s) ?? "" : "";
        return (name, text);
    }

    /// <summary>Throws <see cref="CudaDriverException"/> for a non-zero CUresult, naming the function, the error and the kernel.</summary>
    public void Check(int code, string function, string kernel, string? detail = null)
    {
        if (code == 0) return;
        var (name, text) = Describe(code);
        throw new CudaDriverException(function, code, name, kernel,
            $"{function} failed for {kernel}: {code} {name}{(text.Length > 0 ? $" ({text})" : "")}{(detail is null ? "" : "\n" + detail)}");
    }

    // CUjit_option values (cuda.h).
    const int JitInfoLogBuffer = 3, JitInfoLogBufferSizeBytes = 4, JitErrorLogBuffer = 5, JitErrorLogBufferSizeBytes = 6, JitLogVerbose = 12;
    const int LogBytes = 16 * 1024;

    /// <summary>cuModuleLoadDataEx of NUL-terminated PTX text into the current context, with the JIT's info and error
    /// logs; a failure throws with the error log. Returns the module and the JIT's info log.</summary>
    public (IntPtr Module, string InfoLog) LoadModule(string ptx, string what)
    {
        byte[] text = new byte[System.Text.Encoding.UTF8.GetByteCount(ptx) + 1];
        System.Text.Encoding.UTF8.GetBytes(ptx, text);
        byte[] info = new byte[LogBytes], error = new byte[LogBytes];
        int* options = stackalloc int[5] { JitInfoLogBuffer, JitInfoLogBufferSizeBytes, JitErrorLogBuffer, JitErrorLogBufferSizeBytes, JitLogVerbose };
        void** values = stackalloc void*[5];
        IntPtr module;
        int code;
        fixed (byte* pText = text, pInfo = info, pError = error)
        {
            values[0] = pInfo; values[1] = (void*)(nint)LogBytes;
            values[2] = pError; values[3] = (void*)(nint)LogBytes;
            values[4] = (void*)(nint)1;
            code = _moduleLoadDataEx(&module, pText, 5, options, values);
        }
        string infoLog = CString(info), errorLog = CString(error);
        Check(code, "cuModuleLoadDataEx", what, $"JIT error log: {(errorLog.Length > 0 ? errorLog : "(empty)")}");
        return (module, infoLog);
    }

    static string CString(byte[] b)
    {
        int n = Array.IndexOf(b, (byte)0);
        return System.Text.Encoding.UTF8.GetString(b, 0, n < 0 ? b.Length : n).Trim();
    }

    public IntPtr GetFunction(IntPtr module, string name, string file)
    {
        byte[] n = System.Text.Encoding.ASCII.GetBytes(name + "\0");
        IntPtr f;
        fixed (byte* p = n) Check(_moduleGetFunction(&f, module, p), "cuModuleGetFunction", $"{name} in kernels-ptx/{file}");
        return f;
    }

    public void Launch(IntPtr function, string kernel, (uint X, uint Y, uint Z) grid, (uint X, uint Y, uint Z) block,
        uint sharedBytes, IntPtr stream, void** args)
        => Check(_launchKernel(function, grid.X, grid.Y, grid.Z, block.X, block.Y, block.Z, sharedBytes, stream, args, null),
            "cuLaunchKernel", $"{kernel} (grid {grid.X}×{grid.Y}×{grid.Z}, block {block.X}×{block.Y}×{block.Z})");

    public void Unload(IntPtr module) => _moduleUnload(module);
}
