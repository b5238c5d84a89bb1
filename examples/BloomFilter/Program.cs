// Seed 000: several CSV files, every row parsed and hashed in parallel (SHA-256 of the normalized row, --rounds times
// over), and a bloom filter built from the hashes one range at a time on the calling thread. The files are split into
// line-aligned byte ranges that the pool's executors read themselves, so the reading is parallel too, and a range's
// hashes travel together. --single does the same in one loop (File.ReadLines); --compare runs both and prints the
// speed-up. Both print the same digest of the filter's bits, whatever order the rows were hashed in.
//
//   dotnet run --project examples/BloomFilter -c Release -- generate [--files N] [--rows N] [--seed N] --dir DIR
//   dotnet run --project examples/BloomFilter -c Release -- [--dir DIR] [--degree N] [--bits N] [--hashes N] [--rounds N] [--range BYTES] [--single | --compare] [--files N] [--rows N] [--seed N]
//
// Without --dir, a temporary data set of --files files of --rows rows is generated first (and deleted after). A
// malformed row fails alone and is reported with its file, line and byte offset. (--batch N is accepted and ignored.)
using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Parallelize.Files;

const string Usage =
    "usage: BloomFilter generate [--files N] [--rows N] [--seed N] --dir DIR\n"
    + "       BloomFilter [--dir DIR] [--degree N>0] [--bits N>0] [--hashes N>0] [--rounds N>0] [--range BYTES>0] [--single | --compare] [--files N] [--rows N] [--seed N]";
const int KnownRows = 1000;

bool generateMode = args.Length > 0 && args[0] == "generate";
List<string> rest = [.. generateMode ? args[1..] : args];
string? dir = ExampleOptions.TakeValue(rest, "--dir");
bool single = !generateMode && rest.Remove("--single");
bool compare = !generateMode && rest.Remove("--compare");
Dictionary<string, int>? options = generateMode
    ? ExampleOptions.Parse([.. rest], new() { ["--files"] = 4, ["--rows"] = 50_000, ["--seed"] = 1 })
    : ExampleOptions.Parse([.. rest], new()
    {
        ["--degree"] = Environment.ProcessorCount,
        ["--batch"] = 0,
        ["--range"] = FileSourceOptions.DefaultRangeSize,
        ["--bits"] = 1 << 24,
        ["--hashes"] = 7,
        ["--rounds"] = 1,
        ["--files"] = 4,
        ["--rows"] = 50_000,
        ["--seed"] = 1,
    });
if (options is null
    || (generateMode && dir is null)
    || (!generateMode && (options["--degree"] < 1 || options["--bits"] < 1 || options["--hashes"] < 1 || options["--rounds"] < 1 || options["--range"] < 1 || (single && compare))))
{
    Console.Error.WriteLine(Usage);
    return 2;
}

if (generateMode)
{
    var generating = Stopwatch.StartNew();
    Generate(dir!, options["--files"], options["--rows"], options["--seed"]);
    Console.WriteLine($"wrote {options["--files"]} files x {options["--rows"]} rows to {dir} in {generating.ElapsedMilliseconds} ms");
    return 0;
}

string? temporaryDir = null;
if (dir is null)
{
    temporaryDir = dir = Path.Combine(Path.GetTempPath(), $"bloomfilter-{Guid.NewGuid():N}");
    Generate(dir, options["--files"], options["--rows"], options["--seed"]);
    Console.WriteLine($"generated {options["--files"]} files x {options["--rows"]} rows (seed {options["--seed"]}) in {dir}");
}

int degree = options["--degree"];
int rounds = options["--rounds"];
int bits = options["--bits"];
int hashCount = options["--hashes"];
var sourceOptions = new FileSourceOptions { DegreeOfParallelism = degree, RangeSize = options["--range"] };
try
{
    string[] files = [.. Directory.GetFiles(dir, "*.csv").Order(StringComparer.Ordinal)];
    if (!compare)
    {
        var clock = Stopwatch.StartNew();
        (BloomFilter? built, TimeSpan elapsed) = single ? (RunSingle(files, bits, hashCount, rounds), clock.Elapsed) : RunRanges(files, bits, hashCount, rounds, sourceOptions);
        return built is null ? 1 : Report(built, files, rounds, elapsed, single ? "single thread" : $"file source, degree {degree}");
    }

    var singleClock = Stopwatch.StartNew();
    BloomFilter expected = RunSingle(files, bits, hashCount, rounds);
    TimeSpan singleTime = singleClock.Elapsed;
    int singleExit = Report(expected, files, rounds, singleTime, "single thread");
    (BloomFilter? parallel, TimeSpan time) = RunRanges(files, bits, hashCount, rounds, sourceOptions);
    if (parallel is null)
    {
        return 1;
    }

    int exit = Report(parallel, files, rounds, time, $"file source, degree {degree}");
    bool same = parallel.Digest() == expected.Digest();
    Console.WriteLine($"speed-up over --single: {singleTime / time:0.00}x; filters {(same ? "identical" : "DIFFERENT")}");
    return singleExit == 0 && exit == 0 && same ? 0 : 1;
}
catch (Exception ex) when (ex is FormatException or OverflowException or IOException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"error: {ex.Message}");
    return 1;
}
finally
{
    if (temporaryDir is not null)
    {
        Directory.Delete(temporaryDir, recursive: true);
    }
}

