using System.Globalization;
using System.Text;

namespace FsrNative.Tests.Weights;

/// <summary>
/// A safetensors writer for the tests, independent of the one under test: the header is assembled as text, so
/// tests can also write files that break the format on purpose.
/// </summary>
public static class RawSafetensors
{
    public sealed record Item(string Name, string DType, long[] Shape, byte[] Data);

    /// <summary>The header JSON text for <paramref name="items"/> laid out one after another.</summary>
    public static string HeaderJson(IReadOnlyList<Item> items, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var sb = new StringBuilder("{");
        bool first = true;
        if (metadata is not null)
        {
            sb.Append("\"__metadata__\":{").Append(string.Join(",", metadata.Select(kv => $"\"{kv.Key}\":\"{kv.Value}\""))).Append('}');
            first = false;
        }
        long offset = 0;
        foreach (var it in items)
        {
            if (!first) sb.Append(',');
            first = false;
            sb.Append(CultureInfo.InvariantCulture, $"\"{it.Name}\":{{\"dtype\":\"{it.DType}\",\"shape\":[{string.Join(",", it.Shape)}],\"data_offsets\":[{offset},{offset + it.Data.Length}]}}");
            offset += it.Data.Length;
        }
        return sb.Append('}').ToString();
    }

    /// <summary>A file from a header text and data bytes (the header length field is the header's byte count
    /// unless <paramref name="headerLength"/> overrides it).</summary>
    public static byte[] Assemble(string headerJson, byte[] data, ulong? headerLength = null)
        => Assemble(Encoding.UTF8.GetBytes(headerJson), data, headerLength);

    public static byte[] Assemble(byte[] header, byte[] data, ulong? headerLength = null)
    {
        var file = new byte[8 + header.Length + data.Length];
        BitConverter.GetBytes(headerLength ?? (ulong)header.Length).CopyTo(file, 0);
        header.CopyTo(file, 8);
        data.CopyTo(file, 8 + header.Length);
        return file;
    }

    public static byte[] Build(IReadOnlyList<Item> items, IReadOnlyDictionary<string, string>? metadata = null)
        => Assemble(HeaderJson(items, metadata), items.SelectMany(i => i.Data).ToArray());

    public static byte[] F32(float[] v) => v.SelectMany(BitConverter.GetBytes).ToArray();
    public static byte[] I64(long[] v) => v.SelectMany(BitConverter.GetBytes).ToArray();

    /// <summary>F16 bytes of values that are exactly representable in half precision.</summary>
    public static byte[] F16(float[] v) => v.SelectMany(x => BitConverter.GetBytes(BitConverter.HalfToUInt16Bits((Half)x))).ToArray();

    /// <summary>BF16 bytes of values whose low 16 bits are zero (exactly representable in bfloat16).</summary>
    public static byte[] BF16(float[] v) => v.SelectMany(x => BitConverter.GetBytes((ushort)(BitConverter.SingleToUInt32Bits(x) >> 16))).ToArray();
}
