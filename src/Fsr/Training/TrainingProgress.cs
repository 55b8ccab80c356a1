using System.Globalization;
using System.Text;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace FsrNative.Fsr.Training;

/// <summary>One finished optimiser step, as the progress display shows it.</summary>
public sealed record ProgressUpdate(long Step, long MaxIters, long Epoch, double ItPerSecond, TimeSpan? Eta, double Total,
    IReadOnlyDictionary<string, double> Terms, IReadOnlyList<double> GroupLr, double Momentum);

/// <summary>Where the loop reports steps and messages while it runs.</summary>
public interface IProgressSink
{
    void Step(ProgressUpdate update);
    void Message(string line);
}

/// <summary>
/// How a run shows its progress: <see cref="LiveProgress"/> (a Spectre.Console live table: step, it/s, ETA, lr,
/// momentum, every loss term) when stdout is a terminal, <see cref="PlainProgress"/> (a log line every
/// run.log_interval steps) otherwise, or nothing. <see cref="Run"/> runs the training loop inside the display.
/// </summary>
public interface ITrainingProgress
{
    T Run<T>(Func<IProgressSink, T> loop);

    /// <summary>The display run.progress asks for: auto → live on a terminal, plain when stdout is redirected.</summary>
    public static ITrainingProgress For(string mode, long logInterval, TextWriter output) => mode switch
    {
        "live" => new LiveProgress(),
        "plain" => new PlainProgress(output, logInterval),
        "none" => new PlainProgress(TextWriter.Null, logInterval),
        _ => Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive ? new PlainProgress(output, logInterval) : new LiveProgress(),
    };
}

/// <summary>The plain progress line (also the line train.log gets).</summary>
public static class ProgressFormat
{
    public static string Line(ProgressUpdate u)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"step {u.Step}/{u.MaxIters} | {u.ItPerSecond:F2} it/s | eta {Eta(u.Eta)} | lr {u.GroupLr[0]:E2}/{u.GroupLr[u.GroupLr.Count - 1]:E2} | m {u.Momentum:F5} | total {u.Total:F4}");
        foreach (var (k, v) in u.Terms) sb.Append(CultureInfo.InvariantCulture, $" {k} {v:F4}");
        return sb.ToString();
    }

    public static string Eta(TimeSpan? t) => t is not TimeSpan e ? "?" :
        e.TotalHours >= 1 ? string.Create(CultureInfo.InvariantCulture, $"{(int)e.TotalHours}h{e.Minutes:D2}m") :
        string.Create(CultureInfo.InvariantCulture, $"{e.Minutes}m{e.Seconds:D2}s");
}

/// <summary>Plain log lines: the first step, every <c>logInterval</c>-th step, the last step, and every message.</summary>
public sealed class PlainProgress(TextWriter output, long logInterval) : ITrainingProgress
{
    public T Run<T>(Func<IProgressSink, T> loop) => loop(new Sink(output, logInterval));

    sealed class Sink(TextWriter output, long logInterval) : IProgressSink
    {
        long _first = -1;
        public void Step(ProgressUpdate u)
        {
            if (_first < 0) _first = u.Step;
            if (u.Step == _first || u.Step % logInterval == 0 || u.Step == u.MaxIters) output.WriteLine(ProgressFormat.Line(u));
        }

        public void Message(string line) => output.WriteLine(line);
    }
}

/// <summary>A Spectre.Console live table, redrawn at most four times a second; the last messages are shown under it.</summary>
public sealed class LiveProgress : ITrainingProgress
{
    public T Run<T>(Func<IProgressSink, T> loop)
    {
        T result = default!;
        AnsiConsole.Live(new Markup("[grey]starting…[/]")).AutoClear(false).Overflow(VerticalOverflow.Ellipsis)
            .Start(ctx => result = loop(new Sink(ctx)));
        return result;
    }

    sealed class Sink(LiveDisplayContext ctx) : IProgressSink
    {
        readonly Queue<string> _messages = new();
        ProgressUpdate? _last;
        DateTime _drawn;

        public void Step(ProgressUpdate u)
        {
            _last = u;
            if ((DateTime.UtcNow - _drawn).TotalMilliseconds >= 250 || u.Step == u.MaxIters) Draw();
        }

        public void Message(string line)
        {
            _messages.Enqueue(line);
            while (_messages.Count > 4) _messages.Dequeue();
            Draw();
        }

        void Draw()
        {
            _drawn = DateTime.UtcNow;
            ctx.UpdateTarget(Render(_last, _messages));
            ctx.Refresh();
        }
    }

    static IRenderable Render(ProgressUpdate? u, IEnumerable<string> messages)
    {
        var rows = new List<IRenderable>();
        if (u is not null)
        {
            double frac = u.MaxIters == 0 ? 1 : (double)u.Step / u.MaxIters;
            rows.Add(new BreakdownChart().Width(60).HideTags()
                .AddItem("done", Math.Max(frac, 1e-9), Color.Green).AddItem("left", Math.Max(1 - frac, 1e-9), Color.Grey23));
            var table = new Table().Border(TableBorder.Rounded).AddColumn("step").AddColumn("it/s").AddColumn("ETA").AddColumn("lr enc/heads").AddColumn("momentum").AddColumn("total");
            table.AddRow(
                Text($"{u.Step}/{u.MaxIters} (epoch {u.Epoch})"), Text($"{u.ItPerSecond:F2}"), new Text(ProgressFormat.Eta(u.Eta)),
                Text($"{u.GroupLr[0]:E2} / {u.GroupLr[^1]:E2}"), Text($"{u.Momentum:F5}"), Text($"{u.Total:F4}"));
            rows.Add(table);
            if (u.Terms.Count > 0)
            {
                var terms = new Table().Border(TableBorder.Rounded);
                foreach (var k in u.Terms.Keys) terms.AddColumn(Markup.Escape(k));
                terms.AddRow(u.Terms.Values.Select(v => (IRenderable)Text($"{v:F4}")).ToArray());
                rows.Add(terms);
            }
        }
        foreach (var m in messages) rows.Add(new Markup($"[grey]{Markup.Escape(m)}[/]"));
        return new Rows(rows);
    }

    static Text Text(FormattableString s) => new(s.ToString(CultureInfo.InvariantCulture));
}
