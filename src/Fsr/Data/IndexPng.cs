using System.Buffers.Binary;
using System.IO.Compression;

namespace FsrNative.Data;

/// <summary>
/// A small, strict PNG codec for label masks, where the pixel values are class indices and must come back
/// exactly (a general image decoder turns palette PNGs into colours). Reads 8-bit or lower grey and palette PNGs
/// (the value or palette index is the label), and 8-bit RGB/RGBA or grey+alpha by mapping each colour back through a
/// palette (colour-coded masks). Writes 8-bit palette PNGs (VOC style) or 8-bit grey PNGs.
/// Every defect — a wrong signature, a bad CRC, a chunk that runs past the end, a missing IEND, corrupt zlib data,
/// an unknown filter — is a <see cref="DataException"/> naming the file.
/// </summary>
public static class IndexPng
{
    static readonly byte[] Signature = [137, 80, 78, 71, 13, 10, 26, 10];

    /// <summary>Largest accepted side and pixel count (a corrupted header must not make us allocate gigabytes).</summary>
    public const int MaxSide = 1 << 14, MaxPixels = 1 << 26;

    /// <summary>Decodes a label PNG to one byte per pixel (row-major). <paramref name="path"/> only names the file in errors.</summary>
    public static byte[] Decode(ReadOnlySpan<byte> png, string path, out int width, out int height, ReadOnlySpan<Rgb> colourPalette = default)
    {
        if (png.Length < 8 || !png[..8].SequenceEqual(Signature))
            throw new DataException(DataProblem.Undecodable, path, png.Length < 8 ? $"{png.Length} bytes is too short for a PNG" : "not a PNG (wrong signature)");
        int pos = 8;
        width = height = 0;
        int depth = 0, colourType = -1;
        byte[]? plte = null;
        var idat = new MemoryStream();
        bool sawEnd = false, sawHeader = false;
        while (pos < png.Length)
        {
            if (png.Length - pos < 12) throw new DataException(DataProblem.Truncated, path, $"chunk header at byte {pos} runs past the end of the file");
            uint len = BinaryPrimitives.ReadUInt32BigEndian(png[pos..]);
            var typeBytes = png.Slice(pos + 4, 4);
            string type = System.Text.Encoding.ASCII.GetString(typeBytes);
            if (len > int.MaxValue || pos + 12L + len > png.Length)
                throw new DataException(DataProblem.Truncated, path, $"chunk '{Printable(type)}' at byte {pos} ({len} bytes) runs past the end of the file ({png.Length} bytes)");
            var data = png.Slice(pos + 8, (int)len);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(png[(pos + 8 + (int)len)..]);
            if (Crc32.Compute(png.Slice(pos + 4, 4 + (int)len)) != crc)
                throw new DataException(DataProblem.Undecodable, path, $"CRC mismatch in chunk '{Printable(type)}' at byte {pos}");
            pos += 12 + (int)len;
            if (!sawHeader && type != "IHDR") throw new DataException(DataProblem.Undecodable, path, $"first chunk is '{Printable(type)}', not IHDR");
            switch (type)
            {
                case "IHDR":
                    if (sawHeader || len != 13) throw new DataException(DataProblem.Undecodable, path, "bad IHDR chunk");
                    sawHeader = true;
                    uint w = BinaryPrimitives.ReadUInt32BigEndian(data), h = BinaryPrimitives.ReadUInt32BigEndian(data[4..]);
                    depth = data[8]; colourType = data[9];
                    if (w == 0 || h == 0 || w > MaxSide || h > MaxSide || (long)w * h > MaxPixels)
                        throw new DataException(DataProblem.Unsupported, path, $"size {w}x{h} is outside 1..{MaxSide} per side / {MaxPixels} pixels");
                    width = (int)w; height = (int)h;
                    if (data[10] != 0 || data[11] != 0) throw new DataException(DataProblem.Undecodable, path, "unknown compression or filter method");
                    if (data[12] != 0) throw new DataException(DataProblem.Unsupported, path, "interlaced (Adam7) masks are not supported");
                    bool ok = colourType switch
                    {
                        0 or 3 => depth is 1 or 2 or 4 or 8,
                        2 or 4 or 6 => depth == 8,
                        _ => false,
                    };
                    if (!ok) throw new DataException(DataProblem.Unsupported, path, $"colour type {colourType} with bit depth {depth} is not a supported label format");
                    break;
                case "PLTE":
                    if (len % 3 != 0 || len == 0 || len > 768) throw new DataException(DataProblem.Undecodable, path, $"PLTE chunk of {len} bytes");
                    plte = data.ToArray();
                    break;
                case "IDAT":
                    idat.Write(data);
                    break;
                case "IEND":
                    sawEnd = true;
                    break;
            }
            if (sawEnd) break;
        }
        if (!sawHeader) throw new DataException(DataProblem.Truncated, path, "no IHDR chunk");
        if (!sawEnd) throw new DataException(DataProblem.Truncated, path, "no IEND chunk (file cut short)");
        if (colourType == 3 && plte is null) throw new DataException(DataProblem.Undecodable, path, "palette image without a PLTE chunk");

        int channels = colourType switch { 2 => 3, 4 => 2, 6 => 4, _ => 1 };
        int bitsPerPixel = channels * depth;
        int rowBytes = (width * bitsPerPixel + 7) / 8;
        int bpp = Math.Max(1, bitsPerPixel / 8);
        var raw = new byte[(long)height * (rowBytes + 1)];
        idat.Position = 0;
        try
        {
            using var z = new ZLibStream(idat, CompressionMode.Decompress);
            int got = 0;
            while (got < raw.Length)
            {
                int n = z.Read(raw, got, raw.Length - got);
                if (n == 0) break;
                got += n;
            }
            if (got < raw.Length) throw new DataException(DataProblem.Truncated, path, $"image data ends after {got} of {raw.Length} bytes");
        }
        catch (InvalidDataException e)
        {
            throw new DataException(DataProblem.Undecodable, path, $"corrupt compressed image data ({e.Message})", e);
        }

        // Unfilter in place.
        var prev = new byte[rowBytes];
        for (int y = 0; y < height; y++)
        {
            int start = y * (rowBytes + 1);
            byte filter = raw[start];
            var row = raw.AsSpan(start + 1, rowBytes);
            switch (filter)
            {
                case 0: break;
                case 1: for (int i = bpp; i < rowBytes; i++) row[i] += row[i - bpp]; break;
                case 2: for (int i = 0; i < rowBytes; i++) row[i] += prev[i]; break;
                case 3:
                    for (int i = 0; i < rowBytes; i++) row[i] += (byte)(((i >= bpp ? row[i - bpp] : 0) + prev[i]) >> 1);
                    break;
                case 4:
                    for (int i = 0; i < rowBytes; i++)
                    {
                        int a = i >= bpp ? row[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
                        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
                        row[i] += (byte)(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
                    }
                    break;
                default: throw new DataException(DataProblem.Undecodable, path, $"unknown filter type {filter} in row {y}");
            }
            row.CopyTo(prev);
        }

        var result = new byte[width * height];
        for (int y = 0; y < height; y++)
        {
            var row = raw.AsSpan(y * (rowBytes + 1) + 1, rowBytes);
            var dst = result.AsSpan(y * width, width);
            if (channels == 1 && depth == 8) { row.CopyTo(dst); }
            else if (channels == 1)
            {
                int perByte = 8 / depth, mask = (1 << depth) - 1;
                for (int x = 0; x < width; x++)
                {
                    int v = (row[x / perByte] >> (8 - depth * (x % perByte + 1))) & mask;
                    // Grey PNGs with fewer bits hold the label directly (as PIL reads them); palette ones an index.
                    dst[x] = (byte)v;
                }
            }
            else if (colourType == 4) { for (int x = 0; x < width; x++) dst[x] = row[2 * x]; }
            else
            {
                if (colourPalette.IsEmpty) throw new DataException(DataProblem.Unsupported, path, "colour (RGB) mask but no palette to map colours to labels");
                for (int x = 0; x < width; x++)
                {
                    var c = new Rgb(row[channels * x], row[channels * x + 1], row[channels * x + 2]);
                    int idx = IndexOf(colourPalette, c);
                    if (idx < 0) throw new DataException(DataProblem.LabelOutOfRange, path, $"pixel ({x}, {y}) has colour ({c.R}, {c.G}, {c.B}), which is not in the palette");
                    dst[x] = (byte)idx;
                }
            }
        }
        if (colourType == 3)
        {
            int entries = plte!.Length / 3;
            foreach (byte v in result)
                if (v >= entries) throw new DataException(DataProblem.Undecodable, path, $"palette index {v} beyond the {entries}-entry palette");
        }
        return result;
    }

    static int IndexOf(ReadOnlySpan<Rgb> palette, Rgb c)
    {
        for (int i = 0; i < palette.Length; i++) if (palette[i] == c) return i;
        return -1;
    }

    static string Printable(string s) => new(s.Select(ch => ch is >= ' ' and <= '~' ? ch : '?').ToArray());

    /// <summary>Encodes one byte per pixel as an 8-bit palette PNG (palette padded to 256 entries with black)
    /// or, when <paramref name="palette"/> is empty, an 8-bit grey PNG. Deterministic.</summary>
    public static byte[] Encode(ReadOnlySpan<byte> labels, int width, int height, ReadOnlySpan<Rgb> palette)
    {
        if (width <= 0 || height <= 0 || labels.Length != width * height)
            throw new ArgumentException($"IndexPng.Encode: {labels.Length} labels do not fill {width}x{height}");
        var ms = new MemoryStream();
        ms.Write(Signature);
        Span<byte> ihdr = stackalloc byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, (uint)width);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr[4..], (uint)height);
        ihdr[8] = 8; ihdr[9] = (byte)(palette.IsEmpty ? 0 : 3); ihdr[10] = ihdr[11] = ihdr[12] = 0;
        WriteChunk(ms, "IHDR", ihdr);
        if (!palette.IsEmpty)
        {
            var plte = new byte[768];
            for (int i = 0; i < Math.Min(256, palette.Length); i++)
            {
                plte[3 * i] = palette[i].R; plte[3 * i + 1] = palette[i].G; plte[3 * i + 2] = palette[i].B;
            }
            WriteChunk(ms, "PLTE", plte);
        }
        var raw = new byte[height * (width + 1)];
        for (int y = 0; y < height; y++) labels.Slice(y * width, width).CopyTo(raw.AsSpan(y * (width + 1) + 1));
        var z = new MemoryStream();
        using (var zs = new ZLibStream(z, CompressionLevel.SmallestSize, leaveOpen: true)) zs.Write(raw);
        WriteChunk(ms, "IDAT", z.ToArray());
        WriteChunk(ms, "IEND", []);
        return ms.ToArray();
    }

    static void WriteChunk(Stream s, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> head = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(head, (uint)data.Length);
        for (int i = 0; i < 4; i++) head[4 + i] = (byte)type[i];
        s.Write(head);
        s.Write(data);
        var crcInput = new byte[4 + data.Length];
        head[4..].CopyTo(crcInput);
        data.CopyTo(crcInput.AsSpan(4));
        Span<byte> crc = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32.Compute(crcInput));
        s.Write(crc);
    }
}

/// <summary>CRC-32 (ISO-HDLC, the PNG and zlib polynomial), table driven.</summary>
public static class Crc32
{
    static readonly uint[] Table = Build();

    static uint[] Build()
    {
        var t = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[n] = c;
        }
        return t;
    }

    public static uint Compute(ReadOnlySpan<byte> data)
    {
        uint c = 0xFFFFFFFFu;
        foreach (byte b in data) c = Table[(c ^ b) & 0xFF] ^ (c >> 8);
        return c ^ 0xFFFFFFFFu;
    }
}

/// <summary>An 8-bit RGB colour.</summary>
public readonly record struct Rgb(byte R, byte G, byte B);
