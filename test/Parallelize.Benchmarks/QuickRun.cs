using System.Diagnostics;
using System.Globalization;

namespace Parallelize.Benchmarks;

/// <summary>
/// The quick mode: every contender over every kind of work in one process, then the extra measurements of the
/// library (Wait latency, Stop with a full queue), printed as a Markdown table. Progress goes to standard error, the
/// table to standard output (and to <c>--markdown FILE</c>, between the markers if the file has them). Exits 1 if
/// any contender lost or altered a result, 2 if the command line is not understood.
/// </summary>
internal static class QuickRun
{
    /// <summary>Marks where the table starts in a Markdown file that holds other text too.</summary>
    public const string Begin = "<!-- quick-benchmark:begin -->";

    /// <summary>Marks where the table ends.</summary>
    public const string End = "<!-- quick-benchmark:end -->";

    public static int Run(string[] args)
    {
        QuickOptions? options = QuickOptions.Parse(args);
        if (options is null)
        {
            Console.Error.WriteLine(QuickOptions.Usage);
            return 2;
        }

        var clock = Stopwatch.StartNew();
        var problems = new List<string>();
        int cores = Environment.ProcessorCount;

        Progress("calibrating the spin");
        double nanosecondsPerStep = Work.NanosecondsPerSpinStep();
        var report = new QuickReport
        {
            Options = options,
            Machine = Machine.Describe(),
            NanosecondsPerStep = nanosecondsPerStep,
        };

        report.Rows.Add(CpuRow("no work", 0, options.Calls, cores));
        foreach ((string label, double nanoseconds, int divisor) in new[] { ("~100 ns", 100.0, 1), ("~1 µs", 1_000.0, 10), ("~10 µs", 10_000.0, 100) })
        {
            (int steps, double measured) = Work.Calibrate(nanoseconds, nanosecondsPerStep);
            report.Calibrations.Add((label, steps, measured));
            report.Rows.Add(CpuRow(label, steps, Math.Max(1, options.Calls / divisor), cores));
            if (nanoseconds == 1_000)
            {
                report.MicrosecondSteps = steps;
            }
        }

        report.Rows.Add(options.Tiny ? BlockingRow(workers: 25, calls: 100, milliseconds: 10, cores) : BlockingRow(workers: 250, calls: 1_000, milliseconds: 100, cores));
        report.Rows.Add(options.Tiny ? AsyncRow(concurrency: 100, calls: 1_000, milliseconds: 1) : AsyncRow(concurrency: 1_000, calls: 10_000, milliseconds: 10));

        foreach (QuickRow row in report.Rows)
        {
            Progress($"{row.Label}: {row.Calls:N0} calls × {options.Repeats} repeats");
            row.Measure(options.Repeats, problems);
            Progress("  " + string.Join(", ", Contenders.Names.Select((name, c) => $"{name} {QuickReport.Rate(row.CallsPerSecond(c))}")));
        }

        Progress("bulk submission (InvokeMany): no work and ~1 µs");
        report.BulkNoWork = ParallelizeExtras.BulkCallsPerSecond(Work.Cpu(0), options.Calls, cores, options.Repeats, report.Rows[0].Expected, problems);
        report.BulkMicrosecond = ParallelizeExtras.BulkCallsPerSecond(Work.Cpu(report.MicrosecondSteps), report.Rows[2].Calls, cores, options.Repeats, report.Rows[2].Expected, problems);

        Progress("Wait() latency");
        report.WaitLatencies = ParallelizeExtras.WaitLatencies(
            rounds: options.Tiny ? 3 : 21, calls: options.Tiny ? 1_000 : 20_000, report.MicrosecondSteps, cores, problems);
        Progress($"Stop() with {options.Calls:N0} calls queued");
        report.StopCalls = options.Calls;
        int problemsBefore = problems.Count;
        report.StopTimes = ParallelizeExtras.StopTimes(rounds: options.Tiny ? 1 : 3, options.Calls, cores, problems);
        report.StopReturnedAll = problems.Count == problemsBefore;

        string markdown = report.Render();
        Console.Write(markdown);
        if (options.MarkdownFile is string file)
        {
            WriteMarkdown(file, markdown);
        }

        foreach (string problem in problems)
        {
            Console.Error.WriteLine($"error: {problem}");
        }

        Progress($"{(problems.Count == 0 ? "every contender produced every result" : $"{problems.Count} problem(s)")}; took {clock.Elapsed.TotalSeconds:0.0} s");
        return problems.Count == 0 ? 0 : 1;
    }

