// A worker service for the hosting tests, run as a child process:
//
//   ChildHost --state DIR --mode block|finish --inputs N
//
// A producer (registered before the pool, so the host stops it after the pool) sends 1..N with InvokeAsync to a pool
// of 4 asynchronous executors (bounded to 8 queued calls, so at most 12 accepted and not done; one attempt each).
// Inputs ending in 7 always throw (they end in Failures). In "block" mode inputs from 20 on never finish by
// themselves: they wait for the stop's cancellation, and the first of them to run ignores it, as a hung call would;
// the child prints "ready" once results are in, a call is held and the producer waits for room (backpressure), and
// waits for SIGTERM. In "finish" mode every call ends and
// the producer stops the application when the pool is idle. Saved inputs are in DIR/aborted.json (loaded and done
// first by the next run); DIR/report.json says what this run accepted, what ended where, and how the producer was
// refused.
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Parallelize;
using Parallelize.Hosting;

HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
string state = builder.Configuration["state"] ?? throw new ArgumentException("--state DIR is required.");
string storePath = Path.Combine(state, "aborted.json");
var run = new ChildRun(
    builder.Configuration["mode"] == "block",
    int.Parse(builder.Configuration["inputs"] ?? "1000", System.Globalization.CultureInfo.InvariantCulture),
    await new JsonFileAbortedInputStore<int>(storePath).LoadAsync(CancellationToken.None));

builder.Logging.ClearProviders();
builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = TimeSpan.FromSeconds(6));
builder.Services.AddSingleton(run);
builder.Services.AddHostedService<Producer>();
builder.Services.AddParallelize<int, int>()
    .AddAsyncExecutor<ChildExecutor>(count: 4)
    .Configure(options =>
    {
        options.MaxAttempts = 1;
        options.BoundedCapacity = 8;
        options.RestartBackoff = TimeSpan.Zero;
        options.ShutdownMargin = TimeSpan.FromSeconds(3);
    })
    .UseJsonFileAbortedInputStore(storePath);

using IHost host = builder.Build();
var stopping = new Stopwatch();
host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(stopping.Start);
await host.StartAsync();
await host.WaitForShutdownAsync(); // not RunAsync, which disposes the host: the pool is read below
stopping.Stop();

Parallelize<int, int> pool = host.Services.GetRequiredService<Parallelize<int, int>>();
var report = new Dictionary<string, object?>
{
    ["resumed"] = run.Resumed,
    ["accepted"] = run.Resumed.Concat(run.Accepted).ToArray(),
    ["results"] = pool.Results.ToArray(),
    ["failures"] = pool.Failures.Select(failure => failure.Input).ToArray(),
    ["refusal"] = run.Refusal,
    ["hung"] = run.Hung,
    ["held"] = run.HeldInputs.ToArray(),
    ["stopMilliseconds"] = stopping.ElapsedMilliseconds,
};
File.WriteAllText(Path.Combine(state, "report.json"), JsonSerializer.Serialize(report));
Console.WriteLine("stopped");
return 0;

/// <summary>What the producer and the executors share with Main.</summary>
internal sealed class ChildRun(bool block, int inputs, IReadOnlyList<int> resumed)
{
    public bool Block { get; } = block;

    public int Inputs { get; } = inputs;

    public IReadOnlyList<int> Resumed { get; } = resumed;

    public List<int> Accepted { get; } = [];

    public string? Refusal { get; set; }

    /// <summary>The producer's call in progress (read by the readiness check while the producer runs).</summary>
    public Task? Invoking;

    /// <summary>The inputs held by executors.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<int> HeldInputs { get; } = new();

    /// <summary>How many executors hold a call (block mode).</summary>
    public int Held;

    /// <summary>The held call that ignores its token.</summary>
    public int Hung;
}

/// <summary>Sends 1..N, recording each input the pool accepted; in block mode, prints "ready" once the pool is in the state the test needs.</summary>
internal sealed class Producer(Parallelize<int, int> pool, ChildRun run, IHostApplicationLifetime lifetime) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Every hosted service has started, so the saved inputs are queued before this producer waits for the pool.
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStarted.Register(started.SetResult))
        {
            await started.Task.WaitAsync(stoppingToken);
        }

        Task ready = run.Block ? Task.Run(() => AnnounceReadyAsync(stoppingToken), stoppingToken) : Task.CompletedTask;
        try
        {
            for (int input = 1; input <= run.Inputs; input++)
            {
                Task invoking = pool.InvokeAsync(input, stoppingToken).AsTask();
                Volatile.Write(ref run.Invoking, invoking);
                await invoking;
                run.Accepted.Add(input);
            }

            await pool.WaitAsync(stoppingToken);
            lifetime.StopApplication();
        }
        catch (Exception ex) when (ex is InvalidOperationException or OperationCanceledException)
        {
            run.Refusal = ex.GetType().Name;
        }

        await ready.ContinueWith(static _ => { }, TaskScheduler.Default);
    }

    private async Task AnnounceReadyAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            // Which inputs run, and which wait in a worker's batch behind a held one, varies from run to run (workers
            // take calls in batches); so "ready" asks only for what every run reaches: results delivered, a call held,
            // and the producer waiting for room (in the queue, or under the bound on calls not yet delivered).
            if (pool.Results.Count > 0 && Volatile.Read(ref run.Held) > 0 && Volatile.Read(ref run.Invoking) is { IsCompleted: false })
            {
                Console.WriteLine("ready");
                return;
            }

            await Task.Delay(10, stoppingToken);
        }
    }
}

/// <summary>Resolved once per executor, each in its own scope.</summary>
internal sealed class ChildExecutor(ChildRun run) : IAsyncExecutor<int, int>
{
    public async ValueTask<int> ExecuteAsync(int input, CancellationToken cancellationToken)
    {
        if (input % 10 == 7)
        {
            throw new InvalidOperationException($"{input} always fails.");
        }

        if (run.Block && input >= 20)
        {
            run.HeldInputs.Enqueue(input);
            if (Interlocked.Increment(ref run.Held) == 1)
            {
                run.Hung = input;
                await Task.Delay(TimeSpan.FromMinutes(1), CancellationToken.None); // a hung call that ignores its token
            }
            else
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
        }

        return input;
    }
}
