using System.Globalization;
using Parallelize.Isolation.Tests.Workers;

namespace Parallelize.Isolation.Tests.Support;

/// <summary>
/// What the isolation tests share: a scratch directory for readiness and once-files, a pool of scripted executors,
/// and a last sweep that kills any process a failed test left behind.
/// </summary>
public abstract class IsolationTest : IDisposable
{
    private readonly List<int> _pids = [];

    protected IsolationTest()
    {
        Dir = Directory.CreateTempSubdirectory("parallelize-isolation-");
    }

    protected DirectoryInfo Dir { get; }

    protected string PathFor(string name) => Path.Combine(Dir.FullName, name);

    /// <summary>Isolated scripted executors and a pool over them; the pool stops as the test ends.</summary>
    protected static (Parallelize<Job, Reply> Pool, IsolatedExecutors<Job, Reply> Workers) CreatePool(int count, IsolationOptions? isolation = null, ParallelizeOptions? options = null)
    {
        IsolatedExecutors<Job, Reply> workers = Isolated.Create<ScriptedExecutor, Job, Reply>(count, isolation);
        return (new Parallelize<Job, Reply>(workers, options), workers);
    }

    /// <summary>Waits (bounded) for a file the worker writes when it is where the test wants it, and returns what it wrote.</summary>
    protected async Task<string> WaitForFileAsync(string path)
    {
        await Timeouts.Until(() => File.Exists(path), $"{Path.GetFileName(path)} exists");
        string text = File.ReadAllText(path);
        foreach (string pid in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (int.TryParse(pid, CultureInfo.InvariantCulture, out int id))
            {
                lock (_pids)
                {
                    _pids.Add(id);
                }
            }
        }

        return text;
    }

    protected static int Pid(string text) => int.Parse(text.Split(' ')[0], CultureInfo.InvariantCulture);

    /// <summary>Checks conservation for scripted jobs: each result maps back to its job by id.</summary>
    protected static void AssertConserved(IEnumerable<Job> accepted, Parallelize<Job, Reply> pool, IEnumerable<Job> aborted)
    {
        Dictionary<int, Job> byId = accepted.ToDictionary(j => j.Id);
        Conservation.AssertHolds(byId.Values, pool, aborted, reply => byId[reply.Id]);
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        lock (_pids)
        {
            foreach (int pid in _pids)
            {
                Native.Kill(pid, 9);
            }
        }

        try
        {
            Dir.Delete(recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
