// Seed 001, the embarrassingly parallel problem in its canonical form: read a CSV of integers, sum each row, and
// write the sums in input order. The file is split into line-aligned byte ranges (4 MB by default) that the pool's
// executors read themselves: each parses its range's rows from UTF-8 bytes and formats their sums into a buffer of its
// own, and the calling thread writes the buffers in file order. --single runs the plain loop (File.ReadLines, parse,
// write) for comparison; --compare runs both, checks that they wrote the same sums, and prints the speed-up.
//
//   dotnet run --project examples/CsvSums -c Release -- generate [--rows N] [--columns N] [--seed N] --out FILE
//   dotnet run --project examples/CsvSums -c Release -- [--in FILE] [--out FILE] [--degree N] [--range BYTES] [--single | --compare] [--rows N] [--columns N] [--seed N]
//
// Without --in, a temporary input of --rows rows is generated first (and deleted after); without --out, the sums go
// to a temporary file whose path is printed. A row that is not all integers fails alone: it is reported with its
// line and byte offset, its sum is left out, and the exit code is 1. Figures go to stderr. (--batch N is accepted and
// ignored: rows are no longer batched by hand.)
using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Parallelize.Files;

const string Usage =
    "usage: CsvSums generate [--rows N] [--columns N>0] [--seed N] --out FILE\n"
    + "       CsvSums [--in FILE] [--out FILE] [--degree N>0] [--range BYTES>0] [--single | --compare] [--rows N] [--columns N>0] [--seed N]";

bool generateMode = args.Length > 0 && args[0] == "generate";
List<string> rest = [.. generateMode ? args[1..] : args];
string? inPath = generateMode ? null : ExampleOptions.TakeValue(rest, "--in");
string? outPath = ExampleOptions.TakeValue(rest, "--out");
bool single = !generateMode && rest.Remove("--single");
bool compare = !generateMode && rest.Remove("--compare");
Dictionary<string, int>? options = generateMode
    ? ExampleOptions.Parse([.. rest], new() { ["--rows"] = 1_000_000, ["--columns"] = 10, ["--seed"] = 1 })
    : ExampleOptions.Parse([.. rest], new()
    {
        ["--degree"] = Environment.ProcessorCount,
        ["--range"] = FileSourceOptions.DefaultRangeSize,
        ["--batch"] = 0,
        ["--rows"] = 200_000,
        ["--columns"] = 10,
        ["--seed"] = 1,
    });
if (options is null
    || options["--columns"] < 1
    || (generateMode && outPath is null)
    || (!generateMode && (options["--degree"] < 1 || options["--range"] < 1 || (single && compare))))
{
    Console.Error.WriteLine(Usage);
    return 2;
}

if (generateMode)
{
    var generating = Stopwatch.StartNew();
    Generate(outPath!, options["--rows"], options["--columns"], options["--seed"]);
    Console.Error.WriteLine($"wrote {options["--rows"]} rows x {options["--columns"]} columns to {outPath} in {generating.ElapsedMilliseconds} ms");
    return 0;
}

string? temporaryInput = null;
if (inPath is null)
{
    temporaryInput = inPath = Path.Combine(Path.GetTempPath(), $"csvsums-{Guid.NewGuid():N}.csv");
    Generate(inPath, options["--rows"], options["--columns"], options["--seed"]);
    Console.Error.WriteLine($"generated {options["--rows"]} rows x {options["--columns"]} columns (seed {options["--seed"]}) in {inPath}");
}

outPath ??= Path.Combine(Path.GetTempPath(), $"csvsums-{Guid.NewGuid():N}.sums.txt");
var sourceOptions = new FileSourceOptions { DegreeOfParallelism = options["--degree"], RangeSize = options["--range"], Ordered = true };
try
{
    if (!compare)
    {
        (bool ok, TimeSpan elapsed, long rows) = single ? RunSingle(inPath, outPath) : RunRanges(inPath, outPath, sourceOptions);
        string mode = single ? "single thread" : $"file source, degree {sourceOptions.DegreeOfParallelism}, ranges of {sourceOptions.RangeSize} bytes";
        Report(rows, elapsed, mode);
        Console.Error.WriteLine($"sums written to {outPath}");
        return ok ? 0 : 1;
    }

    string singleOut = outPath + ".single";
    (bool singleOk, TimeSpan singleTime, long singleRows) = RunSingle(inPath, singleOut);
    Report(singleRows, singleTime, "single thread");
    (bool ok2, TimeSpan time, long rows2) = RunRanges(inPath, outPath, sourceOptions);
    Report(rows2, time, $"file source, degree {sourceOptions.DegreeOfParallelism}");
    bool same = Digest(singleOut) == Digest(outPath);
    File.Delete(singleOut);
    Console.Error.WriteLine($"speed-up over --single: {singleTime / time:0.00}x; sums {(same ? "identical" : "DIFFERENT")}");
    Console.Error.WriteLine($"sums written to {outPath}");
    return singleOk && ok2 && same ? 0 : 1;
}
catch (Exception ex) when (ex is FormatException or OverflowException or IOException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"error: {ex.Message}");
    return 1;
}
finally
{
    if (temporaryInput is not null)
    {
        File.Delete(temporaryInput);
    }

    Console.Error.WriteLine($"peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024):0.0} MB");
}

