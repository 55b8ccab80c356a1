using Xunit;

namespace FsrNative.Tests.Golden;

/// <summary>The golden file opens, names its format and carries the tiny configuration the other Golden tests read.</summary>
[Trait("Category", "Golden")]
public sealed class GoldenFileTests
{
    [GoldenFact]
    public void Opens_and_has_configuration_and_initial_weights()
    {
        var g = GoldenFile.Shared;
        Assert.True(g.Config.ValueKind == System.Text.Json.JsonValueKind.Object, $"{g.Path}: 'config' metadata is not a JSON object");
        var student = g.File.Entries.Count(e => e.Name.StartsWith("init.student.", StringComparison.Ordinal));
        var teacher = g.File.Entries.Count(e => e.Name.StartsWith("init.teacher.", StringComparison.Ordinal));
        Assert.True(student > 0 && student == teacher, $"{g.Path}: {student} student and {teacher} teacher initial tensors");
        Assert.True(g.Contains("input.view1") && g.Contains("input.view2") && g.Contains("input.cls_labels"));
    }
}
