namespace Parallelize.Isolation.Tests.Workers;

/// <summary>
/// An input of the scripted executor: what to do in the worker. The action runs only once across processes when
/// <see cref="Once"/> names a file (the first run creates it); <see cref="Ready"/> names a file the worker writes
/// (atomically, with its pid) when it has reached the point the test waits for.
/// </summary>
public sealed record Job(int Id, string Action = "echo", string? Once = null, string? Ready = null);

/// <summary>What the scripted executor returns: the job's id and the worker's pid.</summary>
public sealed record Reply(int Id, int Pid)
{
    /// <summary>Set to a cycle by the "cycle" action, so that the result cannot be encoded.</summary>
    public Node? Loop { get; init; }
}

/// <summary>A node that can point at itself.</summary>
public sealed class Node
{
    public Node? Next { get; set; }
}

/// <summary>How the scripted factory behaves when it creates the executor, once (see <see cref="Job.Once"/>).</summary>
public sealed record Setup(string Action, string? Once = null, string? Ready = null);
