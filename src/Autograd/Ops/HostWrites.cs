namespace FsrNative;

/// <summary>
/// Writes that bypass the op API: code that updates a CPU tensor's elements directly (through <c>AsSpan()</c>, e.g.
/// an optimiser's fused update loop) declares it here, so the storage version moves exactly as an in-place op's
/// would and a backward that saved the old values fails loudly.
/// </summary>
public static partial class TensorOps
{
    extension(Tensor x)
    {
        /// <summary>Marks x's storage as modified in place (bumps its version). Same rule as the in-place ops: not on
        /// a tensor that requires grad while grad mode is on. Returns x.</summary>
        public Tensor mark_modified_()
        {
            CheckInPlace(x, "mark_modified_");
            x.Storage.BumpVersion();
            return x;
        }
    }
}
