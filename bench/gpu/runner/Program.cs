using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FsrNative;
using FsrNative.Kernels.Gpu;
using FsrNative.Tests.Cuda;
using FsrNative.Tests.Infrastructure;
using ILGPU.Runtime.Cuda;

namespace FsrNative.GpuRunner;

using F = FsrNative.torch.nn.functional;

/// <summary>
/// fsr-gpu-runner: the Cuda checks and kernel timings on a GPU machine without .NET (published self-contained).
/// <code>
///   FsrNative.GpuRunner probe                      the CUDA driver and ILGPU's view of each device
///   FsrNative.GpuRunner checks [--filter S]        the Cuda checks on cuda:0 (FSR_CUDA_DEVICE) vs the CPU backend
///   FsrNative.GpuRunner bench [--json F] [--filter S] [--min-ms N]   time our kernels on the GPU
///   FsrNative.GpuRunner fsr-step [--device D] [--batch N] [--size S] [--dim/--depth/--heads …] [--steps N] [--json F]
///                                                  one FSR training iteration at the voc shape (FsrStepBench)
///   FsrNative.GpuRunner ptx [--isa 8.8]            compile every [GpuKernel] to PTX for sm_80 (no GPU needed)
///   FsrNative.GpuRunner dry-run                    what runs without a GPU: probe, lists, PTX, a check and every
///                                                  benchmark (fsr-step too) at a tiny shape on ILGPU's CPU accelerator
/// </code>
/// Exit code: 0 all passed, 1 a check failed, 2 no usable CUDA device (checks/bench), 3 bad arguments.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.WriteLine("usage: FsrNative.GpuRunner probe | checks [--filter S] | bench [--json FILE] [--filter S] [--min-ms N] | fsr-step [--device cuda|cpu|ilgpu-cpu] [--batch N] [--size S] [--dim D --depth L --heads H --patch P] [--block-size B] [--cam-scales 1,0.5,1.5] [--warmup N] [--steps N] [--dtype fp32|bf16] [--json FILE] | ptx [--isa X.Y] | dry-run | list");
            return args.Length == 0 ? 3 : 0;
        }
        string? Opt(string name) { int i = Array.IndexOf(args, name); return i >= 0 && i + 1 < args.Length ? args[i + 1] : null; }
        string? filter = Opt("--filter");
        try
        {
            switch (args[0])
            {
                case "probe": Console.WriteLine(CudaInfo.Report()); return 0;
                case "list": List(); return 0;
                case "checks": return RequireCuda() ?? RunChecks(CudaChecks.Target, filter);
                case "bench":
                    return RequireCuda() ?? RunBench(CudaChecks.Target, filter, Opt("--json"),
                        double.Parse(Opt("--min-ms") ?? "300", CultureInfo.InvariantCulture), smoke: false);
                case "fsr-step":
                {
                    var device = Opt("--device") is { } d ? Device.Parse(d) : CudaChecks.Target;
                    return (device.Type == DeviceType.Cuda ? RequireCuda() : null) ?? FsrStepBench.Run(device, FsrStepBench.Options.Parse(Opt), Opt("--json"));
                }
                case "ptx": return Ptx(Opt("--isa") ?? "8.8");
                case "dry-run": return DryRun(Opt("--json"));
                default: Console.Error.WriteLine($"unknown command '{args[0]}'"); return 3;
            }
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine($"error: {ex.GetType().Name}: {ex.Message}");
            return 1;
        }
    }

    static int? RequireCuda()
    {
        if (CudaChecks.SkipReason is not { } why) return null;
        Console.Error.WriteLine(why);
        Console.Error.WriteLine(CudaInfo.Report());
        return 2;
    }

    static void List()
    {
        Console.WriteLine($"{CudaChecks.All.Count} Cuda checks:");
        foreach (var (name, _) in CudaChecks.All) Console.WriteLine("  " + name);
        Console.WriteLine($"{PtxCudaChecks.All.Count} PTX checks (hand-written kernels forced, CUDA only):");
        foreach (var (name, _) in PtxCudaChecks.All) Console.WriteLine("  " + name);
        Console.WriteLine($"{Benchmarks.All.Count} benchmarks:");
        foreach (var b in Benchmarks.All) Console.WriteLine($"  {b.Name,-28} {b.Shape}");
    }

    // ---- checks ---------------------------------------------------------------------------------------------------------

    static int RunChecks(Device device, string? filter, IEnumerable<string>? only = null)
    {
        var backend = (IlgpuBackend)device.Backend;
        Console.WriteLine($"Cuda checks on {device}: {backend.Accelerator.Name} (CPU backend as reference)");
        int passed = 0, failed = 0;
        var total = Stopwatch.StartNew();
        bool Selected(string name) => (filter is null || name.Contains(filter, StringComparison.OrdinalIgnoreCase)) && (only is null || only.Contains(name));
        void Check(string name, Action body)
        {
            var sw = Stopwatch.StartNew();
            try
            {
                body();
                passed++;
                Console.WriteLine($"PASS  {name,-40} {sw.Elapsed.TotalSeconds,7:F2} s");
            }
            catch (Exception ex)
            {
                failed++;
                Console.WriteLine($"FAIL  {name,-40} {sw.Elapsed.TotalSeconds,7:F2} s");
                Console.WriteLine("      " + ex.Message.Replace("\n", "\n      "));
            }
        }
        foreach (var (name, body) in CudaChecks.All)
            if (Selected(name)) Check(name, () => FsrNative.Tests.Parity.ParityHarness.RunOn(device, body));
        // The hand-written PTX kernels (kernels-ptx/), forced: only on a CUDA device (they exist for nothing else).
        foreach (var (name, body) in PtxCudaChecks.All)
        {
            if (!Selected(name)) continue;
            if (device.Type != DeviceType.Cuda) { Console.WriteLine($"SKIP  {name,-40} (not a CUDA device)"); continue; }
            Check(name, () => body(device));
        }
        Console.WriteLine($"PTX kernel launches: {GpuKernels.Launches}");
        var stats = backend.MemoryStats;
        Console.WriteLine($"{passed} passed, {failed} failed in {total.Elapsed.TotalSeconds:F1} s; peak device memory {stats.PeakBytes / 1048576.0:F0} MiB");
        return failed == 0 ? 0 : 1;
    }

    // ---- benchmarks -----------------------------------------------------------------------------------------------------

    static int RunBench(Device device, string? filter, string? json, double minMs, bool smoke)
    {
        var backend = device.Backend;
        string name = backend is IlgpuBackend ib ? ib.Accelerator.Name : device.ToString();
        Console.WriteLine($"benchmarks on {device}: {name}{(smoke ? " (smoke: tiny shapes, 1 iteration)" : "")}");
        Console.WriteLine($"{"op",-28} {"shape",-34} {"ms",10} {"GFLOP/s",9} {"GB/s",8}");
        var results = new List<Dictionary<string, object>>();
        foreach (var b in Benchmarks.All)
        {
            if (filter is not null && !b.Name.Contains(filter, StringComparison.OrdinalIgnoreCase)) continue;
            try
            {
                double ms = b.Time(device, smoke, minMs);
                double gflops = b.Flops > 0 && !smoke ? b.Flops / (ms * 1e6) : double.NaN;
                double gbs = b.Bytes > 0 && !smoke ? b.Bytes / (ms * 1e6) : double.NaN;
                Console.WriteLine($"{b.Name,-28} {b.Shape,-34} {ms,10:F3} {Fmt(gflops),9} {Fmt(gbs),8}");
                results.Add(new() { ["name"] = b.Name, ["shape"] = b.Shape, ["ms"] = ms, ["flops"] = b.Flops, ["bytes"] = b.Bytes });
            }
            catch (Exception ex)
            {
                Console.WriteLine($"{b.Name,-28} {b.Shape,-34} FAILED: {ex.GetType().Name}: {ex.Message}");
                results.Add(new() { ["name"] = b.Name, ["shape"] = b.Shape, ["error"] = ex.Message });
            }
        }
        if (backend is IlgpuBackend ilgpu)
            Console.WriteLine($"peak device memory {ilgpu.MemoryStats.PeakBytes / 1048576.0:F0} MiB");
        if (json is not null)
        {
            // Utf8JsonWriter, not JsonSerializer: the trimmed build has reflection-based serialisation disabled.
            using (var stream = File.Create(json))
            using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
            {
                w.WriteStartObject();
                w.WriteString("engine", "fsrnative");
                w.WriteString("device", name);
                w.WriteBoolean("smoke", smoke);
                w.WriteStartArray("results");
                foreach (var r in results)
                {
                    w.WriteStartObject();
                    foreach (var (k, v) in r)
                    {
                        if (v is double d) { if (double.IsFinite(d)) w.WriteNumber(k, d); else w.WriteNull(k); }
                        else w.WriteString(k, v.ToString());
                    }
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            Console.WriteLine($"wrote {json}");
        }
        return results.Any(r => r.ContainsKey("error")) ? 1 : 0;
    }

    static string Fmt(double v) => double.IsNaN(v) ? "-" : v.ToString(v >= 100 ? "F0" : "F1", CultureInfo.InvariantCulture);

    // ---- PTX ------------------------------------------------------------------------------------------------------------

    /// <summary>Compiles every production kernel for sm_80 at the given PTX ISA (what ILGPU emits on a GPU; 8.8 with a
    /// CUDA ≥ 12.9 driver). Needs no GPU: checks that this (trimmed, published) build can still generate every kernel.</summary>
    static int Ptx(string isa)
    {
        var v = Version.Parse(isa);
        var set = typeof(CudaInstructionSet).GetField($"ISA_{v.Major}{v.Minor}")?.GetValue(null) as CudaInstructionSet?
            ?? throw new ArgumentException($"ILGPU {typeof(CudaInstructionSet).Assembly.GetName().Version} has no PTX ISA {isa}");
        var target = new PtxTarget($"sm_80-isa{isa}", CudaArchitecture.SM_80, set);
        var kernels = IlgpuPtx.ProductionKernels();
        int failed = 0;
        long chars = 0;
        var sw = Stopwatch.StartNew();
        foreach (var (id, method, attr) in kernels)
        {
            try
            {
                var ptx = IlgpuPtx.Compile(method, attr.ExplicitlyGrouped, target);
                if (!ptx.Contains($".version {v.Major}.{v.Minor}", StringComparison.Ordinal) || !ptx.Contains(".target sm_80", StringComparison.Ordinal))
                    throw new InvalidOperationException("unexpected PTX header: " + string.Join(" | ", ptx.Split('\n').Where(l => l.StartsWith('.')).Take(3)));
                chars += ptx.Length;
            }
            catch (Exception ex)
            {
                failed++;
                Console.WriteLine($"FAIL  {id}: {ex.GetType().Name}: {ex.Message}");
            }
        }
        Console.WriteLine($"PTX: {kernels.Count - failed}/{kernels.Count} kernels compiled for {target} ({chars / 1024} KiB of PTX) in {sw.Elapsed.TotalSeconds:F1} s");
        return failed == 0 ? 0 : 1;
    }

    // ---- dry run --------------------------------------------------------------------------------------------------------

    static int DryRun(string? json)
    {
        Console.WriteLine("== dry run: no GPU needed ==");
        Console.WriteLine(CudaInfo.Report());
        Console.WriteLine(CudaChecks.SkipReason is { } why ? $"Cuda checks would be skipped: {why}" : "a usable CUDA device is present");
        List();
        int rc = Ptx("8.8");
        // The harness and a few checks, in this build, on ILGPU's CPU accelerator (the emulator) instead of cuda.
        rc |= RunChecks(Device.IlgpuCpu, null, ["elementwise/unary-views", "softmax/infinities", "matmul/linear", "attention/fully-masked-rows"]);
        rc |= RunBench(Device.IlgpuCpu, null, json, 0, smoke: true);
        // The FSR step (src/Fsr in this trimmed build) at a tiny shape, one CAM scale, one iteration on the emulator (~25 s).
        rc |= FsrStepBench.Run(Device.IlgpuCpu, new FsrStepBench.Options(Batch: 1, Size: 64, Dim: 48, Depth: 4, Heads: 4, CamScales: [1.0], Warmup: 0, Steps: 1),
            json is null ? null : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(json))!, "ours-fsr-step-dry.json"));
        Console.WriteLine(rc == 0 ? "dry run OK" : "dry run FAILED");
        return rc;
    }
}

