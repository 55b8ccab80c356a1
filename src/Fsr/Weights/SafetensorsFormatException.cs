namespace FsrNative.Weights;

/// <summary>
/// A safetensors file (or byte buffer) that does not follow the format, or whose values cannot be converted as
/// asked. Names the file, the tensor when the fault belongs to one, and the fault.
/// </summary>
public sealed class SafetensorsFormatException : Exception
{
    public SafetensorsFormatException(string file, string? tensorName, string fault, Exception? inner = null)
        : base($"{file}: {(tensorName is null ? "" : $"tensor '{tensorName}': ")}{fault}", inner)
    {
        File = file;
        TensorName = tensorName;
        Fault = fault;
    }

    public string File { get; }
    public string? TensorName { get; }
    public string Fault { get; }
}
