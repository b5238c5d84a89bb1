using System.Diagnostics;

namespace Parallelize.Tests.Examples;

/// <summary>Runs a built example as a child process, the way a user would, and captures what it prints.</summary>
internal static class ExampleRunner
{
    public static async Task<(int ExitCode, string Output)> RunAsync(string example, params string[] arguments)
    {
        (int exitCode, string output, string error) = await RunToEndAsync(StartInfo(example, arguments), example);
        return (exitCode, output + error);
    }

    /// <summary>Runs a process to its end (killing it after two minutes) and captures what it prints.</summary>
    /// <param name="start">How to start it; standard output and error must be redirected.</param>
    /// <param name="name">What to call it in errors.</param>
    public static async Task<(int ExitCode, string Output, string Error)> RunToEndAsync(ProcessStartInfo start, string name)
    {
        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {name}.");
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{name} did not finish in two minutes. Output so far: {await output}{await error}");
        }

        return (process.ExitCode, await output, await error);
    }

    /// <summary>Starts an example, waits until it prints <paramref name="ready"/>, sends it a signal with <c>kill</c>, and waits for it to exit.</summary>
    public static Task<(int ExitCode, string Output)> RunAndSignalAsync(string example, string ready, string signal, params string[] arguments) =>
        RunAndSignalAsync(example, [(ready, signal)], arguments);

    /// <summary>
    /// Starts an example with default signal dispositions, then for each step waits until it prints the step's text
    /// and sends it the step's signal with <c>kill</c>; finally waits for it to exit.
    /// </summary>
    public static async Task<(int ExitCode, string Output)> RunAndSignalAsync(string example, IReadOnlyList<(string Ready, string Signal)> steps, params string[] arguments)
    {
        ProcessStartInfo start = WithDefaultSignals(StartInfo(example, arguments));
        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {example}.");
        var output = new System.Text.StringBuilder();
        var seen = steps.Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (output)
            {
                output.AppendLine(e.Data);
            }

            for (int i = 0; i < steps.Count; i++)
            {
                if (e.Data.Contains(steps[i].Ready, StringComparison.Ordinal))
                {
                    seen[i].TrySetResult();
                }
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            for (int i = 0; i < steps.Count; i++)
            {
                await seen[i].Task.WaitAsync(TimeSpan.FromMinutes(1));
                using Process kill = Process.Start("kill", ["-s", steps[i].Signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])
                    ?? throw new InvalidOperationException("Could not run kill.");
                await kill.WaitForExitAsync();
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (TimeoutException)
        {
            lock (output)
            {
                throw new TimeoutException($"{example} did not print what the test waited for. Output so far:\n{output}");
            }
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        process.WaitForExit();
        lock (output)
        {
            return (process.ExitCode, output.ToString());
        }
    }

    /// <summary>
    /// A process started in the background by a non-interactive shell (as CI may start the tests) inherits SIGINT as
    /// ignored, and .NET keeps an inherited "ignore": Ctrl-C would then never reach the example. Starting it through
    /// <c>env --default-signal=INT</c> (GNU coreutils 8.31 or later) restores the default first.
    /// </summary>
    private static ProcessStartInfo WithDefaultSignals(ProcessStartInfo start)
    {
        if (!EnvResetsSignals.Value)
        {
            return start;
        }

        var viaEnv = new ProcessStartInfo("env")
        {
            RedirectStandardOutput = start.RedirectStandardOutput,
            RedirectStandardError = start.RedirectStandardError,
            UseShellExecute = false,
        };
        viaEnv.ArgumentList.Add("--default-signal=INT");
        viaEnv.ArgumentList.Add(start.FileName);
        foreach (string argument in start.ArgumentList)
        {
            viaEnv.ArgumentList.Add(argument);
        }

        return viaEnv;
    }

    private static readonly Lazy<bool> EnvResetsSignals = new(() =>
    {
        try
        {
            using Process probe = Process.Start(new ProcessStartInfo("env", ["--default-signal=INT", "true"])
            {
                RedirectStandardError = true,
                UseShellExecute = false,
            })!;
            probe.WaitForExit();
            return probe.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false; // no env at all
        }
    });

    private static ProcessStartInfo StartInfo(string example, string[] arguments)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(ExamplePath(example));
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }

    private static string ExamplePath(string example)
    {
        // The test assembly lives in test/Parallelize.Tests/bin/<Configuration>/<TargetFramework>/; the example is
        // built to examples/<Name>/bin/<Configuration>/<TargetFramework>/ by the project reference.
        var testBin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string framework = testBin.Name;
        string configuration = testBin.Parent!.Name;
        DirectoryInfo? root = testBin;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Parallelize.sln")))
        {
            root = root.Parent;
        }

        if (root is null)
        {
            throw new InvalidOperationException("Could not find the repository root (Parallelize.sln) above the test assembly.");
        }

        string path = Path.Combine(root.FullName, "examples", example, "bin", configuration, framework, example + ".dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"The {example} example is not built.", path);
    }
}