/// <summary>One timed operation: the same shapes as bench/gpu/torch_ops.py (the names match).</summary>
sealed record Bench(string Name, string Shape, double Flops, double Bytes, Func<Device, bool, Action> Setup)
{
    /// <summary>Median over 5 repetitions of the time per call, each repetition ≥ <paramref name="minMs"/> of calls, the
    /// device synchronised before and after (no host sync inside). Smoke: one call at a tiny shape.</summary>
    public double Time(Device device, bool smoke, double minMs)
    {
        using var outer = torch.NewDisposeScope();
        var step = Setup(device, smoke);
        void Call() { using var s = torch.NewDisposeScope(); step(); }
        Call(); device.Backend.Synchronize();                       // compile + warm the pool
        if (smoke) { var t = Stopwatch.StartNew(); Call(); device.Backend.Synchronize(); return t.Elapsed.TotalMilliseconds; }
        var sw = Stopwatch.StartNew();
        int n = 0;
        do { Call(); n++; device.Backend.Synchronize(); } while (sw.Elapsed.TotalMilliseconds < minMs / 5 && n < 1000);
        int per = Math.Max(1, n);
        var reps = new double[5];
        for (int r = 0; r < reps.Length; r++)
        {
            device.Backend.Synchronize();
            var t = Stopwatch.StartNew();
            for (int i = 0; i < per; i++) Call();
            device.Backend.Synchronize();
            reps[r] = t.Elapsed.TotalMilliseconds / per;
        }
        Array.Sort(reps);
        return reps[2];
    }
}

