using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace FsrNative.Fsr.Training;

/// <summary>
/// The run's metrics.jsonl: one JSON object per line, flushed as written. Step lines have
/// <c>"event": "step"</c>; other events (start, resume, checkpoint, eval, diverged, interrupted, end) name
/// themselves. Every line carries <c>"step"</c> (optimiser steps done), so a resumed run can drop the lines a crash
/// left after its checkpoint (<see cref="TruncateAfter"/>). NaN and ∞ are written as "NaN", "Infinity".
/// </summary>
public sealed class MetricsLog : IDisposable
{
    static readonly JsonSerializerOptions s_options = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };
    readonly StreamWriter _writer;

    public MetricsLog(string path)
    {
        Path = path;
        _writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read)) { AutoFlush = true };
    }

    public string Path { get; }

    public void Write(JsonObject line) => _writer.WriteLine(line.ToJsonString(s_options));

    /// <summary>Removes the lines of steps after <paramref name="step"/> (left by a run that went on past its last checkpoint).</summary>
    public static int TruncateAfter(string path, long step)
    {
        if (!File.Exists(path)) return 0;
        var keep = new List<string>();
        int dropped = 0;
        foreach (var line in File.ReadLines(path))
        {
            long? s = null;
            try { s = JsonNode.Parse(line)?["step"]?.GetValue<long>(); }
            catch (JsonException) { }   // a line cut off by a crash
            if (s is long v && v <= step) keep.Add(line);
            else dropped++;
        }
        string tmp = path + ".tmp";
        File.WriteAllLines(tmp, keep);
        File.Move(tmp, path, overwrite: true);
        return dropped;
    }

    /// <summary>The lines of a metrics file as JSON objects (for tests and tools).</summary>
    public static List<JsonObject> Read(string path)
        => File.ReadLines(path).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();

    /// <summary>A number as JSON (NaN and ∞ as their names).</summary>
    public static JsonNode Number(double v) => JsonValue.Create(v);

    public void Dispose() => _writer.Dispose();
}