static BloomFilter RunSingle(string[] files, int bits, int hashes, int rounds)
{
    var filter = new BloomFilter(bits, hashes);
    foreach (string file in files)
    {
        foreach (string row in File.ReadLines(file))
        {
            filter.Add(Hash(Parse(row), rounds));
        }
    }

    return filter;
}

// Rows parsed and hashed on the executors, each range's hashes in a list of its own (reused); the filter built on
// this thread. Order does not matter to a bloom filter, so ranges are consumed as they finish.
static (BloomFilter? Filter, TimeSpan Elapsed) RunRanges(string[] files, int bits, int hashes, int rounds, FileSourceOptions options)
{
    var clock = Stopwatch.StartNew();
    var filter = new BloomFilter(bits, hashes);
    FileRunResult result = new FileSource(files, options).Run(
        () => new List<int>(),
        (row, positions) =>
        {
            // Rows in the plain form are normalized straight from their bytes; any other row goes through a string.
            Span<byte> normalized = stackalloc byte[512];
            RowHash hash = Utf8Rows.TryNormalize(row.Bytes, normalized, out int length)
                ? HashNormalized(normalized[..length], rounds)
                : Hash(Parse(row.ToString()), rounds);

            // The bit positions too are computed here, in parallel: the reduction only sets bits.
            Span<int> rowPositions = stackalloc int[filter.Hashes];
            filter.Positions(hash, rowPositions);
            positions.AddRange(rowPositions);
        },
        range => filter.AddPositions(CollectionsMarshal.AsSpan(range.Output)),
        positions => positions.Clear());
    TimeSpan elapsed = clock.Elapsed;
    foreach (RowFailure failure in result.RowFailures.Take(10))
    {
        Console.Error.WriteLine($"error: {failure}");
    }

    foreach (RangeFailure failure in result.RangeFailures)
    {
        Console.Error.WriteLine($"error: {failure.Range.Path}: {failure.Exception.Message}");
    }

    return (result.Succeeded ? filter : null, elapsed);
}

// Prints the filter's figures and checks that known rows are found (no false negatives).
static int Report(BloomFilter filter, string[] files, int rounds, TimeSpan elapsed, string mode)
{
    long setBits = filter.PopCount();
    double fill = (double)setBits / filter.Bits;
    int known = 0, found = 0;
    foreach (string row in files.Take(1).SelectMany(File.ReadLines).Take(KnownRows))
    {
        known++;
        found += filter.MightContain(Hash(Parse(row), rounds)) ? 1 : 0;
    }

    Console.WriteLine($"files {files.Length}, rows {filter.Count}, bits {filter.Bits}, hashes {filter.Hashes}, rounds {rounds}");
    Console.WriteLine($"set bits {setBits} ({fill:P2}), estimated false-positive rate {Math.Pow(fill, filter.Hashes):G3}");
    Console.WriteLine($"known rows found {found}/{known}");
    Console.WriteLine($"elapsed {elapsed.TotalMilliseconds:0} ms, {filter.Count / Math.Max(elapsed.TotalSeconds, 1e-9):F0} rows/s ({mode})");

    Console.WriteLine($"digest {filter.Digest()}");
    Console.WriteLine($"peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024):0.0} MB");
    return found == known ? 0 : 1;
}

// id,name,city,amount,quantity; throws FormatException on a malformed row.
static Row Parse(string line)
{
    string[] fields = line.Split(',');
    if (fields.Length != 5)
    {
        throw new FormatException($"Expected 5 fields, got {fields.Length}: \"{line}\".");
    }

    return new Row(
        long.Parse(fields[0], NumberStyles.Integer, CultureInfo.InvariantCulture),
        fields[1].Trim(),
        fields[2].Trim(),
        decimal.Parse(fields[3], NumberStyles.Number, CultureInfo.InvariantCulture),
        int.Parse(fields[4], NumberStyles.Integer, CultureInfo.InvariantCulture));
}

