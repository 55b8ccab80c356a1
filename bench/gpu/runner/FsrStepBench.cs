using System.Globalization;
using System.Text.Json;
using FsrNative.Fsr.Training;

namespace FsrNative.GpuRunner;

/// <summary>
/// The <c>fsr-step</c> command: one FSR training iteration (fsr-spec §4) at the <c>voc</c> preset's shape — ViT-B/16
/// from scratch (random weights), 448 px, drop-path 0 — timed by <see cref="IterationProfiler.Time"/>, the code path of
/// <c>fsr train --profile-steps</c> (the real <see cref="FsrTrainingStep"/>, backward, AdamW, EMA at the first
/// iteration where every term is on). Its peer is bench/gpu/fsr_step_torch.py (same options, same JSON row name).
/// <code>
///   fsr-step [--device cuda[:N]|cpu|ilgpu-cpu] [--batch 1] [--size 448] [--dim 768 --depth 12 --heads 12 --patch 16]
///            [--block-size 64] [--cam-scales 1,0.5,1.5] [--warmup 1] [--steps 3] [--dtype fp32|bf16] [--json FILE]
/// </code>
/// </summary>
static class FsrStepBench
{
    /// <summary>The shape and timing options (defaults: the voc preset, batch 1).</summary>
    internal sealed record Options(int Batch = 1, int Size = 448, int Dim = 768, int Depth = 12, int Heads = 12, int Patch = 16,
        int BlockSize = 64, double[]? CamScales = null, int Warmup = 1, int Steps = 3, string Dtype = "fp32")
    {
        /// <summary>The row's shape text, as fsr_step_torch.py writes it: "voc, 448 px, batch 8".</summary>
        public string ShapeText => string.Create(CultureInfo.InvariantCulture,
            $"{((Dim, Depth, Heads, Patch) == (768, 12, 12, 16) ? "voc" : $"ViT {Depth}x{Dim} h{Heads} p{Patch}")}, {Size} px, batch {Batch}");

        /// <summary>"fsr_step_b8": the row name compare.py matches with the PyTorch peer's.</summary>
        public string RowName => $"fsr_step_b{Batch}";

        public static Options Parse(Func<string, string?> opt)
        {
            int I(string name, int dflt) => opt(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : dflt;
            return new Options(I("--batch", 1), I("--size", 448), I("--dim", 768), I("--depth", 12), I("--heads", 12), I("--patch", 16),
                I("--block-size", 64),
                opt("--cam-scales")?.Split(',').Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray(),
                I("--warmup", 1), I("--steps", 3), opt("--dtype") ?? "fp32");
        }
    }

    /// <summary>The voc preset with the benchmark's shape: from scratch (no timm weights to read), drop-path 0 for timing,
    /// on <paramref name="device"/>; resolved and validated as <c>fsr train</c> does (without the JSON loader, which the
    /// trimmed runner cannot use).</summary>
    internal static FsrConfig Config(Options o, Device device)
    {
        var c = FsrPresets.Get(FsrPresets.Voc);
        c.Model.Backbone = "vit_scratch";
        c.Model.Pretrained = null;
        c.Model.DropPathRate = 0;
        c.Model.EmbedDim = o.Dim;
        c.Model.Depth = o.Depth;
        c.Model.NumHeads = o.Heads;
        c.Model.PatchSize = o.Patch;
        c.Data.InputSize = o.Size;
        c.Data.BatchSize = o.Batch;
        c.Data.Root = Path.GetTempPath();   // nothing is read; the voc dataset only needs an existing folder to validate
        c.Mask.BlockSize = o.BlockSize;
        if (o.CamScales is { } scales) c.Cam.CamScales = scales;
        c.Optim.MixedPrecision = o.Dtype;
        c.Run.Device = device.ToString();
        ConfigResolver.Resolve(c);
        ConfigValidator.Validate(c);
        return c;
    }

    public static int Run(Device device, Options o, string? json)
    {
        string deviceName = device.Backend is IlgpuBackend ib ? ib.Accelerator.Name : device.ToString();
        var config = Config(o, device);
        Console.WriteLine($"fsr_step on {device} ({deviceName}): {o.ShapeText}, {o.Dtype}, {o.Warmup} warm-up + {o.Steps} timed iterations");
        IterationProfiler.Timing? t = null;
        string? error = null;
        try { t = IterationProfiler.Time(config, device, o.Warmup, o.Steps); }
        catch (Exception ex) when (ex is not ConfigException) { error = $"{ex.GetType().Name}: {ex.Message}"; }
        long peak = t?.PeakTensorBytes ?? device.Backend.MemoryStats.PeakBytes;
        Console.WriteLine(t is not null
            ? string.Create(CultureInfo.InvariantCulture, $"fsr_step: {t.MillisecondsPerIteration:F1} ms/iteration at iteration {t.Iteration}, {t.Parameters / 1e6:F1} M parameters, peak tensor memory {peak / 1048576.0:F0} MiB (device allocator), peak RSS {(t.PeakRssBytes ?? 0) / 1048576.0:F0} MiB")
            : $"fsr_step FAILED: {error}; peak tensor memory {peak / 1048576.0:F0} MiB");
        if (json is not null) Write(json, deviceName, o, t, peak, error);
        return t is null ? 1 : 0;
    }

    /// <summary>The runner's JSON (engine, device, results[]) with one row, plus the top-level fields fsr_step_torch.py writes.</summary>
    static void Write(string path, string deviceName, Options o, IterationProfiler.Timing? t, long peak, string? error)
    {
        using var stream = File.Create(path);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });   // no reflection: trimmed build
        w.WriteStartObject();
        w.WriteString("engine", "fsrnative");
        w.WriteString("device", deviceName);
        w.WriteString("name", o.RowName);
        w.WriteString("shape", o.ShapeText);
        w.WriteString("dtype", o.Dtype);
        w.WriteNumber("batch", o.Batch);
        w.WriteNumber("size", o.Size);
        w.WriteNumber("warmup", o.Warmup);
        w.WriteNumber("steps", o.Steps);
        w.WriteString("peak_mem_kind", "device allocator peak bytes in use (IBackend.MemoryStats)");
        w.WriteNumber("peak_mem_bytes", peak);
        if (t is not null)
        {
            w.WriteNumber("fsr_step_ms", t.MillisecondsPerIteration);
            w.WriteNumber("iteration", t.Iteration);
            w.WriteNumber("parameters", t.Parameters);
            if (t.PeakRssBytes is long rss) w.WriteNumber("peak_rss_bytes", rss);
        }
        else w.WriteString("error", error);
        w.WriteStartArray("results");
        w.WriteStartObject();
        w.WriteString("name", o.RowName);
        w.WriteString("shape", o.ShapeText);
        if (t is not null) w.WriteNumber("ms", t.MillisecondsPerIteration);
        else w.WriteString("error", error);
        w.WriteNumber("peak_mem_bytes", peak);
        w.WriteString("peak_mem_kind", "device allocator");
        if (t?.PeakRssBytes is long rowRss) w.WriteNumber("peak_rss_bytes", rowRss);   // compare.py's CPU rows: RSS vs RSS
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
        Console.WriteLine($"wrote {path}");
    }
}
