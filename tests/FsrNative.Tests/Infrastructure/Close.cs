using System.Globalization;
using System.Text;

namespace FsrNative.Tests.Infrastructure;

/// <summary>An absolute and a relative tolerance: element i passes when |actual − expected| ≤ atol + rtol·|expected|.</summary>
public readonly record struct Tolerance(double Atol, double Rtol)
{
    /// <summary>float32 results computed in a different order than the reference (sums, GEMM).</summary>
    public static readonly Tolerance Float32 = new(1e-5, 1e-4);
    /// <summary>float32 elementwise math where both sides use the same formula.</summary>
    public static readonly Tolerance Float32Tight = new(1e-6, 1e-6);
    /// <summary>float64 results (gradcheck, double oracles).</summary>
    public static readonly Tolerance Float64 = new(1e-10, 1e-8);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"atol={Atol:G3}, rtol={Rtol:G3}");
}

/// <summary>
/// Engine-agnostic comparison of flat arrays, llm.c style: element i passes when
/// |actual[i] − expected[i]| ≤ atol + rtol·|expected[i]| (the same rule as torch.allclose, with expected as the
/// reference). NaN passes only against NaN when <c>equalNan</c> is set; ±∞ pass only against the same infinity.
/// On failure the message names what was compared, the tolerance, the number of mismatches, the first few
/// (index — as a multi-index when a shape is given — expected, actual, |diff|), and the max abs/rel error.
/// </summary>
public static class Close
{
    /// <summary>How many mismatches a failure message lists.</summary>
    public const int MaxListed = 10;

    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double atol, double rtol,
        string what, ReadOnlySpan<int> shape = default, bool equalNan = false)
    {
        var report = Compare(expected, actual, atol, rtol, what, shape, equalNan);
        if (report is not null) throw new Xunit.Sdk.XunitException(report);
    }

    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, Tolerance tol,
        string what, ReadOnlySpan<int> shape = default, bool equalNan = false)
        => AssertClose(expected, actual, tol.Atol, tol.Rtol, what, shape, equalNan);

    public static void AssertClose(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, double atol, double rtol,
        string what, ReadOnlySpan<int> shape = default, bool equalNan = false)
    {
        var report = Compare(expected, actual, atol, rtol, what, shape, equalNan);
        if (report is not null) throw new Xunit.Sdk.XunitException(report);
    }

    public static void AssertClose(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, Tolerance tol,
        string what, ReadOnlySpan<int> shape = default, bool equalNan = false)
        => AssertClose(expected, actual, tol.Atol, tol.Rtol, what, shape, equalNan);

    /// <summary>Returns null when every element passes, else the failure report (float32 values widened to double).</summary>
    public static string? Compare(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double atol, double rtol,
        string what, ReadOnlySpan<int> shape = default, bool equalNan = false)
    {
        var e = new double[expected.Length];
        var a = new double[actual.Length];
        for (int i = 0; i < e.Length; i++) e[i] = expected[i];
        for (int i = 0; i < a.Length; i++) a[i] = actual[i];
        return Compare((ReadOnlySpan<double>)e, a, atol, rtol, what, shape, equalNan);
    }

    /// <summary>Returns null when every element passes, else the failure report.</summary>
    public static string? Compare(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, double atol, double rtol,
        string what, ReadOnlySpan<int> shape = default, bool equalNan = false)
    {
        if (atol < 0 || rtol < 0 || double.IsNaN(atol) || double.IsNaN(rtol))
            throw new ArgumentException($"{what}: tolerances must be ≥ 0, got atol={atol}, rtol={rtol}.");
        if (expected.Length != actual.Length)
            return $"{what}: length mismatch: expected {expected.Length} elements, actual {actual.Length}.";
        if (!shape.IsEmpty)
        {
            long n = 1;
            foreach (int d in shape) n *= d;
            if (n != expected.Length)
                return $"{what}: shape [{string.Join(", ", shape.ToArray())}] has {n} elements but the arrays have {expected.Length}.";
        }

        int bad = 0;
        double maxAbs = 0, maxRel = 0;
        int maxAbsAt = -1, maxRelAt = -1;
        var listed = new List<int>(MaxListed);
        for (int i = 0; i < expected.Length; i++)
        {
            double x = expected[i], y = actual[i];
            bool ok;
            double diff;
            if (double.IsNaN(x) || double.IsNaN(y))
            {
                ok = equalNan && double.IsNaN(x) && double.IsNaN(y);
                diff = ok ? 0 : double.NaN;
            }
            else if (double.IsInfinity(x) || double.IsInfinity(y))
            {
                ok = x == y;
                diff = ok ? 0 : double.PositiveInfinity;
            }
            else
            {
                diff = Math.Abs(x - y);
                ok = diff <= atol + rtol * Math.Abs(x);
            }

            // Max errors over finite pairs, NaN/inf mismatches are counted and listed but not maxed.
            if (double.IsFinite(diff))
            {
                if (diff > maxAbs) { maxAbs = diff; maxAbsAt = i; }
                double rel = diff / Math.Max(Math.Abs(x), double.Epsilon);
                if (x == 0 && diff == 0) rel = 0;
                if (rel > maxRel) { maxRel = rel; maxRelAt = i; }
            }
            if (!ok)
            {
                bad++;
                if (listed.Count < MaxListed) listed.Add(i);
            }
        }
        if (bad == 0) return null;

        var ic = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(ic, $"{what}: {bad} of {expected.Length} elements differ beyond |a−b| ≤ atol + rtol·|ref| (atol={atol:G3}, rtol={rtol:G3})");
        if (!shape.IsEmpty) sb.Append(ic, $", shape [{string.Join(", ", shape.ToArray())}]");
        sb.AppendLine(".");
        sb.AppendLine(ic, $"  first {listed.Count}:");
        foreach (int i in listed)
        {
            double x = expected[i], y = actual[i];
            sb.AppendLine(ic, $"    [{Index(i, shape)}] expected {x:G9}, actual {y:G9}, |diff| {Math.Abs(x - y):G4}, allowed {atol + rtol * Math.Abs(x):G4}");
        }
        if (maxAbsAt >= 0)
            sb.AppendLine(ic, $"  max abs error {maxAbs:G4} at [{Index(maxAbsAt, shape)}] (expected {expected[maxAbsAt]:G9}, actual {actual[maxAbsAt]:G9})");
        if (maxRelAt >= 0)
            sb.AppendLine(ic, $"  max rel error {maxRel:G4} at [{Index(maxRelAt, shape)}] (expected {expected[maxRelAt]:G9}, actual {actual[maxRelAt]:G9})");
        return sb.ToString().TrimEnd();
    }

    /// <summary>Max |a−b| over all elements (NaN if any pair has exactly one NaN), for reports that do not assert.</summary>
    public static double MaxAbsDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"MaxAbsDiff: lengths {a.Length} and {b.Length} differ.");
        double m = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double d = Math.Abs((double)a[i] - b[i]);
            if (double.IsNaN(d)) { if (float.IsNaN(a[i]) && float.IsNaN(b[i])) continue; return double.NaN; }
            m = Math.Max(m, d);
        }
        return m;
    }

    /// <summary>Flat index → "i" or "i0, i1, …" (row-major) when a shape is given.</summary>
    public static string Index(int flat, ReadOnlySpan<int> shape)
    {
        if (shape.IsEmpty) return flat.ToString(CultureInfo.InvariantCulture);
        var idx = new int[shape.Length];
        int r = flat;
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            int n = Math.Max(shape[d], 1);
            idx[d] = r % n;
            r /= n;
        }
        return string.Join(", ", idx);
    }
}
