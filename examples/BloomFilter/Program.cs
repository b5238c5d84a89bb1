// Two parallel stages and a sequential reduction: several CSV files are read and split into rows in parallel, every
// row is parsed and hashed in parallel (SHA-256 of the normalized row, --rounds times over), and a bloom filter is
// built from the hashes one at a time on the calling thread. --single does the same in one loop, for comparison; both print the same digest
// of the filter's bits, whatever order the rows were hashed in.
//
//   dotnet run --project examples/BloomFilter -c Release -- generate [--files N] [--rows N] [--seed N] --dir DIR
//   dotnet run --project examples/BloomFilter -c Release -- [--dir DIR] [--degree N] [--bits N] [--hashes N] [--rounds N] [--batch N] [--single] [--files N] [--rows N] [--seed N]
//
// Without --dir, a temporary data set of --files files of --rows rows is generated first (and deleted after).
using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using Parallelize.Pipelines;
using Parallelize;

const string Usage =
    "usage: BloomFilter generate [--files N] [--rows N] [--seed N] --dir DIR\n"
    + "       BloomFilter [--dir DIR] [--degree N>0] [--bits N>0] [--hashes N>0] [--rounds N>0] [--batch N>0] [--single] [--files N] [--rows N] [--seed N]";
const int KnownRows = 1000;

bool generateMode = args.Length > 0 && args[0] == "generate";
List<string> rest = [.. generateMode ? args[1..] : args];
string? dir = ExampleOptions.TakeValue(rest, "--dir");
bool single = !generateMode && rest.Remove("--single");
Dictionary<string, int>? options = generateMode
    ? ExampleOptions.Parse([.. rest], new() { ["--files"] = 4, ["--rows"] = 50_000, ["--seed"] = 1 })
    : ExampleOptions.Parse([.. rest], new()
    {
        ["--degree"] = 2,
        ["--batch"] = 1024,
        ["--bits"] = 1 << 24,
        ["--hashes"] = 7,
        ["--rounds"] = 1,
        ["--files"] = 4,
        ["--rows"] = 50_000,
        ["--seed"] = 1,
    });
if (options is null
    || (generateMode && dir is null)
    || (!generateMode && (options["--degree"] < 1 || options["--bits"] < 1 || options["--hashes"] < 1 || options["--rounds"] < 1 || options["--batch"] < 1)))
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
int batch = options["--batch"];
try
{
    string[] files = [.. Directory.GetFiles(dir, "*.csv").Order(StringComparer.Ordinal)];
    var clock = Stopwatch.StartNew();
    BloomFilter filter;
    if (single)
    {
        filter = new BloomFilter(options["--bits"], options["--hashes"]);
        foreach (string file in files)
        {
            foreach (string row in File.ReadLines(file))
            {
                filter.Add(Hash(Parse(row), rounds));
            }
        }
    }
    else
    {
        // Rows travel in batches (--batch, default 1,024): hashing one row is cheaper than handing it between threads.
        PipelineResult<BloomFilter> result = Pipeline.From(files)
            .ThenMany(file => File.ReadLines(file).Chunk(batch), degree)
            .Then(rows => Array.ConvertAll(rows, row => Hash(Parse(row), rounds)), degree)
            .Reduce(new BloomFilter(options["--bits"], options["--hashes"]), (f, hashes) =>
            {
                foreach (RowHash hash in hashes)
                {
                    f.Add(hash);
                }

                return f;
            });
        filter = result.Value;
        if (!ExampleOptions.Succeeded(result.Stages))
        {
            return 1;
        }
    }

    clock.Stop();
    long setBits = filter.PopCount();
    double fill = (double)setBits / filter.Bits;

    // No false negatives: every row that went in must be reported as possibly present.
    int known = 0, found = 0;
    foreach (string row in files.Take(1).SelectMany(File.ReadLines).Take(KnownRows))
    {
        known++;
        found += filter.MightContain(Hash(Parse(row), rounds)) ? 1 : 0;
    }

    string mode = single ? "single thread" : $"pipeline, degree {degree}, batch {batch}";
    Console.WriteLine($"files {files.Length}, rows {filter.Count}, bits {filter.Bits}, hashes {filter.Hashes}, rounds {rounds}");
    Console.WriteLine($"set bits {setBits} ({fill:P2}), estimated false-positive rate {Math.Pow(fill, filter.Hashes):G3}");
    Console.WriteLine($"known rows found {found}/{known}");
    Console.WriteLine($"elapsed {clock.ElapsedMilliseconds} ms, {filter.Count / Math.Max(clock.Elapsed.TotalSeconds, 1e-9):F0} rows/s ({mode})");
    Console.WriteLine($"digest {filter.Digest()}");
    return found == known ? 0 : 1;
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
    Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
    Span<byte> previous = stackalloc byte[SHA256.HashSizeInBytes];
    SHA256.HashData(Encoding.UTF8.GetBytes(normalized), digest);
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
