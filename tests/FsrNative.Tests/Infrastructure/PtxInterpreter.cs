using System.Globalization;
using System.Text.RegularExpressions;

namespace FsrNative.Tests.Infrastructure;

/// <summary>
/// A small interpreter for the subset of PTX that the hand-written kernels of kernels-ptx/ use, so that their index
/// math, bounds guards, barriers and tensor-core fragment layouts can be checked on a machine without a GPU: it runs
/// the actual .ptx text, one CTA at a time, each warp's 32 lanes in lock step, warps interleaved up to every bar.sync.
/// <para>What it models: integer/float ALU ops with their PTX types, predicates and guards, ld/st on .param, .global
/// (simulated device buffers, every access bounds- and alignment-checked: an unguarded out-of-range load fails the
/// test) and .shared (a per-CTA byte array, bounds-checked), bar.sync, uniform branches (a divergent branch is an error:
/// the kernels are written without divergence), shfl.sync.bfly, and mma.sync m16n8k8 .tf32 / m16n8k16 .bf16 with the
/// fragment layouts of the PTX ISA manual ("Matrix fragments for mma.m16n8k8 / m16n8k16"), implemented here from the
/// manual independently of the kernel generator. cvt.rna.tf32.f32 and cvt.rn.bf16x2.f32 round as the ISA says; mma
/// multiplies the rounded inputs exactly and sums in double (hardware sums in a different order, so results are
/// compared with a tolerance); ex2/lg2.approx are computed exactly.</para>
/// <para>What it does not model: timing, memory ordering beyond barriers, bank conflicts, register limits, anything not
/// listed (an unknown instruction throws).</para>
/// </summary>
public sealed class PtxInterpreter
{
    sealed record Operand(char Kind, int Reg = -1, ulong Imm = 0, string Name = "", int Offset = 0, Operand[]? Items = null);
    // Kind: 'r' register, 'i' immediate, 's' special (%tid.x…), 'y' symbol, 'a' address [base+off], 'v' vector {…}

    sealed record Instr(string Op, string[] Mods, Operand[] Args, int GuardReg, bool GuardNeg, string Text, int Line);

    readonly List<Instr> _code = [];
    readonly Dictionary<string, int> _labels = [];
    readonly Dictionary<string, int> _regs = [];
    readonly List<string> _params = [];
    readonly Dictionary<string, int> _shared = [];   // symbol → byte offset
    int _sharedBytes;
    public string Entry { get; private set; } = "";

    public PtxInterpreter(string ptx)
    {
        var text = Regex.Replace(ptx, @"//[^\n]*", "");
        text = Regex.Replace(text, @"/\*.*?\*/", "", RegexOptions.Singleline);
        var entry = Regex.Match(text, @"\.entry\s+(\w+)\s*\(([^)]*)\)");
        if (!entry.Success) throw new InvalidOperationException("no .entry");
        Entry = entry.Groups[1].Value;
        foreach (Match m in Regex.Matches(entry.Groups[2].Value, @"\.param\s+\.\w+\s+(\w+)")) _params.Add(m.Groups[1].Value);
        int body = text.IndexOf('{', entry.Index + entry.Length);
        int line = 0;
        foreach (var raw in text[(body + 1)..].Split('\n'))
        {
            line++;
            var s = raw.Trim();
            if (s.Length == 0 || s == "}") continue;
            var label = Regex.Match(s, @"^(\w+):$");
            if (label.Success) { _labels[label.Groups[1].Value] = _code.Count; continue; }
            if (s.StartsWith(".reg", StringComparison.Ordinal)) continue;
            var sh = Regex.Match(s, @"^\.shared\s+(?:\.align\s+(\d+)\s+)?\.(\w+)\s+(\w+)\[(\d+)\];");
            if (sh.Success)
            {
                int align = sh.Groups[1].Success ? int.Parse(sh.Groups[1].Value, CultureInfo.InvariantCulture) : 4;
                _sharedBytes = (_sharedBytes + align - 1) / align * align;
                _shared[sh.Groups[3].Value] = _sharedBytes;
                _sharedBytes += int.Parse(sh.Groups[4].Value, CultureInfo.InvariantCulture) * TypeBytes(sh.Groups[2].Value);
                continue;
            }
            if (!s.EndsWith(';')) throw new InvalidOperationException($"PTX line not understood: {s}");
            _code.Add(Decode(s[..^1].Trim(), line));
        }
    }

