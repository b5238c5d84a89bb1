using System.Globalization;
using System.Text;

namespace Parallelize.Benchmarks;

/// <summary>What the quick mode measured, and its Markdown rendering: throughput and ratios, allocations, and the issue's targets.</summary>
internal sealed class QuickReport
{
    private const int Loop = 0;
    private const int ParallelFor = 1;
    private const int Dataflow = 2;
    private const int Channels = 3;
    private const int Pool = 4;

    public required QuickOptions Options { get; init; }

    public required string Machine { get; init; }

    public required double NanosecondsPerStep { get; init; }

    public List<(string Label, int Steps, double NanosecondsPerCall)> Calibrations { get; } = [];

    public List<QuickRow> Rows { get; } = [];

    public int MicrosecondSteps { get; set; }

    public double[] WaitLatencies { get; set; } = [];

    public int StopCalls { get; set; }

    public double[] StopTimes { get; set; } = [];

    public bool StopReturnedAll { get; set; }

    /// <summary>Calls per second of the library fed by <c>InvokeMany</c>, no work.</summary>
    public double BulkNoWork { get; set; }

    /// <summary>Calls per second of the library fed by <c>InvokeMany</c>, ~1 µs calls.</summary>
    public double BulkMicrosecond { get; set; }

    /// <summary>Formats calls per second: "12.3 M", "45.6 k", "789".</summary>
    public static string Rate(double callsPerSecond) => callsPerSecond switch
    {
        double.NaN => "—",
        >= 1e6 => Invariant($"{callsPerSecond / 1e6:0.0} M"),
        >= 1e4 => Invariant($"{callsPerSecond / 1e3:0} k"),
        >= 1e3 => Invariant($"{callsPerSecond / 1e3:0.0} k"),
        _ => Invariant($"{callsPerSecond:0}"),
    };

    public string Render()
    {
        var text = new StringBuilder();
        string[] names = [.. Contenders.Names];
        text.AppendLine(Options.Tiny ? "### Quick comparison (tiny smoke run: the figures mean nothing)" : "### Quick comparison");
        text.AppendLine();
        text.AppendLine(Invariant($"Machine: {Machine}"));
        text.AppendLine();
        text.AppendLine(Invariant(
            $"Calls per second, the median of {Options.Repeats} timed run(s) of each contender after an untimed warm-up; a run lasts from creating the pool (block, channels) to every result being in its collection, teardown included. Inputs and outputs are `long`; every run's results are checked. The last columns are Parallelize's calls per second divided by each contender's."));
        text.AppendLine();
        text.AppendLine("| work per call | calls | " + string.Join(" | ", names) + " | ÷ " + string.Join(" | ÷ ", names[..Pool]) + " |");
        text.AppendLine("|---|---:|" + string.Concat(Enumerable.Repeat("---:|", names.Length + Pool)));
        foreach (QuickRow row in Rows)
        {
            var cells = new List<string> { RowLabel(row), Invariant($"{row.Calls:N0}") };
            cells.AddRange(names.Select((_, c) => Rate(row.CallsPerSecond(c))));
            cells.AddRange(names[..Pool].Select((_, c) => Ratio(row.CallsPerSecond(Pool) / row.CallsPerSecond(c))));
            text.AppendLine("| " + string.Join(" | ", cells) + " |");
        }

        text.AppendLine();
        string calibrations = string.Join("; ", Calibrations.Select(c => Invariant($"{c.Label}: {c.Steps} steps, measured {Nanoseconds(c.NanosecondsPerCall)} a call")));
        text.AppendLine(Invariant($"- Work: a spin of dependent integer arithmetic ({NanosecondsPerStep:0.00} ns a step here), calibrated against the plain loop at start-up: {calibrations}. CPU rows use one worker a core ({Environment.ProcessorCount})."));
        text.AppendLine("- Dataflow: `TransformBlock` with `MaxDegreeOfParallelism` = workers, `EnsureOrdered = false`, `SingleProducerConstrained = true`, drained by one loop (`OutputAvailableAsync`, then `TryReceiveAll`) into a presized `List`.");
        text.AppendLine("- Channels: an unbounded input channel read by worker tasks, which write to an unbounded result channel drained by one collector task into a presized `List`.");
        text.AppendLine("- Parallelize: `new Parallelize<long, long>(work, count: workers)` with default options, `Invoke` per input, `Wait()`; results in `Results`.");
        text.AppendLine("- Blocking row: Parallelize runs each executor on its own thread; Parallel.For, Dataflow and Channels run on the thread pool, whose minimum is raised to the workers plus the cores for that row. The plain loop is left out (it would take calls × sleep).");
        text.AppendLine("- Async row: Parallelize with an asynchronous function, Dataflow with an asynchronous transform, Channels workers that await, and `Parallel.ForEachAsync` in the Parallel.For column. The plain loop is left out.");
        text.AppendLine();

        text.AppendLine("Bytes allocated per call, by every thread (`GC.GetTotalAllocatedBytes(true)` around each timed run; median; a presized result array or list is 8 bytes a call):");
        text.AppendLine();
        text.AppendLine("| work per call | " + string.Join(" | ", names) + " |");
        text.AppendLine("|---|" + string.Concat(Enumerable.Repeat("---:|", names.Length)));
        foreach (QuickRow row in Rows)
        {
            text.AppendLine("| " + RowLabel(row) + " | " + string.Join(" | ", row.BytesPerCall.Select(Bytes)) + " |");
        }

        text.AppendLine();
        RenderTargets(text);
        return text.ToString();
    }

