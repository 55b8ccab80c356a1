using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace FsrNative.Weights;

/// <summary>One tensor's entry in a safetensors header. Offsets are relative to the start of the data section.</summary>
public sealed record SafetensorsEntry(string Name, string DType, long[] Shape, long Begin, long End)
{
    public long NumEl => Shape.Aggregate(1L, (a, b) => a * b);
    public long ByteLength => End - Begin;
}

/// <summary>
/// A parsed safetensors file: <c>[u64 little-endian header length N][N bytes of UTF-8 JSON header][data]</c>, the
/// header mapping each tensor name to <c>{"dtype", "shape", "data_offsets": [begin, end]}</c> plus an optional
/// <c>"__metadata__"</c> map of strings. Files are memory-mapped (<see cref="Open"/>), byte buffers wrapped as they
/// are (<see cref="FromBytes"/>). Everything is validated when opened — header size (at most 100 MB) and bounds,
/// UTF-8, JSON syntax, known dtypes, integer shapes without overflow, shape × dtype size = byte length, offsets
/// that tile the data section exactly (no gap, overlap or overrun), unique names — and every fault raises a
/// <see cref="SafetensorsFormatException"/>. Readers convert F32/F16/BF16/F64 to float32 and I64/I32 to Int32 (with
/// a range check) or long.
/// </summary>
public sealed class SafetensorsFile : IDisposable
{
    /// <summary>The largest header accepted (the reference implementation's limit).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    static readonly Dictionary<string, int> DTypeSizes = new()
    {
        ["BOOL"] = 1, ["U8"] = 1, ["I8"] = 1, ["F8_E5M2"] = 1, ["F8_E4M3"] = 1,
        ["I16"] = 2, ["U16"] = 2, ["F16"] = 2, ["BF16"] = 2,
        ["I32"] = 4, ["U32"] = 4, ["F32"] = 4,
        ["I64"] = 8, ["U64"] = 8, ["F64"] = 8,
    };

    readonly ByteSource _source;
    readonly Dictionary<string, SafetensorsEntry> _byName;

    SafetensorsFile(ByteSource source, string name)
    {
        _source = source;
        FileName = name;
        try
        {
            (Entries, Metadata, DataStart) = Parse(source, name);
        }
        catch
        {
            source.Dispose();
            throw;
        }
        _byName = Entries.ToDictionary(e => e.Name);
    }

