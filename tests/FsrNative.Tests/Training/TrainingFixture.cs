using FsrNative.Fsr.Training;

namespace FsrNative.Tests.Training;

/// <summary>
/// Tiny configurations for the trainer's tests: the synthetic preset at 32 px (16 training images, generated once
/// per test process into a shared temporary folder), 2 images per batch, one loader thread, no progress output,
/// each test's runs in their own temporary folder.
/// </summary>
public static class TrainingFixture
{
    static readonly Lazy<string> s_data = new(() => Path.Combine(Path.GetTempPath(), $"fsr-training-tests-{Environment.ProcessId}", "synthetic-32"));

    public static string DataRoot => s_data.Value;

    public static string NewOutFolder()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"fsr-training-tests-{Environment.ProcessId}", Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static FsrConfig Config(string outFolder, long steps = 8, params (string path, string value)[] extra)
    {
        var overrides = new List<ConfigOverride>
        {
            new("data.root", DataRoot, "test"), new("data.synthetic_size", "32", "test"), new("data.synthetic_train", "16", "test"),
            new("data.synthetic_val", "2", "test"), new("data.input_size", "32", "test"), new("data.batch_size", "2", "test"),
            new("data.workers", "1", "test"), new("data.prefetch", "2", "test"), new("mask.block_size", "32", "test"),
            // 16 px patches keep the token grids these tests were sized for (2×2 at 32 px, 4×4 at 64 px).
            new("model.patch_size", "16", "test"),
            new("optim.max_iters", steps.ToString(System.Globalization.CultureInfo.InvariantCulture), "test"),
            new("optim.lr", "0.01", "test"), new("run.out", outFolder, "test"), new("run.device", "cpu", "test"),
            new("run.checkpoint_interval", "3", "test"), new("run.progress", "none", "test"), new("run.log_interval", "2", "test"),
            new("run.name", "run", "test"), new("eval.interval", "4", "test"),
        };
        overrides.AddRange(extra.Select(e => new ConfigOverride(e.path, e.value, "test")));
        return ConfigLoader.Load("synthetic", null, overrides);
    }
}