static void Report(long rows, TimeSpan elapsed, string mode) =>
    Console.Error.WriteLine($"rows {rows}, elapsed {elapsed.TotalMilliseconds:0} ms, {rows / Math.Max(elapsed.TotalSeconds, 1e-9):F0} rows/s ({mode})");

// The plain loop: a string per line, parsed, summed, written.
static (bool Ok, TimeSpan Elapsed, long Rows) RunSingle(string input, string output)
{
    var clock = Stopwatch.StartNew();
    long rows = 0;
    using (var writer = new StreamWriter(output) { NewLine = "\n" })
    {
        foreach (string line in File.ReadLines(input))
        {
            writer.WriteLine(ParseAndSum(line).ToString(CultureInfo.InvariantCulture));
            rows++;
        }
    }

    return (true, clock.Elapsed, rows);
}

// The file source: each range's rows parsed from bytes and formatted into the range's buffer on an executor; the
// buffers written in file order on this thread. Buffers are reused (at most MaxRangesInFlight exist).
static (bool Ok, TimeSpan Elapsed, long Rows) RunRanges(string input, string output, FileSourceOptions options)
{
    var clock = Stopwatch.StartNew();
    FileRunResult result;
    using (var stream = new FileStream(output, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0))
    {
        result = new FileSource(input, options).Run(
            () => new ArrayBufferWriter<byte>(256 * 1024),
            SumRow,
            range => stream.Write(range.Output.WrittenSpan),
            static sums => sums.ResetWrittenCount());
    }

    TimeSpan elapsed = clock.Elapsed;
    foreach (RowFailure failure in result.RowFailures.Take(10))
    {
        Console.Error.WriteLine($"error: {failure}: \"{failure.Text}\"");
    }

    if (result.RowFailures.Count > 10)
    {
        Console.Error.WriteLine($"error: ... {result.RowFailures.Count - 10} more rows failed");
    }

    foreach (RangeFailure failure in result.RangeFailures)
    {
        Console.Error.WriteLine($"error: {failure.Range.Path} bytes {failure.Range.Offset}-{failure.Range.Offset + failure.Range.Length}: {failure.Exception.Message}");
    }

    return (result.Succeeded, elapsed, result.Rows);
}

// The row action: parse, sum, format. PERF: optimized from its first call (no tiering's delay on a short run).
[MethodImpl(MethodImplOptions.AggressiveOptimization)]
static void SumRow(FileRow row, ArrayBufferWriter<byte> sums) => Utf8Sums.Append(sums, Utf8Sums.Sum(row.Bytes));

static string Digest(string path)
{
    using FileStream stream = File.OpenRead(path);
    return Convert.ToHexString(SHA256.HashData(stream));
}

// Sums one CSV row; an empty line sums to 0. Throws FormatException on a field that is not an integer.
static long ParseAndSum(string line)
{
    long sum = 0;
    ReadOnlySpan<char> text = line;
    if (text.IsEmpty)
    {
        return 0;
    }

    foreach (Range field in text.Split(','))
    {
        if (!long.TryParse(text[field], NumberStyles.Integer, CultureInfo.InvariantCulture, out long value))
        {
            throw new FormatException($"not an integer row: \"{line}\"");
        }

        sum += value;
    }

    return sum;
}

// Writes rows of random non-negative integers below 1,000,000; the same seed gives the same file.
static void Generate(string path, int rows, int columns, int seed)
{
    var random = new Random(seed);
    using var writer = new StreamWriter(path);
    Span<char> number = stackalloc char[16];
    for (int row = 0; row < rows; row++)
    {
        for (int column = 0; column < columns; column++)
        {
            if (column > 0)
            {
                writer.Write(',');
            }

            random.Next(1_000_000).TryFormat(number, out int written, provider: CultureInfo.InvariantCulture);
            writer.Write(number[..written]);
        }

        writer.WriteLine();
    }
}
