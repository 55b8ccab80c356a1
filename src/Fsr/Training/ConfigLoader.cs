using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace FsrNative.Fsr.Training;

/// <summary>
/// Builds the configuration of a run in layers, each overriding the one before: the preset (synthetic, voc, coco),
/// then a JSON config file (any subset of the settings, same sections and snake_case keys as the saved
/// config.json), then the command line's options. Unknown settings, values of the wrong type and values out of
/// range are errors naming the setting, the value and where it came from. The result is resolved (derived values
/// filled in, <see cref="ConfigResolver"/>) and validated (<see cref="ConfigValidator"/>).
/// </summary>
public static class ConfigLoader
{
    /// <summary>The JSON form of configurations: snake_case keys, nulls written, unknown keys rejected, comments allowed in files.</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        NumberHandling = JsonNumberHandling.Strict,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <summary>
    /// The configuration from <paramref name="preset"/> (null: the file's <c>preset</c> key, else synthetic), the
    /// file <paramref name="configFile"/> (optional) and the command-line <paramref name="overrides"/>, resolved and validated.
    /// </summary>
    public static FsrConfig Load(string? preset = null, string? configFile = null, IEnumerable<ConfigOverride>? overrides = null)
    {
        var problems = new List<string>();
        var sources = new Dictionary<string, string>(StringComparer.Ordinal);
        JsonObject? file = configFile is null ? null : ReadFile(configFile);
        string name = preset ?? PresetOf(file, configFile!) ?? FsrPresets.Synthetic;
        var tree = ToJson(FsrPresets.Get(name));
        if (file is not null) Merge(tree, file, "", $"config file {configFile}", sources, problems);
        tree["preset"] = name;
        foreach (var o in overrides ?? []) Apply(tree, o, sources, problems);
        if (problems.Count > 0) throw new ConfigException(problems);
        var config = FromJson(tree, sources);
        ConfigResolver.Resolve(config);
        ConfigValidator.Validate(config);
        return config;
    }

    /// <summary>The configuration as indented JSON (the run folder's config.json).</summary>
    public static string Serialize(FsrConfig config) => JsonSerializer.Serialize(config, JsonOptions);

    public static JsonObject ToJson(FsrConfig config) => JsonSerializer.SerializeToNode(config, JsonOptions)!.AsObject();

    /// <summary>Writes <paramref name="config"/> to <paramref name="path"/> (config.json of a run folder).</summary>
    public static void Save(FsrConfig config, string path) => File.WriteAllText(path, Serialize(config) + "\n");

    static JsonObject ReadFile(string path)
    {
        if (!File.Exists(path)) throw new ConfigException([$"--config {path}: the file does not exist"]);
        try
        {
            var node = JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            return node as JsonObject ?? throw new ConfigException([$"config file {path}: expected a JSON object with sections (model, data, optim, …), found {node?.GetValueKind().ToString() ?? "null"}"]);
        }
        catch (JsonException e)
        {
            throw new ConfigException([$"config file {path}: not valid JSON ({e.Message})"]);
        }
    }

    static string? PresetOf(JsonObject? file, string path)
    {
        if (file?["preset"] is not JsonNode n) return null;
        if (n is JsonValue v && v.TryGetValue(out string? s)) return s;
        throw new ConfigException([$"config file {path}: preset = {n.ToJsonString()}: expected one of {string.Join(", ", FsrPresets.Names)}"]);
    }

    /// <summary>Copies <paramref name="overlay"/> onto <paramref name="target"/>; keys the target lacks are unknown settings.</summary>
    static void Merge(JsonObject target, JsonObject overlay, string prefix, string source, Dictionary<string, string> sources, List<string> problems)
    {
        foreach (var (key, value) in overlay.ToList())
        {
            string path = prefix.Length == 0 ? key : $"{prefix}.{key}";
            if (!target.ContainsKey(key))
            {
                problems.Add($"{source}: unknown setting '{path}' (known{(prefix.Length == 0 ? "" : $" in {prefix}")}: {string.Join(", ", target.Select(kv => kv.Key))})");
                continue;
            }
            if (target[key] is JsonObject sub && value is JsonObject subOverlay)
            {
                Merge(sub, subOverlay, path, source, sources, problems);
                continue;
            }
            if (target[key] is JsonObject && value is not JsonObject)
            {
                problems.Add($"{source}: '{path}' is a section; expected an object, found {value?.ToJsonString() ?? "null"}");
                continue;
            }
            target[key] = value?.DeepClone();
            sources[path] = source;
        }
    }

