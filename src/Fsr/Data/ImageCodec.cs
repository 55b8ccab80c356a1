using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Memory;
using SixLabors.ImageSharp.PixelFormats;

namespace FsrNative.Data;

/// <summary>An 8-bit RGB image, pixels interleaved row-major (HWC), as decoded from a file.</summary>
public sealed record RgbImage(int Width, int Height, byte[] Pixels)
{
    public byte this[int x, int y, int c] => Pixels[(y * Width + x) * 3 + c];
}

/// <summary>
/// Image files: RGB images through SixLabors.ImageSharp (JPEG, PNG, …), label masks through <see cref="IndexPng"/>.
/// Every failure — unknown format, corrupt or truncated data, an absurd size in a damaged header, a decoder bug
/// tripped by garbage — becomes a <see cref="DataException"/> naming the file.
/// </summary>
public static class ImageCodec
{
    /// <summary>Largest accepted image: 2^26 pixels (8192×8192), each side at most 2^15.</summary>
    public const int MaxPixels = 1 << 26, MaxSide = 1 << 15;

    static readonly Configuration Config = CreateConfiguration();

    static Configuration CreateConfiguration()
    {
        var c = Configuration.Default.Clone();
        c.MemoryAllocator = MemoryAllocator.Create(new MemoryAllocatorOptions { AllocationLimitMegabytes = 512, MaximumPoolSizeMegabytes = 64 });
        c.MaxDegreeOfParallelism = 1;   // decoders run in loader threads already
        return c;
    }

    public static RgbImage LoadRgb(string path)
    {
        byte[] bytes = ReadFile(path);
        return DecodeRgb(bytes, path);
    }

    /// <summary>Decodes an image file held in memory; <paramref name="path"/> only names it in errors.</summary>
    public static RgbImage DecodeRgb(byte[] bytes, string path)
    {
        CheckComplete(bytes, path);
        try
        {
            var info = Image.Identify(Config, new MemoryStream(bytes, writable: false))
                ?? throw new DataException(DataProblem.Undecodable, path, "not an image in a known format");
            if (info.Width <= 0 || info.Height <= 0 || info.Width > MaxSide || info.Height > MaxSide || (long)info.Width * info.Height > MaxPixels)
                throw new DataException(DataProblem.Unsupported, path, $"size {info.Width}x{info.Height} is outside the accepted range (≤ {MaxSide} per side, ≤ {MaxPixels} pixels)");
            using var image = Image.Load<Rgb24>(Config, bytes);
            var pixels = new byte[image.Width * image.Height * 3];
            image.CopyPixelDataTo(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Rgb24>(pixels.AsSpan()));
            return new RgbImage(image.Width, image.Height, pixels);
        }
        catch (DataException) { throw; }
        catch (UnknownImageFormatException e) { throw new DataException(DataProblem.Undecodable, path, "not an image in a known format", e); }
        catch (InvalidImageContentException e) { throw new DataException(DataProblem.Undecodable, path, e.Message, e); }
        catch (ImageFormatException e) { throw new DataException(DataProblem.Undecodable, path, e.Message, e); }
        catch (NotSupportedException e) { throw new DataException(DataProblem.Unsupported, path, e.Message, e); }
        catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
        {
            // A decoder tripping over garbage (index out of range, …) is still bad data, not a program error.
            throw new DataException(DataProblem.Undecodable, path, $"decoder failed ({e.GetType().Name}: {e.Message})", e);
        }
    }

    /// <summary>
    /// Detects files cut short, which lenient decoders would otherwise fill in silently: a JPEG must have an
    /// end-of-image marker (FF D9) after its last start-of-scan (FF DA); a PNG must end with an IEND chunk.
    /// </summary>
    static void CheckComplete(byte[] b, string path)
    {
        if (b.Length == 0) throw new DataException(DataProblem.Truncated, path, "empty file");
        if (b.Length >= 2 && b[0] == 0xFF && b[1] == 0xD8)
        {
            int lastSos = -1, lastEoi = -1;
            for (int i = b.Length - 2; i >= 2; i--)
            {
                if (b[i] != 0xFF) continue;
                if (b[i + 1] == 0xD9 && lastEoi < 0) lastEoi = i;
                if (b[i + 1] == 0xDA) { lastSos = i; break; }
            }
            if (lastSos < 0) throw new DataException(DataProblem.Truncated, path, "JPEG without image data (no start-of-scan marker)");
            if (lastEoi < lastSos) throw new DataException(DataProblem.Truncated, path, "JPEG ends without an end-of-image marker (file cut short)");
        }
        else if (b.Length >= 8 && b[0] == 0x89 && b[1] == (byte)'P' && b[2] == (byte)'N' && b[3] == (byte)'G')
        {
            if (b.Length < 20 || b.AsSpan(b.Length - 8, 4).SequenceEqual("IEND"u8) == false)
                throw new DataException(DataProblem.Truncated, path, "PNG does not end with an IEND chunk (file cut short)");
        }
    }

    /// <summary>Loads a label mask (one byte per pixel); colour-coded RGB masks are mapped back through the VOC palette.</summary>
    public static byte[] LoadMask(string path, out int width, out int height)
    {
        byte[] bytes = ReadFile(path);
        return IndexPng.Decode(bytes, path, out width, out height, ClassSet.VocPalette);
    }

    internal static byte[] ReadFile(string path)
    {
        try { return File.ReadAllBytes(path); }
        catch (FileNotFoundException e) { throw new DataException(DataProblem.MissingFile, path, "file not found", e); }
        catch (DirectoryNotFoundException e) { throw new DataException(DataProblem.MissingFile, path, "file not found (its folder is missing)", e); }
        catch (UnauthorizedAccessException e) { throw new DataException(DataProblem.MissingFile, path, "cannot read the file (permission denied)", e); }
        catch (IOException e) { throw new DataException(DataProblem.MissingFile, path, $"cannot read the file ({e.Message})", e); }
    }

    /// <summary>Encodes RGB pixels (HWC) as a baseline 4:2:0 JPEG. Deterministic for the same input.</summary>
    public static byte[] EncodeJpeg(ReadOnlySpan<byte> rgb, int width, int height, int quality = 92)
    {
        using var image = Image.LoadPixelData<Rgb24>(Config, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Rgb24>(rgb), width, height);
        var ms = new MemoryStream();
        image.SaveAsJpeg(ms, new JpegEncoder { Quality = quality, ColorType = JpegColorType.YCbCrRatio420 });
        return ms.ToArray();
    }

    /// <summary>Encodes RGB pixels (HWC) as an RGB PNG (contact sheets, reports); with <paramref name="palette"/>,
    /// as a 256-colour palette PNG (Wu quantiser, no dithering): about half the size, for pictures kept in git.</summary>
    public static byte[] EncodePngRgb(ReadOnlySpan<byte> rgb, int width, int height, bool palette = false)
    {
        using var image = Image.LoadPixelData<Rgb24>(Config, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Rgb24>(rgb), width, height);
        var ms = new MemoryStream();
        var encoder = palette
            ? new PngEncoder
            {
                CompressionLevel = PngCompressionLevel.BestCompression, ColorType = PngColorType.Palette,
                Quantizer = new SixLabors.ImageSharp.Processing.Processors.Quantization.WuQuantizer(
                    new SixLabors.ImageSharp.Processing.Processors.Quantization.QuantizerOptions { Dither = null, MaxColors = 256 }),
            }
            : new PngEncoder { CompressionLevel = PngCompressionLevel.BestCompression, ColorType = PngColorType.Rgb };
        image.SaveAsPng(ms, encoder);
        return ms.ToArray();
    }
}
