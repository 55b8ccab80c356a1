namespace FsrNative.Data;

/// <summary>What is wrong with a dataset file (the <see cref="DataException.Problem"/> of an error).</summary>
public enum DataProblem
{
    /// <summary>A folder the layout requires does not exist.</summary>
    MissingFolder,
    /// <summary>A split list or another required file does not exist, or a list names a file that does not.</summary>
    MissingFile,
    /// <summary>The bytes are not an image in a supported format (random bytes, a bit flip in a header, …).</summary>
    Undecodable,
    /// <summary>The file ends before the image data does.</summary>
    Truncated,
    /// <summary>A mask holds a value outside 0..C and 255.</summary>
    LabelOutOfRange,
    /// <summary>Image and mask have different sizes.</summary>
    SizeMismatch,
    /// <summary>A text file (split list, label cache, class list, COCO JSON) is malformed.</summary>
    Malformed,
    /// <summary>The image decodes but is unusable (e.g. larger than the configured limit, zero-sized).</summary>
    Unsupported,
}

/// <summary>
/// An error in the data: names the file and the problem. Every failure of the readers, decoders and the loader
/// surfaces as this type (or an <see cref="OperationCanceledException"/> when cancelled).
/// </summary>
public sealed class DataException : Exception
{
    public DataException(DataProblem problem, string path, string detail, Exception? inner = null)
        : base($"{path}: {Describe(problem)}: {detail}", inner)
    {
        Problem = problem;
        Path = path;
        Detail = detail;
    }

    public DataProblem Problem { get; }
    /// <summary>The file (or folder) at fault.</summary>
    public string Path { get; }
    public string Detail { get; }
    /// <summary>The sample id when the error was raised while loading a sample (set by the dataset/loader).</summary>
    public string? SampleId { get; init; }

    internal DataException WithSample(string id) =>
        SampleId is not null ? this : new DataException(Problem, Path, Detail, InnerException) { SampleId = id };

    static string Describe(DataProblem p) => p switch
    {
        DataProblem.MissingFolder => "missing folder",
        DataProblem.MissingFile => "missing file",
        DataProblem.Undecodable => "cannot decode",
        DataProblem.Truncated => "truncated file",
        DataProblem.LabelOutOfRange => "label out of range",
        DataProblem.SizeMismatch => "image/mask size mismatch",
        DataProblem.Malformed => "malformed file",
        DataProblem.Unsupported => "unsupported",
        _ => p.ToString(),
    };
}

/// <summary>A sample that was skipped (see <see cref="OnBadSample.Skip"/>), with the reason.</summary>
public sealed record BadSample(string Id, DataProblem Problem, string Path, string Message)
{
    public static BadSample From(string id, DataException e) => new(id, e.Problem, e.Path, e.Message);
    public override string ToString() => $"{Id}: {Message}";
}

/// <summary>What a reader or loader does with a bad sample.</summary>
public enum OnBadSample
{
    /// <summary>Throw a <see cref="DataException"/> naming the file and the problem (the default).</summary>
    Throw,
    /// <summary>Leave the sample out and record it in the report (<see cref="BadSample"/>).</summary>
    Skip,
}
