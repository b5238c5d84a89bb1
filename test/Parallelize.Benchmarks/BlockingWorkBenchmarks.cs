using BenchmarkDotNet.Attributes;

namespace Parallelize.Benchmarks;

/// <summary>
/// The seed's sleepers under BenchmarkDotNet: 1,000 calls that each block their thread for 100 ms, 250 at a time
/// (ideal: 400 ms an operation). Parallelize runs each executor on its own thread; the others run on the thread
/// pool, whose minimum is raised to 250 plus the cores, as one would for blocking work. Times are per call.
/// </summary>
/// <remarks>Not sealed: BenchmarkDotNet derives from benchmark classes.</remarks>
[MemoryDiagnoser]
public class BlockingWorkBenchmarks
{
    private const int Calls = 1_000;
    private const int Workers = 250;

    private readonly Func<long, long> _work = Work.Sleep(100);
    private int _minWorkers;
    private int _minIo;

    [GlobalSetup]
    public void RaiseThreadPoolMinimum()
    {
        ThreadPool.GetMinThreads(out _minWorkers, out _minIo);
        ThreadPool.SetMinThreads(Math.Max(_minWorkers, Workers + Environment.ProcessorCount), _minIo);
    }

    [GlobalCleanup]
    public void RestoreThreadPoolMinimum() => ThreadPool.SetMinThreads(_minWorkers, _minIo);

    [Benchmark(OperationsPerInvoke = Calls)]
    public long[] ParallelFor() => Contenders.ParallelFor(_work, Calls, Workers);

    [Benchmark(OperationsPerInvoke = Calls)]
    public List<long> Dataflow() => Contenders.Dataflow(_work, Calls, Workers);

    [Benchmark(OperationsPerInvoke = Calls)]
    public List<long> Channels() => Contenders.Channels(_work, Calls, Workers);

    [Benchmark(Baseline = true, OperationsPerInvoke = Calls)]
    public IReadOnlyList<long> Parallelize() => Contenders.Parallelize(_work, Calls, Workers);
}
