// Parallelize against a plain loop, Parallel.For, TPL Dataflow and a hand-written Channels pool, on the same work.
//
//   dotnet run --project test/Parallelize.Benchmarks -c Release -- --quick [--calls N] [--repeats N] [--markdown FILE]
//   dotnet run --project test/Parallelize.Benchmarks -c Release -- --quick --tiny     (smoke run: checks every result)
//   dotnet run --project test/Parallelize.Benchmarks -c Release -- --filter '*'       (BenchmarkDotNet, every case)
//   dotnet run --project test/Parallelize.Benchmarks -c Release -- --isolation        (process isolation's costs)
//   dotnet run --project test/Parallelize.Benchmarks -c Release -- --context          (what context flow costs)
//   dotnet run --project test/Parallelize.Benchmarks -c Release -- --etl [--repeats N] [--markdown FILE]   (issue 13's ETL comparison)
using BenchmarkDotNet.Running;
using Parallelize.Benchmarks;
using Parallelize.Isolation;

// The isolation benchmark's worker processes are this program again.
IsolatedWorker.RunIfWorker(args);
if (args.Contains("--isolation"))
{
    return IsolationBenchmark.Run(args);
}

if (args.Contains("--context"))
{
    return ContextFlowBenchmark.Run(args);
}

if (args.Contains("--etl") || args.Contains("--etl-child"))
{
    return EtlBenchmark.Run(args);
}

if (QuickOptions.IsQuick(args))
{
    return QuickRun.Run(args);
}

BenchmarkSwitcher.FromAssembly(typeof(CpuWorkBenchmarks).Assembly).Run(args);
return 0;
