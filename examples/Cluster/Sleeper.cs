using Orleans.Runtime;
using Parallelize;

/// <summary>The seed's sleeper as a cluster executor: sleeps the given milliseconds on a silo and says where it ran.</summary>
/// <remarks>Synchronous, so each executor gets a thread of its own on its silo. Created by the silo's dependency injection.</remarks>
internal sealed class Sleeper(ILocalSiloDetails silo) : IExecutor<SleepRequest, SleepResult>
{
    public SleepResult Execute(SleepRequest input, CancellationToken cancellationToken)
    {
        if (input.Milliseconds > 0)
        {
            cancellationToken.WaitHandle.WaitOne(input.Milliseconds);
            cancellationToken.ThrowIfCancellationRequested();
        }

        return new SleepResult(input.Id, silo.Name, Environment.ProcessId);
    }
}

/// <summary>One call: sleep this long.</summary>
[GenerateSerializer]
[Immutable]
internal sealed record SleepRequest([property: Id(0)] int Id, [property: Id(1)] int Milliseconds);

/// <summary>Which call ran, on which silo, in which process.</summary>
[GenerateSerializer]
[Immutable]
internal sealed record SleepResult([property: Id(0)] int Id, [property: Id(1)] string Silo, [property: Id(2)] int ProcessId);