    private void RenderTargets(StringBuilder text)
    {
        QuickRow none = Rows[0];
        QuickRow hundred = Rows[1];
        QuickRow micro = Rows[2];
        QuickRow blocking = Rows[4];
        text.AppendLine(Options.Tiny ? "Targets (tiny run: not meaningful):" : "Targets, from the same run:");
        text.AppendLine();
        text.AppendLine("| target | Parallelize | the others | |");
        text.AppendLine("|---|---|---|---|");

        double dataflowRatio = none.CallsPerSecond(Pool) / none.CallsPerSecond(Dataflow);
        Target(text, "no work: ≥ 2× Dataflow's calls/s", Ratio(dataflowRatio), Invariant($"Parallelize {Rate(none.CallsPerSecond(Pool))}/s, Dataflow {Rate(none.CallsPerSecond(Dataflow))}/s"), dataflowRatio >= 2);
        double channelsRatio = none.CallsPerSecond(Pool) / none.CallsPerSecond(Channels);
        Target(text, "no work: ≥ 1.5× the Channels pool's calls/s", Ratio(channelsRatio), Invariant($"Channels {Rate(none.CallsPerSecond(Channels))}/s"), channelsRatio >= 1.5);
        double hundredRatio = hundred.CallsPerSecond(Pool) / hundred.CallsPerSecond(Loop);
        Target(text, "~100 ns: ≥ 1× the plain loop", Ratio(hundredRatio), OthersToLoop(hundred), hundredRatio >= 1);
        double microRatio = micro.CallsPerSecond(Pool) / micro.CallsPerSecond(Loop);
        Target(text, "~1 µs: ≥ 1.9× the plain loop", Ratio(microRatio), OthersToLoop(micro), microRatio >= 1.9);

        double bulkRatio = BulkNoWork / none.CallsPerSecond(Channels);
        Target(text, "bulk submission (`InvokeMany`), no work: ≥ 2× the Channels pool's calls/s", Ratio(bulkRatio), Invariant($"Parallelize with InvokeMany {Rate(BulkNoWork)}/s, Channels {Rate(none.CallsPerSecond(Channels))}/s"), bulkRatio >= 2);
        double bulkMicroRatio = BulkMicrosecond / micro.CallsPerSecond(Loop);
        Target(text, "bulk submission (`InvokeMany`), ~1 µs: ≥ 1.9× the plain loop", Ratio(bulkMicroRatio), Invariant($"Parallelize with InvokeMany {Rate(BulkMicrosecond)}/s, plain loop {Rate(micro.CallsPerSecond(Loop))}/s"), bulkMicroRatio >= 1.9);

        double ideal = blocking.Ideal!.Value.TotalMilliseconds;
        double wall = blocking.Seconds[Pool] * 1000;
        Target(
            text,
            Invariant($"{blocking.Label}, {blocking.Calls:N0} calls: wall time ≤ 110% of the ideal {ideal:0} ms"),
            Invariant($"{wall:0} ms ({wall / ideal:0.00}× ideal)"),
            string.Join(", ", new[] { ParallelFor, Dataflow, Channels }.Select(c => Invariant($"{Contenders.Names[c]} {blocking.Seconds[c] * 1000:0} ms"))),
            wall <= ideal * 1.1);

        double waitMedian = QuickRow.Median(WaitLatencies);
        Target(
            text,
            "`Wait()` returns ≤ 1 ms after the last call completes (median)",
            Invariant($"median {waitMedian:0.000} ms, max {WaitLatencies.DefaultIfEmpty(double.NaN).Max():0.000} ms over {WaitLatencies.Length} rounds"),
            "no equivalent",
            waitMedian <= 1);

        double stopMedian = QuickRow.Median(StopTimes);
        Target(
            text,
            Invariant($"`Stop()` with {StopCalls:N0} calls queued returns them all ≤ 50 ms"),
            Invariant($"median {stopMedian:0.0} ms, max {StopTimes.DefaultIfEmpty(double.NaN).Max():0.0} ms over {StopTimes.Length} run(s); {(StopReturnedAll ? "every input returned, in call order" : "**inputs missing or out of order**")}"),
            "no equivalent",
            StopReturnedAll && stopMedian <= 50);

        Target(
            text,
            "no work: ≤ 16 bytes allocated per call",
            Bytes(none.BytesPerCall[Pool]),
            Invariant($"Dataflow {Bytes(none.BytesPerCall[Dataflow])}, Channels {Bytes(none.BytesPerCall[Channels])}"),
            none.BytesPerCall[Pool] <= 16);
    }

    private static void Target(StringBuilder text, string target, string measured, string others, bool met) =>
        text.AppendLine(Invariant($"| {target} | {measured} | {others} | {(met ? "met" : "not met")} |"));

    private static string OthersToLoop(QuickRow row) =>
        string.Join(", ", new[] { ParallelFor, Dataflow, Channels }.Select(c => Invariant($"{Contenders.Names[c]} {Ratio(row.CallsPerSecond(c) / row.CallsPerSecond(Loop))}")));

    private string RowLabel(QuickRow row)
    {
        int at = Calibrations.FindIndex(c => c.Label == row.Label);
        return at < 0 ? row.Label : Invariant($"{row.Label} ({Nanoseconds(Calibrations[at].NanosecondsPerCall)})");
    }

    private static string Ratio(double ratio) => double.IsFinite(ratio) ? Invariant($"{ratio:0.00}×") : "—";

    private static string Bytes(double bytes) => double.IsNaN(bytes) ? "—" : Invariant($"{bytes:0.0}");

    private static string Nanoseconds(double nanoseconds) =>
        nanoseconds >= 1_000 ? Invariant($"{nanoseconds / 1_000:0.00} µs") : Invariant($"{nanoseconds:0} ns");

    private static string Invariant(FormattableString text) => FormattableString.Invariant(text);
}