// SHA-256 of the normalized row, then of the digest, `rounds` times in all (a stand-in for heavier per-row work);
// the first 16 bytes are the two hashes the filter derives its k positions from.
static RowHash Hash(Row row, int rounds)
{
    string normalized = string.Create(
        CultureInfo.InvariantCulture,
        $"{row.Id}|{row.Name.ToUpperInvariant()}|{row.City.ToUpperInvariant()}|{row.Amount:0.00}|{row.Quantity}");
    return HashNormalized(Encoding.UTF8.GetBytes(normalized), rounds);
}

// The hashing of a normalized row (UTF-8).
static RowHash HashNormalized(ReadOnlySpan<byte> normalized, int rounds)
{
    Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
    Span<byte> previous = stackalloc byte[SHA256.HashSizeInBytes];
    SHA256.HashData(normalized, digest);
    for (int round = 1; round < rounds; round++)
    {
        digest.CopyTo(previous);
        SHA256.HashData(previous, digest);
    }

    return new RowHash(BinaryPrimitives.ReadUInt64LittleEndian(digest), BinaryPrimitives.ReadUInt64LittleEndian(digest[8..]));
}

// Writes `files` CSV files of `rows` rows each; the same seed gives the same files. Ids are unique across files.
static void Generate(string dir, int files, int rows, int seed)
{
    string[] cities = ["Lisbon", "Oslo", "Nairobi", "Lima", "Osaka", "Quebec", "Tbilisi", "Perth", "Accra", "Riga"];
    var random = new Random(seed);
    Directory.CreateDirectory(dir);
    var name = new StringBuilder();
    for (int file = 0; file < files; file++)
    {
        using var writer = new StreamWriter(Path.Combine(dir, $"part-{file:D4}.csv"));
        for (int row = 0; row < rows; row++)
        {
            name.Clear();
            int length = random.Next(5, 13);
            for (int i = 0; i < length; i++)
            {
                name.Append((char)((i == 0 ? 'A' : 'a') + random.Next(26)));
            }

            writer.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"{((long)file * rows) + row},{name},{cities[random.Next(cities.Length)]},{random.Next(100_000_000) / 100m:0.00},{random.Next(1, 100)}"));
        }
    }
}

/// <summary>One parsed row.</summary>
internal readonly record struct Row(long Id, string Name, string City, decimal Amount, int Quantity);

/// <summary>Two independent 64-bit hashes of a row.</summary>
internal readonly record struct RowHash(ulong H1, ulong H2);

/// <summary>A bloom filter: k bit positions per item, derived from two hashes by double hashing (h1 + i·h2 mod m).</summary>
internal sealed class BloomFilter
{
    private readonly byte[] _bits;

    public BloomFilter(int bits, int hashes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bits, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(hashes, 1);
        Bits = bits;
        Hashes = hashes;
        _bits = new byte[(bits + 7) / 8];
    }

    public int Bits { get; }

    public int Hashes { get; }

    /// <summary>Gets how many items were added.</summary>
    public long Count { get; private set; }

    /// <summary>Writes the item's k bit positions; reads only the filter's size, so any thread may call it.</summary>
    public void Positions(RowHash hash, Span<int> positions)
    {
        for (int i = 0; i < Hashes; i++)
        {
            positions[i] = Position(hash, i);
        }
    }

    /// <summary>Adds items given by their positions (<see cref="Hashes"/> per item), as <see cref="Positions"/> wrote them.</summary>
    public void AddPositions(ReadOnlySpan<int> positions)
    {
        foreach (int position in positions)
        {
            _bits[position >> 3] |= (byte)(1 << (position & 7));
        }

        Count += positions.Length / Hashes;
    }

    public BloomFilter Add(RowHash hash)
    {
        for (int i = 0; i < Hashes; i++)
        {
            int position = Position(hash, i);
            _bits[position >> 3] |= (byte)(1 << (position & 7));
        }

        Count++;
        return this;
    }

    public bool MightContain(RowHash hash)
    {
        for (int i = 0; i < Hashes; i++)
        {
            int position = Position(hash, i);
            if ((_bits[position >> 3] & (1 << (position & 7))) == 0)
            {
                return false;
            }
        }

        return true;
    }

    public long PopCount()
    {
        long count = 0;
        foreach (byte b in _bits)
        {
            count += BitOperations.PopCount(b);
        }

        return count;
    }

    /// <summary>Gets the SHA-256 of the bit array, in lower-case hex.</summary>
    public string Digest() => Convert.ToHexStringLower(SHA256.HashData(_bits));

    private int Position(RowHash hash, int i) => (int)((hash.H1 + ((ulong)i * (hash.H2 | 1))) % (ulong)Bits);
}
