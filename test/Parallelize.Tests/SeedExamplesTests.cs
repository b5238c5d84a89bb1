using Parallelize.Tests.Support;

namespace Parallelize.Tests;

/// <summary>The three examples of the original Parallelize, as the README shows them in C#.</summary>
public sealed class SeedExamplesTests
{
    [Fact(Timeout = Timeouts.Test)]
    public async Task ParallelizedFunction_250CallsOn50Executors_EveryCallEndsInResults()
    {
        using var sleeper = new Parallelize<int, int>(Sleeper, count: 50);
        IReadOnlyList<int> aborted;
        try
        {
            for (int i = 0; i < 250; i++)
            {
                sleeper.Invoke(0);
            }

            await Task.Run(sleeper.Wait);
        }
        finally
        {
            aborted = sleeper.Stop();
        }

        Assert.Empty(aborted);
        Assert.Equal(250, sleeper.Results.Count);

        static int Sleeper(int milliseconds)
        {
            Thread.Sleep(milliseconds);
            return milliseconds;
        }
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task CallableInstances_50Executors_EachResultNamesTheExecutorThatMadeIt()
    {
        using var p = new Parallelize<int, string>(Enumerable.Range(0, 50).Select(i => new ExampleExecutor($"{i}")));
        for (int i = 0; i < 250; i++)
        {
            p.Invoke(i);
        }

        await p.WaitAsync();

        Assert.Equal(250, p.Results.Count);
        Assert.All(p.Results, r => Assert.Matches(@"^\d+\(\d+\)$", r));
        Assert.Equal(Enumerable.Range(0, 250), p.Results.Select(r => int.Parse(r.Split('(')[1].TrimEnd(')'), System.Globalization.CultureInfo.InvariantCulture)).Order());
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task DeferredInstances_ExecutorsWaitsForInitializationThenCallsRun()
    {
        using var p = new Parallelize<int, string>(
            Enumerable.Range(0, 50).Select(i => Deferred.Create(() => new ExampleExecutor($"{i}"))));

        IReadOnlyList<object> executors = await Task.Run(() => p.Executors);
        for (int i = 0; i < 250; i++)
        {
            p.Invoke(i);
        }

        await p.WaitAsync();

        Assert.Equal(50, executors.Count);
        Assert.Equal(50, executors.Cast<ExampleExecutor>().Select(e => e.Name).Distinct().Count());
        Assert.Equal(250, p.Results.Count);
    }

    private sealed class ExampleExecutor(string name) : IExecutor<int, string>
    {
        public string Name => name;

        public string Execute(int input, CancellationToken cancellationToken) => $"{name}({input})";
    }
}