static class Benchmarks
{
    static Tensor R(Device d, int[] shape, bool grad = false, float scale = 1f)
    {
        var t = torch.randn(shape, new Generator(7), d);
        if (scale != 1f) t = t.mul(scale);
        return grad ? t.detach().requires_grad_() : t;
    }

    /// <summary>Frees the leaves' gradients (owned by the leaves, not by the step's dispose scope).</summary>
    static void Drop(params Tensor[] leaves)
    {
        foreach (var t in leaves) { t.grad?.Dispose(); t.grad = null; }
    }

    // The `voc` preset: ViT-B/16 at 448 px, batch 8 → 785 tokens, 768 wide, 12 heads of 64.
    const int B = 8, N = 785, C = 768, H = 12, Dh = 64;

    public static IReadOnlyList<Bench> All { get; } =
    [
        Gemm("gemm_fp32_4096", 4096, 4096, 4096),
        Gemm("gemm_fp32_vit_qkv", B * N, 3 * C, C),
        Gemm("gemm_fp32_vit_mlp1", B * N, 4 * C, C),
        Gemm("gemm_fp32_vit_mlp2", B * N, C, 4 * C),
        new("attention_fwd", $"{B}x{H}x{N}x{Dh}", 4.0 * B * H * N * N * Dh, 0, (d, smoke) =>
        {
            var (b, h, n) = smoke ? (1, 2, 33) : (B, H, N);
            var q = R(d, [b, h, n, Dh]); var k = R(d, [b, h, n, Dh]); var v = R(d, [b, h, n, Dh]);
            return () => F.scaled_dot_product_attention(q, k, v);
        }),
        new("attention_fwd_bwd", $"{B}x{H}x{N}x{Dh}", 4.0 * B * H * N * N * Dh * 3.5, 0, (d, smoke) =>
        {
            var (b, h, n) = smoke ? (1, 2, 33) : (B, H, N);
            var q = R(d, [b, h, n, Dh], true); var k = R(d, [b, h, n, Dh], true); var v = R(d, [b, h, n, Dh], true);
            var g = R(d, [b, h, n, Dh]);
            return () =>
            {
                F.scaled_dot_product_attention(q, k, v).backward(g);
                Drop(q, k, v);
            };
        }),
        // The hand-written PTX kernels (kernels-ptx/), forced; compared with torch's TF32 / BF16 matmul and SDPA rows of the
        // same name without "_ptx". On a device that is not CUDA (the dry run) they run in auto mode (the ILGPU kernels):
        // that checks only the plumbing.
        PtxGemm("gemm_tf32_4096_ptx", 4096, 4096, 4096, bf16: false),
        PtxGemm("gemm_tf32_vit_qkv_ptx", B * N, 3 * C, C, bf16: false),
        PtxGemm("gemm_bf16_4096_ptx", 4096, 4096, 4096, bf16: true),
        PtxGemm("gemm_bf16_vit_qkv_ptx", B * N, 3 * C, C, bf16: true),
        new("attention_fwd_ptx", $"{B}x{H}x{N}x{Dh}", 4.0 * B * H * N * N * Dh, 0, (d, smoke) =>
        {
            var (b, h, n) = smoke ? (1, 2, 33) : (B, H, N);
            var q = R(d, [b, h, n, Dh]); var k = R(d, [b, h, n, Dh]); var v = R(d, [b, h, n, Dh]);
            var mode = PtxMode(d);
            return () => { using var _ = GpuKernels.Use(mode); F.scaled_dot_product_attention(q, k, v); };
        }),
        new("conv2d_patch_embed", $"{B}x3x448x448 k16 s16 ->768", 2.0 * B * (N - 1) * C * 3 * 256, 0, (d, smoke) =>
        {
            int b = smoke ? 1 : B, s = smoke ? 32 : 448, o = smoke ? 8 : C;
            var x = R(d, [b, 3, s, s]); var w = R(d, [o, 3, 16, 16], scale: 0.05f); var bias = R(d, [o]);
            return () => F.conv2d(x, w, bias, stride: 16);
        }),
        new("conv2d_3x3_256", $"{B}x256x56x56 k3 p1 ->256", 2.0 * B * 56 * 56 * 256 * 256 * 9, 0, (d, smoke) =>
        {
            int b = smoke ? 1 : B, c = smoke ? 4 : 256, s = smoke ? 9 : 56;
            var x = R(d, [b, c, s, s]); var w = R(d, [c, c, 3, 3], scale: 0.05f);
            return () => F.conv2d(x, w, null, padding: 1);
        }),
        new("layer_norm_fwd", $"{B}x{N}x{C}", 0, 2.0 * 4 * B * N * C, (d, smoke) =>
        {
            int b = smoke ? 1 : B, n = smoke ? 5 : N;
            var x = R(d, [b, n, C]); var w = R(d, [C]); var bias = R(d, [C]);
            return () => F.layer_norm(x, [C], w, bias);
        }),
        new("layer_norm_fwd_bwd", $"{B}x{N}x{C}", 0, 5.0 * 4 * B * N * C, (d, smoke) =>
        {
            int b = smoke ? 1 : B, n = smoke ? 5 : N;
            var x = R(d, [b, n, C], true); var w = R(d, [C], true); var bias = R(d, [C], true); var g = R(d, [b, n, C]);
            return () => { F.layer_norm(x, [C], w, bias).backward(g); Drop(x, w, bias); };
        }),
        new("softmax_fwd", $"{B}x{H}x{N}x{N}", 0, 2.0 * 4 * B * H * N * N, (d, smoke) =>
        {
            var x = smoke ? R(d, [1, 2, 9, 9]) : R(d, [B, H, N, N]);
            return () => x.softmax(-1);
        }),
        new("softmax_fwd_bwd", $"{B}x{H}x{N}x{N}", 0, 5.0 * 4 * B * H * N * N, (d, smoke) =>
        {
            var x = smoke ? R(d, [1, 2, 9, 9], true) : R(d, [B, H, N, N], true);
            var g = smoke ? R(d, [1, 2, 9, 9]) : R(d, [B, H, N, N]);
            return () => { x.softmax(-1).backward(g); Drop(x); };
        }),
    ];