    static void Apply(JsonObject tree, ConfigOverride o, Dictionary<string, string> sources, List<string> problems)
    {
        var parts = o.Path.Split('.');
        JsonObject node = tree;
        for (int i = 0; i < parts.Length - 1; i++)
        {
            if (node[parts[i]] is JsonObject next) { node = next; continue; }
            problems.Add($"{o.Source}: unknown setting '{o.Path}' (sections: {string.Join(", ", tree.Where(kv => kv.Value is JsonObject).Select(kv => kv.Key))})");
            return;
        }
        string leaf = parts[^1];
        if (!node.ContainsKey(leaf) || node[leaf] is JsonObject)
        {
            problems.Add($"{o.Source}: unknown setting '{o.Path}' (known{(parts.Length > 1 ? $" in {string.Join('.', parts[..^1])}" : "")}: {string.Join(", ", node.Where(kv => kv.Value is not JsonObject).Select(kv => kv.Key))})");
            return;
        }
        try
        {
            node[leaf] = o.ToNode(node[leaf]);
            sources[o.Path] = o.Source;
        }
        catch (JsonException e)
        {
            problems.Add($"{o.Path} = \"{o.Text}\" (from {o.Source}): not a valid value ({e.Message})");
        }
    }

    static FsrConfig FromJson(JsonObject tree, Dictionary<string, string> sources)
    {
        try
        {
            return tree.Deserialize<FsrConfig>(JsonOptions) ?? throw new ConfigException(["the configuration is null"]);
        }
        catch (JsonException e)
        {
            // e.Path is "$.optim.max_iters" (or "$.cam.cam_scales[1]"): name the setting, its value and its source.
            string path = (e.Path ?? "$").TrimStart('$').TrimStart('.');
            string setting = path.Split('[')[0];
            JsonNode? value = tree;
            foreach (var part in setting.Split('.', StringSplitOptions.RemoveEmptyEntries)) value = value is JsonObject o ? o[part] : null;
            string from = sources.TryGetValue(setting, out var s) ? $" (from {s})" : "";
            string expected = ExpectedType(setting);
            throw new ConfigException([$"{setting} = {value?.ToJsonString() ?? "null"}{from}: {expected}"]);
        }
    }

    /// <summary>What a setting's type accepts, for error messages.</summary>
    static string ExpectedType(string setting)
    {
        var parts = setting.Split('.');
        Type t = typeof(FsrConfig);
        foreach (var part in parts)
        {
            var p = t.GetProperties().FirstOrDefault(p => JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Name) == part);
            if (p is null) return "not a valid value";
            t = p.PropertyType;
        }
        var u = Nullable.GetUnderlyingType(t);
        string nul = u is null ? "" : " (or null)";
        t = u ?? t;
        return t switch
        {
            _ when t == typeof(int) || t == typeof(long) => "expected a whole number" + nul,
            _ when t == typeof(ulong) => "expected a non-negative whole number" + nul,
            _ when t == typeof(double) => "expected a number" + nul,
            _ when t == typeof(bool) => "expected true or false" + nul,
            _ when t == typeof(string) => "expected a string" + nul,
            _ when t == typeof(double[]) => "expected a list of numbers, e.g. [1.0, 0.5, 1.5] or 1,0.5,1.5",
            _ when t == typeof(int[]) => "expected a list of whole numbers, e.g. [1, 2, 4]",
            _ => "not a valid value",
        };
    }
}
