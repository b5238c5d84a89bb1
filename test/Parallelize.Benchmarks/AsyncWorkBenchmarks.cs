using BenchmarkDotNet.Attributes;

namespace Parallelize.Benchmarks;

/// <summary>
/// Asynchronous work under BenchmarkDotNet: 10,000 calls that each await a 10 ms delay, 1,000 at a time (ideal:
/// 100 ms an operation). <c>Parallel.ForEachAsync</c> stands in for <c>Parallel.For</c>. Times are per call.
/// </summary>
/// <remarks>Not sealed: BenchmarkDotNet derives from benchmark classes.</remarks>
[MemoryDiagnoser]
public class AsyncWorkBenchmarks
{
    private const int Calls = 10_000;
    private const int Concurrency = 1_000;

    private readonly Func<long, Task<long>> _work = Work.Delay(10);

    [Benchmark(OperationsPerInvoke = Calls)]
    public long[] ParallelForEachAsync() => Contenders.ParallelForEachAsync(_work, Calls, Concurrency);

    [Benchmark(OperationsPerInvoke = Calls)]
    public List<long> Dataflow() => Contenders.Dataflow(_work, Calls, Concurrency);

    [Benchmark(OperationsPerInvoke = Calls)]
    public List<long> Channels() => Contenders.Channels(_work, Calls, Concurrency);

    [Benchmark(Baseline = true, OperationsPerInvoke = Calls)]
    public IReadOnlyList<long> Parallelize() => Contenders.Parallelize(_work, Calls, Concurrency);
}
