// Seed 004: one large read-only structure, many executors reading it in parallel, their results merged.
//
// In .NET every executor runs in the same process, so all of them read the one array (through the same
// ReadOnlyMemory<int>): nothing is copied or sent to a worker process, and since no one writes to it no lock is
// needed. Each call summarizes one chunk into a summary of its own; the summaries are merged afterwards, on one
// thread. The "allocated" column shows the point: a run allocates kilobytes while the data is megabytes.
//
// How many executors? The program measures it. It runs the same work as a plain loop (the baseline), then through
// pools of 1, 2, ... --max-executors executors (default: twice the logical processors, at most 16), keeps the median
// of --repeat runs each, checks that every merged result equals the loop's, and suggests the fewest executors within 10%
// of the fastest. For CPU-bound work like this the speedup grows up to the number of cores the machine can give you
// (other processes take some) and then flattens: more executors than cores only take turns. With little work per
// element (--rounds 1) the work is closer to memory-bound; on a machine with many cores its speedup then levels off
// before the core count, since the cores share the memory bandwidth.
// Work that blocks (I/O, external processes) is different: there, executors beyond the core count do pay off.
//
//   dotnet run --project examples/SharedData -c Release -- [--size N] [--chunks N] [--rounds N] [--max-executors N] [--repeat N] [--seed N]
using System.Diagnostics;
using Parallelize;

var options = ExampleOptions.Parse(args, new()
{
    ["--size"] = 8_000_000,
    ["--chunks"] = 64,
    ["--rounds"] = 8,
    ["--max-executors"] = Math.Min(2 * Environment.ProcessorCount, 16),
    ["--repeat"] = 5,
    ["--seed"] = 1,
});
if (options is null || options["--size"] < 1 || options["--chunks"] < 1 || options["--rounds"] < 1 || options["--max-executors"] < 1 || options["--repeat"] < 1)
{
    Console.Error.WriteLine("usage: SharedData [--size N>0] [--chunks N>0] [--rounds N>0] [--max-executors N>0] [--repeat N>0] [--seed N]");
    return 2;
}

int size = options["--size"];
int rounds = options["--rounds"];
int repeat = options["--repeat"];
int maxExecutors = options["--max-executors"];

// The shared structure: built once, then only ever read.
int[] array = new int[size];
new Random(options["--seed"]).NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(array.AsSpan()));
ReadOnlyMemory<int> data = array;

int chunkCount = Math.Min(options["--chunks"], size);
Chunk[] chunks = [.. Enumerable.Range(0, chunkCount).Select(i => new Chunk(
    (int)((long)size * i / chunkCount),
    (int)((long)size * (i + 1) / chunkCount) - (int)((long)size * i / chunkCount)))];

Console.WriteLine($"data: {size:N0} ints ({size * sizeof(int) / (1024.0 * 1024):0.0} MB), one array read by every executor: no copies, no locks");
Console.WriteLine($"work: {rounds} mixing rounds per element, {chunkCount} chunks; median of {repeat} runs; {Environment.ProcessorCount} logical processors");

// Warm up (JIT) both paths on a small part, so the first measurement is not penalized.
Summarize(data.Span[..Math.Min(size, 10_000)], rounds);
RunPool(data, chunks[..1], rounds, executors: 1);

Summary expected = Summary.Empty();
double baselineMs = Median(repeat, () => expected = Summarize(data.Span, rounds));
Console.WriteLine($"single thread (a plain loop, no pool): {baselineMs:0} ms, checksum {expected.Checksum}");
Console.WriteLine("executors      ms  speedup  efficiency  allocated  checksum");

var times = new List<(int Executors, double Ms)>();
bool allSame = true;
for (int executors = 1; executors <= maxExecutors; executors++)
{
    Summary merged = Summary.Empty();
    long allocated = 0;
    double ms = Median(repeat, () =>
    {
        long before = GC.GetTotalAllocatedBytes(precise: true);
        merged = RunPool(data, chunks, rounds, executors);
        allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
    });
    bool same = merged.SameAs(expected);
    allSame &= same;
    times.Add((executors, ms));
    double speedup = baselineMs / ms;
    Console.WriteLine($"{executors,9} {ms,7:0} {speedup,7:0.00}x {speedup / executors * 100,9:0}% {allocated / 1024.0,7:0} KB  {merged.Checksum} {(same ? "same" : "DIFFERENT")}");
}