    public int SharedBytes => _sharedBytes;

    static int TypeBytes(string t) => t switch { "b8" or "u8" or "s8" => 1, "b16" or "u16" or "s16" or "f16" => 2, "b64" or "u64" or "s64" or "f64" => 8, _ => 4 };

    int RegIndex(string name)
    {
        if (!_regs.TryGetValue(name, out int i)) _regs[name] = i = _regs.Count;
        return i;
    }

    Instr Decode(string s, int line)
    {
        int guard = -1; bool neg = false;
        if (s.StartsWith('@'))
        {
            int sp = s.IndexOf(' ');
            var g = s[1..sp];
            neg = g.StartsWith('!');
            guard = RegIndex(neg ? g[1..] : g);
            s = s[(sp + 1)..].Trim();
        }
        int space = s.IndexOfAny([' ', '\t']);
        string opcode = space < 0 ? s : s[..space];
        string rest = space < 0 ? "" : s[space..].Trim();
        var parts = opcode.Split('.');
        var args = new List<Operand>();
        foreach (var a in SplitArgs(rest)) args.Add(ParseOperand(a.Trim()));
        return new Instr(parts[0], parts[1..], [.. args], guard, neg, s, line);
    }

    static IEnumerable<string> SplitArgs(string s)
    {
        int depth = 0, start = 0;
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] is '{' or '[') depth++;
            else if (s[i] is '}' or ']') depth--;
            else if (s[i] == ',' && depth == 0) { yield return s[start..i]; start = i + 1; }
        }
        if (s.Trim().Length > 0) yield return s[start..];
    }

    Operand ParseOperand(string a)
    {
        if (a.StartsWith('{')) return new Operand('v', Items: [.. SplitArgs(a[1..^1]).Select(x => ParseOperand(x.Trim()))]);
        if (a.StartsWith('['))
        {
            var inner = a[1..^1].Trim();
            var m = Regex.Match(inner, @"^([%\w.]+)\s*(?:\+\s*(-?\d+))?$");
            if (!m.Success) throw new InvalidOperationException($"address not understood: {a}");
            int off = m.Groups[2].Success ? int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) : 0;
            var b = m.Groups[1].Value;
            return b.StartsWith('%') ? new Operand('a', Reg: RegIndex(b), Offset: off) : new Operand('a', Name: b, Offset: off);
        }
        if (a.StartsWith("%tid.") || a.StartsWith("%ctaid.") || a.StartsWith("%ntid.") || a.StartsWith("%nctaid.")) return new Operand('s', Name: a);
        if (a.StartsWith('%')) return new Operand('r', Reg: RegIndex(a));
        if (a.StartsWith("0f", StringComparison.OrdinalIgnoreCase)) return new Operand('i', Imm: ulong.Parse(a[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
        if (a.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) return new Operand('i', Imm: ulong.Parse(a[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
        if (a.Length > 0 && (char.IsDigit(a[0]) || a[0] == '-')) return new Operand('i', Imm: (ulong)long.Parse(a, CultureInfo.InvariantCulture));
        return new Operand('y', Name: a);
    }

    // ---- device memory ----------------------------------------------------------------------------------------

    readonly List<(ulong Base, float[] Data)> _buffers = [];

    /// <summary>Places <paramref name="data"/> in simulated device memory; returns its device address.</summary>
    public ulong Alloc(float[] data)
    {
        ulong b = 0x1_0000_0000UL * (ulong)(_buffers.Count + 1);
        _buffers.Add((b, data));
        return b;
    }

    ref float Global(ulong addr, string what)
    {
        foreach (var (b, d) in _buffers)
            if (addr >= b && addr < b + (ulong)d.Length * 4)
            {
                if ((addr - b) % 4 != 0) throw new InvalidOperationException($"misaligned global access at {addr:X} ({what})");
                return ref d[(addr - b) / 4];
            }
        throw new InvalidOperationException($"global access outside every buffer at 0x{addr:X} ({what})");
    }

    // ---- execution ---------------------------------------------------------------------------------------------

    sealed class Warp
    {
        public int Pc;
        public bool Done, AtBarrier;
        public ulong[][] R = null!;
        public int[] Tid = null!;
    }

    /// <summary>Runs the kernel over the grid. <paramref name="args"/>: one value per parameter, in order (ulong for
    /// pointers and 64-bit ints, int for 32-bit ints, float for f32).</summary>
    public void Launch((int X, int Y, int Z) grid, int threads, params object[] args)
    {
        if (args.Length != _params.Count) throw new ArgumentException($"{Entry} has {_params.Count} parameters, {args.Length} given");
        var param = new Dictionary<string, ulong>();
        for (int i = 0; i < args.Length; i++)
            param[_params[i]] = args[i] switch
            {
                ulong u => u, long l => (ulong)l, int n => (uint)n, float f => BitConverter.SingleToUInt32Bits(f),
                _ => throw new ArgumentException($"parameter {i}: {args[i].GetType()}"),
            };
        for (int z = 0; z < grid.Z; z++)
            for (int y = 0; y < grid.Y; y++)
                for (int x = 0; x < grid.X; x++)
                    RunCta((x, y, z), grid, threads, param);
    }

    void RunCta((int X, int Y, int Z) cta, (int X, int Y, int Z) grid, int threads, Dictionary<string, ulong> param)
    {
        var shared = new byte[_sharedBytes];
        var warps = new Warp[(threads + 31) / 32];
        for (int w = 0; w < warps.Length; w++)
            warps[w] = new Warp
            {
                R = [.. Enumerable.Range(0, 32).Select(_ => new ulong[_regs.Count])],
                Tid = [.. Enumerable.Range(0, 32).Select(l => w * 32 + l)],
            };
        if (threads % 32 != 0) throw new NotSupportedException("partial warps");
        while (true)
        {
            bool progressed = false;
            foreach (var w in warps)
            {
                while (!w.Done && !w.AtBarrier) { Step(w, cta, grid, threads, param, shared); progressed = true; }
            }
            if (warps.All(w => w.Done)) return;
            if (warps.Any(w => w.Done)) throw new InvalidOperationException($"{Entry}: some warps exited while others wait at bar.sync");
            foreach (var w in warps) { w.AtBarrier = false; w.Pc++; }
            if (!progressed && warps.All(w => !w.Done)) { /* all released */ }
        }
    }

    public long Executed { get; private set; }

    void Step(Warp w, (int X, int Y, int Z) cta, (int X, int Y, int Z) grid, int threads, Dictionary<string, ulong> param, byte[] shared)
    {
        var ins = _code[w.Pc];
        Executed++;
        switch (ins.Op)
        {
            case "bar":
                if (ins.GuardReg >= 0) throw new NotSupportedException("guarded bar.sync");
                w.AtBarrier = true;
                return;
            case "ret":
                w.Done = true;
                return;
            case "bra":
            {
                int taken = 0;
                for (int l = 0; l < 32; l++) if (Guard(w.R[l], ins)) taken++;
                if (taken != 0 && taken != 32) throw new InvalidOperationException($"{Entry}: divergent branch at line {ins.Line}: {ins.Text}");
                w.Pc = taken == 32 ? _labels[ins.Args[0].Name] : w.Pc + 1;
                return;
            }
            case "mma":
                Mma(w, ins);
                w.Pc++;
                return;
            case "shfl":
                Shfl(w, ins);
                w.Pc++;
                return;
        }
        for (int l = 0; l < 32; l++)
        {
            var r = w.R[l];
            if (!Guard(r, ins)) continue;
            ExecLane(r, ins, w.Tid[l], cta, grid, threads, param, shared);
        }
        w.Pc++;
    }

    static bool Guard(ulong[] r, Instr ins) => ins.GuardReg < 0 || ((r[ins.GuardReg] != 0) ^ ins.GuardNeg);

    ulong Val(ulong[] r, Operand o, int tid, (int X, int Y, int Z) cta, (int X, int Y, int Z) grid, int threads) => o.Kind switch
    {
        'r' => r[o.Reg],
        'i' => o.Imm,
        's' => o.Name switch
        {
            "%tid.x" => (ulong)tid, "%tid.y" or "%tid.z" => 0,
            "%ctaid.x" => (ulong)cta.X, "%ctaid.y" => (ulong)cta.Y, "%ctaid.z" => (ulong)cta.Z,
            "%ntid.x" => (ulong)threads, "%nctaid.x" => (ulong)grid.X, "%nctaid.y" => (ulong)grid.Y, "%nctaid.z" => (ulong)grid.Z,
            _ => throw new NotSupportedException(o.Name),
        },
        'y' => _shared.TryGetValue(o.Name, out int off) ? (ulong)off : throw new NotSupportedException($"symbol {o.Name}"),
        _ => throw new NotSupportedException($"operand kind {o.Kind}"),
    };

    static float F(ulong v) => BitConverter.UInt32BitsToSingle((uint)v);
    static ulong U(float f) => BitConverter.SingleToUInt32Bits(f);
    static long S(ulong v, string t) => t switch { "s32" => (int)(uint)v, "s64" => (long)v, "u32" or "b32" => (uint)v, "s16" => (short)v, _ => (long)v };
    static ulong Trunc(ulong v, string t) => t is "u64" or "s64" or "b64" ? v : t is "pred" ? (v != 0 ? 1UL : 0UL) : (ulong)(uint)v;

    public static float RoundTf32(float x)
    {
        uint b = BitConverter.SingleToUInt32Bits(x);
        if ((b & 0x7F800000) == 0x7F800000) return x;
        return BitConverter.UInt32BitsToSingle((b + 0x1000u) & 0xFFFFE000u);   // to nearest, ties away from zero
    }

    public static ushort Bf16Bits(float x)
    {
        uint b = BitConverter.SingleToUInt32Bits(x);
        if ((b & 0x7F800000) == 0x7F800000) return (ushort)(b >> 16);
        return (ushort)((b + 0x7FFFu + ((b >> 16) & 1)) >> 16);                // to nearest, ties to even
    }

    public static float RoundBf16(float x) => BitConverter.UInt32BitsToSingle((uint)Bf16Bits(x) << 16);

    void ExecLane(ulong[] r, Instr ins, int tid, (int X, int Y, int Z) cta, (int X, int Y, int Z) grid, int threads, Dictionary<string, ulong> param, byte[] shared)
    {
        var a = ins.Args;
        string t = ins.Mods.Length > 0 ? ins.Mods[^1] : "";
        ulong V(int i) => Val(r, a[i], tid, cta, grid, threads);
        void Set(int i, ulong v) => r[a[i].Reg] = v;
        switch (ins.Op)
        {
            case "mov": Set(0, Trunc(V(1), t)); return;
            case "add": Set(0, t == "f32" ? U(F(V(1)) + F(V(2))) : Trunc(V(1) + V(2), t)); return;
            case "sub": Set(0, t == "f32" ? U(F(V(1)) - F(V(2))) : Trunc(V(1) - V(2), t)); return;
            case "mul":
                if (t == "f32") Set(0, U(F(V(1)) * F(V(2))));
                else if (ins.Mods[0] == "wide") Set(0, (ulong)(S(V(1), t) * S(V(2), t)));
                else Set(0, Trunc((ulong)(S(V(1), t) * S(V(2), t)), t));
                return;
            case "mad":
                if (ins.Mods[0] == "wide") Set(0, (ulong)(S(V(1), t) * S(V(2), t)) + V(3));
                else Set(0, Trunc((ulong)(S(V(1), t) * S(V(2), t)) + V(3), t));
                return;
            case "fma": Set(0, U((float)((double)F(V(1)) * F(V(2)) + F(V(3))))); return;
            case "max": Set(0, t == "f32" ? U(MathF.Max(F(V(1)), F(V(2)))) : Trunc((ulong)Math.Max(S(V(1), t), S(V(2), t)), t)); return;
            case "min": Set(0, t == "f32" ? U(MathF.Min(F(V(1)), F(V(2)))) : Trunc((ulong)Math.Min(S(V(1), t), S(V(2), t)), t)); return;
            case "neg": Set(0, U(-F(V(1)))); return;
            case "rcp": Set(0, U(1f / F(V(1)))); return;
            case "div": Set(0, t == "f32" ? U(F(V(1)) / F(V(2))) : Trunc((ulong)(S(V(1), t) / S(V(2), t)), t)); return;
            case "rem": Set(0, Trunc((ulong)(S(V(1), t) % S(V(2), t)), t)); return;
            case "ex2": Set(0, U(MathF.Pow(2f, F(V(1))))); return;
            case "lg2": Set(0, U(MathF.Log2(F(V(1))))); return;
            case "and": Set(0, Trunc(V(1) & V(2), t)); return;
            case "or": Set(0, Trunc(V(1) | V(2), t)); return;
            case "xor": Set(0, Trunc(V(1) ^ V(2), t)); return;
            case "not": Set(0, Trunc(~V(1), t)); return;
            case "shl": Set(0, Trunc(V(1) << (int)V(2), t)); return;
            case "shr": Set(0, t[0] == 's' ? Trunc((ulong)(S(V(1), t) >> (int)V(2)), t) : Trunc(V(1) >> (int)V(2), t)); return;
            case "selp": Set(0, Trunc(V(3) != 0 ? V(1) : V(2), t)); return;
            case "setp":
            {
                string cmp = ins.Mods[0];
                bool res;
                if (t == "f32")
                {
                    float x = F(V(1)), y = F(V(2));
                    res = cmp switch { "eq" => x == y, "ne" => x != y && !float.IsNaN(x) && !float.IsNaN(y), "lt" => x < y, "le" => x <= y, "gt" => x > y, "ge" => x >= y, _ => throw new NotSupportedException(ins.Text) };
                }
                else
                {
                    long x = S(V(1), t), y = S(V(2), t);
                    res = cmp switch { "eq" => x == y, "ne" => x != y, "lt" => x < y, "le" => x <= y, "gt" => x > y, "ge" => x >= y, _ => throw new NotSupportedException(ins.Text) };
                }
                Set(0, res ? 1UL : 0UL);
                return;
            }
            case "cvt":
            {
                string dt = ins.Mods[^2];
                if (dt == "tf32") { Set(0, U(RoundTf32(F(V(1))))); return; }
                if (dt == "bf16x2") { Set(0, ((ulong)Bf16Bits(F(V(1))) << 16) | Bf16Bits(F(V(2)))); return; }
                if (dt == "f32" && t is "s32") { Set(0, U((float)S(V(1), "s32"))); return; }
                if (dt == "f32" && t is "u32") { Set(0, U((float)(uint)V(1))); return; }
                Set(0, Trunc((ulong)S(V(1), t), dt));
                return;
            }
            case "ld":
            {
                string space = ins.Mods[0];
                bool vec = ins.Mods.Contains("v2") || ins.Mods.Contains("v4");
                int n = ins.Mods.Contains("v4") ? 4 : ins.Mods.Contains("v2") ? 2 : 1;
                int bytes = TypeBytes(t);
                for (int e = 0; e < n; e++)
                {
                    ulong v;
                    if (space == "param") v = param[a[1].Name];
                    else
                    {
                        ulong addr = (a[1].Reg >= 0 ? r[a[1].Reg] : Val(r, new Operand('y', Name: a[1].Name), tid, cta, grid, threads)) + (ulong)(long)a[1].Offset + (ulong)(e * bytes);
                        v = space == "shared" ? SharedLoad(shared, addr, bytes, ins) : U(Global(addr, ins.Text));
                    }
                    if (vec) r[a[0].Items![e].Reg] = v; else Set(0, Trunc(v, t));
                }
                return;
            }
            case "st":
            {
                string space = ins.Mods[0];
                int bytes = TypeBytes(t);
                ulong addr = (a[0].Reg >= 0 ? r[a[0].Reg] : Val(r, new Operand('y', Name: a[0].Name), tid, cta, grid, threads)) + (ulong)(long)a[0].Offset;
                var vals = a[1].Kind == 'v' ? a[1].Items!.Select(o => Val(r, o, tid, cta, grid, threads)).ToArray() : [V(1)];
                for (int e = 0; e < vals.Length; e++)
                {
                    ulong ad = addr + (ulong)(e * bytes);
                    if (space == "shared") SharedStore(shared, ad, bytes, vals[e], ins);
                    else Global(ad, ins.Text) = F(vals[e]);
                }
                return;
            }
            default:
                throw new NotSupportedException($"PTX interpreter: instruction not modelled: {ins.Text}");
        }
    }

    static ulong SharedLoad(byte[] s, ulong addr, int bytes, Instr ins)
    {
        if (addr % (ulong)bytes != 0 || addr + (ulong)bytes > (ulong)s.Length) throw new InvalidOperationException($"shared load out of range or misaligned at {addr} (line {ins.Line}: {ins.Text})");
        return bytes == 8 ? BitConverter.ToUInt64(s, (int)addr) : BitConverter.ToUInt32(s, (int)addr);
    }

    static void SharedStore(byte[] s, ulong addr, int bytes, ulong v, Instr ins)
    {
        if (addr % (ulong)bytes != 0 || addr + (ulong)bytes > (ulong)s.Length) throw new InvalidOperationException($"shared store out of range or misaligned at {addr} (line {ins.Line}: {ins.Text})");
        if (bytes == 8) BitConverter.TryWriteBytes(s.AsSpan((int)addr), v); else BitConverter.TryWriteBytes(s.AsSpan((int)addr), (uint)v);
    }

    void Shfl(Warp w, Instr ins)
    {
        // shfl.sync.{bfly|idx}.b32 d, a, b, c, membermask: all 32 lanes active and c = 31 in these kernels.
        string mode = ins.Mods[1];
        if (mode is not ("bfly" or "idx") || ins.Args[3].Imm != 31 || ins.Args[4].Imm != 0xffffffff || ins.GuardReg >= 0) throw new NotSupportedException(ins.Text);
        var src = new ulong[32];
        for (int l = 0; l < 32; l++) src[l] = w.R[l][ins.Args[1].Reg];
        for (int l = 0; l < 32; l++)
        {
            int b = (int)(ins.Args[2].Kind == 'i' ? ins.Args[2].Imm : w.R[l][ins.Args[2].Reg]) & 31;
            w.R[l][ins.Args[0].Reg] = src[mode == "bfly" ? l ^ b : b];
        }
    }

    void Mma(Warp w, Instr ins)
    {
        // mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 / m16n8k16 … .bf16.bf16.f32: D(16×8) = A(16×K)·B(K×8) + C
        bool tf32 = ins.Mods.Contains("tf32"), bf16 = ins.Mods.Contains("bf16");
        int kDim = ins.Mods.Contains("m16n8k8") ? 8 : ins.Mods.Contains("m16n8k16") ? 16 : throw new NotSupportedException(ins.Text);
        if (!(tf32 && kDim == 8) && !(bf16 && kDim == 16) || !ins.Mods.Contains("row") || !ins.Mods.Contains("col")) throw new NotSupportedException(ins.Text);
        var A = new double[16, 16]; var B = new double[16, 8]; var C = new double[16, 8];
        Operand[] d = ins.Args[0].Items!, av = ins.Args[1].Items!, bv = ins.Args[2].Items!, cv = ins.Args[3].Items!;
        for (int lane = 0; lane < 32; lane++)
        {
            var r = w.R[lane];
            int g = lane >> 2, t = lane & 3;
            if (tf32)
            {
                // A: a0 (g, t), a1 (g+8, t), a2 (g, t+4), a3 (g+8, t+4); B: b0 (k=t, n=g), b1 (k=t+4, n=g). Low 13 bits ignored.
                A[g, t] = Tf(r[av[0].Reg]); A[g + 8, t] = Tf(r[av[1].Reg]); A[g, t + 4] = Tf(r[av[2].Reg]); A[g + 8, t + 4] = Tf(r[av[3].Reg]);
                B[t, g] = Tf(r[bv[0].Reg]); B[t + 4, g] = Tf(r[bv[1].Reg]);
            }
            else
            {
                // A (bf16x2, low half = even column): a0 (g, 2t..), a1 (g+8, 2t..), a2 (g, 2t+8..), a3 (g+8, 2t+8..);
                // B: b0 (k = 2t, 2t+1; n = g), b1 (k = 2t+8, 2t+9; n = g).
                Pair(A, g, 2 * t, r[av[0].Reg]); Pair(A, g + 8, 2 * t, r[av[1].Reg]); Pair(A, g, 2 * t + 8, r[av[2].Reg]); Pair(A, g + 8, 2 * t + 8, r[av[3].Reg]);
                B[2 * t, g] = Bf(r[bv[0].Reg]); B[2 * t + 1, g] = Bf(r[bv[0].Reg] >> 16);
                B[2 * t + 8, g] = Bf(r[bv[1].Reg]); B[2 * t + 9, g] = Bf(r[bv[1].Reg] >> 16);
            }
            // C/D: c0 (g, 2t), c1 (g, 2t+1), c2 (g+8, 2t), c3 (g+8, 2t+1)
            C[g, 2 * t] = F(r[cv[0].Reg]); C[g, 2 * t + 1] = F(r[cv[1].Reg]); C[g + 8, 2 * t] = F(r[cv[2].Reg]); C[g + 8, 2 * t + 1] = F(r[cv[3].Reg]);
        }
        var D = new float[16, 8];
        for (int i = 0; i < 16; i++)
            for (int j = 0; j < 8; j++)
            {
                double s = C[i, j];
                for (int k = 0; k < kDim; k++) s += A[i, k] * B[k, j];
                D[i, j] = (float)s;
            }
        for (int lane = 0; lane < 32; lane++)
        {
            var r = w.R[lane];
            int g = lane >> 2, t = lane & 3;
            r[d[0].Reg] = U(D[g, 2 * t]); r[d[1].Reg] = U(D[g, 2 * t + 1]); r[d[2].Reg] = U(D[g + 8, 2 * t]); r[d[3].Reg] = U(D[g + 8, 2 * t + 1]);
        }

        static double Tf(ulong v) => BitConverter.UInt32BitsToSingle((uint)v & 0xFFFFE000u);
        static double Bf(ulong v) => BitConverter.UInt32BitsToSingle(((uint)v & 0xFFFFu) << 16);
        static void Pair(double[,] m, int row, int col, ulong v) { m[row, col] = Bf(v); m[row, col + 1] = Bf(v >> 16); }
    }
}
