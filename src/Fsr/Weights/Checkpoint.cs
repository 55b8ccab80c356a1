using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FsrNative.Nn;
using FsrNative.Optim;

namespace FsrNative.Weights;

/// <summary>A checkpoint that cannot be used: truncated, corrupt (checksum mismatch), or not a checkpoint.</summary>
public sealed class CheckpointCorruptException(string path, string fault, Exception? inner = null)
    : Exception($"checkpoint {path} is unusable: {fault}", inner)
{
    public string Path { get; } = path;
    public string Fault { get; } = fault;
}

/// <summary>
/// Everything needed to continue a training run exactly: the step, model state dicts (student, teacher, …),
/// optimiser states, schedule positions, random generators (seed + stream), and the data-order state (free-form
/// strings and integer arrays, e.g. epoch, position and the epoch's permutation).
/// <see cref="Capture"/> takes references (not copies) of the live objects' tensors: save it before training on.
/// </summary>
public sealed class TrainingState
{
    public long Step { get; set; }
    public Dictionary<string, Dictionary<string, Tensor>> Models { get; } = new();
    public Dictionary<string, OptimizerStateDict> Optimizers { get; } = new();
    public Dictionary<string, long> Schedules { get; } = new();
    public Dictionary<string, (ulong seed, ulong stream)> Generators { get; } = new();
    public Dictionary<string, string> Data { get; } = new();
    public Dictionary<string, long[]> Arrays { get; } = new();

    public static TrainingState Capture(long step,
        IReadOnlyDictionary<string, Module>? models = null,
        IReadOnlyDictionary<string, Optimizer>? optimizers = null,
        IReadOnlyDictionary<string, LRScheduler>? schedules = null,
        IReadOnlyDictionary<string, Generator>? generators = null,
        IReadOnlyDictionary<string, string>? data = null,
        IReadOnlyDictionary<string, long[]>? arrays = null)
    {
        var s = new TrainingState { Step = step };
        foreach (var (k, m) in models ?? new Dictionary<string, Module>()) s.Models[k] = m.state_dict();
        foreach (var (k, o) in optimizers ?? new Dictionary<string, Optimizer>()) s.Optimizers[k] = o.state_dict();
        foreach (var (k, l) in schedules ?? new Dictionary<string, LRScheduler>()) s.Schedules[k] = l.last_step;
        foreach (var (k, g) in generators ?? new Dictionary<string, Generator>()) s.Generators[k] = g.get_state();
        foreach (var (k, v) in data ?? new Dictionary<string, string>()) s.Data[k] = v;
        foreach (var (k, v) in arrays ?? new Dictionary<string, long[]>()) s.Arrays[k] = (long[])v.Clone();
        return s;
    }

    /// <summary>Loads the saved states into live objects (strictly: every named object must be in the checkpoint).</summary>
    public void Restore(
        IReadOnlyDictionary<string, Module>? models = null,
        IReadOnlyDictionary<string, Optimizer>? optimizers = null,
        IReadOnlyDictionary<string, LRScheduler>? schedules = null,
        IReadOnlyDictionary<string, Generator>? generators = null)
    {
        T Get<T>(Dictionary<string, T> from, string key, string what)
            => from.TryGetValue(key, out var v) ? v : throw new KeyNotFoundException($"checkpoint has no {what} '{key}' (it has: {string.Join(", ", from.Keys)})");
        foreach (var (k, m) in models ?? new Dictionary<string, Module>()) m.load_state_dict(Get(Models, k, "model"));
        foreach (var (k, o) in optimizers ?? new Dictionary<string, Optimizer>()) o.load_state_dict(Get(Optimizers, k, "optimizer"));
        foreach (var (k, l) in schedules ?? new Dictionary<string, LRScheduler>()) l.load_position(Get(Schedules, k, "schedule"));
        foreach (var (k, g) in generators ?? new Dictionary<string, Generator>()) g.set_state(Get(Generators, k, "generator"));
    }
}