double fastest = times.Min(t => t.Ms);
(int suggested, double suggestedMs) = times.First(t => t.Ms <= fastest * 1.1);
Console.WriteLine($"choose {suggested} executor{(suggested == 1 ? "" : "s")}: the fewest within 10% of the fastest ({suggestedMs:0} ms against {fastest:0} ms)");
if (!allSame)
{
    Console.Error.WriteLine("error: a parallel result differs from the single-threaded one");
    return 1;
}

return 0;

// One pool run: every chunk is one call; each executor reads its chunk of the shared data and returns its own
// summary, so nothing is written concurrently. The merge runs after Wait, on this thread.
static Summary RunPool(ReadOnlyMemory<int> data, Chunk[] chunks, int rounds, int executors)
{
    using var pool = new Parallelize<Chunk, Summary>(chunk => Summarize(data.Span.Slice(chunk.Start, chunk.Length), rounds), count: executors);
    foreach (Chunk chunk in chunks)
    {
        pool.Invoke(chunk);
    }

    pool.Wait();
    if (pool.Failures.Count > 0)
    {
        throw new InvalidOperationException("a chunk failed", pool.Failures[0].Exceptions[^1]);
    }

    Summary merged = Summary.Empty();
    foreach (Summary part in pool.Results)
    {
        merged.Add(part);
    }

    return merged;
}

// The work per element: a few rounds of a 64-bit mix (CPU-bound), then counted into a summary whose merge does not
// depend on order (wrapping sum, histogram of the top 4 bits).
// PERF: optimized from the first call. Called only a few times, a tiered method would run the plain loop on
// on-stack-replaced code and the pool's chunks on fully optimized code, which flatters the pool and swings the baseline.
[System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
static Summary Summarize(ReadOnlySpan<int> values, int rounds)
{
    Summary summary = Summary.Empty();
    foreach (int value in values)
    {
        ulong x = (uint)value;
        for (int r = 0; r < rounds; r++)
        {
            x += 0x9E3779B97F4A7C15UL;
            x ^= x >> 33;
            x *= 0xFF51AFD7ED558CCDUL;
            x ^= x >> 33;
            x *= 0xC4CEB9FE1A85EC53UL;
            x ^= x >> 33;
        }

        summary.Count++;
        summary.Sum += x;
        summary.Buckets[x >> 60]++;
    }

    return summary;
}

// The median of `repeat` timed runs: a best-of hides how much runs vary, a median does not chase the lucky one.
static double Median(int repeat, Action run)
{
    double[] times = new double[repeat];
    for (int i = 0; i < repeat; i++)
    {
        long started = Stopwatch.GetTimestamp();
        run();
        times[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    }

    Array.Sort(times);
    return repeat % 2 == 1 ? times[repeat / 2] : (times[(repeat / 2) - 1] + times[repeat / 2]) / 2;
}

/// <summary>A part of the shared array: the input of one call.</summary>
internal readonly record struct Chunk(int Start, int Length);

/// <summary>What one call computes over its chunk; partial summaries add up to the whole one.</summary>
internal sealed class Summary
{
    public long Count { get; set; }

    public ulong Sum { get; set; }

    public long[] Buckets { get; } = new long[16];

    public string Checksum => $"{Count}:{Sum:x16}:{Buckets.Aggregate(17L, (h, b) => unchecked((h * 31) + b)):x16}";

    public static Summary Empty() => new();

    public void Add(Summary other)
    {
        Count += other.Count;
        Sum += other.Sum;
        for (int i = 0; i < Buckets.Length; i++)
        {
            Buckets[i] += other.Buckets[i];
        }
    }

    public bool SameAs(Summary other) => Count == other.Count && Sum == other.Sum && Buckets.AsSpan().SequenceEqual(other.Buckets);
}
