using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace FsrNative.Bench;

/// <summary>
/// GFLOP/s of a matrix-product benchmark: 2·M·N·K·Batch / mean time, read from the parameter "Shape" or "Case" ("MxNxK", optionally ":suffix") and,
/// when present, "Batch". Empty for benchmarks without a Shape parameter.
/// </summary>
public sealed class GflopsColumn : IColumn
{
    public string Id => nameof(GflopsColumn);
    public string ColumnName => "GFLOP/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "2·M·N·K·batch / mean time, in 1e9 floating-point operations per second";

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => true;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var shape = benchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name is "Shape" or "Case")?.Value as string;
        shape = shape?.Split(':')[0];
        var report = summary[benchmarkCase];
        if (shape == null || report?.ResultStatistics == null) return "-";
        var dims = shape.Split('x');
        if (dims.Length != 3) return "-";
        double flop = 2.0 * double.Parse(dims[0]) * double.Parse(dims[1]) * double.Parse(dims[2]);
        if (benchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name == "Batch")?.Value is int batch) flop *= batch;
        return (flop / report.ResultStatistics.Mean).ToString("F1"); // flop per ns = GFLOP/s
    }
}
