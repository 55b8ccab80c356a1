using System.Globalization;

namespace FsrNative.Fsr.Training;

/// <summary>
/// A run's folder, <c>&lt;run.out&gt;/&lt;run.name or yyyyMMdd-HHmmss&gt;/</c>:
/// <list type="bullet">
/// <item><c>config.json</c> — the resolved configuration (every setting; load it with <c>--config</c> to repeat the run);</item>
/// <item><c>metrics.jsonl</c> — one JSON object per line: a line per optimiser step, and event lines (start, resume, checkpoint, eval, diverged, interrupted, end);</item>
/// <item><c>checkpoints/ckpt-&lt;step:D9&gt;.safetensors</c> — the newest run.keep_checkpoints training states;</item>
/// <item><c>eval/step-&lt;step:D9&gt;.json</c> — validation scores;</item>
/// <item><c>train.log</c> — the plain progress lines.</item>
/// </list>
/// </summary>
public sealed class RunFolder
{
    public const string ConfigFile = "config.json", MetricsFile = "metrics.jsonl", LogFile = "train.log";
    public const string CheckpointsFolder = "checkpoints", EvalFolder = "eval";

    RunFolder(string path) { Path = path; }

    public string Path { get; }
    public string Name => System.IO.Path.GetFileName(Path);
    public string ConfigPath => System.IO.Path.Combine(Path, ConfigFile);
    public string MetricsPath => System.IO.Path.Combine(Path, MetricsFile);
    public string LogPath => System.IO.Path.Combine(Path, LogFile);
    public string CheckpointsPath => System.IO.Path.Combine(Path, CheckpointsFolder);
    public string EvalPath => System.IO.Path.Combine(Path, EvalFolder);

    /// <summary>
    /// Creates a new run folder for <paramref name="config"/> (run.name, or a timestamp that is made unique) and writes
    /// config.json; sets run.name to the folder's name. An existing folder of that name is an error (use --resume).
    /// </summary>
    public static RunFolder Create(FsrConfig config, DateTime? now = null)
    {
        string root = System.IO.Path.GetFullPath(config.Run.Out);
        string name = config.Run.Name ?? (now ?? DateTime.Now).ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        string path = System.IO.Path.Combine(root, name);
        if (config.Run.Name is null)
            for (int i = 2; Directory.Exists(path); i++) path = System.IO.Path.Combine(root, $"{name}-{i}");
        else if (Directory.Exists(path))
            throw new ConfigException([$"run.name = \"{name}\": the run folder {path} already exists; choose another name or continue it with --resume {path}"]);
        Directory.CreateDirectory(path);
        Directory.CreateDirectory(System.IO.Path.Combine(path, CheckpointsFolder));
        config.Run.Name = System.IO.Path.GetFileName(path);
        var run = new RunFolder(path);
        ConfigLoader.Save(config, run.ConfigPath);
        return run;
    }

    /// <summary>An existing run folder (it must hold config.json).</summary>
    public static RunFolder Open(string path)
    {
        string full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(System.IO.Path.Combine(full, ConfigFile)))
            throw new ConfigException([$"--resume {path}: {full} is not a run folder (it has no {ConfigFile})"]);
        return new RunFolder(full);
    }

    /// <summary>
    /// The run folder that <c>--resume</c> names: <c>latest</c> (the most recently written run folder under
    /// <paramref name="outRoot"/> that has a checkpoint), a run folder, or a checkpoint file inside one (then that
    /// checkpoint is the one to load; otherwise the newest good one).
    /// </summary>
    public static (RunFolder run, string? checkpoint) ForResume(string resume, string outRoot)
    {
        if (resume == "latest")
        {
            string root = System.IO.Path.GetFullPath(outRoot);
            var best = Directory.Exists(root)
                ? Directory.EnumerateDirectories(root)
                    .Where(d => File.Exists(System.IO.Path.Combine(d, ConfigFile)))
                    .Select(d => (d, ckpts: Directory.Exists(System.IO.Path.Combine(d, CheckpointsFolder))
                        ? Directory.EnumerateFiles(System.IO.Path.Combine(d, CheckpointsFolder), "ckpt-*.safetensors").Select(File.GetLastWriteTimeUtc).DefaultIfEmpty().Max()
                        : default))
                    .Where(x => x.ckpts != default)
                    .OrderByDescending(x => x.ckpts)
                    .Select(x => x.d)
                    .FirstOrDefault()
                : null;
            if (best is null) throw new ConfigException([$"--resume latest: no run folder with a checkpoint under {root}"]);
            return (new RunFolder(best), null);
        }
        if (File.Exists(resume))
        {
            string file = System.IO.Path.GetFullPath(resume);
            string? folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetDirectoryName(file));
            if (folder is null || !File.Exists(System.IO.Path.Combine(folder, ConfigFile)))
                throw new ConfigException([$"--resume {resume}: the checkpoint is not inside a run folder's {CheckpointsFolder}/ (no {ConfigFile} beside it)"]);
            return (new RunFolder(folder), file);
        }
        if (Directory.Exists(resume)) return (Open(resume), null);
        throw new ConfigException([$"--resume {resume}: no such run folder or checkpoint file (or use --resume latest)"]);
    }

    public string EvalFileFor(long step) => System.IO.Path.Combine(EvalPath, string.Create(CultureInfo.InvariantCulture, $"step-{step:D9}.json"));
}