/// <summary>
/// Training checkpoints as safetensors files (readable by any safetensors tool): tensors named
/// <c>model.&lt;name&gt;.&lt;key&gt;</c>, <c>optim.&lt;name&gt;.&lt;index&gt;.&lt;state&gt;</c>, <c>array.&lt;name&gt;</c>, the rest as
/// JSON in the metadata, and a SHA-256 of the whole file (computed with its own 64 hex digits zeroed) in
/// <c>fsr.sha256</c>, verified on load. Writing is atomic: a temporary file in the same folder, flushed to disk,
/// then renamed over the target (and the folder synced), so a crash or error mid-write never damages the last
/// good checkpoint.
/// </summary>
public static class Checkpoint
{
    const string ShaKey = "fsr.sha256";
    const string JsonKey = "fsr.state";
    const string FormatKey = "fsr.checkpoint";
    static readonly string Zeros = new('0', 64);

    sealed record OptimizerJson(string Kind, List<Dictionary<string, double>> Groups, List<int[]> GroupParams, Dictionary<int, long> Steps, Dictionary<int, string[]> Tensors);
    sealed record StateJson(long Step, Dictionary<string, string[]> Models, Dictionary<string, OptimizerJson> Optimizers,
        Dictionary<string, long> Schedules, Dictionary<string, ulong[]> Generators, Dictionary<string, string> Data, string[] Arrays);

    /// <summary>Writes <paramref name="state"/> to <paramref name="path"/> atomically.</summary>
    public static void Save(string path, TrainingState state)
    {
        string full = System.IO.Path.GetFullPath(path);
        string dir = System.IO.Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);

        // Layout: every tensor with its name and a writer of its bytes.
        var tensors = new List<(string name, string dtype, long[] shape, Tensor? tensor, long[]? array)>();
        var modelKeys = new Dictionary<string, string[]>();
        foreach (var (m, sd) in state.Models)
        {
            modelKeys[m] = sd.Keys.ToArray();
            foreach (var (k, t) in sd) tensors.Add(($"model.{m}.{k}", DTypeOf(t), Shape(t), t, null));
        }
        var optimizers = new Dictionary<string, OptimizerJson>();
        foreach (var (o, sd) in state.Optimizers)
        {
            var names = new Dictionary<int, string[]>();
            foreach (var (index, ps) in sd.state)
            {
                names[index] = ps.tensors.Keys.ToArray();
                foreach (var (k, t) in ps.tensors) tensors.Add(($"optim.{o}.{index}.{k}", DTypeOf(t), Shape(t), t, null));
            }
            optimizers[o] = new OptimizerJson(sd.Kind, sd.param_groups, sd.group_params, sd.state.ToDictionary(kv => kv.Key, kv => kv.Value.step), names);
        }
        foreach (var (a, v) in state.Arrays) tensors.Add(($"array.{a}", "I64", [v.LongLength], null, v));
        var json = new StateJson(state.Step, modelKeys, optimizers, state.Schedules,
            state.Generators.ToDictionary(kv => kv.Key, kv => new[] { kv.Value.seed, kv.Value.stream }), state.Data, state.Arrays.Keys.ToArray());
        var metadata = new Dictionary<string, string>
        {
            [FormatKey] = "1",
            [JsonKey] = JsonSerializer.Serialize(json),
            [ShaKey] = Zeros,
        };
        byte[] header = Safetensors.Header(tensors.Select(t => (t.name, t.dtype, t.shape)).ToList(), metadata);

