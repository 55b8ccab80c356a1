using System.Globalization;
using System.Text;

namespace FsrNative.Reports;

/// <summary>
/// Scalars logged during a run: (step, name, value) — losses every few steps, mIoU at each validation. Names are
/// grouped by the part before '/' into one chart each (<c>loss/total</c>, <c>loss/cls</c> → "loss";
/// <c>miou/pred</c>, <c>miou/cam</c> → "miou"). Saved as a CSV file <c>step,name,value</c> that a run can append to
/// line by line (<see cref="AppendTo"/>), so a report can be rebuilt from the run folder at any time.
/// </summary>
public sealed class MetricLog
{
    readonly List<(long Step, string Name, double Value)> _entries = new();
    readonly object _gate = new();

    public void Add(long step, string name, double value)
    {
        Check(name);
        lock (_gate) _entries.Add((step, name, value));
    }

    public IReadOnlyList<(long Step, string Name, double Value)> Entries
    {
        get { lock (_gate) return _entries.ToArray(); }
    }

    /// <summary>The names logged, in order of first appearance.</summary>
    public IReadOnlyList<string> Names => Entries.Select(e => e.Name).Distinct().ToArray();

    /// <summary>The (step, value) pairs of one name, in step order (later entries win for a repeated step).</summary>
    public (double[] Steps, double[] Values) Series(string name)
    {
        var points = new SortedDictionary<long, double>();
        foreach (var e in Entries) if (e.Name == name) points[e.Step] = e.Value;
        return (points.Keys.Select(k => (double)k).ToArray(), points.Values.ToArray());
    }

    /// <summary>Names grouped by their prefix before '/', groups in order of first appearance.</summary>
    public IReadOnlyList<(string Group, IReadOnlyList<string> Names)> Groups() =>
        Names.GroupBy(GroupOf).Select(g => (g.Key, (IReadOnlyList<string>)g.ToArray())).ToArray();

    public static string GroupOf(string name) { int i = name.IndexOf('/'); return i < 0 ? name : name[..i]; }

    public void Save(string path)
    {
        var sb = new StringBuilder("step,name,value\n");
        foreach (var e in Entries) sb.Append(Line(e.Step, e.Name, e.Value));
        File.WriteAllText(path, sb.ToString());
    }

    /// <summary>Appends one entry to a CSV log (writing the header first when the file is new).</summary>
    public static void AppendTo(string path, long step, string name, double value)
    {
        Check(name);
        bool fresh = !File.Exists(path) || new FileInfo(path).Length == 0;
        File.AppendAllText(path, (fresh ? "step,name,value\n" : "") + Line(step, name, value));
    }

    public static MetricLog Load(string path)
    {
        var log = new MetricLog();
        int lineNo = 0;
        foreach (var raw in File.ReadLines(path))
        {
            lineNo++;
            string line = raw.Trim();
            if (line.Length == 0 || (lineNo == 1 && line == "step,name,value")) continue;
            var p = line.Split(',');
            if (p.Length != 3 || !long.TryParse(p[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out long step) ||
                !double.TryParse(p[2], NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
                throw new FormatException($"{path}: line {lineNo} '{line}' is not 'step,name,value'");
            log.Add(step, p[1], value);
        }
        return log;
    }

    static string Line(long step, string name, double value) =>
        string.Create(CultureInfo.InvariantCulture, $"{step},{name},{value:R}\n");

    static void Check(string name)
    {
        if (string.IsNullOrWhiteSpace(name) || name.IndexOfAny([',', '\n', '\r']) >= 0)
            throw new ArgumentException($"metric log: name '{name}' must be non-empty and contain no comma or line break");
    }
}
