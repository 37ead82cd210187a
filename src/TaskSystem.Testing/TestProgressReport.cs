namespace TaskSystem.Testing;

/// <summary>One progress report a handler made in a <see cref="TestAttempt"/> (<see cref="TestAttempt.Progress"/>).</summary>
/// <param name="Percent">From 0 to 100.</param>
/// <param name="Message">What it was doing, or null.</param>
public sealed record TestProgressReport(double Percent, string? Message);