    /// <summary>Opens and validates a file, memory-mapped (nothing is read until a tensor is).</summary>
    public static SafetensorsFile Open(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"safetensors file not found: {path}", path);
        return new SafetensorsFile(info.Length < 4096 ? new MemorySource(File.ReadAllBytes(path)) : new MappedSource(path, info.Length), path);
    }

    /// <summary>Validates and wraps an in-memory file (not copied); <paramref name="name"/> names it in errors.</summary>
    public static SafetensorsFile FromBytes(ReadOnlyMemory<byte> bytes, string name = "<memory>") => new(new MemorySource(bytes), name);

    public string FileName { get; }
    /// <summary>Entries sorted by their offsets.</summary>
    public IReadOnlyList<SafetensorsEntry> Entries { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }
    /// <summary>Where the data section starts in the file (8 + header length).</summary>
    public long DataStart { get; }

    public bool Contains(string name) => _byName.ContainsKey(name);

    public SafetensorsEntry this[string name]
        => _byName.TryGetValue(name, out var e) ? e : throw new KeyNotFoundException($"{FileName}: no tensor named '{name}'");

    // ---- parsing ---------------------------------------------------------------------------------------------

    static (IReadOnlyList<SafetensorsEntry>, IReadOnlyDictionary<string, string>, long) Parse(ByteSource src, string file)
    {
        SafetensorsFormatException Fault(string what, string? tensor = null, Exception? inner = null) => new(file, tensor, what, inner);

        if (src.Length < 8) throw Fault($"truncated: {src.Length} bytes, but the header length alone takes 8");
        ulong headerLen = BinaryPrimitives.ReadUInt64LittleEndian(src.Span(0, 8));
        if (headerLen > MaxHeaderBytes) throw Fault($"header length {headerLen} exceeds the limit of {MaxHeaderBytes} bytes");
        if ((long)headerLen > src.Length - 8) throw Fault($"header length {headerLen} runs past the end of the file ({src.Length} bytes)");
        var header = src.Span(8, (int)headerLen);
        if (!System.Text.Unicode.Utf8.IsValid(header)) throw Fault("header is not valid UTF-8");
        if (header.Length == 0 || header[0] != (byte)'{') throw Fault("header does not start with '{'");

        var entries = new List<SafetensorsEntry>();
        var metadata = new Dictionary<string, string>();
        var names = new HashSet<string>();
        try
        {
            var reader = new Utf8JsonReader(header, new JsonReaderOptions { MaxDepth = 4, CommentHandling = JsonCommentHandling.Disallow });
            Expect(ref reader, JsonTokenType.StartObject, "the header");
            while (true)
            {
                Read(ref reader);
                if (reader.TokenType == JsonTokenType.EndObject) break;
                string name = reader.GetString()!;
                if (!names.Add(name)) throw Fault($"name '{name}' appears twice in the header", name == "__metadata__" ? null : name);
                if (name == "__metadata__") ReadMetadata(ref reader, metadata, Fault);
                else entries.Add(ReadEntry(ref reader, name, Fault));
            }
            if (reader.Read()) throw Fault("data after the end of the header's JSON object");
        }
        catch (JsonException e)
        {
            throw Fault($"header is not valid JSON ({e.Message})", null, e);
        }
        catch (InvalidOperationException e)
        {
            throw Fault($"header has an unexpected JSON value ({e.Message})", null, e);
        }

        long dataStart = 8 + (long)headerLen;
        long dataLength = src.Length - dataStart;
        entries.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long expected = 0;
        foreach (var e in entries)
        {
            if (e.Begin > dataLength || e.End > dataLength)
                throw Fault($"data_offsets [{e.Begin}, {e.End}] run past the end of the data section ({dataLength} bytes)", e.Name);
            if (e.Begin < expected) throw Fault($"data_offsets [{e.Begin}, {e.End}] overlap the previous tensor, which ends at {expected}", e.Name);
            if (e.Begin > expected) throw Fault($"data_offsets [{e.Begin}, {e.End}] leave a gap after byte {expected}", e.Name);
            expected = e.End;
        }
        if (expected != dataLength) throw Fault($"the tensors cover {expected} bytes of data, but the data section has {dataLength}");
        return (entries, metadata, dataStart);
    }

    static void Read(ref Utf8JsonReader r)
    {
        if (!r.Read()) throw new JsonException("unexpected end of the header");
    }

    static void Expect(ref Utf8JsonReader r, JsonTokenType type, string what)
    {
        Read(ref r);
        if (r.TokenType != type) throw new JsonException($"expected {type} for {what}, found {r.TokenType}");
    }

    static void ReadMetadata(ref Utf8JsonReader r, Dictionary<string, string> metadata, Func<string, string?, Exception?, SafetensorsFormatException> fault)
    {
        Read(ref r);
        if (r.TokenType != JsonTokenType.StartObject) throw fault("__metadata__ must be an object of strings", null, null);
        while (true)
        {
            Read(ref r);
            if (r.TokenType == JsonTokenType.EndObject) return;
            string key = r.GetString()!;
            Read(ref r);
            if (r.TokenType != JsonTokenType.String) throw fault($"__metadata__ value of '{key}' is not a string", null, null);
            if (!metadata.TryAdd(key, r.GetString()!)) throw fault($"__metadata__ key '{key}' appears twice", null, null);
        }
    }

    static SafetensorsEntry ReadEntry(ref Utf8JsonReader r, string name, Func<string, string?, Exception?, SafetensorsFormatException> fault)
    {
        Read(ref r);
        if (r.TokenType != JsonTokenType.StartObject) throw fault("entry is not an object", name, null);
        string? dtype = null;
        long[]? shape = null, offsets = null;
        while (true)
        {
            Read(ref r);
            if (r.TokenType == JsonTokenType.EndObject) break;
            string key = r.GetString()!;
            switch (key)
            {
                case "dtype":
                    if (dtype is not null) throw fault("'dtype' given twice", name, null);
                    Read(ref r);
                    if (r.TokenType != JsonTokenType.String) throw fault("'dtype' is not a string", name, null);
                    dtype = r.GetString()!;
                    break;
                case "shape":
                    if (shape is not null) throw fault("'shape' given twice", name, null);
                    shape = ReadIntegers(ref r, name, "shape", fault);
                    break;
                case "data_offsets":
                    if (offsets is not null) throw fault("'data_offsets' given twice", name, null);
                    offsets = ReadIntegers(ref r, name, "data_offsets", fault);
                    break;
                default:
                    throw fault($"unknown field '{key}'", name, null);
            }
        }
        if (dtype is null || shape is null || offsets is null)
            throw fault($"missing field(s): {string.Join(", ", new[] { dtype is null ? "dtype" : null, shape is null ? "shape" : null, offsets is null ? "data_offsets" : null }.Where(s => s is not null))}", name, null);
        if (!DTypeSizes.TryGetValue(dtype, out int size)) throw fault($"unknown dtype '{dtype}'", name, null);
        if (offsets.Length != 2) throw fault($"data_offsets must hold 2 numbers, got {offsets.Length}", name, null);
        if (offsets[1] < offsets[0]) throw fault($"data_offsets [{offsets[0]}, {offsets[1]}] end before they begin", name, null);
        long bytes;
        try
        {
            long n = 1;
            foreach (long d in shape) n = checked(n * d);
            bytes = checked(n * size);
        }
        catch (OverflowException)
        {
            throw fault($"shape [{string.Join(", ", shape)}] × {size} bytes overflows a 64-bit size", name, null);
        }
        if (bytes != offsets[1] - offsets[0])
            throw fault($"shape [{string.Join(", ", shape)}] of {dtype} needs {bytes} bytes, data_offsets [{offsets[0]}, {offsets[1]}] hold {offsets[1] - offsets[0]}", name, null);
        return new SafetensorsEntry(name, dtype, shape, offsets[0], offsets[1]);
    }

    static long[] ReadIntegers(ref Utf8JsonReader r, string name, string field, Func<string, string?, Exception?, SafetensorsFormatException> fault)
    {
        Read(ref r);
        if (r.TokenType != JsonTokenType.StartArray) throw fault($"'{field}' is not an array", name, null);
        var values = new List<long>();
        while (true)
        {
            Read(ref r);
            if (r.TokenType == JsonTokenType.EndArray) return values.ToArray();
            if (r.TokenType != JsonTokenType.Number || !r.TryGetInt64(out long v) || v < 0)
                throw fault($"'{field}' holds something other than a non-negative 64-bit integer", name, null);
            if (values.Count >= 64) throw fault($"'{field}' has more than 64 entries", name, null);
            values.Add(v);
        }
    }

    // ---- reading ---------------------------------------------------------------------------------------------

    /// <summary>The raw little-endian bytes of a tensor (valid while this file is open).</summary>
    public ReadOnlySpan<byte> RawBytes(string name)
    {
        var e = this[name];
        if (e.ByteLength > int.MaxValue) throw new NotSupportedException($"{FileName}: tensor '{name}' has {e.ByteLength} bytes; spans hold at most 2^31−1");
        return _source.Span(DataStart + e.Begin, (int)e.ByteLength);
    }

    /// <summary>A float tensor's values as float32 (F32 as is; F16, BF16 widened exactly; F64 rounded).</summary>
    public float[] ReadFloat32(string name)
    {
        var e = this[name];
        if (e.NumEl > Array.MaxLength) throw new SafetensorsFormatException(FileName, name, $"{e.NumEl} elements do not fit in one array");
        var raw = RawBytes(name);
        var result = new float[e.NumEl];
        switch (e.DType)
        {
            case "F32":
                raw.CopyTo(MemoryMarshal.AsBytes(result.AsSpan()));
                if (!BitConverter.IsLittleEndian) for (int i = 0; i < result.Length; i++) result[i] = BinaryPrimitives.ReadSingleLittleEndian(raw[(4 * i)..]);
                break;
            case "F16":
                for (int i = 0; i < result.Length; i++) result[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(raw[(2 * i)..]);
                break;
            case "BF16":
                for (int i = 0; i < result.Length; i++) result[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(raw[(2 * i)..]) << 16);
                break;
            case "F64":
                for (int i = 0; i < result.Length; i++) result[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(raw[(8 * i)..]);
                break;
            default:
                throw new SafetensorsFormatException(FileName, name, $"dtype {e.DType} cannot be read as float32 (F32, F16, BF16 and F64 can)");
        }
        return result;
    }

    /// <summary>An integer tensor's values as long (I64, I32, U8, I8, U16, I16, BOOL; U32).</summary>
    public long[] ReadInt64(string name)
    {
        var e = this[name];
        if (e.NumEl > Array.MaxLength) throw new SafetensorsFormatException(FileName, name, $"{e.NumEl} elements do not fit in one array");
        var raw = RawBytes(name);
        var result = new long[e.NumEl];
        for (int i = 0; i < result.Length; i++)
            result[i] = e.DType switch
            {
                "I64" => BinaryPrimitives.ReadInt64LittleEndian(raw[(8 * i)..]),
                "I32" => BinaryPrimitives.ReadInt32LittleEndian(raw[(4 * i)..]),
                "U32" => BinaryPrimitives.ReadUInt32LittleEndian(raw[(4 * i)..]),
                "I16" => BinaryPrimitives.ReadInt16LittleEndian(raw[(2 * i)..]),
                "U16" => BinaryPrimitives.ReadUInt16LittleEndian(raw[(2 * i)..]),
                "I8" => (sbyte)raw[i],
                "U8" or "BOOL" => raw[i],
                _ => throw new SafetensorsFormatException(FileName, name, $"dtype {e.DType} is not an integer type"),
            };
        return result;
    }

    /// <summary>An integer tensor's values as int, each checked to lie in the Int32 range.</summary>
    public int[] ReadInt32(string name)
    {
        var wide = ReadInt64(name);
        var result = new int[wide.Length];
        for (int i = 0; i < wide.Length; i++)
        {
            if (wide[i] is < int.MinValue or > int.MaxValue)
                throw new SafetensorsFormatException(FileName, name, $"element {i} = {wide[i]} is outside the Int32 range");
            result[i] = (int)wide[i];
        }
        return result;
    }

    /// <summary>
    /// A tensor of the engine: float dtypes become Float32, integer dtypes Int32 (range-checked). Shapes must fit
    /// the engine's int dimensions.
    /// </summary>
    public Tensor LoadTensor(string name, Device? device = null)
    {
        var e = this[name];
        var shape = new int[e.Shape.Length];
        for (int i = 0; i < shape.Length; i++)
        {
            if (e.Shape[i] > int.MaxValue) throw new SafetensorsFormatException(FileName, name, $"dimension {i} = {e.Shape[i]} exceeds the engine's limit");
            shape[i] = (int)e.Shape[i];
        }
        if (e.NumEl > int.MaxValue) throw new SafetensorsFormatException(FileName, name, $"{e.NumEl} elements exceed the engine's limit");
        return e.DType is "F32" or "F16" or "BF16" or "F64"
            ? torch.tensor(ReadFloat32(name), shape, device)
            : torch.tensor((ReadOnlySpan<int>)ReadInt32(name), shape, device);
    }

    /// <summary>Every tensor (see <see cref="LoadTensor"/>), by name.</summary>
    public Dictionary<string, Tensor> LoadAll(Device? device = null)
        => Entries.ToDictionary(e => e.Name, e => LoadTensor(e.Name, device));

    public void Dispose() => _source.Dispose();

    // ---- byte sources ----------------------------------------------------------------------------------------

    abstract class ByteSource : IDisposable
    {
        public abstract long Length { get; }
        public abstract ReadOnlySpan<byte> Span(long offset, int length);
        public virtual void Dispose() { }
    }

    sealed class MemorySource(ReadOnlyMemory<byte> bytes) : ByteSource
    {
        public override long Length => bytes.Length;
        public override ReadOnlySpan<byte> Span(long offset, int length) => bytes.Span.Slice(checked((int)offset), length);
    }

    sealed unsafe class MappedSource : ByteSource
    {
        readonly MemoryMappedFile _file;
        readonly MemoryMappedViewAccessor _view;
        readonly byte* _base;
        readonly long _length;

        public MappedSource(string path, long length)
        {
            _length = length;
            _file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            _view = _file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* p = null;
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            _base = p + _view.PointerOffset;
        }

        public override long Length => _length;

        public override ReadOnlySpan<byte> Span(long offset, int length)
        {
            if (offset < 0 || length < 0 || offset + length > _length) throw new ArgumentOutOfRangeException(nameof(offset));
            return new ReadOnlySpan<byte>(_base + offset, length);
        }

        public override void Dispose()
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
            _file.Dispose();
        }
    }
}

