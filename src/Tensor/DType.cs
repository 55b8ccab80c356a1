namespace FsrNative;

/// <summary>
/// Element types. Every element is one 4-byte word, so storage is type-agnostic and views, copies and moves work
/// on bits. Float32 is the type of all data; Int32 holds indices and labels (argmax results, gather/scatter
/// indices, class maps). Ops that need one or the other fail loudly when given the wrong one.
/// </summary>
public enum DType
{
    Float32,
    Int32,
}