        string tmp = System.IO.Path.Combine(dir, $".{System.IO.Path.GetFileName(full)}.tmp-{Guid.NewGuid():N}");
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 20))
            using (var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
            {
                var len = BitConverter.GetBytes((ulong)header.Length);
                if (!BitConverter.IsLittleEndian) Array.Reverse(len);
                Emit(fs, sha, len);
                Emit(fs, sha, header);
                foreach (var (name, _, _, tensor, array) in tensors)
                {
                    if (array is not null) Emit(fs, sha, MemoryMarshal.AsBytes(array.AsSpan()));
                    else if (tensor!.DType == DType.Float32) Emit(fs, sha, MemoryMarshal.AsBytes(tensor.contiguous().ToArray().AsSpan()));
                    else Emit(fs, sha, MemoryMarshal.AsBytes(tensor.contiguous().ToIntArray().AsSpan()));
                }
                string hex = Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant();
                fs.Position = 8 + FindSha(header, Zeros);
                fs.Write(Encoding.ASCII.GetBytes(hex));
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
            SyncDirectory(dir);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { }
            throw;
        }
    }

    static void Emit(FileStream fs, IncrementalHash sha, ReadOnlySpan<byte> bytes)
    {
        sha.AppendData(bytes);
        fs.Write(bytes);
    }

    static string DTypeOf(Tensor t) => t.DType switch
    {
        DType.Float32 => "F32",
        DType.Int32 => "I32",
        _ => throw new ArgumentException($"checkpoint: cannot store a {t.DType} tensor"),
    };

    static long[] Shape(Tensor t) => t.shape.Select(d => (long)d).ToArray();

    /// <summary>Where the value of "fsr.sha256" starts in the header bytes.</summary>
    static int FindSha(ReadOnlySpan<byte> header, string value)
    {
        var needle = Encoding.ASCII.GetBytes($"\"{ShaKey}\":\"{value}\"");
        int at = header.IndexOf(needle);
        if (at < 0) return -1;
        return at + needle.Length - 1 - value.Length;
    }

    /// <summary>Reads and verifies a checkpoint. Tensors come back as engine tensors on the CPU (in the current
    /// dispose scope); a truncated, corrupt or foreign file raises <see cref="CheckpointCorruptException"/>.</summary>
    public static TrainingState Load(string path)
    {
        SafetensorsFile file;
        try
        {
            file = SafetensorsFile.Open(path);
        }
        catch (SafetensorsFormatException e)
        {
            throw new CheckpointCorruptException(path, $"truncated or malformed ({e.Fault})", e);
        }
        using (file)
        {
            if (!file.Metadata.TryGetValue(FormatKey, out var format) || format != "1" || !file.Metadata.TryGetValue(ShaKey, out var expected) || !file.Metadata.TryGetValue(JsonKey, out var jsonText))
                throw new CheckpointCorruptException(path, "not an FsrNative training checkpoint (no fsr.checkpoint/fsr.state/fsr.sha256 metadata)");
            string actual = Hash(path, file.DataStart, expected);
            if (actual != expected)
                throw new CheckpointCorruptException(path, $"checksum mismatch (stored {expected}, computed {actual}): the file was damaged after it was written");

            StateJson json;
            try
            {
                json = JsonSerializer.Deserialize<StateJson>(jsonText) ?? throw new JsonException("null state");
            }
            catch (JsonException e)
            {
                throw new CheckpointCorruptException(path, $"its state metadata is not valid ({e.Message})", e);
            }
            try
            {
                var state = new TrainingState { Step = json.Step };
                foreach (var (m, keys) in json.Models)
                    state.Models[m] = keys.ToDictionary(k => k, k => file.LoadTensor($"model.{m}.{k}"));
                foreach (var (o, oj) in json.Optimizers)
                {
                    var st = new Dictionary<int, ParamState>();
                    foreach (var (index, step) in oj.Steps)
                    {
                        var ps = new ParamState { step = step };
                        foreach (var k in oj.Tensors.GetValueOrDefault(index) ?? []) ps.tensors[k] = file.LoadTensor($"optim.{o}.{index}.{k}");
                        st[index] = ps;
                    }
                    state.Optimizers[o] = new OptimizerStateDict { Kind = oj.Kind, param_groups = oj.Groups, group_params = oj.GroupParams, state = st };
                }
                foreach (var (k, v) in json.Schedules) state.Schedules[k] = v;
                foreach (var (k, v) in json.Generators) state.Generators[k] = (v[0], v[1]);
                foreach (var (k, v) in json.Data) state.Data[k] = v;
                foreach (var a in json.Arrays) state.Arrays[a] = file.ReadInt64($"array.{a}");
                return state;
            }
            catch (Exception e) when (e is KeyNotFoundException or SafetensorsFormatException or IndexOutOfRangeException or NullReferenceException)
            {
                throw new CheckpointCorruptException(path, $"its contents do not match its own index ({e.Message})", e);
            }
        }
    }

    /// <summary>SHA-256 of the file with the stored digest replaced by zeros.</summary>
    static string Hash(string path, long dataStart, string stored)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        var head = new byte[dataStart];
        fs.ReadExactly(head);
        int at = FindSha(head.AsSpan(8), stored);
        if (at < 0) return "(digest not found in the header)";
        Encoding.ASCII.GetBytes(Zeros).CopyTo(head, 8 + at);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(head);
        var buffer = new byte[1 << 20];
        int n;
        while ((n = fs.Read(buffer)) > 0) sha.AppendData(buffer, 0, n);
        return Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant();
    }

    // fsync of the folder, so the rename itself is durable (Linux; elsewhere the rename is left to the OS).
    [DllImport("libc", SetLastError = true, EntryPoint = "open")] static extern int SysOpen(string path, int flags);
    [DllImport("libc", SetLastError = true, EntryPoint = "fsync")] static extern int SysFsync(int fd);
    [DllImport("libc", SetLastError = true, EntryPoint = "close")] static extern int SysClose(int fd);

    static void SyncDirectory(string dir)
    {
        if (!OperatingSystem.IsLinux()) return;
        int fd = SysOpen(dir, 0 /* O_RDONLY */);
        if (fd < 0) return;
        SysFsync(fd);
        SysClose(fd);
    }
}

