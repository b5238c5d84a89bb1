// The embarrassingly parallel problem in its canonical form: read a CSV of integers, sum each row in parallel, and
// write the sums in input order. The reader, the summing executors and the writer all run at once; the writer is the
// pipeline's final stage, on the calling thread. --single runs the plain loop that does the same, for comparison.
//
//   dotnet run --project examples/CsvSums -c Release -- generate [--rows N] [--columns N] [--seed N] --out FILE
//   dotnet run --project examples/CsvSums -c Release -- [--in FILE] [--out FILE] [--degree N] [--batch N] [--single] [--rows N] [--columns N] [--seed N]
//
// Without --in, a temporary input of --rows rows is generated first (and deleted after); without --out, the sums go
// to a temporary file whose path is printed. Figures go to stderr.
using System.Diagnostics;
using System.Globalization;
using Parallelize.Pipelines;
using Parallelize;

const string Usage =
    "usage: CsvSums generate [--rows N] [--columns N>0] [--seed N] --out FILE\n"
    + "       CsvSums [--in FILE] [--out FILE] [--degree N>0] [--batch N>0] [--single] [--rows N] [--columns N>0] [--seed N]";

bool generateMode = args.Length > 0 && args[0] == "generate";
List<string> rest = [.. generateMode ? args[1..] : args];
string? inPath = generateMode ? null : ExampleOptions.TakeValue(rest, "--in");
string? outPath = ExampleOptions.TakeValue(rest, "--out");
bool single = !generateMode && rest.Remove("--single");
Dictionary<string, int>? options = generateMode
    ? ExampleOptions.Parse([.. rest], new() { ["--rows"] = 1_000_000, ["--columns"] = 10, ["--seed"] = 1 })
    : ExampleOptions.Parse([.. rest], new() { ["--degree"] = 2, ["--batch"] = 1024, ["--rows"] = 200_000, ["--columns"] = 10, ["--seed"] = 1 });
if (options is null
    || options["--columns"] < 1
    || (generateMode && outPath is null)
    || (!generateMode && (options["--degree"] < 1 || options["--batch"] < 1)))
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
int degree = options["--degree"];
int batch = options["--batch"];
try
{
    var clock = Stopwatch.StartNew();
    long rows;
    using (var writer = new StreamWriter(outPath))
    {
        if (single)
        {
            rows = 0;
            foreach (string line in File.ReadLines(inPath))
            {
                writer.WriteLine(ParseAndSum(line).ToString(CultureInfo.InvariantCulture));
                rows++;
            }
        }
        else
        {
            // Rows travel in batches (--batch, default 1,024): summing one row is cheaper than handing it between
            // threads, so a batch per call is what lets two cores beat one. --batch 1 sends row by row.
            long written = 0;
            PipelineResult<long> result = Pipeline.From(File.ReadLines(inPath).Chunk(batch))
                .Then(lines => Array.ConvertAll(lines, ParseAndSum), degree, ordered: true)
                .ForEach(sums =>
                {
                    foreach (long sum in sums)
                    {
                        writer.WriteLine(sum.ToString(CultureInfo.InvariantCulture));
                    }

                    written += sums.Length;
                });
            rows = written;
            if (!ExampleOptions.Succeeded(result.Stages))
            {
                return 1;
            }
        }
    }

    clock.Stop();
    string mode = single ? "single thread" : $"pipeline, degree {degree}, batch {batch}";
    Console.Error.WriteLine($"rows {rows}, elapsed {clock.ElapsedMilliseconds} ms, {rows / Math.Max(clock.Elapsed.TotalSeconds, 1e-9):F0} rows/s ({mode})");
    Console.Error.WriteLine($"sums written to {outPath}");
    return 0;
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
            // Name the row: in a batch, the failed input is the whole batch.
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

