using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Parallelize.Benchmarks;

/// <summary>
/// The ETL comparison of issue 13: seed 001 (sum each row of a large CSV, write the sums in input order) through a
/// naive loop, PLINQ, the CsvSums example on the file source and a hand-written limit, and seed 000 (BloomFilter)
/// against its single loop. Each variant runs as a child process of its own, so that its wall time includes start-up
/// and its peak working set (VmHWM, read by the child at its end) is its own; variants take turns, run after run, so
/// that a change in the machine's load falls on all of them. Every variant's output is checked against the naive one's.
/// </summary>
internal static partial class EtlBenchmark
{
    public const string Usage =
        "usage: Parallelize.Benchmarks --etl [--repeats N>0] [--rows N>0] [--columns N>0] [--markdown FILE]";

    private const string BeginMarker = "<!-- etl-benchmark:begin -->";
    private const string EndMarker = "<!-- etl-benchmark:end -->";

    public static int Run(string[] args)
    {
        int at = Array.IndexOf(args, "--etl-child");
        if (at >= 0)
        {
            return RunChild(args[at + 1], args[at + 2], args[at + 3]);
        }

        int repeats = 3, rows = 3_000_000, columns = 20, bloomFiles = 8, bloomRows = 250_000;
        string? markdown = null;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--etl":
                    break;
                case "--repeats" when Positive(args, i + 1) is int value:
                    repeats = value;
                    i++;
                    break;
                case "--rows" when Positive(args, i + 1) is int value:
                    rows = value;
                    i++;
                    break;
                case "--columns" when Positive(args, i + 1) is int value:
                    columns = value;
                    i++;
                    break;
                case "--markdown" when i + 1 < args.Length:
                    markdown = args[++i];
                    break;
                default:
                    Console.Error.WriteLine(Usage);
                    return 2;
            }
        }

        string cache = Path.Combine(Path.GetTempPath(), "parallelize-etl");
        Directory.CreateDirectory(cache);
        string csv = Path.Combine(cache, $"sums-{rows}x{columns}-seed1.csv");
        string bloomDir = Path.Combine(cache, $"bloom-{bloomFiles}x{bloomRows}-seed1");
        if (!File.Exists(csv))
        {
            Console.Error.WriteLine($"generating {csv} (once; cached)");
            string partial = csv + ".partial";
            Check(Example("CsvSums", "generate", "--rows", $"{rows}", "--columns", $"{columns}", "--seed", "1", "--out", partial));
            File.Move(partial, csv);
        }

        if (!Directory.Exists(bloomDir))
        {
            Console.Error.WriteLine($"generating {bloomDir} (once; cached)");
            string partial = bloomDir + ".partial";
            Check(Example("BloomFilter", "generate", "--files", $"{bloomFiles}", "--rows", $"{bloomRows}", "--seed", "1", "--dir", partial));
            Directory.Move(partial, bloomDir);
        }

        // Warm the page cache, so that every variant reads from memory.
        foreach (string file in Directory.GetFiles(bloomDir).Append(csv))
        {
            using FileStream stream = File.OpenRead(file);
            stream.CopyTo(Stream.Null);
        }

        string output = Path.Combine(cache, "sums.out");
        string tiny = Path.Combine(cache, "one-row.csv");
        File.WriteAllText(tiny, string.Join(',', Enumerable.Range(1, columns)) + "\n");
        Variant[] variants =
        [
            new("naive", "`CsvSums --single`: File.ReadLines, parse, write, one thread", () => Example("CsvSums", "--single", "--in", csv, "--out", output), output),
            new("plinq", "PLINQ `File.ReadLines(p).AsParallel().AsOrdered().Select(sum)`", () => Self("plinq", csv, output), output),
            new("csvsums", "`CsvSums` on the file source (degree 2, 4 MB ranges, ordered)", () => Example("CsvSums", "--in", csv, "--out", output), output),
            new("limit", "hand-written limit: 4 MB line-aligned ranges, 2 threads, written in order", () => Self("limit", csv, output), output),
            new("bloom-single", "`BloomFilter --single` (8 files, SHA-256 per row)", () => Example("BloomFilter", "--single", "--dir", bloomDir), null),
            new("bloom", "`BloomFilter` on the file source (degree 2)", () => Example("BloomFilter", "--dir", bloomDir), null),
            new("bloom-1", "`BloomFilter` on the file source, degree 1 (its gain from bytes alone)", () => Example("BloomFilter", "--degree", "1", "--dir", bloomDir), null),
            new("csvsums-tiny", "`CsvSums` on a 1-row file (fixed start-up cost)", () => Example("CsvSums", "--in", tiny, "--out", output), output),
            new("limit-tiny", "the limit on a 1-row file", () => Self("limit", tiny, output), output),
        ];

        string loadBefore = LoadAverage();
        string? expectedSums = null;
        string? expectedFilter = null;
        var failures = new List<string>();
        for (int run = 0; run < repeats; run++)
        {
            foreach (Variant variant in variants)
            {
                Measurement m = variant.Run();
                variant.Runs.Add(m);
                Console.Error.WriteLine($"run {run + 1}/{repeats} {variant.Name,-12} wall {m.Wall.TotalMilliseconds,6:0} ms, in-process {m.Elapsed.TotalMilliseconds,6:0} ms, peak {m.PeakMb,6:0.0} MB, load {LoadAverage()}");
                if (m.ExitCode != 0)
                {
                    failures.Add($"{variant.Name} exited with {m.ExitCode}: {m.Output}");
                }

                if (variant.OutputFile is not null && variant.Name.EndsWith("-tiny", StringComparison.Ordinal))
                {
                    string sums = File.ReadAllText(variant.OutputFile);
                    if (sums != $"{columns * (columns + 1) / 2}\n")
                    {
                        failures.Add($"{variant.Name} wrote {sums}");
                    }

                    File.Delete(variant.OutputFile);
                }
                else if (variant.OutputFile is not null)
                {
                    string digest = Digest(variant.OutputFile);
                    expectedSums ??= digest;
                    if (digest != expectedSums)
                    {
                        failures.Add($"{variant.Name} wrote different sums");
                    }

                    File.Delete(variant.OutputFile);
                }
                else if (DigestLine().Match(m.Output) is { Success: true } match)
                {
                    expectedFilter ??= match.Groups[1].Value;
                    if (match.Groups[1].Value != expectedFilter)
                    {
                        failures.Add($"{variant.Name} built a different filter");
                    }
                }
            }
        }

        string report = Report(variants, rows, columns, new FileInfo(csv).Length, repeats, loadBefore, LoadAverage());
        Console.WriteLine(report);
        if (markdown is not null)
        {
            WriteMarkdown(markdown, report);
        }

        foreach (string failure in failures)
        {
            Console.Error.WriteLine($"error: {failure}");
        }

        return failures.Count == 0 ? 0 : 1;
    }

    private static string Report(Variant[] variants, int rows, int columns, long bytes, int repeats, string loadBefore, string loadAfter)
    {
        Variant V(string name) => variants.Single(v => v.Name == name);
        double naive = V("naive").Median(m => m.Wall.TotalMilliseconds);
        double plinq = V("plinq").Median(m => m.Wall.TotalMilliseconds);
        double limit = V("limit").Median(m => m.Wall.TotalMilliseconds);
        double csvsums = V("csvsums").Median(m => m.Wall.TotalMilliseconds);
        double csvPeak = V("csvsums").Median(m => m.PeakMb);
        double bloomSingle = V("bloom-single").Median(m => m.Elapsed.TotalMilliseconds);
        double bloom = V("bloom").Median(m => m.Elapsed.TotalMilliseconds);
        var text = new StringBuilder();
        text.AppendLine("### ETL comparison (issue 13)");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Machine: {Machine.Describe()}");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"{rows:N0} rows × {columns} integer columns ({bytes / 1e6:0} MB, page cache warm): sum each row, write the sums in input order. Each variant is a child process; wall = the whole process (start-up included), in-process = its own clock around the work, peak = its VmHWM at the end; median of {repeats} runs, variants taking turns. Load average (1, 5, 15 min) before: {loadBefore}; after: {loadAfter}. Every run's sums were checked against the naive loop's.");
        text.AppendLine();
        text.AppendLine("| variant | wall | in-process | peak working set | ÷ naive | ÷ PLINQ | of the limit |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (Variant v in variants.Take(4))
        {
            double wall = v.Median(m => m.Wall.TotalMilliseconds);
            text.AppendLine(CultureInfo.InvariantCulture, $"| {v.Title} | {wall / 1000:0.00} s | {v.Median(m => m.Elapsed.TotalMilliseconds) / 1000:0.00} s | {v.Median(m => m.PeakMb):0} MB | {naive / wall:0.00}× | {plinq / wall:0.00}× | {limit / wall * 100:0}% |");
        }

        text.AppendLine();
        text.AppendLine("| seed 000 | in-process | peak working set | speed-up |");
        text.AppendLine("|---|---:|---:|---:|");
        foreach (Variant v in variants.Skip(4).Take(3))
        {
            double elapsed = v.Median(m => m.Elapsed.TotalMilliseconds);
            text.AppendLine(CultureInfo.InvariantCulture, $"| {v.Title} | {elapsed / 1000:0.00} s | {v.Median(m => m.PeakMb):0} MB | {bloomSingle / elapsed:0.00}× |");
        }

        double startup = V("csvsums-tiny").Median(m => m.Elapsed.TotalMilliseconds);
        double limitStartup = V("limit-tiny").Median(m => m.Elapsed.TotalMilliseconds);
        double csvIn = V("csvsums").Median(m => m.Elapsed.TotalMilliseconds);
        double limitIn = V("limit").Median(m => m.Elapsed.TotalMilliseconds);
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Fixed cost, the same programs on a 1-row file (in-process): CsvSums {startup:0} ms, the limit {limitStartup:0} ms — the pool's first use in a fresh process (mostly JIT). Without it, CsvSums runs the rows at {(limitIn - limitStartup) / (csvIn - startup) * 100:0}% of the limit's speed ({csvIn - startup:0} ms against {limitIn - limitStartup:0} ms).");
        text.AppendLine();
        text.AppendLine("Targets of issue 13, from the same run:");
        text.AppendLine();
        text.AppendLine("| target | measured | the others | |");
        text.AppendLine("|---|---|---|---|");
        Target(text, "CsvSums ≥ 3.5× the naive loop", naive / csvsums, 3.5, $"{naive / csvsums:0.00}×", $"naive {naive / 1000:0.00} s, CsvSums {csvsums / 1000:0.00} s, limit {naive / limit:0.00}×");
        Target(text, "CsvSums ≥ 3× PLINQ `AsOrdered`", plinq / csvsums, 3, $"{plinq / csvsums:0.00}×", $"PLINQ {plinq / 1000:0.00} s ({naive / plinq:0.00}× naive), limit {plinq / limit:0.00}× PLINQ");
        Target(text, "CsvSums within 85% of the hand-written limit", limit / csvsums, 0.85, $"{limit / csvsums * 100:0}%", $"limit {limit / 1000:0.00} s");
        Target(text, "CsvSums peak working set ≤ 120 MB", 120 / csvPeak, 1, $"{csvPeak:0} MB", $"naive {V("naive").Median(m => m.PeakMb):0} MB, PLINQ {V("plinq").Median(m => m.PeakMb):0} MB, limit {V("limit").Median(m => m.PeakMb):0} MB");
        Target(text, "BloomFilter ≥ 1.8× its single loop", bloomSingle / bloom, 1.8, $"{bloomSingle / bloom:0.00}×", $"single {bloomSingle / 1000:0.00} s, file source {bloom / 1000:0.00} s");
        return text.ToString();
    }

    private static void Target(StringBuilder text, string target, double ratio, double needed, string measured, string others) =>
        text.AppendLine(CultureInfo.InvariantCulture, $"| {target} | {measured} | {others} | {(ratio >= needed ? "met" : "not met")} |");

    // The contenders that are not examples: PLINQ and the hand-written limit, each in a process of its own.
    private static int RunChild(string variant, string input, string output)
    {
        var clock = Stopwatch.StartNew();
        long rows = 0;
        switch (variant)
        {
            case "plinq":
                using (var writer = new StreamWriter(output) { NewLine = "\n" })
                {
                    foreach (long sum in File.ReadLines(input).AsParallel().AsOrdered().Select(SumLine))
                    {
                        writer.WriteLine(sum.ToString(CultureInfo.InvariantCulture));
                        rows++;
                    }
                }

                break;
            case "limit":
                rows = EtlLimit.Run(input, output, threads: Environment.ProcessorCount);
                break;
            default:
                Console.Error.WriteLine($"unknown variant {variant}");
                return 2;
        }

        Console.Error.WriteLine($"rows {rows}, elapsed {clock.ElapsedMilliseconds} ms ({variant})");
        Console.Error.WriteLine($"peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024):0.0} MB");
        return 0;
    }

    // The naive loop's per-row work, on strings, as CsvSums --single does it.
    private static long SumLine(string line)
    {
        long sum = 0;
        ReadOnlySpan<char> text = line;
        foreach (Range field in text.Split(','))
        {
            sum += long.Parse(text[field], NumberStyles.Integer, CultureInfo.InvariantCulture);
        }

        return sum;
    }

    private static Measurement Example(string name, params string[] arguments)
    {
        // The examples are built beside this program: examples/NAME/bin/CONFIG/TFM/NAME.dll from the repository root.
        string baseDir = AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar);
        string tfm = Path.GetFileName(baseDir);
        string configuration = Path.GetFileName(Path.GetDirectoryName(baseDir)!);
        DirectoryInfo? root = new(baseDir);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Parallelize.sln")))
        {
            root = root.Parent;
        }

        string dll = Path.Combine(root?.FullName ?? throw new InvalidOperationException("Parallelize.sln not found above the benchmark."), "examples", name, "bin", configuration, tfm, name + ".dll");
        return Start(DotnetHost(), ["exec", dll, .. arguments]);
    }

    private static Measurement Self(string variant, string input, string output)
    {
        string self = typeof(EtlBenchmark).Assembly.Location;
        return Start(DotnetHost(), ["exec", self, "--etl-child", variant, input, output]);
    }

    private static string DotnetHost() =>
        Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";

    private static Measurement Start(string program, string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var clock = Stopwatch.StartNew();
        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program}.");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        TimeSpan wall = clock.Elapsed;
        string text = stdout.Result + stderr.Result;
        Match elapsed = ElapsedLine().Match(text);
        Match peak = PeakLine().Match(text);
        return new Measurement(
            wall,
            elapsed.Success ? TimeSpan.FromMilliseconds(double.Parse(elapsed.Groups[1].Value, CultureInfo.InvariantCulture)) : wall,
            peak.Success ? double.Parse(peak.Groups[1].Value, CultureInfo.InvariantCulture) : double.NaN,
            process.ExitCode,
            text);
    }

    // Replaces what is between the markers in the file; a file without them is left alone.
    private static void WriteMarkdown(string file, string report)
    {
        string existing = File.ReadAllText(file);
        int begin = existing.IndexOf(BeginMarker, StringComparison.Ordinal);
        int end = existing.IndexOf(EndMarker, StringComparison.Ordinal);
        if (begin < 0 || end < begin)
        {
            Console.Error.WriteLine($"{file} has no {BeginMarker} ... {EndMarker} section; not written");
            return;
        }

        File.WriteAllText(file, string.Concat(existing.AsSpan(0, begin + BeginMarker.Length), "\n", report, existing.AsSpan(end)));
    }

    private static void Check(Measurement m)
    {
        if (m.ExitCode != 0)
        {
            throw new InvalidOperationException($"generation failed: {m.Output}");
        }
    }

    private static string Digest(string path)
    {
        using FileStream stream = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(stream));
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(", ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private static int? Positive(string[] args, int index) =>
        index < args.Length && int.TryParse(args[index], NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value > 0 ? value : null;

    [GeneratedRegex(@"elapsed (\d+) ms")]
    private static partial Regex ElapsedLine();

    [GeneratedRegex(@"peak working set ([0-9.]+) MB")]
    private static partial Regex PeakLine();

    [GeneratedRegex(@"digest ([0-9a-f]{64})")]
    private static partial Regex DigestLine();

    private sealed record Measurement(TimeSpan Wall, TimeSpan Elapsed, double PeakMb, int ExitCode, string Output);

    private sealed record Variant(string Name, string Title, Func<Measurement> Run, string? OutputFile)
    {
        public List<Measurement> Runs { get; } = [];

        public double Median(Func<Measurement, double> value)
        {
            double[] values = [.. Runs.Select(value).Order()];
            return values.Length % 2 == 1 ? values[values.Length / 2] : (values[(values.Length / 2) - 1] + values[values.Length / 2]) / 2;
        }
    }
}