    /// <summary>
    /// Writes the table to <paramref name="file"/>; if the file already holds the markers <see cref="Begin"/> and
    /// <see cref="End"/> (as the README does), replaces only what is between them.
    /// </summary>
    private static void WriteMarkdown(string file, string markdown)
    {
        string? existing = File.Exists(file) ? File.ReadAllText(file) : null;
        int begin = existing?.IndexOf(Begin, StringComparison.Ordinal) ?? -1;
        int end = existing?.IndexOf(End, StringComparison.Ordinal) ?? -1;
        if (existing is null || begin < 0 || end < begin)
        {
            File.WriteAllText(file, markdown);
            return;
        }

        int after = begin + Begin.Length;
        File.WriteAllText(file, string.Concat(existing.AsSpan(0, after), "\n", markdown, existing.AsSpan(end)));
        Progress($"replaced the table between the markers in {file}");
    }

    private static QuickRow CpuRow(string label, int steps, int calls, int cores)
    {
        Func<long, long> work = Work.Cpu(steps);
        return new QuickRow
        {
            Label = label,
            Calls = calls,
            WarmupCalls = Math.Max(1, calls / 10),
            Expected = Checksum.Expected(work, calls),
            Runs =
            [
                n => Contenders.PlainLoop(work, n),
                n => Contenders.ParallelFor(work, n, cores),
                n => Contenders.Dataflow(work, n, cores),
                n => Contenders.Channels(work, n, cores),
                n => Contenders.Parallelize(work, n, cores),
            ],
        };
    }

    /// <summary>
    /// The seed's sleepers: <paramref name="workers"/> calls at a time, each blocking its thread. Parallelize runs each
    /// executor on its own thread; the others run on the thread pool, whose minimum is raised to the workers plus the
    /// cores for this row (as one would for blocking work), since it would otherwise add threads slowly. The plain
    /// loop is left out: it would take calls × sleep.
    /// </summary>
    private static QuickRow BlockingRow(int workers, int calls, int milliseconds, int cores)
    {
        Func<long, long> work = Work.Sleep(milliseconds);
        return new QuickRow
        {
            Label = $"blocking: sleep {milliseconds} ms, {workers} at a time",
            Calls = calls,
            WarmupCalls = workers,
            Expected = Checksum.Expected(static x => x, calls),
            MinThreads = workers + cores,
            Ideal = TimeSpan.FromMilliseconds((double)milliseconds * ((calls + workers - 1) / workers)),
            Runs =
            [
                null,
                n => Contenders.ParallelFor(work, n, workers),
                n => Contenders.Dataflow(work, n, workers),
                n => Contenders.Channels(work, n, workers),
                n => Contenders.Parallelize(work, n, workers),
            ],
        };
    }

    /// <summary>Calls that await a delay, <paramref name="concurrency"/> at a time; <c>Parallel.ForEachAsync</c> stands in for <c>Parallel.For</c>. The plain loop is left out.</summary>
    private static QuickRow AsyncRow(int concurrency, int calls, int milliseconds)
    {
        Func<long, Task<long>> work = Work.Delay(milliseconds);
        return new QuickRow
        {
            Label = $"async: delay {milliseconds} ms, {concurrency} at a time",
            Calls = calls,
            WarmupCalls = concurrency,
            Expected = Checksum.Expected(static x => x, calls),
            Runs =
            [
                null,
                n => Contenders.ParallelForEachAsync(work, n, concurrency),
                n => Contenders.Dataflow(work, n, concurrency),
                n => Contenders.Channels(work, n, concurrency),
                n => Contenders.Parallelize(work, n, concurrency),
            ],
        };
    }

    private static void Progress(string message) =>
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{DateTime.Now:HH:mm:ss}] {message}"));
}
