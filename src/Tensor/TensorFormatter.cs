using System.Globalization;
using System.Text;

namespace FsrNative;

/// <summary>
/// Prints tensors the way PyTorch does: <c>tensor([[ 1.0000, -2.5000], [ 0.0000,  3.0000]])</c> with rows
/// aligned, integers as <c>1.</c>, scientific notation when magnitudes span more than 10^8 or exceed 10^8,
/// and, above 1000 elements, only the first and last three entries of each dimension.
/// </summary>
internal static class TensorFormatter
{
    const int Threshold = 1000, EdgeItems = 3;

    public static string Format(Tensor t)
    {
        if (t.IsDisposed) return "tensor(<disposed>)";
        float[] values = t.DType == DType.Int32 ? Array.ConvertAll(t.ToIntArray(), v => (float)v) : t.ToArray();
        int[] shape = t.shape;
        bool summarize = values.Length > Threshold;
        Func<float, string> fmt = ChooseFormat(values, t.DType == DType.Int32);
        int width = 0;
        foreach (float v in Visible(values, shape, summarize)) width = Math.Max(width, fmt(v).Length);
        var sb = new StringBuilder("tensor(");
        if (shape.Length == 0) sb.Append(fmt(values[0]));
        else Append(sb, values, shape, Shape.ContiguousStrides(shape), 0, 0, fmt, width, summarize, "tensor(".Length);
        var extras = new List<string>();
        if (!t.device.IsCpu) extras.Add($"device='{t.device}'");
        if (t.DType == DType.Int32) extras.Add("dtype=int32");
        if (t.grad_fn is not null) extras.Add($"grad_fn={t.grad_fn}");
        else if (t.requires_grad) extras.Add("requires_grad=True");
        if (shape.Length > 0 && values.Length == 0) extras.Insert(0, $"size={Shape.Format(shape)}");
        foreach (var e in extras) sb.Append(", ").Append(e);
        return sb.Append(')').ToString();
    }

    static IEnumerable<float> Visible(float[] values, int[] shape, bool summarize)
    {
        if (!summarize) return values;
        var strides = Shape.ContiguousStrides(shape);
        var result = new List<float>();
        void Walk(int dim, int offset)
        {
            if (dim == shape.Length) { result.Add(values[offset]); return; }
            foreach (int i in Indices(shape[dim], summarize)) Walk(dim + 1, offset + i * strides[dim]);
        }
        Walk(0, 0);
        return result;
    }

    static IEnumerable<int> Indices(int n, bool summarize)
    {
        if (!summarize || n <= 2 * EdgeItems) { for (int i = 0; i < n; i++) yield return i; yield break; }
        for (int i = 0; i < EdgeItems; i++) yield return i;
        for (int i = n - EdgeItems; i < n; i++) yield return i;
    }

    static Func<float, string> ChooseFormat(float[] values, bool isInt)
    {
        var inv = CultureInfo.InvariantCulture;
        if (isInt) return v => ((long)v).ToString(inv);
        var finite = values.Where(float.IsFinite).Select(MathF.Abs).ToArray();
        string Special(float v) => float.IsNaN(v) ? "nan" : v > 0 ? "inf" : "-inf";
        if (finite.Length == 0) return v => float.IsFinite(v) ? v.ToString("0.0000", inv) : Special(v);
        bool allInts = finite.All(v => v == MathF.Round(v));
        float max = finite.Max();
        var nonZero = finite.Where(v => v != 0).ToArray();
        float min = nonZero.Length > 0 ? nonZero.Min() : 0;
        bool sci = max > 1e8f || (nonZero.Length > 0 && (max / min > 1000f && max > 1000f || min < 1e-4f));
        if (allInts && !sci) return v => float.IsFinite(v) ? ((double)v).ToString("0", inv) + "." : Special(v);
        if (sci) return v => float.IsFinite(v) ? v.ToString("0.0000e+00", inv) : Special(v);
        return v => float.IsFinite(v) ? v.ToString("0.0000", inv) : Special(v);
    }

    static void Append(StringBuilder sb, float[] values, int[] shape, int[] strides, int dim, int offset,
        Func<float, string> fmt, int width, bool summarize, int indent)
    {
        sb.Append('[');
        int n = shape[dim];
        bool first = true;
        int previous = -1;
        foreach (int i in Indices(n, summarize))
        {
            if (!first)
            {
                sb.Append(',');
                if (dim == shape.Length - 1) sb.Append(' ');
                else sb.Append('\n', shape.Length - 1 - dim).Append(' ', indent + dim + 1);
            }
            if (previous >= 0 && i != previous + 1)
            {
                sb.Append("...,");
                if (dim == shape.Length - 1) sb.Append(' ');
                else sb.Append('\n', shape.Length - 1 - dim).Append(' ', indent + dim + 1);
            }
            if (dim == shape.Length - 1) sb.Append(fmt(values[offset + i * strides[dim]]).PadLeft(width));
            else Append(sb, values, shape, strides, dim + 1, offset + i * strides[dim], fmt, width, summarize, indent);
            first = false;
            previous = i;
        }
        sb.Append(']');
    }
}
