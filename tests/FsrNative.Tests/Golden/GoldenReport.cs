using Xunit.Abstractions;

namespace FsrNative.Tests.Golden;

/// <summary>Writes max|Δ| of a tensor against its golden value to the test output (agreement figures for reports),
/// then checks it with <see cref="GoldenAssert"/>.</summary>
internal static class GoldenReport
{
    public static void Close(ITestOutputHelper output, GoldenFile golden, string name, Tensor actual, double rel, double abs)
    {
        var reference = golden.Floats(name);
        var ours = actual.ToArray();
        double worst = 0, maxRef = 0;
        for (int i = 0; i < Math.Min(reference.Length, ours.Length); i++)
        {
            worst = Math.Max(worst, Math.Abs((double)reference[i] - ours[i]));
            maxRef = Math.Max(maxRef, Math.Abs(reference[i]));
        }
        output.WriteLine($"{name}: max|Δ| = {worst:E2} (max|ref| {maxRef:E2})");
        GoldenAssert.Close(golden, name, actual, rel, abs);
    }

    public static void Equal(ITestOutputHelper output, GoldenFile golden, string name, Tensor actual)
    {
        GoldenAssert.Equal(golden, name, actual);
        output.WriteLine($"{name}: exact ({golden.Longs(name).Length} entries)");
    }

    public static float ConfigFloat(GoldenFile golden, string key) => golden.Config.GetProperty(key).GetSingle();
    public static int ConfigInt(GoldenFile golden, string key) => golden.Config.GetProperty(key).GetInt32();
}