/// <summary>A tensor to write: its name, safetensors dtype, shape and little-endian bytes.</summary>
public sealed record SafetensorsTensor(string Name, string DType, long[] Shape, ReadOnlyMemory<byte> Data)
{
    /// <summary>An engine tensor as F32 (Float32) or I32 (Int32).</summary>
    public static SafetensorsTensor From(string name, Tensor t)
    {
        var shape = t.shape.Select(d => (long)d).ToArray();
        switch (t.DType)
        {
            case FsrNative.DType.Float32:
                return new(name, "F32", shape, MemoryMarshal.AsBytes(t.contiguous().ToArray().AsSpan()).ToArray());
            case FsrNative.DType.Int32:
                return new(name, "I32", shape, MemoryMarshal.AsBytes(t.contiguous().ToIntArray().AsSpan()).ToArray());
            default:
                throw new ArgumentException($"safetensors: cannot write {t.DType} tensor '{name}' (Float32 and Int32 can be written)");
        }
    }

    public static SafetensorsTensor From(string name, long[] values, long[]? shape = null)
        => new(name, "I64", shape ?? [values.Length], MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
}

/// <summary>Reading and writing whole safetensors files (torch-style <c>load_file</c>/<c>save_file</c>).</summary>
public static class Safetensors
{
    /// <summary>Every tensor of a file as engine tensors (Float32 / Int32).</summary>
    public static Dictionary<string, Tensor> load_file(string path, Device? device = null)
    {
        using var f = SafetensorsFile.Open(path);
        return f.LoadAll(device);
    }

