using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using TaskSystem.AspNetCore.Http;
using TaskSystem.Diagnostics;

namespace TaskSystem.Server.Diagnostics;

/// <summary>
/// OpenTelemetry for the server: the TaskSystem meter and the ASP.NET Core metrics, served for Prometheus at
/// <c>/metrics</c>; traces (the TaskSystem spans and one span per HTTP request) and metrics exported by OTLP when
/// the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> variables are set. Without OTLP no tracer is registered, so no
/// span is recorded for nothing.
/// </summary>
internal static class TelemetryServiceCollectionExtensions
{
    public const string MetricsPath = "/metrics";

    public static IServiceCollection AddTaskSystemTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        var otlp = IsSet(configuration, "OTEL_EXPORTER_OTLP_ENDPOINT");
        var otlpTraces = otlp || IsSet(configuration, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
        var otlpMetrics = otlp || IsSet(configuration, "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT");

        var telemetry = services.AddOpenTelemetry();
        if (!IsSet(configuration, "OTEL_SERVICE_NAME"))
        {
            telemetry.ConfigureResource(resource => resource.AddService("tasksystem"));
        }

        telemetry.WithMetrics(metrics =>
        {
            metrics.AddMeter(TaskSystemDiagnostics.MeterName).AddAspNetCoreInstrumentation().AddPrometheusExporter();
            if (otlpMetrics)
            {
                metrics.AddOtlpExporter();
            }
        });

        if (otlpTraces)
        {
            telemetry.WithTracing(tracing => tracing
                .AddSource(TaskSystemDiagnostics.ActivitySourceName)
                .AddAspNetCoreInstrumentation(options => options.Filter = IsTraced)
                .AddOtlpExporter());
        }

        return services;
    }

    /// <summary><c>GET /metrics</c> in the Prometheus text format; it needs a key like every data endpoint.</summary>
    public static IEndpointRouteBuilder MapMetricsApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPrometheusScrapingEndpoint(MetricsPath).OnlyGetAndHead();
        return endpoints;
    }

    /// <summary>Probes and scrapes are not worth a span each.</summary>
    public static bool IsTraced(HttpContext context) =>
        !context.Request.Path.StartsWithSegments("/health", StringComparison.OrdinalIgnoreCase)
        && !context.Request.Path.StartsWithSegments(MetricsPath, StringComparison.OrdinalIgnoreCase);

    private static bool IsSet(IConfiguration configuration, string key) => !string.IsNullOrWhiteSpace(configuration[key]);
}
