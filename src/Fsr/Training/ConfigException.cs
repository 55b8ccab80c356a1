namespace FsrNative.Fsr.Training;

/// <summary>A configuration that cannot be used; <see cref="Problems"/> lists every fault, each naming the setting and its value.</summary>
public sealed class ConfigException(IReadOnlyList<string> problems)
    : Exception(problems.Count == 1 ? $"configuration: {problems[0]}" : $"configuration: {problems.Count} problems:\n  " + string.Join("\n  ", problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