    static GpuKernelMode PtxMode(Device d) => d.Type == DeviceType.Cuda ? GpuKernelMode.Ptx : GpuKernelMode.Auto;

    static Bench PtxGemm(string name, int m, int n, int k, bool bf16) => new(name, $"{m}x{k} @ {k}x{n}", 2.0 * m * n * k, 0, (d, smoke) =>
    {
        var (mm, nn, kk) = smoke ? (33, 17, 9) : (m, n, k);
        var a = R(d, [mm, kk]); var b = R(d, [kk, nn]);
        var mode = PtxMode(d);
        if (!bf16) return () => { using var _ = GpuKernels.Use(mode, allowTf32: true); a.matmul(b); };
        return () =>
        {
            using var _ = GpuKernels.Use(mode);
            var c = torch.zeros([mm, nn], device: d);
            if (!FsrNative.PtxGemm.TryBf16(new MatmulArgs(a, b, c, [], [], [], mm, nn, kk, false, kk, false, nn)) && mode == GpuKernelMode.Ptx)
                throw new InvalidOperationException("PtxGemm.TryBf16 declined");
        };
    });

    static Bench Gemm(string name, int m, int n, int k) => new(name, $"{m}x{k} @ {k}x{n}", 2.0 * m * n * k, 0, (d, smoke) =>
    {
        var (mm, nn, kk) = smoke ? (33, 17, 9) : (m, n, k);
        var a = R(d, [mm, kk]); var b = R(d, [kk, nn]);
        return () => a.matmul(b);
    });
}
