using BenchmarkDotNet.Attributes;

namespace Parallelize.Benchmarks;

/// <summary>
/// The CPU rows of the quick table under BenchmarkDotNet: every contender on the same calibrated work, one worker a
/// core. Times and allocations are per call (<see cref="Calls"/> calls an operation).
/// </summary>
/// <remarks>Not sealed: BenchmarkDotNet derives from benchmark classes.</remarks>
[MemoryDiagnoser]
public class CpuWorkBenchmarks
{
    private const int Calls = 50_000;

    private readonly int _cores = Environment.ProcessorCount;
    private Func<long, long> _work = static x => x;

    /// <summary>Gets or sets the CPU time of one call, in nanoseconds (0: no work, pure overhead).</summary>
    [Params(0, 100, 1_000, 10_000)]
    public int WorkNanoseconds { get; set; }

    [GlobalSetup]
    public void Calibrate() =>
        _work = Work.Cpu(Work.Calibrate(WorkNanoseconds, Work.NanosecondsPerSpinStep()).Steps);

    [Benchmark(Baseline = true, OperationsPerInvoke = Calls)]
    public long[] PlainLoop() => Contenders.PlainLoop(_work, Calls);

    [Benchmark(OperationsPerInvoke = Calls)]
    public long[] ParallelFor() => Contenders.ParallelFor(_work, Calls, _cores);

    [Benchmark(OperationsPerInvoke = Calls)]
    public List<long> Dataflow() => Contenders.Dataflow(_work, Calls, _cores);

    [Benchmark(OperationsPerInvoke = Calls)]
    public List<long> Channels() => Contenders.Channels(_work, Calls, _cores);

    [Benchmark(OperationsPerInvoke = Calls)]
    public IReadOnlyList<long> Parallelize() => Contenders.Parallelize(_work, Calls, _cores);
}
