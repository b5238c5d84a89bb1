using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Parallelize;
using Parallelize.Orleans;
using Parallelize.Orleans.Grains;

/// <summary>
/// Calls of 1 ms on the cluster against the same calls in one local pool, and what a tiny call costs: through the
/// pool with one call per grain message and with batches (MaxBatchSize 1, 64, 256), and sent to a grain directly in
/// messages of 1, 64 and 256 calls, without the pool (the difference is the pool's share).
/// </summary>
internal static class Bench
{
    public static async Task<int> RunAsync(Endpoints endpoints, int executorCount, int calls)
    {
        using IHost host = await ClientHost.StartAsync(endpoints);
        IClusterClient client = host.Client();
        Console.WriteLine($"{Environment.ProcessorCount} cores; {endpoints.Silos} silo processes on loopback; {executorCount} executors; {calls} calls a run; median of 3 runs after a warm-up");
        Console.WriteLine();
        Console.WriteLine("| case | local pool | cluster | cluster ÷ local |");
        Console.WriteLine("|---|---:|---:|---:|");

        double local1 = Median(() => LocalPool(executorCount, calls, 1));
        (double cluster1, double batch1) = Median(() => ClusterPool(client, executorCount, calls, 1, 64));
        Console.WriteLine($"| 1 ms calls, {executorCount} executors (calls/s; mean calls per grain message {batch1:0.0}) | {local1:N0} | {cluster1:N0} | {cluster1 / local1:0.00}× |");

        double localTiny = Median(() => LocalPool(executorCount, calls * 10, 0));
        (double clusterTiny, double batchTiny) = Median(() => ClusterPool(client, executorCount, calls * 10, 0, 64));
        Console.WriteLine($"| tiny calls, {executorCount} executors (calls/s; mean calls per grain message {batchTiny:0.0}) | {localTiny:N0} | {clusterTiny:N0} | {clusterTiny / localTiny:0.000}× |");

        double localOne = Median(() => LocalPool(1, calls * 10, 0));
        Console.WriteLine($"| tiny calls, 1 executor: µs per call | {1e6 / localOne:0.00} | | |");
        foreach (int maxBatch in new[] { 1, 64, 256 })
        {
            int n = maxBatch == 1 ? calls : calls * 10;
            (double rate, double batch) = Median(() => ClusterPool(client, 1, n, 0, maxBatch));
            Console.WriteLine($"| tiny calls, 1 executor through the pool, MaxBatchSize {maxBatch} (mean {batch:0.0} calls a message): µs per call | | {1e6 / rate:0.0} | |");
        }

        foreach (int batch in new[] { 1, 64, 256 })
        {
            int n = batch == 1 ? calls : calls * 10;
            double batched = Median(() => Direct(client, n, batch));
            Console.WriteLine($"| tiny calls, 1 grain, messages of {batch} sent directly, no pool: µs per call | | {1e6 / batched:0.0} | |");
        }

        return 0;
    }

    private static double Median(Func<Task<double>> run)
    {
        run().GetAwaiter().GetResult();
        double[] rates = [.. Enumerable.Range(0, 3).Select(_ => run().GetAwaiter().GetResult()).Order()];
        return rates[1];
    }

    private static (double Rate, double Batch) Median(Func<Task<(double Rate, double Batch)>> run)
    {
        run().GetAwaiter().GetResult();
        (double Rate, double Batch)[] runs = [.. Enumerable.Range(0, 3).Select(_ => run().GetAwaiter().GetResult()).OrderBy(static r => r.Rate)];
        return runs[1];
    }

    private static Task<double> LocalPool(int executors, int calls, int sleepMs)
    {
        var clock = Stopwatch.StartNew();
        using var pool = new Parallelize<SleepRequest, SleepResult>(
            Enumerable.Range(0, executors).Select(_ => (Executor<SleepRequest, SleepResult>)(Func<SleepRequest, SleepResult>)(r =>
            {
                if (r.Milliseconds > 0)
                {
                    Thread.Sleep(r.Milliseconds);
                }

                return new SleepResult(r.Id, "local", Environment.ProcessId);
            })));
        for (int i = 0; i < calls; i++)
        {
            pool.Invoke(new SleepRequest(i, sleepMs));
        }

        pool.Wait();
        return Task.FromResult(Check(pool, calls) / clock.Elapsed.TotalSeconds);
    }

    private static async Task<(double Rate, double Batch)> ClusterPool(IClusterClient client, int executors, int calls, int sleepMs, int maxBatch)
    {
        await using ClusterExecutors<SleepRequest, SleepResult> cluster = OrleansExecutors.Create<Sleeper, SleepRequest, SleepResult>(
            client,
            executors,
            new OrleansExecutorOptions { MaxBatchSize = maxBatch });
        await using var pool = new Parallelize<SleepRequest, SleepResult>(cluster);
        await pool.GetExecutorsAsync();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < calls; i++)
        {
            pool.Invoke(new SleepRequest(i, sleepMs));
        }

        await pool.WaitAsync();
        double rate = Check(pool, calls) / clock.Elapsed.TotalSeconds;
        ClusterStatistics stats = cluster.GetStatistics();
        return (rate, (double)stats.Dispatched / Math.Max(1, stats.Batches));
    }

    /// <summary>Tiny calls sent to one grain directly, one message at a time, as a slot sends a lease: the cost without the pool.</summary>
    private static async Task<double> Direct(IClusterClient client, int calls, int batchSize)
    {
        var key = new ExecutorKey("bench-" + Guid.NewGuid().ToString("N")[..8], 0, 1, typeof(Sleeper).FullName!);
        IExecutorGrain<SleepRequest, SleepResult> grain = client.GetGrain<IExecutorGrain<SleepRequest, SleepResult>>(key.ToString());
        await grain.StartAsync(CancellationToken.None);
        var clock = Stopwatch.StartNew();
        int done = 0;
        for (long next = 0; next < calls; next += batchSize)
        {
            int size = (int)Math.Min(batchSize, calls - next);
            long[] ids = [.. Enumerable.Range(0, size).Select(i => next + i)];
            SleepRequest[] inputs = [.. ids.Select(static id => new SleepRequest((int)id, 0))];
            BatchReply<SleepResult> reply = await grain.ExecuteAsync(new CallBatch<SleepRequest>(next, ids, inputs));
            done += reply.Outcomes.Count(static o => o.Status == CallStatus.Succeeded);
        }

        double rate = done / clock.Elapsed.TotalSeconds;
        await grain.StopAsync();
        return done == calls ? rate : throw new InvalidOperationException($"{calls - done} batched calls did not complete.");
    }

    private static int Check(Parallelize<SleepRequest, SleepResult> pool, int calls) =>
        pool.Results.Count == calls && pool.Failures.Count == 0
            ? calls
            : throw new InvalidOperationException($"{calls} calls gave {pool.Results.Count} results and {pool.Failures.Count} failures.");
}
