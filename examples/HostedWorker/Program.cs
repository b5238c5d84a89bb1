// A Worker Service (the Generic Host) that squares a stream of numbers on four executors resolved from dependency
// injection, each in its own scope. Ctrl-C or SIGTERM stops it cleanly: the calls in flight get up to 2 s to finish,
// the inputs not done are saved to a file, and the next run does them first. It ends by printing
// "results + failures + saved = accepted". Settings are in appsettings.json (the "Parallelize" section).
//
//   dotnet run --project examples/HostedWorker -c Release                   # an endless stream; Ctrl-C to stop
//   dotnet run --project examples/HostedWorker -c Release -- --inputs 500   # 500 inputs, then it stops by itself
//   options: --call-ms N (each call's duration), --state FILE (where aborted inputs are saved)
using HostedWorker;
using Microsoft.Extensions.Options;
using Parallelize;
using Parallelize.Hosting;

HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
{
    Args = args,
    ContentRootPath = AppContext.BaseDirectory, // appsettings.json beside the program, wherever it is run from
});
builder.Configuration.AddCommandLine(args, new Dictionary<string, string>
{
    ["--inputs"] = "Worker:Inputs",
    ["--call-ms"] = "Worker:CallMilliseconds",
    ["--state"] = "Worker:AbortedInputsFile",
});
builder.Services.Configure<WorkerSettings>(builder.Configuration.GetSection("Worker"));
string stateFile = Path.GetFullPath(builder.Configuration["Worker:AbortedInputsFile"] ?? "aborted-inputs.json", AppContext.BaseDirectory);

// The Parallelize glue: the pool, its executors, where aborted inputs go, its health check, and who feeds it.
builder.Services.AddScoped<CallLedger>();
builder.Services.AddParallelize<int, long>()
    .AddAsyncExecutor<Squarer>(count: 4)
    .UseJsonFileAbortedInputStore(stateFile)
    .ConfigurePool((options, _) => options with { Progress = new ProgressPrinter(), ProgressInterval = TimeSpan.FromSeconds(1) });
builder.Services.AddHealthChecks().AddParallelizeHealthCheck<int, long>();
builder.Services.AddHostedService<Producer>();

using IHost host = builder.Build();
await host.StartAsync();
await host.WaitForShutdownAsync();

Parallelize<int, long> pool = host.Services.GetRequiredService<Parallelize<int, long>>();
ParallelizeProgress final = pool.GetProgress();
int saved = (await new JsonFileAbortedInputStore<int>(stateFile).LoadAsync(CancellationToken.None)).Count;
bool balanced = pool.Results.Count + pool.Failures.Count + saved == final.Accepted;
Console.WriteLine($"results {pool.Results.Count} + failures {pool.Failures.Count} + saved {saved} = accepted {final.Accepted}: {(balanced ? "OK" : "MISMATCH")}");
Console.WriteLine($"executor scopes created {CallLedger.Created}, disposed {CallLedger.Disposed}");
Console.WriteLine(saved > 0 ? $"saved to {stateFile}; the next run does them first" : "nothing saved");
return balanced ? 0 : 1;

namespace HostedWorker
{
    /// <summary>The example's own settings (the "Worker" section).</summary>
    internal sealed class WorkerSettings
    {
        /// <summary>Gets or sets how many inputs to send; 0 for an endless stream.</summary>
        public int Inputs { get; set; }

        /// <summary>Gets or sets how long each call takes.</summary>
        public int CallMilliseconds { get; set; } = 20;

        /// <summary>Gets or sets the file the aborted inputs are saved to.</summary>
        public string AbortedInputsFile { get; set; } = "aborted-inputs.json";
    }

    /// <summary>Feeds the pool. Registered after AddParallelize, so the host stops it before it stops the pool.</summary>
    internal sealed class Producer(Parallelize<int, long> pool, IOptions<WorkerSettings> settings, IHostApplicationLifetime lifetime) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            int inputs = settings.Value.Inputs;
            try
            {
                for (int input = 1; inputs == 0 || input <= inputs; input++)
                {
                    await pool.InvokeAsync(input, stoppingToken); // waits while the bounded queue is full
                }

                await pool.WaitAsync(stoppingToken);
                lifetime.StopApplication();
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                // The host is stopping: the input being sent was not accepted, and the pool saves the queued ones.
            }
        }
    }

    /// <summary>An executor: one instance per executor, resolved in its own scope with its own <see cref="CallLedger"/>.</summary>
    internal sealed class Squarer(CallLedger ledger, IOptions<WorkerSettings> settings) : IAsyncExecutor<int, long>
    {
        public async ValueTask<long> ExecuteAsync(int input, CancellationToken cancellationToken)
        {
            await Task.Delay(settings.Value.CallMilliseconds, cancellationToken);
            ledger.Calls++;
            return input % 100 == 99 ? throw new InvalidOperationException($"{input} is unlucky.") : (long)input * input;
        }
    }

    /// <summary>A scoped service: created with each executor's scope and disposed with it (after a fault too, when the executor is made anew).</summary>
    internal sealed class CallLedger : IDisposable
    {
        private static int s_created;
        private static int s_disposed;

        public CallLedger() => Interlocked.Increment(ref s_created);

        public static int Created => Volatile.Read(ref s_created);

        public static int Disposed => Volatile.Read(ref s_disposed);

        public int Calls { get; set; }

        public void Dispose() => Interlocked.Increment(ref s_disposed);
    }

    /// <summary>Prints the pool's progress reports.</summary>
    internal sealed class ProgressPrinter : IProgress<ParallelizeProgress>
    {
        public void Report(ParallelizeProgress value) => Console.WriteLine(
            $"progress: accepted {value.Accepted}, results {value.Succeeded}, failures {value.Failed}, queued {value.Queued}, restarts {value.Restarted}, {value.Throughput:0}/s");
    }
}