/// <summary>
/// A folder of checkpoints <c>&lt;prefix&gt;-&lt;step:D9&gt;.safetensors</c>: <see cref="Save"/> writes one atomically and
/// then deletes all but the newest <see cref="KeepLast"/>; <see cref="LoadLatest"/> loads the newest that verifies
/// (optionally falling back past corrupt ones, which it reports) — a corrupt newest file never causes a good older
/// one to be overwritten or deleted. Leftover temporary files of interrupted writes are removed on construction.
/// </summary>
public sealed class CheckpointManager
{
    public CheckpointManager(string folder, int keepLast = 3, string prefix = "ckpt")
    {
        if (keepLast < 1) throw new ArgumentException($"CheckpointManager: keepLast must be at least 1, got {keepLast}");
        Folder = Path.GetFullPath(folder);
        KeepLast = keepLast;
        Prefix = prefix;
        Directory.CreateDirectory(Folder);
        foreach (var stale in Directory.EnumerateFiles(Folder, $".{prefix}-*.tmp-*")) File.Delete(stale);
    }

    public string Folder { get; }
    public int KeepLast { get; }
    public string Prefix { get; }

    public string PathFor(long step) => Path.Combine(Folder, $"{Prefix}-{step:D9}.safetensors");

    /// <summary>The checkpoints present, oldest first.</summary>
    public IReadOnlyList<(long step, string path)> List()
    {
        var list = new List<(long, string)>();
        foreach (var f in Directory.EnumerateFiles(Folder, $"{Prefix}-*.safetensors"))
        {
            string stem = Path.GetFileNameWithoutExtension(f)[(Prefix.Length + 1)..];
            if (long.TryParse(stem, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long step)) list.Add((step, f));
        }
        return list.OrderBy(x => x.Item1).ToList();
    }

    /// <summary>Saves <paramref name="state"/> as step <see cref="TrainingState.Step"/>, then prunes old ones.</summary>
    public string Save(TrainingState state)
    {
        string path = PathFor(state.Step);
        Checkpoint.Save(path, state);
        var all = List();
        foreach (var (_, old) in all.Take(Math.Max(0, all.Count - KeepLast))) File.Delete(old);
        return path;
    }

    /// <summary>
    /// The newest checkpoint that verifies, or null when there is none. With <paramref name="fallBack"/> false a
    /// corrupt newest checkpoint throws; with it true, corrupt ones are skipped and listed in
    /// <paramref name="skipped"/>.
    /// </summary>
    public TrainingState? LoadLatest(out IReadOnlyList<CheckpointCorruptException> skipped, bool fallBack = false)
    {
        var bad = new List<CheckpointCorruptException>();
        skipped = bad;
        foreach (var (_, path) in List().Reverse())
        {
            try
            {
                return Checkpoint.Load(path);
            }
            catch (CheckpointCorruptException e) when (fallBack)
            {
                bad.Add(e);
            }
        }
        return null;
    }
}
