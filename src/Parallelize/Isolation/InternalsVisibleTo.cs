using System.Runtime.CompilerServices;

// The isolation tests drive the worker client (WorkerProcess) directly: several calls in flight, replies by id.
[assembly: InternalsVisibleTo("Parallelize.Isolation.Tests")]
