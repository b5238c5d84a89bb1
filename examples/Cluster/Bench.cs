using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Parallelize;
using Parallelize.Orleans;
using Parallelize.Orleans.Grains;

/// <summary>
/// Calls of 1 ms on the cluster against the same calls in one local pool, and what a tiny call costs: through the
/// pool (one call per grain message, as today), through the pool's executor called directly (the pool's own share),
/// and sent to a grain directly in batches (the path a pool will take once it hands its executors batches).
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
        double cluster1 = Median(() => ClusterPool(client, executorCount, calls, 1));
        Console.WriteLine($"| 1 ms calls, {executorCount} executors (calls/s) | {local1:N0} | {cluster1:N0} | {cluster1 / local1:0.00}× |");

        double localTiny = Median(() => LocalPool(executorCount, calls * 10, 0));
        double clusterTiny = Median(() => ClusterPool(client, executorCount, calls, 0));
        Console.WriteLine($"| tiny calls, {executorCount} executors (calls/s) | {localTiny:N0} | {clusterTiny:N0} | {clusterTiny / localTiny:0.000}× |");

        double localOne = Median(() => LocalPool(1, calls * 10, 0));
        double clusterOne = Median(() => ClusterPool(client, 1, calls / 3, 0));
        Console.WriteLine($"| tiny calls, 1 executor: µs per call | {1e6 / localOne:0.00} | {1e6 / clusterOne:0.0} | |");

        double adapter = Median(() => Adapter(client, calls / 3));
        Console.WriteLine($"| tiny calls, 1 executor called directly, without the pool: µs per call | | {1e6 / adapter:0.0} | |");
        foreach (int batch in new[] { 1, 16, 256 })
        {
            double batched = Median(() => Batched(client, calls * 2, batch));
            Console.WriteLine($"| tiny calls, 1 grain, batches of {batch} sent directly: µs per call | | {1e6 / batched:0.0} | |");
        }

        return 0;
    }

    private static double Median(Func<Task<double>> run)
    {
        run().GetAwaiter().GetResult();
        double[] rates = [.. Enumerable.Range(0, 3).Select(_ => run().GetAwaiter().GetResult()).Order()];
        return rates[1];
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

    private static async Task<double> ClusterPool(IClusterClient client, int executors, int calls, int sleepMs)
    {
        await using ClusterExecutors<SleepRequest, SleepResult> cluster = OrleansExecutors.Create<Sleeper, SleepRequest, SleepResult>(client, executors);
        await using var pool = new Parallelize<SleepRequest, SleepResult>(cluster);
        await pool.GetExecutorsAsync();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < calls; i++)
        {
            pool.Invoke(new SleepRequest(i, sleepMs));
        }

        await pool.WaitAsync();
        return Check(pool, calls) / clock.Elapsed.TotalSeconds;
    }

    private static async Task<double> Adapter(IClusterClient client, int calls)
    {
        await using ClusterExecutors<SleepRequest, SleepResult> cluster = OrleansExecutors.Create<Sleeper, SleepRequest, SleepResult>(client, 1);
        await using var pool = new Parallelize<SleepRequest, SleepResult>(cluster);
        // The pool's live executor is the client side of the grain: call it as the pool would, one call at a time.
        var executor = (IAsyncExecutor<SleepRequest, SleepResult>)(await pool.GetExecutorsAsync())[0];
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < calls; i++)
        {
            await executor.ExecuteAsync(new SleepRequest(i, 0), CancellationToken.None);
        }

        return calls / clock.Elapsed.TotalSeconds;
    }

    private static async Task<double> Batched(IClusterClient client, int calls, int batchSize)
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
            done += reply.Outcomes.Count(static o => o.Status == CallStatus.Completed);
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
