namespace FsrNative;

/// <summary>
/// The state of a random stream: a seed (the Philox key) and the number of random tensors drawn so far (the
/// Philox stream id of the next draw). Every draw takes a fresh stream, so element i of draw s is a pure function
/// of (seed, s, i) on every backend, and saving these two numbers is enough to resume the sequence exactly.
/// </summary>
public sealed class Generator
{
    public Generator(ulong seed = 0) { Seed = seed; }

    public ulong Seed { get; private set; }
    public ulong Stream { get; private set; }

    /// <summary>The process-wide generator used when an op is given none (<c>torch.manual_seed</c> resets it).</summary>
    public static Generator Default { get; } = new(0);

    public Generator manual_seed(ulong seed)
    {
        lock (this) { Seed = seed; Stream = 0; }
        return this;
    }

    /// <summary>Reserves the stream id of one draw.</summary>
    public ulong NextStream()
    {
        lock (this) return Stream++;
    }

    public (ulong seed, ulong stream) get_state() { lock (this) return (Seed, Stream); }

    public void set_state((ulong seed, ulong stream) state)
    {
        lock (this) { Seed = state.seed; Stream = state.stream; }
    }
}
