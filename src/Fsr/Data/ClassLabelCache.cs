using System.Globalization;
using System.Text;

namespace FsrNative.Data;

/// <summary>
/// The image-level label file (<c>cls_labels.txt</c>), plain text:
/// <code>
/// # FsrNative image-level labels: &lt;id&gt; then C values 0/1; value c is 1 iff some mask pixel has label c+1
/// # classes: 20 voc
/// 2007_000032 1 0 0 0 0 0 0 0 0 0 0 0 0 0 1 0 0 0 0 0
/// </code>
/// Lines starting with '#' are comments, except that a <c># classes: N</c> line must agree with the class count
/// (a cache of another class set is ignored and rebuilt). Ids are sorted when written.
/// </summary>
public static class ClassLabelCache
{
    public const string DefaultFileName = "cls_labels.txt";

    public static Dictionary<string, float[]> Read(string path, int numClasses)
    {
        var result = new Dictionary<string, float[]>(StringComparer.Ordinal);
        int lineNo = 0;
        foreach (var raw in File.ReadLines(path))
        {
            lineNo++;
            string line = raw.Trim();
            if (line.Length == 0) continue;
            if (line.StartsWith('#'))
            {
                if (line.StartsWith("# classes:", StringComparison.Ordinal))
                {
                    var parts = line["# classes:".Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    if (parts.Length == 0 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int n))
                        throw new DataException(DataProblem.Malformed, path, $"line {lineNo}: '{line}' should be '# classes: N'");
                    if (n != numClasses) return new Dictionary<string, float[]>(StringComparer.Ordinal);   // another class set: rebuild
                }
                continue;
            }
            var tok = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (tok.Length != numClasses + 1)
                throw new DataException(DataProblem.Malformed, path, $"line {lineNo}: {tok.Length - 1} values after the id, expected {numClasses}");
            var y = new float[numClasses];
            for (int c = 0; c < numClasses; c++)
            {
                y[c] = tok[c + 1] switch
                {
                    "0" => 0f,
                    "1" => 1f,
                    _ => throw new DataException(DataProblem.Malformed, path, $"line {lineNo}: value '{tok[c + 1]}' is not 0 or 1"),
                };
            }
            result[tok[0]] = y;
        }
        return result;
    }

    /// <summary>Writes the file atomically (a temporary file in the same folder, then a rename).</summary>
    public static void Write(string path, IReadOnlyDictionary<string, float[]> labels, ClassSet classes)
    {
        var sb = new StringBuilder();
        sb.Append("# FsrNative image-level labels: <id> then C values 0/1; value c is 1 iff some mask pixel has label c+1\n");
        sb.Append(CultureInfo.InvariantCulture, $"# classes: {classes.NumClasses} {classes.Name}\n");
        sb.Append("# order: ").Append(string.Join(' ', classes.Names.Skip(1).Select(n => n.Replace(' ', '_')))).Append('\n');
        foreach (var id in labels.Keys.Order(StringComparer.Ordinal))
        {
            sb.Append(id);
            foreach (var v in labels[id]) sb.Append(v != 0 ? " 1" : " 0");
            sb.Append('\n');
        }
        string tmp = path + $".tmp{Environment.ProcessId}.{Environment.CurrentManagedThreadId}";
        File.WriteAllText(tmp, sb.ToString());
        File.Move(tmp, path, overwrite: true);
    }
}
