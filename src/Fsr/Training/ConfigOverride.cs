using System.Text.Json.Nodes;

namespace FsrNative.Fsr.Training;

/// <summary>
/// One setting given on the command line: the dotted path of the setting (e.g. <c>optim.max_iters</c>), its value
/// as typed, and where it came from (e.g. <c>--steps</c>), for error messages. The text is converted to the
/// setting's JSON type (number, boolean, string, list) when it is applied.
/// </summary>
public sealed record ConfigOverride(string Path, string Text, string Source)
{
    /// <summary>Parses <c>--set path=value</c>.</summary>
    public static ConfigOverride FromAssignment(string assignment)
    {
        int eq = assignment.IndexOf('=');
        if (eq <= 0) throw new ConfigException([$"--set \"{assignment}\": expected SECTION.KEY=VALUE, e.g. optim.lr=1e-4"]);
        return new ConfigOverride(assignment[..eq].Trim(), assignment[(eq + 1)..].Trim(), $"--set {assignment}");
    }

    /// <summary>The value as a JSON node shaped like <paramref name="current"/> (the setting's present value).</summary>
    internal JsonNode? ToNode(JsonNode? current)
    {
        string t = Text;
        if (t is "null" or "") return null;
        switch (current)
        {
            case JsonArray:
                // "1,0.5,1.5" or a JSON list "[1, 0.5, 1.5]"
                if (t.StartsWith('[')) return JsonNode.Parse(t);
                var list = new JsonArray();
                foreach (var part in t.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                    list.Add(ParseScalar(part));
                return list;
            case JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.String:
                return JsonValue.Create(t);
            default:
                return ParseScalar(t);
        }
    }

    static JsonNode? ParseScalar(string t)
    {
        try
        {
            var n = JsonNode.Parse(t);
            if (n is JsonValue) return n;
        }
        catch (System.Text.Json.JsonException) { }
        return JsonValue.Create(t);
    }
}
