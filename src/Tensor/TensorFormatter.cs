using System.Globalization;
using System.Text;

namespace FsrNative;

/// <summary>
/// Prints tensors the way PyTorch does (torch/_tensor_str.py with the default print options: precision 4,
/// threshold 1000, edgeitems 3, linewidth 80): <c>tensor([[ 1.0000, -2.5000], [ 0.0000,  3.0000]])</c> with
/// columns aligned to the widest finite non-zero value, integral floats as <c>1.</c>, scientific notation when the
/// finite non-zero magnitudes span more than 10³, exceed 10⁸ or (non-integral) go below 10⁻⁴, rows wrapped at 80
/// columns, and above 1000 elements only the first and last three entries of each dimension (the format is chosen
/// from those). Non-default dtypes are named (<c>dtype=torch.int32</c>, <c>dtype=torch.float64</c>).
/// </summary>
internal static class TensorFormatter
{
    const int Threshold = 1000, EdgeItems = 3, LineWidth = 80, Precision = 4;
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string Format(Tensor t)
    {
        if (t.IsDisposed) return "tensor(<disposed>)";
        const string prefix = "tensor(";
        int indent = prefix.Length;
        int[] shape = t.shape;
        double[] values = t.DType switch
        {
            DType.Int32 => Array.ConvertAll(t.ToIntArray(), v => (double)v),
            DType.Float64 => t.ToDoubleArray(),
            _ => Array.ConvertAll(t.ToArray(), v => (double)v),
        };
        var suffixes = new List<string>();
        if (!t.device.IsCpu) suffixes.Add($"device='{t.device}'");
        string body;
        if (values.Length == 0)
        {
            if (shape.Length != 1) suffixes.Add("size=(" + string.Join(", ", shape) + ")");   // NumPy-style: (0,) is implied
            if (t.DType != DType.Float32) suffixes.Add("dtype=" + DTypeName(t.DType));
            body = "[]";
        }
        else
        {
            if (t.DType != DType.Float32) suffixes.Add("dtype=" + DTypeName(t.DType));
            bool summarize = values.Length > Threshold;
            var formatter = new Formatter(Visible(values, shape, summarize), t.DType.IsFloatingPoint());
            body = shape.Length == 0 ? formatter.Format(values[0]) : TensorStr(values, shape, Shape.ContiguousStrides(shape), 0, 0, indent, summarize, formatter);
        }
        if (t.grad_fn is not null) suffixes.Add($"grad_fn={t.grad_fn}");
        else if (t.requires_grad) suffixes.Add("requires_grad=True");
        return AddSuffixes(prefix + body, suffixes, indent);
    }

    static string DTypeName(DType dtype) => dtype switch
    {
        DType.Int32 => "torch.int32",
        DType.Float64 => "torch.float64",
        _ => "torch.float32",
    };

    /// <summary>_add_suffixes: ", suffix" on the same line while it fits in the line width, else on a new line.</summary>
    static string AddSuffixes(string tensorStr, List<string> suffixes, int indent)
    {
        var sb = new StringBuilder(tensorStr);
        int lastLineLen = tensorStr.Length - tensorStr.LastIndexOf('\n') + 1;
        foreach (var suffix in suffixes)
        {
            if (lastLineLen + suffix.Length + 2 > LineWidth)
            {
                sb.Append(",\n").Append(' ', indent).Append(suffix);
                lastLineLen = indent + suffix.Length;
            }
            else
            {
                sb.Append(", ").Append(suffix);
                lastLineLen += suffix.Length + 2;
            }
        }
        return sb.Append(')').ToString();
    }

    /// <summary>The values that will be printed (get_summarized_data): all, or the edge items of every dimension.</summary>
    static List<double> Visible(double[] values, int[] shape, bool summarize)
    {
        var result = new List<double>();
        var strides = Shape.ContiguousStrides(shape);
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

    /// <summary>_tensor_str_with_formatter: a vector is a wrapped row; higher dims join their slices with ",",
    /// dim − 1 newlines and the indent, with "..." standing for the elided middle.</summary>
    static string TensorStr(double[] values, int[] shape, int[] strides, int dim, int offset, int indent, bool summarize, Formatter f)
    {
        int n = shape[dim];
        bool elide = summarize && n > 2 * EdgeItems;
        if (dim == shape.Length - 1)
        {
            var data = new List<string>();
            foreach (int i in Indices(n, summarize))
            {
                if (elide && i == n - EdgeItems) data.Add(" ...");
                data.Add(f.Format(values[offset + i * strides[dim]]));
            }
            int perLine = Math.Max(1, (LineWidth - indent) / (f.Width + 2));
            var lines = new List<string>();
            for (int i = 0; i < data.Count; i += perLine) lines.Add(string.Join(", ", data.Skip(i).Take(perLine)));
            return "[" + string.Join(",\n" + new string(' ', indent + 1), lines) + "]";
        }
        var slices = new List<string>();
        foreach (int i in Indices(n, summarize))
        {
            if (elide && i == n - EdgeItems) slices.Add("...");
            slices.Add(TensorStr(values, shape, strides, dim + 1, offset + i * strides[dim], indent + 1, summarize, f));
        }
        int rank = shape.Length - dim;
        return "[" + string.Join("," + new string('\n', rank - 1) + new string(' ', indent + 1), slices) + "]";
    }

    /// <summary>_Formatter: chooses integer, fixed or scientific notation and the column width from the visible values.</summary>
    sealed class Formatter
    {
        readonly bool _floating, _intMode = true, _sciMode;
        public int Width { get; } = 1;

        public Formatter(List<double> visible, bool floating)
        {
            _floating = floating;
            if (!floating)
            {
                foreach (double v in visible) Width = Math.Max(Width, ((long)v).ToString(Inv).Length);
                return;
            }
            var nonZeroFinite = visible.Where(v => double.IsFinite(v) && v != 0).ToList();
            if (nonZeroFinite.Count == 0) return;
            double min = nonZeroFinite.Min(Math.Abs), max = nonZeroFinite.Max(Math.Abs);
            _intMode = nonZeroFinite.All(v => v == Math.Ceiling(v));
            _sciMode = max / min > 1000.0 || max > 1.0e8 || (!_intMode && min < 1.0e-4);
            foreach (double v in nonZeroFinite)
            {
                int w = _sciMode ? Sci(v).Length : _intMode ? v.ToString("0", Inv).Length + 1 : Fixed(v).Length;
                Width = Math.Max(Width, w);
            }
        }

        static string Sci(double v) => v.ToString("0." + new string('0', Precision) + "e+00", Inv);
        static string Fixed(double v) => v.ToString("0." + new string('0', Precision), Inv);
        static string NonFinite(double v) => double.IsNaN(v) ? "nan" : v > 0 ? "inf" : "-inf";

        public string Format(double v)
        {
            string s;
            if (!_floating) s = ((long)v).ToString(Inv);
            else if (!double.IsFinite(v)) s = NonFinite(v);
            else if (_sciMode) s = Sci(v);
            else if (_intMode) s = v.ToString("0", Inv) + ".";
            else s = Fixed(v);
            return s.PadLeft(Width);
        }
    }
}