    /// <summary>Writes engine tensors (in the dictionary's order) to <paramref name="path"/>.</summary>
    public static void save_file(IReadOnlyDictionary<string, Tensor> tensors, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var stream = File.Create(path);
        Write(stream, tensors.Select(kv => SafetensorsTensor.From(kv.Key, kv.Value)), metadata);
    }

    /// <summary>
    /// Writes a safetensors file: the header (metadata first, then tensors in the given order with consecutive
    /// offsets, padded with spaces to a multiple of 8 bytes as the reference writer does), then the data.
    /// </summary>
    public static void Write(Stream stream, IEnumerable<SafetensorsTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        var header = Header(list, metadata);
        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)header.Length);
        stream.Write(len);
        stream.Write(header);
        foreach (var t in list) stream.Write(t.Data.Span);
    }

    /// <summary>The header bytes (padded) for these tensors and metadata.</summary>
    public static byte[] Header(IReadOnlyList<SafetensorsTensor> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        foreach (var t in tensors)
            if (ByteLength(t.Name, t.DType, t.Shape) != t.Data.Length)
                throw new ArgumentException($"safetensors: '{t.Name}' has {t.Data.Length} bytes, its shape and dtype need {ByteLength(t.Name, t.DType, t.Shape)}");
        return Header(tensors.Select(t => (t.Name, t.DType, t.Shape)).ToList(), metadata);
    }

    /// <summary>The byte size of a tensor of <paramref name="dtype"/> and <paramref name="shape"/>.</summary>
    public static long ByteLength(string name, string dtype, long[] shape)
    {
        long n = shape.Aggregate(1L, (a, b) => checked(a * b));
        int size = dtype switch
        {
            "F32" or "I32" or "U32" => 4,
            "F16" or "BF16" or "I16" or "U16" => 2,
            "F64" or "I64" or "U64" => 8,
            "U8" or "I8" or "BOOL" or "F8_E5M2" or "F8_E4M3" => 1,
            _ => throw new ArgumentException($"safetensors: unknown dtype '{dtype}' for '{name}'"),
        };
        return checked(n * size);
    }

    /// <summary>The header bytes (padded to 8) for tensors laid out one after another in the given order.</summary>
    public static byte[] Header(IReadOnlyList<(string name, string dtype, long[] shape)> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        var names = new HashSet<string>();
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) w.WriteString(k, v);
                w.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, dtype, shape) in tensors)
            {
                if (name == "__metadata__" || !names.Add(name)) throw new ArgumentException($"safetensors: tensor name '{name}' is reserved or used twice");
                long bytes = ByteLength(name, dtype, shape);
                w.WriteStartObject(name);
                w.WriteString("dtype", dtype);
                w.WriteStartArray("shape");
                foreach (long d in shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + bytes);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += bytes;
            }
            w.WriteEndObject();
        }
        int pad = (int)((8 - ms.Length % 8) % 8);
        for (int i = 0; i < pad; i++) ms.WriteByte((byte)' ');
        return ms.ToArray();
    }
}
